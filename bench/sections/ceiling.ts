/**
 * The practical JavaScript ceiling for the simulator's arithmetic: a plain
 * typed-array Int8 x Int8 -> Int32 matmul, shaped like the array's work (P
 * pixels x K input lanes x N output lanes per pass), measured in the same run.
 */
import { pct, si, type Table } from '../report.js';
import { timeRepeated, type RssSampler } from '../measure.js';
import type { BenchContext, Section, SectionOutput } from '../section.js';

export interface MatmulShape {
  /** pixels (rows of the activation matrix) */
  pixels: number;
  /** input channels (reduction length) */
  k: number;
  /** output channels */
  n: number;
}

export interface CeilingRow {
  kernel: MatmulKernel;
  shape: MatmulShape;
  macs: number;
  ms: number;
  /** CPU time / wall time of the measured runs (below 1: the CPU was shared) */
  cpuShare: number;
  runs: number;
  macPerSecond: number;
}

/** The shapes measured by default: one 16x16 pass, a deeper pass, a whole conv layer tile. */
export const CEILING_SHAPES: readonly MatmulShape[] = [
  { pixels: 256, k: 16, n: 16 },
  { pixels: 1024, k: 144, n: 16 },
  { pixels: 1024, k: 64, n: 64 },
  { pixels: 256, k: 256, n: 256 },
];

/** c[p][n] += sum_k a[p][k] * w[k][n]; the inner loop runs over n (contiguous in w and c). */
export function int8Matmul(a: Int8Array, w: Int8Array, c: Int32Array, pixels: number, k: number, n: number): void {
  for (let p = 0; p < pixels; p++) {
    const cRow = p * n;
    const aRow = p * k;
    for (let kk = 0; kk < k; kk++) {
      const x = a[aRow + kk]!;
      const wRow = kk * n;
      for (let j = 0; j < n; j++) c[cRow + j] = (c[cRow + j]! + x * w[wRow + j]!) | 0;
    }
  }
}

/**
 * Dot-product form over transposed weights (wT[n][k]), 8 output lanes per
 * sweep of k held in registers: the fastest plain loop found on this machine
 * (n must be a multiple of 8).
 */
export function int8MatmulDot8(a: Int8Array, wT: Int8Array, c: Int32Array, pixels: number, k: number, n: number): void {
  for (let p = 0; p < pixels; p++) {
    const aRow = p * k;
    for (let j = 0; j < n; j += 8) {
      const w0 = j * k,
        w1 = w0 + k,
        w2 = w1 + k,
        w3 = w2 + k,
        w4 = w3 + k,
        w5 = w4 + k,
        w6 = w5 + k,
        w7 = w6 + k;
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0,
        s4 = 0,
        s5 = 0,
        s6 = 0,
        s7 = 0;
      for (let kk = 0; kk < k; kk++) {
        const x = a[aRow + kk]!;
        s0 = (s0 + x * wT[w0 + kk]!) | 0;
        s1 = (s1 + x * wT[w1 + kk]!) | 0;
        s2 = (s2 + x * wT[w2 + kk]!) | 0;
        s3 = (s3 + x * wT[w3 + kk]!) | 0;
        s4 = (s4 + x * wT[w4 + kk]!) | 0;
        s5 = (s5 + x * wT[w5 + kk]!) | 0;
        s6 = (s6 + x * wT[w6 + kk]!) | 0;
        s7 = (s7 + x * wT[w7 + kk]!) | 0;
      }
      const o = p * n + j;
      c[o] = (c[o]! + s0) | 0;
      c[o + 1] = (c[o + 1]! + s1) | 0;
      c[o + 2] = (c[o + 2]! + s2) | 0;
      c[o + 3] = (c[o + 3]! + s3) | 0;
      c[o + 4] = (c[o + 4]! + s4) | 0;
      c[o + 5] = (c[o + 5]! + s5) | 0;
      c[o + 6] = (c[o + 6]! + s6) | 0;
      c[o + 7] = (c[o + 7]! + s7) | 0;
    }
  }
}

export type MatmulKernel = 'axpy' | 'dot8';

