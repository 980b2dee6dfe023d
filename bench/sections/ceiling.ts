/**
 * The machine's ceiling for the simulator's arithmetic, measured in the same
 * run as everything it is compared with: an int8 GEMM shaped like the array's
 * work (P pixels x K input lanes x N output lanes), as
 *  - native C (bench/native/gemm.c, compiled by the bench when a C compiler
 *    is present: AVX-512 VNNI / AVX2 where the CPU has them): the ceiling;
 *  - the fast engine's WebAssembly SIMD kernel alone (sim/kernels/), called as
 *    the engine calls it (copies and weight packing included): the ceiling
 *    when there is no C compiler;
 *  - plain typed-array JavaScript loops (the ceiling of earlier runs).
 */
import { DEFAULT_CONFIG, deriveArch } from '../../arch/index.js';
import type { GemmInst } from '../../isa/index.js';
import { newGemmKernel, type GemmKernel } from '../../sim/index.js';
import { pct, si, type Table } from '../report.js';
import { timeRepeated, type RssSampler } from '../measure.js';
import { buildNativeGemm, runNativeGemm } from '../native.js';
import type { BenchContext, MachineCeiling, Section, SectionOutput } from '../section.js';

export interface MatmulShape {
  /** pixels (rows of the activation matrix) */
  pixels: number;
  /** input channels (reduction length) */
  k: number;
  /** output channels */
  n: number;
}

export interface CeilingRow {
  /** 'native <isa>', 'wasm', or a JS kernel name */
  kernel: string;
  shape: MatmulShape;
  macs: number;
  ms: number;
  /** CPU time / wall time of the measured runs (below 1: the CPU was shared) */
  cpuShare: number;
  runs: number;
  macPerSecond: number;
}

