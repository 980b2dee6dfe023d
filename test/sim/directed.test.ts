/**
 * Directed per-instruction tests. Expected cycle counts are derived by hand
 * from docs/architecture.md (default config: N = 16, L = 24, busBytes = 8,
 * queues 8, requantStages 3, G = 2N + 2 = 34; INP/WGT/OUT entries are 8 bytes
 * = 1 beat, PARAM entries 128 bytes = 16 beats). Every test runs all three
 * engines (runAll checks they agree on D/S/E, cycles, counters and DRAM).
 */
import { describe, expect, it } from 'vitest';
import { packParamEntry } from '../../isa/index.js';
import type { TensorDescriptor } from '../../isa/program.js';
import { simulate } from '../../sim/index.js';
import { HALT, gemmIns, ins, makeProgram, runAll } from './helpers.js';
import { naiveRun } from './naive.js';

const arr = (x: Float64Array) => Array.from(x);

describe('LOAD / STORE', () => {
  it('LOAD of a 14x14 tile: L + beats = 24 + 196', () => {
    // D0 = max(1, 0) = 1; S0 = D0 + 1 = 2; E0 = S0 + L + 196 = 222. HALT: D = 2, E = 3. T = max(3, 222) = 222.
    const r = runAll(
      makeProgram([
        ins('LOAD', { buf: 0, sram_addr: 0, dram_addr: 0, x_count: 14, y_count: 14, dram_stride: 112 }),
        HALT,
      ]),
    );
    expect(arr(r.dispatch)).toEqual([1, 2]);
    expect(arr(r.start)).toEqual([2, 2]);
    expect(arr(r.end)).toEqual([222, 3]);
    expect(r.cycles).toBe(222);
    expect(r.counters.load).toEqual({
      busy: 196,
      idle: 2,
      stallToken: 0,
      stallDram: 24,
      stallQueueFull: 0,
      instructions: 1,
    });
    expect(r.counters.fetch).toMatchObject({ busy: 2, idle: 220, stallQueueFull: 0 });
    expect(r.counters.sram.inp).toEqual({ reads: 0, writes: 196, readBits: 0, writeBits: 196 * 64 });
    expect(r.counters.dram.readBytes).toBe(196 * 8);
  });

  it('LOAD of PARAM entries: 16 beats per 128-byte entry', () => {
    // 2 entries x ceil(128 / 8) = 32 beats: E = 2 + 24 + 32 = 58
    const r = runAll(
      makeProgram([ins('LOAD', { buf: 2, sram_addr: 0, dram_addr: 0, x_count: 2, y_count: 1, dram_stride: 0 }), HALT]),
    );
    expect(arr(r.end)).toEqual([58, 3]);
  });

  it('an entry narrower than the bus still costs whole beats; wider costs several', () => {
    // busBytes 2: an 8-byte INP entry is 4 beats; 3 entries in 3 rows = 12 beats: E = 2 + 24 + 12 = 38
    const r = runAll(
      makeProgram(
        [ins('LOAD', { buf: 0, sram_addr: 0, dram_addr: 0, x_count: 1, y_count: 3, dram_stride: 64 }), HALT],
        { config: { dram: { busBytes: 2 } } },
      ),
    );
    expect(arr(r.end)).toEqual([38, 3]);
    // busBytes 64: 1 beat per entry
    const r2 = runAll(
      makeProgram([ins('LOAD', { buf: 0, sram_addr: 0, dram_addr: 0, x_count: 5, y_count: 1, dram_stride: 0 }), HALT], {
        config: { dram: { busBytes: 64 } },
      }),
    );
    expect(arr(r2.end)).toEqual([2 + 24 + 5, 3]);
  });

  it('STORE: L + beats + 1, data lands in DRAM', () => {
    // 8 entries: E = 2 + 24 + 8 + 1 = 35
    const r = runAll(
      makeProgram([ins('STORE', { sram_addr: 0, dram_addr: 64, x_count: 4, y_count: 2, dram_stride: 32 }), HALT]),
    );
    expect(arr(r.end)).toEqual([35, 3]);
    expect(r.counters.store).toMatchObject({ busy: 9, stallDram: 24 });
    expect(r.counters.dram.writeBytes).toBe(64);
  });

  it('LOAD -> OUT via REQUANT -> STORE moves the right bytes', () => {
    // a 1-pixel pipeline with tokens: LOAD param (push) -> REQUANT (pop, push) -> STORE (pop)
    const params = new Uint8Array(128);
    packParamEntry(new Array(16).fill(-5), new Array(16).fill(0), 16, params, 0);
    const out: TensorDescriptor = {
      name: 'y',
      dramAddr: 4096,
      shape: [1, 16, 1, 1],
      layout: 'blocked',
      bits: 4,
      signed: false,
      imageStrideBytes: 8,
    };
    const p = makeProgram(
      [
        ins('LOAD', { buf: 2, sram_addr: 0, dram_addr: 0, x_count: 1, y_count: 1, dram_stride: 0, push_next: 1 }),
        ins('REQUANT', {
          pop_prev: 1,
          push_next: 1,
          acc_addr: 0,
          out_addr: 3,
          param_addr: 0,
          in_h: 1,
          in_w: 1,
          out_h: 1,
          out_w: 1,
          pool_k: 1,
          pool_s: 1,
          out_signed: 0,
          clamp_bits: 4,
        }),
        ins('STORE', { pop_prev: 1, sram_addr: 3, dram_addr: 4096, x_count: 1, y_count: 1, dram_stride: 0 }),
        HALT,
      ],
      { segments: [{ name: 'p', dramAddr: 0, bytes: params }], outputs: [out] },
    );
    const r = runAll(p);
    // ACC is 0, bias -5: (0 - (-5)) >> 0 = 5 in every lane
    expect(Array.from(r.outputs['y']!)).toEqual(new Array(16).fill(5));
    // LOAD: S 2, E = 2 + 24 + 16 = 42. REQUANT: S = max(D + 1 = 3, token 42) = 42, E = 42 + 1 + 3 + 2 = 48.
    // STORE: S = 48, E = 48 + 24 + 1 + 1 = 74.
    expect(arr(r.start).slice(0, 3)).toEqual([2, 42, 48]);
    expect(arr(r.end).slice(0, 3)).toEqual([42, 48, 74]);
    expect(r.counters.compute.stallToken).toBe(42 - 3);
    expect(r.counters.store.stallToken).toBe(48 - 4);
  });
});

