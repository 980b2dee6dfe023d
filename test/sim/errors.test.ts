/** Every engine stops a bad program with the same SimError naming the instruction and the reason. */
import { describe, expect, it } from 'vitest';
import { SimError } from '../../arch/errors.js';
import { simulate } from '../../sim/index.js';
import { HALT, errorCodeOfAll, errorOfAll, gemmIns, ins, makeProgram } from './helpers.js';

const gemm = gemmIns;

describe('simulator errors', () => {
  it('token deadlock: a pop no push satisfies', () => {
    const msg = errorOfAll(makeProgram([ins('NOP', { unit: 1, pop_prev: 1 }), HALT]));
    expect(msg).toContain('SimError: instruction 0: token deadlock');
    expect(msg).toContain('compute unit: instruction 0 (NOP) waits for a load->compute token (counter 0); queue [0]');
    expect(msg).toContain('token counters: load->compute 0');
    expect(errorCodeOfAll(makeProgram([ins('NOP', { unit: 1, pop_prev: 1 }), HALT]))).toBe('NB-S001');
  });

  it('token deadlock through a full queue: the producer is never fetched', () => {
    // compute queue depth 1: instruction 1 waits for a compute slot, so the LOAD that would push is never fetched
    const p = makeProgram(
      [
        ins('NOP', { unit: 1, pop_prev: 1 }),
        ins('NOP', { unit: 1 }),
        ins('LOAD', { buf: 0, sram_addr: 0, dram_addr: 0, x_count: 1, y_count: 1, dram_stride: 0, push_next: 1 }),
        HALT,
      ],
      { config: { queues: { compute: 1 } } },
    );
    const msg = errorOfAll(p);
    expect(msg).toContain('fetch: instruction 1 (NOP) waits for a compute queue slot');
    expect(errorCodeOfAll(p)).toBe('NB-S001');
  });

  it('accumulator overflow names the instruction, entry and lane', () => {
    // 16-bit accumulators; activations 15, weights 7: a column sum is 16*15*7 = 1680, << 7 = 215040 > 32767
    const p = makeProgram(
      [
        ins('LOAD', { buf: 0, sram_addr: 0, dram_addr: 0, x_count: 1, y_count: 1, dram_stride: 0 }),
        ins('LOAD', { buf: 1, sram_addr: 0, dram_addr: 64, x_count: 16, y_count: 1, dram_stride: 0, push_next: 1 }),
        gemm({ pop_prev: 1, pshift: 7 }),
        HALT,
      ],
      {
        config: { bits: { accumulator: 16 } },
        segments: [{ name: 'ones', dramAddr: 0, bytes: new Uint8Array(64 + 128).fill(0xff).fill(0x77, 64) }],
      },
    );
    // 'timing' has no data, so only the data engines can see it
    const msg = errorOfAll(p, {}, ['fast', 'cycle']);
    expect(msg).toBe(
      'SimError: instruction 2: accumulator overflow: ACC entry 0 lane 0 would become 215040, outside the 16-bit range [-32768, 32767]',
    );
    expect(errorCodeOfAll(p, {}, ['fast', 'cycle'])).toBe('NB-S004');
  });

  it('SRAM ranges of every buffer access are checked', () => {
    expect(
      errorOfAll(
        makeProgram([
          ins('LOAD', { buf: 0, sram_addr: 2040, dram_addr: 0, x_count: 10, y_count: 1, dram_stride: 0 }),
          HALT,
        ]),
      ),
    ).toBe('SimError: instruction 0: LOAD INP write range [2040, 2049] is outside the 2048-entry buffer');
    expect(
      errorOfAll(makeProgram([ins('NOP', { unit: 0 }), gemm({ acc_addr: 1000, out_h: 5, out_w: 5 }), HALT])),
    ).toContain('instruction 1: GEMM ACC range [1000, 1024]');
    expect(errorOfAll(makeProgram([gemm({ wgt_addr: 2040 }), HALT]))).toContain('GEMM WGT read range [2040, 2055]');
    expect(errorOfAll(makeProgram([gemm({ inp_addr: 2000, in_h: 7, in_w: 7 }), HALT]))).toContain(
      'GEMM INP read range',
    );
    expect(
      errorOfAll(
        makeProgram([ins('STORE', { sram_addr: 2047, dram_addr: 0, x_count: 2, y_count: 1, dram_stride: 0 }), HALT]),
      ),
    ).toContain('STORE OUT read range');
    expect(
      errorOfAll(
        makeProgram([
          ins('REQUANT', {
            acc_addr: 0,
            out_addr: 0,
            param_addr: 0,
            in_h: 2,
            in_w: 2,
            out_h: 2,
            out_w: 2,
            pool_k: 2,
            pool_s: 1,
            out_signed: 0,
            clamp_bits: 4,
          }),
          HALT,
        ]),
      ),
    ).toContain('REQUANT windows need a 3x3 input');
  });

  it('DRAM out of range names the instruction', () => {
    const msg = errorOfAll(
      makeProgram([
        ins('NOP', { unit: 2 }),
        ins('LOAD', { buf: 0, sram_addr: 0, dram_addr: 2 ** 28 - 16, x_count: 4, y_count: 1, dram_stride: 0 }),
        HALT,
      ]),
    );
    expect(msg).toBe(
      'SimError: instruction 1: LOAD DRAM range [268435440, 268435471] (1 rows of 4 x 8 bytes, stride 0) is outside the 268435456-byte DRAM',
    );
  });

  it('POOL source and destination must not overlap', () => {
    const msg = errorOfAll(
      makeProgram([
        ins('POOL', {
          src_addr: 0,
          dst_addr: 3,
          in_h: 2,
          in_w: 2,
          out_h: 1,
          out_w: 1,
          pool_k: 2,
          pool_s: 2,
          act_signed: 0,
        }),
        HALT,
      ]),
    );
    expect(msg).toBe('SimError: instruction 0: POOL source [0, 3] and destination [3, 3] overlap');
  });
});

