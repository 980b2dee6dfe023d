/**
 * The network IR: a straight-line list of integer layers over per-image tensors
 * that are NCHW logically. This file holds the vocabulary every layer kind
 * shares (networks, tensors, value kinds, per-layer analysis records); each
 * kind's own type and behaviour live in models/layers/<kind>.ts, and the
 * analysis that walks a network is models/analysis.ts.
 *
 * Values are one of two kinds:
 *  - activations: small integers (b-bit signed or unsigned), produced by the
 *    network input, `requant`, or `maxpool`/`flatten` of activations;
 *  - accumulators: wide integers produced by `conv2d`, `dense` and `residual`,
 *    consumed only by `requant` (or `maxpool`/`flatten`, which keep the kind).
 * This mirrors the paper: every conv/dense is followed by one shift-batch-norm
 * requant, which is the only place wide values become narrow again.
 */

import { requantClampRange } from '../isa/index.js';

export interface TensorShape {
  /** channels */
  c: number;
  /** height */
  h: number;
  /** width */
  w: number;
}

export interface InputSpec {
  channels: number;
  height: number;
  width: number;
  /** 8 for raw pixels (0..255), 4 for 4-bit activations */
  bits: 4 | 8;
  /** network inputs are unsigned in this project */
  signed: false;
}

/**
 * The layer kinds, one entry per kind: `kind -> layer object type`. Each
 * models/layers/<kind>.ts adds its own entry (TypeScript declaration merging),
 * so this file does not list the kinds and the registries in
 * models/layers/index.ts and compiler/layers/index.ts are checked against
 * exactly this set: a kind with a missing piece is a compile error there.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by the kind modules
export interface LayerTypes {}

export type LayerKind = keyof LayerTypes;

/** Any layer of the IR: the union of the registered kinds. */
export type Layer = LayerTypes[LayerKind];

/** The layer object type of one kind, e.g. `LayerOfKind<'conv2d'>`. */
export type LayerOfKind<K extends LayerKind> = LayerTypes[K];

export interface Network {
  name: string;
  input: InputSpec;
  layers: Layer[];
  /** weights are signed, in [-(2^(weightBits-1)-1), 2^(weightBits-1)-1]; default 4 */
  weightBits: number;
  /** accumulator width in bits (default 32): a sum outside it is an error */
  accumulatorBits: number;
}

/** Range of a signed b-bit weight / activation as used by the paper (symmetric). */
export function signedRange(bits: number): { lo: number; hi: number } {
  const hi = 2 ** (bits - 1) - 1;
  return { lo: -hi, hi };
}

export function unsignedRange(bits: number): { lo: number; hi: number } {
  return { lo: 0, hi: 2 ** bits - 1 };
}

/** Output range of a requant (the ISA's clamp bounds, isa/word.ts). */
export function requantRange(layer: { signed: boolean; bits: number }): { lo: number; hi: number } {
  return requantClampRange(layer.signed, layer.bits);
}

/** Largest |shift| a requant may use; keeps 2^shift exact and hardware shifters small. */
export const MAX_SHIFT = 31;
/** Accumulators are held in Int32Array by the reference, so at most 32 bits. */
export const MAX_ACCUMULATOR_BITS = 32;
export const MIN_ACCUMULATOR_BITS = 2;
/** Weights are stored in Int8Array, so at most 8 bits. */
export const MIN_WEIGHT_BITS = 2;
export const MAX_WEIGHT_BITS = 8;
/** Activation width produced by a requant. */
export const MAX_ACTIVATION_BITS = 16;

/** Narrow values (network input, requant output, and pool/flatten of those). */
export interface ActivationValue {
  kind: 'act';
  shape: TensorShape;
  signed: boolean;
  bits: number;
  /** inclusive value range */
  lo: number;
  hi: number;
}

/**
 * Wide values (conv2d / dense / residual output, and pool/flatten of those).
 * `lo`/`hi` is a static worst-case bound over all inputs in range (computed
 * from the weights), `bits` the two's-complement width that holds it. The
 * runtime limit is the network's accumulatorBits, checked by the reference.
 */
export interface AccumulatorValue {
  kind: 'acc';
  shape: TensorShape;
  lo: number;
  hi: number;
  bits: number;
}

export type ValueInfo = ActivationValue | AccumulatorValue;

export interface LayerInfo {
  /** index in its list: the network's layers, or a residual's main (a shortcut carries its block's index) */
  index: number;
  /** "3" for top-level layers, "5.main[1]" / "5.shortcut" inside a residual */
  path: string;
  /** human-readable place used in error messages, e.g. `layer 3 'conv2'` */
  where: string;
  layer: Layer;
  input: ValueInfo;
  output: ValueInfo;
  /** multiply-accumulates per image (conv2d, dense; residual = sum of its parts) */
  macs: number;
  /** residual only: analysis of main layers followed by the shortcut */
  children?: LayerInfo[];
}

/** The analysis record of a layer of one known type (what each kind's module receives). */
export interface LayerInfoOf<L extends Layer> extends LayerInfo {
  layer: L;
}

export interface NetworkAnalysis {
  input: ActivationValue;
  /** one entry per top-level layer */
  layers: LayerInfo[];
  output: ValueInfo;
  /** total multiply-accumulates per image */
  macs: number;
}

export function tensorSize(shape: TensorShape): number {
  return shape.c * shape.h * shape.w;
}

export function formatShape(shape: TensorShape): string {
  return `${shape.c}x${shape.h}x${shape.w}`;
}

/** Two's-complement range of an accumulator (unlike activations, not symmetric). */
export function accumulatorRange(bits: number): { lo: number; hi: number } {
  return { lo: -(2 ** (bits - 1)), hi: 2 ** (bits - 1) - 1 };
}

/** Output size of a conv or pool along one axis (floor mode). */
export function slidingOutputSize(input: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((input + 2 * pad - kernel) / stride) + 1;
}

/** `layer 3 'conv2'`, or nested: `layer 5 'block1' main[1] 'conv2'`. */
export function layerWhere(index: number, name: unknown, parent?: string, role?: string): string {
  const shown = typeof name === 'string' ? `'${name}'` : '(unnamed)';
  if (parent === undefined) return `layer ${index} ${shown}`;
  return `${parent} ${role ?? `main[${index}]`} ${shown}`;
}