/** The shapes measured by default: one 16x16 pass, a 3x3 conv tile's depth, 64-lane arrays (N <= 64: the largest array). */
export const CEILING_SHAPES: readonly MatmulShape[] = [
  { pixels: 256, k: 16, n: 16 },
  { pixels: 1024, k: 144, n: 16 },
  { pixels: 1024, k: 64, n: 64 },
  { pixels: 256, k: 256, n: 64 },
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

function row(kernel: string, shape: MatmulShape, ms: number, cpuMs: number, runs: number): CeilingRow {
  const macs = shape.pixels * shape.k * shape.n;
  return { kernel, shape, macs, ms, cpuShare: cpuMs / ms, runs, macPerSecond: (macs / ms) * 1000 };
}

/**
 * MAC/s of each JS kernel on each shape (4-bit unsigned activations, 4-bit signed
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
      rows.push(row(`JS ${kernel} (${MATMUL_KERNELS[kernel].describe})`, shape, t.ms, t.cpuMs, t.runs));
    }
  }
  return rows;
}

/** A P x K x N matmul as one GEMM instruction: a 1x1 kernel over K/N input-channel blocks of an N-lane array. */
function matmulGemm(shape: MatmulShape): GemmInst {
  const outW = Math.min(32, shape.pixels);
  const outH = shape.pixels / outW;
  return {
    op: 'GEMM',
    pop_prev: 0,
    pop_next: 0,
    push_prev: 0,
    push_next: 0,
    wgt_addr: 0,
    inp_addr: 0,
    acc_addr: 0,
    in_h: outH,
    in_w: outW,
    out_h: outH,
    out_w: outW,
    kernel_h: 1,
    kernel_w: 1,
    stride_h: 1,
    stride_w: 1,
    pad_top: 0,
    pad_left: 0,
    ci_blocks: shape.k / shape.n,
    accumulate: 0,
    act_signed: 0,
    pshift: 0,
    taps: 0,
    nibble_lanes: 0,
  } as GemmInst;
}

/** MAC/s of the WebAssembly kernel alone on each shape (N lanes, K a multiple of N, pixels a multiple of 32 or below it). */
export function measureWasmKernel(
  kernel: GemmKernel,
  shapes: readonly MatmulShape[],
  opts: { minMs?: number; sampler?: RssSampler } = {},
): CeilingRow[] {
  return shapes.map((shape) => {
    const { pixels, k, n } = shape;
    const g = matmulGemm(shape);
    // as the fast engine calls it: on scratchpads resident in the kernel's memory (no copies)
    const cfg = {
      ...DEFAULT_CONFIG,
      array: { rows: n, cols: n },
      scratchpad: {
        inputEntries: (pixels * k) / n,
        weightEntries: k,
        accEntries: pixels,
        outputEntries: 1,
        paramEntries: 1,
      },
    };
    const resident = kernel.resident({ cfg, arch: deriveArch(cfg), dramBytes: 0 });
    if (!resident) throw new Error(`the WebAssembly kernel's memory cannot hold the ${pixels}x${k}x${n} GEMM`);
    const sp = resident.sp;
    sp.inp.set(Uint8Array.from(filled(pixels * k, 1, 1, 15)));
    sp.wgt.set(filled(k * n, 2, -7, 7));
    const arch = deriveArch(cfg);
    const t = timeRepeated(() => kernel.run(g, sp, arch), {
      minMs: opts.minMs ?? 500,
      maxRuns: 100000,
      ...(opts.sampler ? { sampler: opts.sampler } : {}),
    });
    if (!t.value) throw new Error(`the WebAssembly kernel refused the ${pixels}x${k}x${n} GEMM (memory)`);
    return row('WebAssembly kernel (i32x4.dot_i16x8_s)', shape, t.ms, t.cpuMs, t.runs);
  });
}

export function ceilingTable(rows: CeilingRow[]): Table {
  return {
    title: 'int8 GEMM, 4-bit values (one thread each)',
    columns: ['kernel', 'pixels x K x N', 'MACs/run', 'ms/run', 'runs', 'CPU/wall', 'MAC/s', 'MAC per CPU s'],
    rows: rows.map((r) => [
      r.kernel,
      `${r.shape.pixels} x ${r.shape.k} x ${r.shape.n}`,
      r.macs,
      r.ms.toPrecision(3),
      r.runs,
      pct(r.cpuShare, 0),
      si(r.macPerSecond),
      si(r.macPerSecond / r.cpuShare),
    ]),
  };
}

/** The best MAC/s of a set of rows. */
export function bestMacPerSecond(rows: CeilingRow[]): number {
  return Math.max(...rows.map((r) => r.macPerSecond));
}

/** The best MAC per CPU second of a set of rows. */
function bestMacPerCpuSecond(rows: CeilingRow[]): number {
  return Math.max(...rows.map((r) => r.macPerSecond / r.cpuShare));
}

/** Measure every ceiling kernel (quick: two shapes, short loops) and remember the result in the context. */
export function ensureCeiling(
  ctx: BenchContext,
  quick = ctx.options.quick,
): { rows: CeilingRow[]; ceiling: MachineCeiling } {
  const shapes = quick ? CEILING_SHAPES.slice(0, 2) : CEILING_SHAPES;
  const minMs = quick ? 100 : 500;
  const rows: CeilingRow[] = [];
  let native: MachineCeiling['native'];
  let nativePerCpu: number | undefined;
  const built = buildNativeGemm();
  let nativeUnavailable = typeof built === 'string' ? built : undefined;
  if (typeof built !== 'string') {
    const nativeRows = shapes.map((s) => {
      ctx.log(`ceiling: native C ${s.pixels}x${s.k}x${s.n}`);
      const r = runNativeGemm(built, s.pixels, s.k, s.n, minMs);
      return row(`native C (${r.kernel}, -O3 -march=native)`, s, r.wallNs / 1e6, r.cpuNs / 1e6, r.runs);
    });
    rows.push(...nativeRows);
    native = { macPerSecond: bestMacPerSecond(nativeRows), kernel: nativeRows[0]!.kernel, compiler: built.compiler };
    nativePerCpu = bestMacPerCpuSecond(nativeRows);
  }
  const kernel = newGemmKernel();
  let wasmMacPerSecond: number | undefined;
  let wasmMacPerCpuSecond: number | undefined;
  if (kernel) {
    ctx.log('ceiling: WebAssembly kernel');
    const wasmRows = measureWasmKernel(kernel, shapes, { minMs, sampler: ctx.sampler });
    rows.push(...wasmRows);
    wasmMacPerSecond = bestMacPerSecond(wasmRows);
    wasmMacPerCpuSecond = bestMacPerCpuSecond(wasmRows);
  }
  ctx.log('ceiling: JS loops');
  const jsRows = measureCeiling(shapes, { minMs, sampler: ctx.sampler });
  rows.push(...jsRows);
  const jsMacPerSecond = bestMacPerSecond(jsRows);
  if (!native && wasmMacPerSecond === undefined) nativeUnavailable ??= 'no native kernel';
  const ceiling: MachineCeiling = {
    macPerSecond: native?.macPerSecond ?? wasmMacPerSecond ?? jsMacPerSecond,
    source: native ? 'native C' : 'WebAssembly kernel',
    ...(native ? { native } : {}),
    ...(nativeUnavailable ? { nativeUnavailable } : {}),
    ...(wasmMacPerSecond !== undefined ? { wasmMacPerSecond } : {}),
    jsMacPerSecond,
    macPerCpuSecond: nativePerCpu ?? wasmMacPerCpuSecond ?? bestMacPerCpuSecond(jsRows),
    ...(wasmMacPerCpuSecond !== undefined ? { wasmMacPerCpuSecond } : {}),
  };
  ctx.ceiling = ceiling;
  return { rows, ceiling };
}

export const ceilingSection: Section = {
  name: 'ceiling',
  title: "the machine's ceiling: native C, the WebAssembly kernel alone, plain JS",
  run(ctx): SectionOutput {
    const { rows, ceiling } = ensureCeiling(ctx);
    const notes = [
      `ceiling = ${ceiling.source}, best shape: ${si(ceiling.macPerSecond)} MAC/s` +
        (ceiling.native ? ` (${ceiling.native.compiler})` : ` (native C unavailable: ${ceiling.nativeUnavailable})`),
      `WebAssembly kernel alone: ${ceiling.wasmMacPerSecond !== undefined ? `${si(ceiling.wasmMacPerSecond)} MAC/s` : 'unavailable (not built, or no WebAssembly SIMD)'}; plain JS: ${si(ceiling.jsMacPerSecond)} MAC/s`,
      'every kernel runs on one thread; the WebAssembly rows run the kernel as the fast engine calls it: on scratchpads resident in its memory (no copies), weight packing and the widened input image included; the native rows are the C program timing itself after a 100 ms warm-up, result checked against a scalar reference',
    ];
    return { tables: [ceilingTable(rows)], goals: [], notes, data: { rows, ceiling } };
  },
};