describe('simulator errors: programs that cannot start or finish', () => {
  it('illegal instructions, a missing HALT and an unknown input are rejected', () => {
    expect(errorOfAll(makeProgram([gemm({ kernel_h: 0 }), HALT]))).toContain(
      'illegal instruction: instruction 0: GEMM.kernel_h = 0 is out of range',
    );
    expect(errorOfAll(makeProgram([ins('NOP', { unit: 0 })]))).toBe(
      'SimError: instruction 1: program has no HALT: fetch would run past the code',
    );
    expect(errorCodeOfAll(makeProgram([gemm({ kernel_h: 0 }), HALT]))).toBe('NB-S006');
    expect(errorCodeOfAll(makeProgram([ins('NOP', { unit: 0 })]))).toBe('NB-S007');
    expect(() => simulate(makeProgram([HALT]), { engine: 'fast', inputs: { nope: new Int32Array(1) } })).toThrow(
      /unknown input 'nope'/,
    );
  });

  it('the cycle budget stops long programs in every engine', () => {
    const p = makeProgram([
      ins('LOAD', { buf: 0, sram_addr: 0, dram_addr: 0, x_count: 196, y_count: 1, dram_stride: 0 }),
      HALT,
    ]);
    expect(errorOfAll(p, { maxCycles: 100 })).toBe(
      'SimError: cycle budget exceeded: the program did not finish within 100 cycles (raise maxCycles if this is expected)',
    );
    expect(errorCodeOfAll(p, { maxCycles: 100 })).toBe('NB-S003');
    // exactly enough is fine (T = 222)
    expect(simulate(p, { engine: 'cycle', maxCycles: 222 }).cycles).toBe(222);
    expect(simulate(p, { engine: 'timing', maxCycles: 222 }).cycles).toBe(222);
  });

  it('a 16-bit token counter overflow names the pushing instruction', () => {
    // 65536 pushes on load->compute, nobody pops: the 65536th push (instruction 65535) overflows
    const code = Array.from({ length: 65536 }, () => ins('NOP', { unit: 0, push_next: 1 }));
    const msg = errorOfAll(makeProgram([...code, HALT]));
    expect(msg).toBe(
      'SimError: instruction 65535: the load->compute token counter would exceed 65535 (16-bit counter): too many pushes before their pops',
    );
    expect(errorCodeOfAll(makeProgram([...code, HALT]), {}, ['timing'])).toBe('NB-S002');
    // one pop in between keeps it at 65535
    const ok = makeProgram([...code.slice(0, 10), ins('NOP', { unit: 1, pop_prev: 1 }), ...code.slice(10), HALT]);
    expect(simulate(ok, { engine: 'timing' }).cycles).toBeGreaterThan(65536);
  });

  it('errors are SimErrors', () => {
    expect(() => simulate(makeProgram([ins('NOP', { unit: 1, pop_prev: 1 }), HALT]), { engine: 'timing' })).toThrow(
      SimError,
    );
  });
});