/** A default-config GEMM with every field given. */
const gemm = (f: Record<string, number>) => gemmIns(f);

describe('GEMM timing (docs/architecture.md 7.2-7.4)', () => {
  it('the worked example: P = 64, 3x3 kernel, 9 passes', () => {
    // Started at S = 2 (not 10 as in the doc): PL(0) = 2, IS(0) = 3 (two rows a cycle, config fastPreload),
    // pass j issues at 3 + 64 j, E = DR(8) = 3 + 8*64 + 64 + 34 = 613 (the doc's 621 shifted by -8).
    // One row a cycle: IS(0) = 18, E = 628 (the doc's 636). Busy 9 * 64 = 576 issue cycles.
    const g = gemm({ in_h: 10, in_w: 10, out_h: 8, out_w: 8, kernel_h: 3, kernel_w: 3 });
    expect(arr(runAll(makeProgram([g, HALT], { config: { fastPreload: false } })).end)).toEqual([628, 3]);
    const r = runAll(makeProgram([g, HALT]));
    expect(arr(r.start)).toEqual([2, 2]);
    expect(arr(r.end)).toEqual([613, 3]);
    expect(r.counters.array.issueCycles).toBe(576);
    expect(r.counters.array.macsIssued).toBe(576 * 256);
    expect(r.counters.compute.busy).toBe(611);
    expect(r.counters.sram.wgt.reads).toBe(9 * 16);
    expect(r.counters.sram.acc).toMatchObject({ reads: 8 * 64, writes: 9 * 64 });
  });

  it('P = 1 passes wait for the weight preload and the bank rule', () => {
    // 3 passes (ci_blocks 3), P = 1, one row a cycle. j0: PL 2, IS 18. j1: PL = max(18, -) = 18,
    // IS = max(34, 19) = 34. j2: PL = max(34, IS0 + P + N = 35) = 35, IS = max(51, 35) = 51. E = 51 + 1 + 34 = 86.
    const run = (config: unknown) => arr(runAll(makeProgram([gemm({ ci_blocks: 3 }), HALT], { config })).end);
    expect(run({ fastPreload: false, weightBanks: 2 })).toEqual([86, 3]);
    // two rows a cycle (T = 8, U = 1, bank hold H = 16 + 8 - 1 = 23). j0: PL 2, IS 3. j1: PL = 2 + 8 = 10, IS 11.
    // j2: PL = max(18, IS0 + 1 + 23 = 27) = 27, IS 28. E = 28 + 1 + 34 = 63.
    expect(run({ weightBanks: 2 })).toEqual([63, 3]);
    // and three weight banks (the default): j2 preloads bank 2, PL = 18, IS 19. E = 19 + 1 + 34 = 54
    expect(run({})).toEqual([54, 3]);
  });

  it('the dense row of docs/architecture.md 7.5: 3x3 kernel over a 3x3 map, 9 passes of one pixel', () => {
    const g = gemm({ in_h: 3, in_w: 3, kernel_h: 3, kernel_w: 3 });
    const end = (config: unknown) => arr(runAll(makeProgram([g, HALT], { config })).end)[0]! - 2;
    expect([end({}), end({ weightBanks: 2 }), end({ fastPreload: false, weightBanks: 2 })]).toEqual([102, 136, 183]);
  });

  it('a second GEMM starts (preloads) while the first still issues and drains', () => {
    // G1: S 2, IS 3, E = 3 + 64 + 34 = 101. G2: S = max(D + 1 = 3, PL(prev) + N/2 = 10) = 10,
    // IS = max(11, 3 + 64) = 67, E = 67 + 64 + 34 = 165. Compute busy = union [2, 165) = 163.
    const g = gemm({ in_h: 8, in_w: 8, out_h: 8, out_w: 8 });
    const r = runAll(makeProgram([g, g, HALT]));
    expect(arr(r.start)).toEqual([2, 10, 3]);
    expect(arr(r.end)).toEqual([101, 165, 4]);
    expect(r.counters.compute.busy).toBe(163);
    expect(r.cycles).toBe(165);
  });

  it('a REQUANT waits for all earlier GEMMs to drain', () => {
    // GEMM (P = 1) E = 3 + 1 + 34 = 38; REQUANT S = 38, R = 1: E = 38 + 1 + 3 + 2 = 44
    const r = runAll(
      makeProgram([
        gemm({}),
        ins('REQUANT', {
          acc_addr: 0,
          out_addr: 0,
          param_addr: 0,
          in_h: 1,
          in_w: 1,
          out_h: 1,
          out_w: 1,
          pool_k: 1,
          pool_s: 1,
          out_signed: 0,
          clamp_bits: 4,
        }),
        HALT,
      ]),
    );
    expect(arr(r.start).slice(0, 2)).toEqual([2, 38]);
    expect(arr(r.end).slice(0, 2)).toEqual([38, 44]);
  });
});

