/**
 * The reference executor's kernel interface and the pieces several kinds'
 * kernels share (models/reference.ts drives them; each kind's `prepare` in
 * models/layers/<kind>.ts builds one). Exactness: every value is an integer
 * held in a double far below 2^53, and the requant scale 2^-shift only changes
 * a double's exponent, so nothing here rounds (see models/reference.ts).
 */

import { ArithmeticError } from '../../arch/index.js';
import { requantClampRange, requantScale } from '../../isa/index.js';
import { accumulatorRange, type LayerInfo, type TensorShape } from '../ir.js';

/**
 * A layer compiled for one input shape. `run` processes `count` consecutive
 * images: image k is read at input[k*inSize ..] and written at
 * output[k*outSize ..]; `firstImage` only numbers images in error messages.
 * Each kernel owns its image loop, so every hot loop stays monomorphic
 * (a shared per-image driver calling many different closures optimizes badly).
 */
export interface PreparedLayer {
  info: LayerInfo;
  inSize: number;
  outSize: number;
  run(input: Int32Array, output: Int32Array, count: number, firstImage: number): void;
  /** residual only: prepared sub-layers and their chunk output buffers, for tracing */
  children?: { prepared: PreparedLayer; buffer: Int32Array }[];
}

/** What a kind's `prepare` gets besides its layer's analysis. */
export interface PrepareContext {
  /** accumulator width: a sum outside the signed range is an ArithmeticError */
  accBits: number;
  /** the most images one run() call may process (sizes internal buffers) */
  chunk: number;
  /** prepares a nested layer (a residual's main path and shortcut) */
  prepare(info: LayerInfo): PreparedLayer;
}

/** Throws the accumulator overflow error naming image, channel and position. */
export function overflow(
  where: string,
  image: number,
  shape: TensorShape,
  index: number,
  value: number,
  bits: number,
): never {
  const { lo, hi } = accumulatorRange(bits);
  const hw = shape.h * shape.w;
  const c = Math.floor(index / hw);
  const y = Math.floor((index % hw) / shape.w);
  const x = index % shape.w;
  throw new ArithmeticError(
    `accumulator overflow at image ${image}, channel ${c}, y ${y}, x ${x}: value ${value} is outside the signed ${bits}-bit range [${lo}, ${hi}]`,
    where,
  );
}

/** Channel loops are unrolled by this much; channel counts are padded up to a multiple of it. */
const UNROLL = 8;

export function padChannels(n: number): number {
  return Math.ceil(n / UNROLL) * UNROLL;
}

/**
 * acc[a .. a+n) += w[b .. b+n) * x, n a multiple of UNROLL. Unrolled by hand:
 * this is the innermost loop of the whole reference and V8 does not unroll it.
 */
export function axpy(acc: Float64Array, a: number, w: Float64Array, b: number, n: number, x: number): void {
  const end = a + n;
  for (; a < end; a += 8, b += 8) {
    acc[a] += w[b]! * x;
    acc[a + 1] += w[b + 1]! * x;
    acc[a + 2] += w[b + 2]! * x;
    acc[a + 3] += w[b + 3]! * x;
    acc[a + 4] += w[b + 4]! * x;
    acc[a + 5] += w[b + 5]! * x;
    acc[a + 6] += w[b + 6]! * x;
    acc[a + 7] += w[b + 7]! * x;
  }
}

/**
 * A requant folded into the output stage of the conv/dense before it, so the
 * accumulators never take a trip through memory. Only runReference fuses;
 * runReferenceLayers keeps every layer separate so each output can be traced.
 */
export interface RequantEpilogue {
  bias: Int32Array;
  /** 2^-shift per channel (exact) */
  scale: Float64Array;
  lo: number;
  hi: number;
}

export function requantEpilogue(layer: {
  signed: boolean;
  bits: number;
  bias: Int32Array;
  shift: Int8Array;
}): RequantEpilogue {
  const { lo, hi } = requantClampRange(layer.signed, layer.bits);
  return { bias: layer.bias, scale: Float64Array.from(layer.shift, requantScale), lo, hi };
}
