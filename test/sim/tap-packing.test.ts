/**
 * Tap packing (docs/architecture.md 7.6): a LOAD with `replicate` copies a
 * pixel's first g lanes into every group of g lanes; a GEMM with `taps = 1` and `ci_blocks = g`
 * puts floor(R / g) kernel taps on the array rows, every row reading its own
 * tap's entry. The worked example of the doc, checked in all three engines and
 * against a direct convolution; and the errors.
 */
import { describe, expect, it } from 'vitest';
import { deriveArch, DEFAULT_CONFIG } from '../../arch/config.js';
import { packEntry, packParamEntry } from '../../isa/layout.js';
import type { TensorDescriptor } from '../../isa/program.js';
import { simulate } from '../../sim/index.js';
import { HALT, errorOfAll, ins, makeProgram, runAll } from './helpers.js';
import { naiveRun } from './naive.js';

const a = deriveArch(DEFAULT_CONFIG);
const N = 16;
const H = 8;
const W = 8;

/** A seeded value in [lo, hi]. */
function seq(seed: number): (lo: number, hi: number) => number {
  let s = seed >>> 0;
  return (lo, hi) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return lo + ((s >>> 8) % (hi - lo + 1));
  };
}

/**
 * One 8x8 map (lane 0 of each DRAM entry; 8-bit pixels as lanes 0 and 1 for nibble lanes), a 3x3 pad-1
 * conv to 16 channels into ACC, and the direct convolution it must equal.
 */
function example(mode: 'normal' | 'taps' | 'nibbles') {
  const rnd = seq(mode.length * 7 + 1);
  const pix = Array.from({ length: H * W }, () => rnd(0, mode === 'nibbles' ? 255 : 15));
  const inp = new Uint8Array(H * W * a.inpEntryBytes);
  pix.forEach((v, p) => {
    const lanes = new Array<number>(N).fill(0);
    if (mode === 'nibbles') {
      lanes[0] = v & 15;
      lanes[1] = v >> 4;
    } else lanes[0] = v;
    packEntry(lanes, N, 4, inp, p * a.inpEntryBytes);
  });
  // weights w[co][tap]
  const w = Array.from({ length: N }, () => Array.from({ length: 9 }, () => rnd(-7, 7)));
  const tiles = mode === 'normal' ? 9 : mode === 'taps' ? 1 : 2;
  const wgt = new Uint8Array(tiles * N * a.wgtEntryBytes);
  for (let tile = 0; tile < tiles; tile++) {
    for (let r = 0; r < N; r++) {
      // the tap row r of this tile carries (normal: the tile's tap on row 0, other rows zero)
      const tap = mode === 'normal' ? (r === 0 ? tile : -1) : mode === 'taps' ? (r < 9 ? r : -1) : tile * 8 + (r >> 1);
      const ok = tap >= 0 && tap < 9;
      const lanes = Array.from({ length: N }, (_, co) => (ok ? w[co]![tap]! : 0));
      packEntry(lanes, N, 4, wgt, (tile * N + r) * a.wgtEntryBytes);
    }
  }
  const g = mode === 'normal' ? 0 : mode === 'taps' ? 1 : 2;
  const code = [
    ins('LOAD', { buf: 0, sram_addr: 0, dram_addr: 0, x_count: H * W, y_count: 1, dram_stride: 0, replicate: g }),
    ins('LOAD', {
      buf: 1,
      sram_addr: 0,
      dram_addr: 4096,
      x_count: tiles * N,
      y_count: 1,
      dram_stride: 0,
      push_next: 1,
    }),
    ins('GEMM', {
      pop_prev: 1,
      wgt_addr: 0,
      inp_addr: 0,
      acc_addr: 0,
      in_h: H,
      in_w: W,
      out_h: H,
      out_w: W,
      kernel_h: 3,
      kernel_w: 3,
      stride_h: 1,
      stride_w: 1,
      pad_top: 1,
      pad_left: 1,
      ci_blocks: g || 1,
      accumulate: 0,
      act_signed: 0,
      pshift: 0,
      taps: g ? 1 : 0,
      nibble_lanes: mode === 'nibbles' ? 1 : 0,
    }),
    HALT,
  ];
  const p = makeProgram(code, {
    segments: [
      { name: 'inp', dramAddr: 0, bytes: inp },
      { name: 'wgt', dramAddr: 4096, bytes: wgt },
    ],
  });
  // the direct convolution
  const expected = new Int32Array(H * W * N);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      for (let co = 0; co < N; co++) {
        let s = 0;
        for (let t = 0; t < 9; t++) {
          const iy = y + Math.floor(t / 3) - 1;
          const ix = x + (t % 3) - 1;
          if (iy >= 0 && iy < H && ix >= 0 && ix < W) s += pix[iy * W + ix]! * w[co]![t]!;
        }
        expected[(y * W + x) * N + co] = s;
      }
  return { p, expected };
}

