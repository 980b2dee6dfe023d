/**
 * Packed dot products of the fast engine's GEMM kernels (sim/execute.ts,
 * sim/tap-gemm.ts): several output lanes share one double in wide integer
 * fields, four doubles held in registers per pixel.
 */
/** What the per-pixel packed dot products need (one object per GEMM). */
export interface PackedDot {
  ga: Int32Array;
  gw: Int32Array;
  packed: Float64Array;
  acc: Int32Array;
  G: number;
  k: number;
  n: number;
  B: number;
  invB: number;
  scale: number;
  overwrite: boolean;
}

/** The k lanes of group q, packed in x, into ACC. */
function emitGroup(d: PackedDot, x: number, q: number, accBase: number): void {
  const { acc, B, invB, scale } = d;
  for (let lane = q * d.k, e = Math.min(d.n, lane + d.k); lane < e; lane++) {
    const y = Math.round(x * invB);
    const v = (x - y * B) * scale;
    x = y;
    acc[accBase + lane] = d.overwrite ? v : acc[accBase + lane]! + v;
  }
}

/**
 * One pixel's packed dot products over its cnt gathered (activation, row)
 * pairs, four doubles in registers. Small and separate from the GEMM set-up
 * so the JIT optimizes it after a few pixels rather than after a few runs.
 */
export function dotPixel(d: PackedDot, cnt: number, accBase: number): void {
  const { ga, gw, packed, G } = d;
  let q = 0;
  for (; q + 4 <= G; q += 4) {
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0;
    for (let j = 0; j < cnt; j++) {
      const v = ga[j]!;
      const b = gw[j]! + q;
      s0 += v * packed[b]!;
      s1 += v * packed[b + 1]!;
      s2 += v * packed[b + 2]!;
      s3 += v * packed[b + 3]!;
    }
    emitGroup(d, s0, q, accBase);
    emitGroup(d, s1, q + 1, accBase);
    emitGroup(d, s2, q + 2, accBase);
    emitGroup(d, s3, q + 3, accBase);
  }
  for (; q + 2 <= G; q += 2) {
    let s0 = 0,
      s1 = 0;
    for (let j = 0; j < cnt; j++) {
      const v = ga[j]!;
      const b = gw[j]! + q;
      s0 += v * packed[b]!;
      s1 += v * packed[b + 1]!;
    }
    emitGroup(d, s0, q, accBase);
    emitGroup(d, s1, q + 1, accBase);
  }
  if (q < G) {
    let s0 = 0;
    for (let j = 0; j < cnt; j++) s0 += ga[j]! * packed[gw[j]! + q]!;
    emitGroup(d, s0, q, accBase);
  }
}
