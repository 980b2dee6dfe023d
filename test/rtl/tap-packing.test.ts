/**
 * Tap packing in the generated RTL (docs/architecture.md 7.6), RTL == simulator
 * on bits and cycles: 3x3 convolutions of a first layer (1 channel 4-bit, one
 * and two 8-bit channels on nibble lanes, 3 channels) through LOAD replicate,
 * a tap-packed GEMM, REQUANT and STORE, on two rectangular arrays with more
 * rows than columns: 16 x 4 (9 taps of one channel in one pass) and 32 x 2
 * (18 nibble-lane rows of one 8-bit channel, 27 rows of 3 channels, in one
 * pass; rows are powers of two, so these stand for the 9- and 18-row arrays). The outputs are also checked against a direct convolution. Needs
 * Verilator (CI installs it).
 */
import { describe, expect, it } from 'vitest';
import { configHash, deriveArch, validateConfig, DEFAULT_CONFIG, type ArchConfig } from '../../arch/config.js';
import { verifyProgram } from '../../cosim/index.js';
import { packEntry, packParamEntry, unpackEntry } from '../../isa/layout.js';
import { gemmPassCount, passRowTaps, type Instruction } from '../../isa/index.js';
import type { Program } from '../../isa/program.js';
import { simulate } from '../../sim/index.js';
import { mulberry32 } from '../../sim/memory.js';
import { gemm, halt, load, requant, store } from './programs.js';
import { haveTools } from './tools-required.js';

const HAVE_VERILATOR = haveTools('test/rtl/tap-packing.test.ts', ['verilator']);

/** A first-layer machine: `rows` x `cols`, small buffers (few columns: a light Verilator build). */
function machine(rows: number, cols: number): ArchConfig {
  return validateConfig({
    ...structuredClone(DEFAULT_CONFIG),
    array: { rows, cols },
    scratchpad: { inputEntries: 256, weightEntries: 256, accEntries: 128, outputEntries: 128, paramEntries: 4 },
    dram: { busBytes: 8, latency: 6, sizeBytes: 1 << 16 },
    queues: { load: 2, compute: 2, store: 2 },
    requantStages: 3,
  });
}

interface Conv {
  /** input channels and their bits (8: two nibble lanes per channel) */
  channels: number;
  bits: 4 | 8;
  h: number;
  w: number;
  stride: number;
  pad: number;
}

const A_INP = 0x0000;
const A_WGT = 0x1000;
const A_PAR = 0x3000;
const A_OUT = 0x3800;