describe('tap packing (docs/architecture.md 7.6)', () => {
  it('the worked example: 1-channel 8x8 map, 3x3 kernel: 9 passes, 1 pass tap-packed, 2 with nibble lanes', () => {
    const cycles: Record<string, number> = {};
    for (const mode of ['normal', 'taps', 'nibbles'] as const) {
      const { p, expected } = example(mode);
      const r = runAll(p);
      expect(Array.from(r.scratchpads!.acc.subarray(0, H * W * N)), mode).toEqual(Array.from(expected));
      // the GEMM starts when both LOADs are done: 24 + 64 and then 24 + tiles * 16
      cycles[mode] = r.end[2]! - r.start[2]!;
      expect(r.counters.array.passes, mode).toBe(mode === 'normal' ? 9 : mode === 'taps' ? 1 : 2);
    }
    // E - S = first preload (R, or 1 cycle for the two-rows-a-cycle preload of an ordinary GEMM: config
    // fastPreload) + passes x 64 + G (34)
    expect(cycles).toEqual({ normal: 1 + 9 * 64 + 34, taps: 16 + 64 + 34, nibbles: 16 + 2 * 64 + 34 });
  });

  it('INP reads count the pixels at which some row reads (padding reads nothing)', () => {
    const r = runAll(example('taps').p);
    // one pass, every output pixel has its centre tap inside the map
    expect(r.counters.sram.inp.reads).toBe(H * W);
    const n = runAll(example('normal').p);
    // normal mode: per tap, the pixels whose tap lies inside: 8x8 + 4 x 8x7 + 4 x 7x7
    expect(n.counters.sram.inp.reads).toBe(64 + 4 * 56 + 4 * 49);
  });

  it('agrees with the naive ISA semantics, REQUANT and STORE included', () => {
    const { p } = example('nibbles');
    const par = new Uint8Array(a.paramEntryBytes);
    packParamEntry(new Array(N).fill(100), new Array(N).fill(6), N, par, 0);
    const out: TensorDescriptor = {
      name: 'y',
      dramAddr: 16384,
      shape: [1, N, H, W],
      layout: 'blocked',
      bits: 4,
      signed: false,
      imageStrideBytes: H * W * a.outEntryBytes,
    };
    const code = [
      ins('LOAD', { buf: 2, sram_addr: 0, dram_addr: 8192, x_count: 1, y_count: 1, dram_stride: 0 }),
      ...p.code.slice(0, -1),
      ins('REQUANT', {
        push_next: 1,
        acc_addr: 0,
        out_addr: 0,
        param_addr: 0,
        in_h: H,
        in_w: W,
        out_h: H,
        out_w: W,
        pool_k: 1,
        pool_s: 1,
        out_signed: 0,
        clamp_bits: 4,
      }),
      ins('STORE', { pop_prev: 1, sram_addr: 0, dram_addr: 16384, x_count: H * W, y_count: 1, dram_stride: 0 }),
      HALT,
    ];
    const q = makeProgram(code, {
      segments: [...p.segments, { name: 'par', dramAddr: 8192, bytes: par }],
      outputs: [out],
    });
    const r = runAll(q);
    const ref = naiveRun(q, {}, r.dram!.length);
    expect(Array.from(r.outputs['y']!)).toEqual(Array.from(ref.outputs['y']!));
    expect(new Set(r.outputs['y']!).size).toBeGreaterThan(4);
  });

  it('rejects tap packing it cannot run, naming the instruction and the reason', () => {
    const { p } = example('nibbles');
    const gemmAt = (f: Record<string, number>) =>
      makeProgram([{ ...p.code[2]!, pop_prev: 0, ...f } as (typeof p.code)[number], HALT], { segments: p.segments });
    expect(errorOfAll(gemmAt({ ci_blocks: 3 }))).toBe(
      'SimError: instruction 0: GEMM nibble_lanes=1 needs taps=1 with an even tap group (ci_blocks: a low and a high nibble lane per channel), got taps=1 ci_blocks=3',
    );
    expect(errorOfAll(gemmAt({ nibble_lanes: 0, ci_blocks: 9 }))).toBe(
      'SimError: instruction 0: GEMM taps=1 takes its tap group from ci_blocks, which must be at most R/2 = 8 lanes (two taps per pass), got 9',
    );
    const ld = makeProgram([{ ...p.code[1]!, push_next: 0, replicate: 2 } as (typeof p.code)[number], HALT], {
      segments: p.segments,
    });
    expect(errorOfAll(ld)).toBe('SimError: instruction 0: LOAD replicate=2 applies to INP only, not WGT');
    expect(() => simulate(gemmAt({ ci_blocks: 2, nibble_lanes: 1 }), { engine: 'timing' })).not.toThrow();
  });
});
