/**
 * What a kind's `naive` piece works on: the test suite's deliberately plain,
 * independent statement of the network semantics (test/models/naive-reference.ts
 * drives it and compares models/reference.ts against it on every layer). A
 * `naive` piece is textbook nested loops over one image in plain arrays, with
 * requant division in BigInt; it calls nothing of its module's reference
 * kernel (`prepare`) or of kernels.ts, so a bug in the optimized kernel cannot
 * hide in the oracle too.
 */

import type { Layer } from '../ir.js';

/** One image's value, C,H,W order. */
export interface NaiveTensor {
  c: number;
  h: number;
  w: number;
  data: number[];
}

/** What a kind's `naive` piece gets besides its layer and input. */
export interface NaiveContext {
  where: string;
  path: string;
  /** records every value of an accumulator outside the accumulator range (the oracle's overflow list) */
  checkAccumulator(t: NaiveTensor): void;
  /** runs a nested chain (a residual's main path) */
  chain(layers: Layer[], x: NaiveTensor, parentWhere: string, parentPath: string): NaiveTensor;
  /** runs one nested layer (a residual's shortcut) */
  layer(layer: Layer, x: NaiveTensor, where: string, path: string): NaiveTensor;
}

/** floor(a / b) for b > 0 (BigInt division truncates toward zero). */
export function naiveFloorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}