/** A seeded integer in [lo, hi]. */
function seq(seed: number): (lo: number, hi: number) => number {
  const rnd = mulberry32(seed);
  return (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
}

/**
 * The program of one 3x3 convolution to C channels, tap-packed (tap group g = channels, or
 * 2 x channels nibble lanes), and the outputs a direct convolution and the requant give.
 */
function convProgram(cfg: ArchConfig, c: Conv, seed: number): { p: Program; expected: number[]; passes: number } {
  const a = deriveArch(cfg);
  const R = a.rows;
  const C = a.cols;
  const rnd = seq(seed);
  const g = c.bits === 8 ? 2 * c.channels : c.channels;
  const pix = Array.from({ length: c.h * c.w * c.channels }, () => rnd(0, 2 ** c.bits - 1));
  // DRAM: one entry per pixel, lanes 0..g-1 the channels (low, high nibble), the rest noise the LOAD replaces
  const inp = new Uint8Array(c.h * c.w * a.inpEntryBytes);
  for (let p = 0; p < c.h * c.w; p++) {
    const lanes = Array.from({ length: R }, () => rnd(0, 15));
    for (let ch = 0; ch < c.channels; ch++) {
      const v = pix[p * c.channels + ch]!;
      if (c.bits === 8) {
        lanes[2 * ch] = v & 15;
        lanes[2 * ch + 1] = v >> 4;
      } else lanes[ch] = v;
    }
    packEntry(lanes, R, 4, inp, p * a.inpEntryBytes);
  }
  // weights w[co][ch][tap]; tile q row j*g + l: tap q*T + j, channel of lane l; rows without a tap get noise
  const w = Array.from({ length: C }, () =>
    Array.from({ length: c.channels }, () => Array.from({ length: 9 }, () => rnd(-7, 7))),
  );
  const shape = { ci_blocks: g, kernel_h: 3, kernel_w: 3, taps: 1 };
  const passes = gemmPassCount(shape, R);
  const wgt = new Uint8Array(passes * R * a.wgtEntryBytes);
  for (let q = 0; q < passes; q++) {
    const taps = passRowTaps(shape, R, q);
    for (let r = 0; r < R; r++) {
      const t = taps[r]!;
      const ch = c.bits === 8 ? (r % g) >> 1 : r % g;
      const lanes = Array.from({ length: C }, (_, co) => (t >= 0 ? w[co]![ch]![t]! : rnd(-8, 7)));
      packEntry(lanes, C, 4, wgt, (q * R + r) * a.wgtEntryBytes);
    }
  }
  const oh = Math.floor((c.h + 2 * c.pad - 3) / c.stride) + 1;
  const ow = Math.floor((c.w + 2 * c.pad - 3) / c.stride) + 1;
  const acc: number[] = [];
  for (let y = 0; y < oh; y++)
    for (let x = 0; x < ow; x++)
      for (let co = 0; co < C; co++) {
        let s = 0;
        for (let t = 0; t < 9; t++) {
          const iy = y * c.stride + Math.floor(t / 3) - c.pad;
          const ix = x * c.stride + (t % 3) - c.pad;
          if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
          for (let ch = 0; ch < c.channels; ch++) s += pix[(iy * c.w + ix) * c.channels + ch]! * w[co]![ch]![t]!;
        }
        acc.push(s);
      }
  // requant to signed 4 bits with a shift that spreads the outputs over the range
  const shift = Math.max(0, Math.ceil(Math.log2(Math.max(...acc.map(Math.abs)) / 7)));
  const bias = lanes(C, (l) => 5 * l - 9);
  const par = new Uint8Array(a.paramEntryBytes);
  packParamEntry(
    bias,
    lanes(C, () => shift),
    C,
    par,
    0,
  );
  const expected = acc.map((v, i) => Math.min(7, Math.max(-7, Math.floor((v - bias[i % C]!) / 2 ** shift))));
  const px = oh * ow;
  const code: Instruction[] = [
    load(0, 0, A_INP, c.h * c.w, 1, 0, {}, g),
    load(1, 0, A_WGT, passes * R, 1, 0),
    load(2, 0, A_PAR, 1, 1, 0, { push_next: 1 }),
    gemm(
      {
        in_h: c.h,
        in_w: c.w,
        out_h: oh,
        out_w: ow,
        kernel_h: 3,
        kernel_w: 3,
        stride_h: c.stride,
        stride_w: c.stride,
        pad_top: c.pad,
        pad_left: c.pad,
        ci_blocks: g,
        taps: 1,
        nibble_lanes: c.bits === 8 ? 1 : 0,
      },
      { pop_prev: 1 },
    ),
    requant({ in_h: oh, in_w: ow, out_h: oh, out_w: ow, out_signed: 1, clamp_bits: 4 }, { push_next: 1 }),
    store(0, A_OUT, px, 1, 0, { pop_prev: 1 }),
    halt(),
  ];
  const p: Program = {
    config: cfg,
    configHash: configHash(cfg),
    code,
    segments: [
      { name: 'inp', dramAddr: A_INP, bytes: inp },
      { name: 'wgt', dramAddr: A_WGT, bytes: wgt },
      { name: 'par', dramAddr: A_PAR, bytes: par },
      { name: 'out', dramAddr: A_OUT, bytes: new Uint8Array(px * a.outEntryBytes) },
    ],
    inputs: [],
    outputs: [],
    layers: [],
    meta: { name: 'tap-packed conv' },
  };
  return { p, expected, passes };
}

const lanes = (n: number, f: (l: number) => number) => Array.from({ length: n }, (_, l) => f(l));

/** The signed 4-bit outputs the STORE wrote. */
function storedOutputs(dram: Uint8Array, cfg: ArchConfig, count: number): number[] {
  const a = deriveArch(cfg);
  const out: number[] = [];
  const buf = new Int32Array(a.cols);
  for (let e = 0; e < count / a.cols; e++) {
    unpackEntry(dram, A_OUT + e * a.outEntryBytes, a.cols, 4, true, buf);
    out.push(...buf);
  }
  return out;
}

const CONVS: [string, Conv][] = [
  ['1 channel 4-bit', { channels: 1, bits: 4, h: 6, w: 6, stride: 1, pad: 1 }],
  ['1 channel 8-bit (2 nibble lanes)', { channels: 1, bits: 8, h: 6, w: 5, stride: 1, pad: 1 }],
  ['2 channels 8-bit (4 nibble lanes), stride 2', { channels: 2, bits: 8, h: 7, w: 7, stride: 2, pad: 1 }],
  ['3 channels 4-bit, no padding', { channels: 3, bits: 4, h: 6, w: 7, stride: 1, pad: 0 }],
];

describe.skipIf(!HAVE_VERILATOR)('co-simulation: tap-packed 3x3 first layers', () => {
  for (const [rows, cols] of [
    [16, 4],
    [32, 2],
  ] as const) {
    const cfg = machine(rows, cols);
    const name = `${rows}x${cols}`;
    CONVS.forEach(([label, conv], i) => {
      const { p, expected, passes } = convProgram(cfg, conv, 100 * rows + i);
      const what = `${name}: ${label}: ${passes} pass${passes > 1 ? 'es' : ''}, RTL == simulator == direct convolution`;
      // the first program of a machine builds it (minutes on a loaded machine)
      it(what, { timeout: i === 0 ? 900_000 : 120_000 }, () => {
        const sim = simulate(p, { engine: 'cycle' });
        expect(sim.counters.array.passes).toBe(passes);
        expect(storedOutputs(sim.dram!, cfg, expected.length)).toEqual(expected);
        expect(new Set(expected).size).toBeGreaterThan(4);
        const r = verifyProgram(p);
        if (!r.ok) throw new Error(`${name} ${label}: RTL != simulator: ${r.mismatch}`);
        expect(r.rtlCycles).toBe(r.simCycles);
        expect(r.perf['array_active']).toBe((passes * expected.length) / cfg.array.cols);
      });
    });
  }
});