export const MATMUL_KERNELS: Readonly<Record<MatmulKernel, { describe: string; run: typeof int8Matmul }>> = {
  axpy: { describe: 'inner loop over output lanes', run: int8Matmul },
  dot8: { describe: 'dot products, 8 lanes in registers', run: int8MatmulDot8 },
};

function filled(len: number, seed: number, lo: number, hi: number): Int8Array {
  const out = new Int8Array(len);
  let s = seed >>> 0;
  for (let i = 0; i < len; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((s >>> 8) % (hi - lo + 1));
  }
  return out;
}

/**
 * MAC/s of each kernel on each shape (4-bit unsigned activations, 4-bit signed
 * weights: the values do not change the loops' speed).
 */
export function measureCeiling(
  shapes: readonly MatmulShape[],
  opts: { minMs?: number; sampler?: RssSampler; kernels?: readonly MatmulKernel[] } = {},
): CeilingRow[] {
  const rows: CeilingRow[] = [];
  for (const kernel of opts.kernels ?? (Object.keys(MATMUL_KERNELS) as MatmulKernel[])) {
    for (const shape of shapes) {
      const { pixels, k, n } = shape;
      const a = filled(pixels * k, 1, 1, 15);
      const w = filled(k * n, 2, -7, 7);
      const c = new Int32Array(pixels * n);
      const run = MATMUL_KERNELS[kernel].run;
      const t = timeRepeated(() => run(a, w, c, pixels, k, n), {
        minMs: opts.minMs ?? 500,
        maxRuns: 100000,
        ...(opts.sampler ? { sampler: opts.sampler } : {}),
      });
      // read the result so the loop cannot be optimized away
      if (c.reduce((s, x) => s + x, 0) === 0.5) throw new Error('unreachable');
      const macs = pixels * k * n;
      rows.push({
        kernel,
        shape,
        macs,
        ms: t.ms,
        cpuShare: t.cpuMs / t.ms,
        runs: t.runs,
        macPerSecond: (macs / t.ms) * 1000,
      });
    }
  }
  return rows;
}

export function ceilingTable(rows: CeilingRow[]): Table {
  return {
    title: 'Int8 x Int8 -> Int32 matmul (plain typed-array loops)',
    columns: ['kernel', 'pixels x K x N', 'MACs/run', 'ms/run', 'runs', 'CPU/wall', 'MAC/s'],
    rows: rows.map((r) => [
      `${r.kernel} (${MATMUL_KERNELS[r.kernel].describe})`,
      `${r.shape.pixels} x ${r.shape.k} x ${r.shape.n}`,
      r.macs,
      r.ms.toFixed(3),
      r.runs,
      pct(r.cpuShare, 0),
      si(r.macPerSecond),
    ]),
  };
}

/** The ceiling figure other sections compare against: the best kernel and shape's MAC/s. */
export function ceilingMacPerSecond(rows: CeilingRow[]): number {
  return Math.max(...rows.map((r) => r.macPerSecond));
}

/** Measure the ceiling (quick: one shape, short loop) and remember it in the context. */
export function ensureCeiling(ctx: BenchContext, quick = ctx.options.quick): { rows: CeilingRow[]; ceiling: number } {
  const rows = measureCeiling(quick ? CEILING_SHAPES.slice(0, 2) : CEILING_SHAPES, {
    minMs: quick ? 100 : 500,
    sampler: ctx.sampler,
  });
  const ceiling = ceilingMacPerSecond(rows);
  ctx.ceilingMacPerSecond = ceiling;
  return { rows, ceiling };
}

export const ceilingSection: Section = {
  name: 'ceiling',
  title: 'JS integer matmul ceiling',
  run(ctx): SectionOutput {
    const { rows, ceiling } = ensureCeiling(ctx);
    return {
      tables: [ceilingTable(rows)],
      goals: [],
      notes: [
        `ceiling = best kernel and shape: ${si(ceiling)} MAC/s (one thread; the simulator is single-threaded too)`,
      ],
      data: { rows, ceilingMacPerSecond: ceiling },
    };
  },
};
