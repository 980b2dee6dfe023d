import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, resolveConfig, validateConfig } from '../../arch/config.js';
import type { ArchConfig } from '../../arch/index.js';
import { ConfigError, IsaError } from '../../arch/errors.js';
import {
  DEP_FLAG_BIT,
  DEP_FLAG_NAMES,
  MNEMONICS,
  OPCODE_BITS,
  OPS,
  OP_BY_OPCODE,
  decodeInstruction,
  decodeProgramCode,
  encodeInstruction,
  encodeProgramCode,
  isaLayout,
  type Instruction,
} from '../../isa/index.js';
import { arbConfig, arbConfigAndCode, arbInstruction } from './arbitraries.js';

/** The word as one BigInt, field by field from the layout table: an oracle independent of the 32-bit word code. */
function referenceWord(inst: Instruction, cfg: ArchConfig): bigint {
  const layout = isaLayout(cfg).get(inst.op)!;
  let word = BigInt(layout.opcode);
  for (const flag of DEP_FLAG_NAMES) word |= BigInt(inst[flag]) << BigInt(DEP_FLAG_BIT[flag]);
  const rec = inst as unknown as Record<string, number>;
  for (const f of layout.fields) word |= BigInt(rec[f.name]!) << BigInt(f.lsb);
  return word;
}

function wordOf(bytes: Uint8Array): bigint {
  let word = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) word = (word << 8n) | BigInt(bytes[i]!);
  return word;
}

describe('encode/decode', () => {
  it('every field sits at its layout bits: the bytes equal a BigInt reference encoding', () => {
    fc.assert(
      fc.property(
        arbConfig.chain((cfg) => fc.tuple(fc.constant(cfg), arbInstruction(cfg))),
        ([cfg, inst]) => {
          expect(wordOf(encodeInstruction(inst, cfg))).toBe(referenceWord(inst, cfg));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a set bit above the used bits is refused, in every 32-bit word', () => {
    fc.assert(
      fc.property(
        arbConfig.chain((cfg) => fc.tuple(fc.constant(cfg), arbInstruction(cfg), fc.nat(127))),
        ([cfg, inst, bit]) => {
          const used = isaLayout(cfg).get(inst.op)!.usedBits;
          fc.pre(bit >= used);
          const bytes = encodeInstruction(inst, cfg);
          bytes[bit >> 3] = bytes[bit >> 3]! | (1 << (bit & 7));
          expect(() => decodeInstruction(bytes, cfg)).toThrow(/unused bits/);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('decode(encode(x)) == x for random valid instructions under random valid configs', () => {
    fc.assert(
      fc.property(
        arbConfig.chain((cfg) => fc.tuple(fc.constant(cfg), arbInstruction(cfg))),
        ([cfg, inst]) => {
          const bytes = encodeInstruction(inst, cfg);
          expect(bytes.length).toBe(16);
          expect(decodeInstruction(bytes, cfg)).toEqual(inst);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('whole code sections round trip', () => {
    fc.assert(
      fc.property(arbConfigAndCode, ([cfg, code]) => {
        expect(decodeProgramCode(encodeProgramCode(code, cfg), cfg)).toEqual(code);
      }),
      { numRuns: 100 },
    );
  });

  it('random 16-byte words decode or fail with IsaError only; accepted words re-encode to the same bytes', () => {
    fc.assert(
      fc.property(arbConfig, fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.nat(15), (cfg, bytes, opcode) => {
        // Half the time force a legal opcode so the field checks get exercised too.
        if (opcode < 7) bytes[0] = (bytes[0]! & 0xf0) | opcode;
        try {
          const inst = decodeInstruction(bytes, cfg);
          expect(encodeInstruction(inst, cfg)).toEqual(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(IsaError);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('random byte strings never crash the code decoder', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        try {
          decodeProgramCode(bytes, DEFAULT_CONFIG);
        } catch (e) {
          expect(e).toBeInstanceOf(IsaError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('rejects out-of-range fields, illegal opcodes and non-zero unused bits with the place', () => {
    const flags = { pop_prev: 0, pop_next: 0, push_prev: 0, push_next: 0 } as const;
    expect(() => encodeInstruction({ op: 'NOP', ...flags, unit: 3 } as never, DEFAULT_CONFIG, 'instruction 4')).toThrow(
      /instruction 4: NOP.unit = 3 is out of range \[0, 2\]/,
    );
    const word = new Uint8Array(16);
    word[0] = 0x0f;
    expect(() => decodeInstruction(word, DEFAULT_CONFIG)).toThrow(/illegal opcode 15/);
    word[0] = 6; // HALT
    word[15] = 0x80;
    expect(() => decodeInstruction(word, DEFAULT_CONFIG)).toThrow(/unused bits \[127:8\] must be zero/);
    expect(() => decodeInstruction(new Uint8Array(10), DEFAULT_CONFIG)).toThrow(IsaError);
  });

  it('the default config fits every opcode into the word', () => {
    for (const l of isaLayout(DEFAULT_CONFIG).values()) expect(l.usedBits).toBeLessThanOrEqual(128);
  });

  it('a config whose fields no longer fit the 128-bit word is a ConfigError naming the opcode and its wide fields', () => {
    const cfg = structuredClone(DEFAULT_CONFIG);
    cfg.scratchpad = {
      inputEntries: 1 << 20,
      weightEntries: 1 << 20,
      accEntries: 1 << 20,
      outputEntries: 1 << 20,
      paramEntries: 1 << 16,
    };
    cfg.dram.sizeBytes = 2 ** 32;
    // the config itself is well-formed; the ISA is what it no longer fits
    expect(validateConfig(cfg)).toBe(cfg);
    expect(() => isaLayout(cfg)).toThrow(ConfigError);
    expect(() => isaLayout(cfg)).toThrow(
      /^config\.scratchpad: LOAD needs 140 bits but the instruction word has 128 \(wide fields: sram_addr 20, dram_addr 32, x_count 21, y_count 21, dram_stride 32\)/,
    );
    // Big, but still fitting: every opcode has its layout.
    expect(
      isaLayout(
        resolveConfig({ scratchpad: { inputEntries: 4096, weightEntries: 4096 }, dram: { sizeBytes: 2 ** 32 } }),
      ).size,
    ).toBe(MNEMONICS.length);
  });

  it('every opcode module has its own opcode, within the opcode bits, and its key as mnemonic', () => {
    const opcodes = MNEMONICS.map((m) => OPS[m].opcode);
    expect(new Set(opcodes).size).toBe(MNEMONICS.length);
    for (const m of MNEMONICS) {
      expect(OPS[m].mnemonic).toBe(m);
      expect(OPS[m].opcode).toBeLessThan(2 ** OPCODE_BITS);
      expect(OP_BY_OPCODE.get(OPS[m].opcode)!.mnemonic).toBe(m);
    }
  });
});