describe('GEMM data', () => {
  it('computes the right numbers (against a naive re-implementation), with padding, stride, signed inputs, pshift, accumulate', () => {
    const n = 16;
    const inpBytes = new Uint8Array(2 * 5 * 5 * 8);
    for (let i = 0; i < inpBytes.length; i++) inpBytes[i] = (i * 37 + 11) & 255;
    const wgtBytes = new Uint8Array(2 * 9 * n * 8);
    for (let i = 0; i < wgtBytes.length; i++) wgtBytes[i] = (i * 101 + 7) & 255;
    const params = new Uint8Array(128);
    packParamEntry(
      Array.from({ length: n }, (_, l) => l * 13 - 100),
      Array.from({ length: n }, (_, l) => 4 + (l % 6)),
      n,
      params,
      0,
    );
    const out: TensorDescriptor = {
      name: 'y',
      dramAddr: 8192,
      shape: [1, 16, 2, 2],
      layout: 'blocked',
      bits: 4,
      signed: true,
      imageStrideBytes: 32,
    };
    const acc: TensorDescriptor = {
      name: 'z',
      dramAddr: 8192 + 64,
      shape: [1, 16, 3, 3],
      layout: 'blocked',
      bits: 4,
      signed: false,
      imageStrideBytes: 72,
    };
    const p = makeProgram(
      [
        ins('LOAD', { buf: 0, sram_addr: 0, dram_addr: 0, x_count: 50, y_count: 1, dram_stride: 0 }),
        ins('LOAD', { buf: 1, sram_addr: 0, dram_addr: 1024, x_count: 16, y_count: 18, dram_stride: 128 }),
        ins('LOAD', { buf: 2, sram_addr: 0, dram_addr: 4096, x_count: 1, y_count: 1, dram_stride: 0, push_next: 1 }),
        gemm({
          pop_prev: 1,
          in_h: 5,
          in_w: 5,
          out_h: 3,
          out_w: 3,
          kernel_h: 3,
          kernel_w: 3,
          stride_h: 2,
          stride_w: 2,
          pad_top: 1,
          pad_left: 1,
          ci_blocks: 2,
          act_signed: 1,
        }),
        gemm({
          in_h: 5,
          in_w: 5,
          out_h: 3,
          out_w: 3,
          stride_h: 2,
          stride_w: 1,
          ci_blocks: 1,
          accumulate: 1,
          pshift: 2,
          wgt_addr: 32,
        }),
        ins('REQUANT', {
          acc_addr: 0,
          out_addr: 0,
          param_addr: 0,
          in_h: 3,
          in_w: 3,
          out_h: 2,
          out_w: 2,
          pool_k: 2,
          pool_s: 1,
          out_signed: 1,
          clamp_bits: 4,
        }),
        ins('REQUANT', {
          push_next: 1,
          acc_addr: 0,
          out_addr: 10,
          param_addr: 0,
          in_h: 3,
          in_w: 3,
          out_h: 3,
          out_w: 3,
          pool_k: 1,
          pool_s: 1,
          out_signed: 0,
          clamp_bits: 3,
        }),
        ins('STORE', { pop_prev: 1, sram_addr: 0, dram_addr: 8192, x_count: 4, y_count: 1, dram_stride: 0 }),
        ins('STORE', { sram_addr: 10, dram_addr: 8192 + 64, x_count: 3, y_count: 3, dram_stride: 24 }),
        HALT,
      ],
      {
        segments: [
          { name: 'inp', dramAddr: 0, bytes: inpBytes },
          { name: 'wgt', dramAddr: 1024, bytes: wgtBytes },
          { name: 'par', dramAddr: 4096, bytes: params },
        ],
        outputs: [out, acc],
      },
    );
    const r = runAll(p);
    const ref = naiveRun(p, {}, r.dram!.length);
    expect(Array.from(r.outputs['y']!)).toEqual(Array.from(ref.outputs['y']!));
    expect(Array.from(r.outputs['z']!)).toEqual(Array.from(ref.outputs['z']!));
    // the data is not trivial
    expect(new Set(r.outputs['y']!).size).toBeGreaterThan(2);
    expect(new Set(r.outputs['z']!).size).toBeGreaterThan(2);
  });
});

