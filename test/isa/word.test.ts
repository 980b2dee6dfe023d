/** The word's fixed parts (isa/word.ts): header bits, lane codecs, PARAM lanes, requant arithmetic. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../arch/index.js';
import {
  DEP_FLAG_BIT,
  DEP_FLAG_NAMES,
  HEADER_BITS,
  NO_FLAGS,
  OPCODE_BITS,
  PARAM_LANE_BYTES,
  PARAM_LANE_USED_BITS,
  encodeInstruction,
  packLanes,
  packParamEntry,
  requantClampRange,
  requantValue,
  tokenChannel,
  depFlagError,
  depFlagProblem,
  unpackLanes,
  unpackParamEntry,
} from '../../isa/index.js';

describe('header', () => {
  it('the opcode sits in bits [3:0] and each flag at its DEP_FLAG_BIT, below HEADER_BITS', () => {
    expect(OPCODE_BITS).toBe(4);
    expect(new Set(Object.values(DEP_FLAG_BIT)).size).toBe(4);
    for (const flag of DEP_FLAG_NAMES) {
      const bit = DEP_FLAG_BIT[flag];
      expect(bit).toBeGreaterThanOrEqual(OPCODE_BITS);
      expect(bit).toBeLessThan(HEADER_BITS);
      const word = encodeInstruction({ op: 'NOP', ...NO_FLAGS, [flag]: 1, unit: 1 } as never, DEFAULT_CONFIG);
      // NOP is opcode 0 and its unit field starts at HEADER_BITS, so byte 0 holds only this flag
      expect(word[0]).toBe(1 << bit);
    }
  });

  it('flags name the channel towards an existing neighbour, and nothing else', () => {
    expect(tokenChannel('compute', 'pop_prev')).toBe('load->compute');
    expect(tokenChannel('compute', 'push_next')).toBe('compute->store');
    expect(tokenChannel('load', 'pop_next')).toBe('compute->load');
    expect(tokenChannel('store', 'push_prev')).toBe('store->compute');
    expect(tokenChannel('load', 'pop_prev')).toBeUndefined();
    expect(depFlagError('LOAD', 'load', 'push_prev')).toBe(
      'push_prev is illegal here: LOAD runs on the load unit, which has no previous unit in the chain load - compute - store',
    );
    expect(depFlagError('NOP', 'store', 'pop_next')).toBe(
      'pop_next is illegal here: NOP runs on the store unit, which has no next unit in the chain load - compute - store',
    );
    expect(depFlagError('HALT', undefined, 'push_next')).toBe('HALT cannot pop or push dependency tokens (push_next)');
    expect(depFlagError('GEMM', 'compute', 'pop_next')).toBeUndefined();
    expect(depFlagProblem('load', 'pop_prev')).toBe(
      'the load unit has no previous unit in the chain load - compute - store',
    );
    expect(depFlagProblem('compute', 'push_next')).toBeUndefined();
  });
});

/** Lane l in bits [l*b + b-1 : l*b], little-endian bytes: one bit at a time. */
function naiveBits(values: number[], bits: number): Uint8Array {
  const out = new Uint8Array(Math.ceil((values.length * bits) / 8));
  values.forEach((v, l) => {
    for (let k = 0; k < bits; k++)
      if (Math.floor(v / 2 ** k) & 1) out[(l * bits + k) >> 3]! |= 1 << ((l * bits + k) & 7);
  });
  return out;
}

describe('lane codecs', () => {
  it('pack to the bit layout of docs/architecture.md and unpack back, for every width 1..8, 16 and 32', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 8, 16, 32),
        fc.integer({ min: 1, max: 9 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        (bits, pairs, signed, offset, seed) => {
          const lanes = 8 * pairs; // whole bytes for any width
          let x = seed;
          const raw = Array.from({ length: lanes }, () => {
            x = (Math.imul(x, 1103515245) + 12345) >>> 0;
            return bits === 32 ? x : x % 2 ** bits;
          });
          const values = signed ? raw.map((v) => (v >= 2 ** (bits - 1) ? v - 2 ** bits : v)) : raw;
          const out = new Uint8Array(offset + (lanes * bits) / 8 + 3).fill(0xee);
          packLanes(values, 0, lanes, bits, out, offset);
          expect(out.subarray(offset, offset + (lanes * bits) / 8)).toEqual(naiveBits(raw, bits));
          expect(out[offset + (lanes * bits) / 8]).toBe(0xee); // nothing written past the entry
          const back = new Float64Array(lanes + 2);
          unpackLanes(out, offset, lanes, bits, signed, back, 1);
          expect(Array.from(back.subarray(1, lanes + 1))).toEqual(values);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('PARAM lanes: int32 bias LE in bytes 0-3, int8 shift in byte 4, bytes 5-7 zero', () => {
    expect(PARAM_LANE_BYTES).toBe(8);
    expect(PARAM_LANE_USED_BITS).toBe(40);
    const out = new Uint8Array(2 * PARAM_LANE_BYTES + 1).fill(0xff);
    packParamEntry([-2, 0x12345678], [-3, 9], 2, out, 1);
    expect(Array.from(out)).toEqual([0xff, 0xfe, 0xff, 0xff, 0xff, 0xfd, 0, 0, 0, 0x78, 0x56, 0x34, 0x12, 9, 0, 0, 0]);
    const { bias, shift } = unpackParamEntry(out, 1, 2);
    expect(Array.from(bias)).toEqual([-2, 0x12345678]);
    expect(Array.from(shift)).toEqual([-3, 9]);
  });
});

describe('requant arithmetic', () => {
  it('clamp bounds: unsigned [0, 2^b - 1], signed symmetric', () => {
    expect(requantClampRange(false, 4)).toEqual({ lo: 0, hi: 15 });
    expect(requantClampRange(true, 4)).toEqual({ lo: -7, hi: 7 });
    expect(requantClampRange(true, 1)).toEqual({ lo: -0, hi: 0 });
    expect(requantClampRange(false, 8)).toEqual({ lo: 0, hi: 255 });
  });

  it('equals clamp(floor((m - bias) / 2^shift)) in exact integers, the left shift saturating', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.integer({ min: -128, max: 127 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 8 }),
        (m, bias, shift, signed, bits) => {
          const { lo, hi } = requantClampRange(signed, bits);
          const v = BigInt(m) - BigInt(bias);
          // BigInt >> is an arithmetic shift, i.e. floor division by 2^shift
          const q = shift >= 0 ? v >> BigInt(shift) : v << BigInt(-shift);
          const want = q < BigInt(lo) ? lo : q > BigInt(hi) ? hi : Number(q);
          expect(requantValue(m, bias, shift, lo, hi)).toBe(want);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
