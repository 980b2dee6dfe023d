/**
 * The network IR: a straight-line list of integer layers over per-image tensors
 * that are NCHW logically. Values are one of two kinds:
 *  - activations: small integers (b-bit signed or unsigned), produced by the
 *    network input, `requant`, or `maxpool`/`flatten` of activations;
 *  - accumulators: wide integers produced by `conv2d`, `dense` and `residual`,
 *    consumed only by `requant` (or `maxpool`/`flatten`, which keep the kind).
 * This mirrors the paper: every conv/dense is followed by one shift-batch-norm
 * requant, which is the only place wide values become narrow again.
 */

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

export interface Conv2dLayer {
  kind: 'conv2d';
  name: string;
  inChannels: number;
  outChannels: number;
  kernelH: number;
  kernelW: number;
  strideH: number;
  strideW: number;
  /** zero padding on top/bottom (padH) and left/right (padW) */
  padH: number;
  padW: number;
  /** length outChannels*inChannels*kernelH*kernelW, order [co][ci][kh][kw] */
  weights: Int8Array;
}

export interface DenseLayer {
  kind: 'dense';
  name: string;
  inFeatures: number;
  outFeatures: number;
  /** length outFeatures*inFeatures, order [out][in] (input features in C,H,W order) */
  weights: Int8Array;
}

export interface MaxPoolLayer {
  kind: 'maxpool';
  name: string;
  kernel: number;
  stride: number;
  /** output size = floor((in - kernel) / stride) + 1 (floor mode, no padding) */
}

export interface RequantLayer {
  kind: 'requant';
  name: string;
  /** output range: unsigned [0, 2^bits-1], signed [-(2^(bits-1)-1), 2^(bits-1)-1] */
  signed: boolean;
  bits: number;
  /** per channel; y = clamp(floor((acc - bias) / 2^shift), lo, hi) */
  bias: Int32Array;
  /** per channel; negative = left shift */
  shift: Int8Array;
}

export interface FlattenLayer {
  kind: 'flatten';
  name: string;
  /** [C,H,W] -> [C*H*W,1,1], element order C,H,W */
}

/**
 * The paper's ResNet basic block without its final requant:
 *   acc = conv_last(main_prefix(x)) + shortcut(x)
 * `main` is a list of layers ending in a conv2d whose accumulator is summed
 * with the shortcut conv2d's accumulator (same output shape and channels).
 * A `requant` layer must follow.
 */
export interface ResidualLayer {
  kind: 'residual';
  name: string;
  main: Layer[];
  shortcut: Conv2dLayer;
}

export type Layer =
  | Conv2dLayer
  | DenseLayer
  | MaxPoolLayer
  | RequantLayer
  | FlattenLayer
  | ResidualLayer;

export type LayerKind = Layer['kind'];

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

export function requantRange(layer: Pick<RequantLayer, 'signed' | 'bits'>): { lo: number; hi: number } {
  return layer.signed ? signedRange(layer.bits) : unsignedRange(layer.bits);
}