describe('REQUANT / POOL / NOP / HALT', () => {
  it('REQUANT with pooling: R = out_h * out_w * pool_k^2, E = S + R + stages + 2', () => {
    // 2x2 -> 1x1, pool 2: R = 4, E = 2 + 4 + 3 + 2 = 11; with requantStages 1: 9
    const rq = ins('REQUANT', {
      acc_addr: 0,
      out_addr: 0,
      param_addr: 0,
      in_h: 2,
      in_w: 2,
      out_h: 1,
      out_w: 1,
      pool_k: 2,
      pool_s: 2,
      out_signed: 0,
      clamp_bits: 4,
    });
    expect(arr(runAll(makeProgram([rq, HALT])).end)).toEqual([11, 3]);
    expect(arr(runAll(makeProgram([rq, HALT], { config: { requantStages: 1 } })).end)).toEqual([9, 3]);
  });

  it('POOL: E = S + R + 2', () => {
    // 4x4 -> 2x2 with 2x2 windows: R = 16, E = 2 + 16 + 2 = 20
    const r = runAll(
      makeProgram([
        ins('POOL', {
          src_addr: 0,
          dst_addr: 100,
          in_h: 4,
          in_w: 4,
          out_h: 2,
          out_w: 2,
          pool_k: 2,
          pool_s: 2,
          act_signed: 1,
        }),
        HALT,
      ]),
    );
    expect(arr(r.end)).toEqual([20, 3]);
    expect(r.counters.sram.out).toMatchObject({ reads: 16, writes: 4 });
  });

  it('NOPs take one cycle in their unit; HALT alone finishes at T = 2', () => {
    // D = 1, 2, 3, 4; S = D + 1; E = S + 1; T = max(D_HALT + 1, max E) = 5
    const r = runAll(makeProgram([ins('NOP', { unit: 0 }), ins('NOP', { unit: 1 }), ins('NOP', { unit: 2 }), HALT]));
    expect(arr(r.dispatch)).toEqual([1, 2, 3, 4]);
    expect(arr(r.end)).toEqual([3, 4, 5, 5]);
    expect(r.cycles).toBe(5);
    expect(runAll(makeProgram([HALT])).cycles).toBe(2);
  });

  it('instructions after HALT are not executed', () => {
    const r = runAll(makeProgram([HALT, ins('NOP', { unit: 0 })]));
    expect(r.start.length).toBe(1);
  });
});

