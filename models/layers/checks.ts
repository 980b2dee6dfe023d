/**
 * Field checks and value-range helpers shared by the layer kinds' analysis
 * (models/layers/<kind>.ts `analyze`). A layer object may come from
 * JavaScript, a hand-built test or an importer, so every field is checked for
 * its type as well as its range, and every failure is a ModelError naming the
 * layer and the field.
 */

import { ModelError } from '../../arch/index.js';
import { firstOutside, rowSums } from '../weight-scan.js';
import { signedRange, type AccumulatorValue, type ActivationValue, type TensorShape, type ValueInfo } from '../ir.js';

/** How a value of unknown type is shown in analysis errors, e.g. `"2" (a string)`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `"${value}" (a string)`;
  if (typeof value === 'object') return `an object (${(value as object).constructor?.name ?? 'Object'})`;
  return `${String(value)} (${typeof value})`;
}

/** Checks the fields of one layer object, failing with `where: field F: reason`. */
export interface Checker {
  where: string;
  /** the raw field, of unknown type */
  value(field: string): unknown;
  fail(field: string, reason: string): never;
  int(field: string, min: number, max?: number): number;
}

export function checker(where: string, obj: Record<string, unknown>): Checker {
  const fail = (field: string, reason: string): never => {
    throw new ModelError(`field ${field}: ${reason}`, where);
  };
  return {
    where,
    fail,
    value: (field) => obj[field],
    int(field, min, max) {
      const v = obj[field];
      if (typeof v !== 'number' || !Number.isInteger(v)) fail(field, `expected an integer, got ${describeValue(v)}`);
      const n = v as number;
      if (n < min) fail(field, `must be >= ${min}, got ${n}`);
      if (max !== undefined && n > max) fail(field, `must be <= ${max}, got ${n}`);
      return n;
    },
  };
}

/** The `weights` field: an Int8Array of `expected` values (`dims` explains the count) in the weightBits range. */
export function checkWeights(ck: Checker, expected: number, dims: string, weightBits: number): Int8Array {
  const weights = ck.value('weights');
  if (!(weights instanceof Int8Array)) ck.fail('weights', `expected an Int8Array, got ${describeValue(weights)}`);
  const w = weights as Int8Array;
  if (w.length !== expected) ck.fail('weights', `expected ${expected} values (${dims}), got ${w.length}`);
  const { lo, hi } = signedRange(weightBits);
  const i = firstOutside(w, lo, hi);
  if (i >= 0) ck.fail(`weights[${i}]`, `value ${w[i]} is outside [${lo}, ${hi}] for weightBits ${weightBits}`);
  return w;
}

/** The layer's input must be activations (conv2d, dense and residual multiply them by weights). */
export function requireActivation(ck: Checker, layerKind: string, input: ValueInfo): ActivationValue {
  if (input.kind !== 'act') {
    throw new ModelError(
      `${layerKind} needs activations as input, but receives accumulators (insert a requant before it)`,
      ck.where,
    );
  }
  return input;
}

/**
 * Static accumulator bound of a weighted sum: each term w*x with x in [lo, hi]
 * (zero padding is inside that range, since every activation range contains 0).
 */
export function weightedSumBound(
  weights: Int8Array,
  rows: number,
  rowLength: number,
  input: ActivationValue,
): { lo: number; hi: number } {
  // Per row: with P = sum of positive weights and N = sum of negative ones,
  // the extremes are P*hi + N*lo and P*lo + N*hi (one pass, no per-term min/max).
  const { sum, sumAbs } = rowSums(weights, rows, rowLength);
  let lo = 0;
  let hi = 0;
  for (let r = 0; r < rows; r++) {
    const pos = (sum[r]! + sumAbs[r]!) / 2;
    const neg = (sum[r]! - sumAbs[r]!) / 2;
    const rhi = pos * input.hi + neg * input.lo;
    const rlo = pos * input.lo + neg * input.hi;
    if (rlo < lo) lo = rlo;
    if (rhi > hi) hi = rhi;
  }
  return { lo, hi };
}

/** Smallest two's-complement width holding [lo, hi]. */
function bitsForRange(lo: number, hi: number): number {
  let bits = 1;
  while (-(2 ** (bits - 1)) > lo || 2 ** (bits - 1) - 1 < hi) bits++;
  return bits;
}

/** An accumulator value with the static bound [lo, hi]. */
export function accValue(shape: TensorShape, lo: number, hi: number): AccumulatorValue {
  return { kind: 'acc', shape, lo, hi, bits: bitsForRange(lo, hi) };
}