describe('queues and tokens', () => {
  it('queue-full stalls fetch (queues.load = 1)', () => {
    // LOADs of 1 entry take 25 cycles. D0 1, S0 2, E0 27. Inst 1 needs the slot of inst 0: D1 = S0 + 1 = 3,
    // S1 = E0 = 27, E1 = 52. D2 = S1 + 1 = 28, S2 = 52, E2 = 77. HALT D = 29. Fetch stall (3-2) + (28-4) = 25.
    const ld = ins('LOAD', { buf: 0, sram_addr: 0, dram_addr: 0, x_count: 1, y_count: 1, dram_stride: 0 });
    const r = runAll(makeProgram([ld, ld, ld, HALT], { config: { queues: { load: 1 } } }));
    expect(arr(r.dispatch)).toEqual([1, 3, 28, 29]);
    expect(arr(r.start)).toEqual([2, 27, 52, 29]);
    expect(arr(r.end)).toEqual([27, 52, 77, 30]);
    expect(r.counters.fetch).toMatchObject({ busy: 4, stallQueueFull: 25, idle: 77 - 4 - 25 });
  });

  it('a token wait delays the consumer until the producer ends', () => {
    // LOAD (push_next) S 2, E 27. GEMM (pop_prev) D 2: S = max(3, 27) = 27, IS 28, E = 28 + 1 + 34 = 63.
    const r = runAll(
      makeProgram([
        ins('LOAD', { buf: 0, sram_addr: 0, dram_addr: 0, x_count: 1, y_count: 1, dram_stride: 0, push_next: 1 }),
        gemm({ pop_prev: 1 }),
        HALT,
      ]),
    );
    expect(arr(r.start)).toEqual([2, 27, 3]);
    expect(arr(r.end)).toEqual([27, 63, 4]);
    expect(r.counters.compute.stallToken).toBe(24);
    expect(r.counters.compute.busy).toBe(36);
    expect(r.counters.compute.idle).toBe(63 - 24 - 36);
  });

  it('a token pushed by a later instruction in program order is waited for (store -> compute)', () => {
    // compute NOP pops store->compute; the STORE NOP that pushes comes later in the program.
    // NOP c: D 1. NOP s: D 2, S 3, E 4. NOP c: S = max(2, 4) = 4, E 5.
    const r = runAll(makeProgram([ins('NOP', { unit: 1, pop_next: 1 }), ins('NOP', { unit: 2, push_prev: 1 }), HALT]));
    expect(arr(r.start)).toEqual([4, 3, 3]);
    expect(arr(r.end)).toEqual([5, 4, 4]);
  });
});

describe('inputs and outputs', () => {
  it('missing inputs are filled with seeded random values and reported; given inputs are used', () => {
    const desc: TensorDescriptor = {
      name: 'x',
      dramAddr: 0,
      shape: [1, 16, 1, 2],
      layout: 'blocked',
      bits: 4,
      signed: false,
      imageStrideBytes: 16,
    };
    const echo: TensorDescriptor = { ...desc, name: 'x_out', dramAddr: 256 };
    // LOAD INP isn't needed: just read the input back as an output at the same bytes
    const p = makeProgram([HALT], { inputs: [desc], outputs: [{ ...echo, dramAddr: 0 }] });
    const r1 = simulate(p, { engine: 'fast' });
    expect(r1.randomInputs).toEqual(['x']);
    const r2 = simulate(p, { engine: 'fast', seed: 1 });
    expect(Array.from(r2.outputs['x_out']!)).toEqual(Array.from(r1.outputs['x_out']!));
    const x = Int32Array.from({ length: 32 }, (_, i) => i % 16);
    const r3 = simulate(p, { engine: 'cycle', inputs: { x } });
    expect(r3.randomInputs).toEqual([]);
    expect(Array.from(r3.outputs['x_out']!)).toEqual(Array.from(x));
    expect(r3.dram!.length).toBe(16);
  });
});
