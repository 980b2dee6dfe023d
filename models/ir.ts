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

import { ModelError } from '../arch/index.js';

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

export type Layer = Conv2dLayer | DenseLayer | MaxPoolLayer | RequantLayer | FlattenLayer | ResidualLayer;

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

// ---------------------------------------------------------------------------
// Analysis: validation and shape / value-kind inference.
//
// Shapes only exist for well-formed networks, so one walk does both: it checks
// every field and records, per layer, what flows in and out. The compiler and
// the simulator rely on these invariants instead of re-checking them.
// ---------------------------------------------------------------------------

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

export interface NetworkAnalysis {
  input: ActivationValue;
  /** one entry per top-level layer */
  layers: LayerInfo[];
  output: ValueInfo;
  /** total multiply-accumulates per image */
  macs: number;
}

/** A conv2d with a square kernel and the same stride and padding in both directions (the common case, built in one place). */
export function squareConv2d(
  name: string,
  inChannels: number,
  outChannels: number,
  kernel: number,
  stride: number,
  pad: number,
  weights: Int8Array,
): Conv2dLayer {
  return {
    kind: 'conv2d',
    name,
    inChannels,
    outChannels,
    kernelH: kernel,
    kernelW: kernel,
    strideH: stride,
    strideW: stride,
    padH: pad,
    padW: pad,
    weights,
  };
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

/** Smallest two's-complement width holding [lo, hi]. */
function bitsForRange(lo: number, hi: number): number {
  let bits = 1;
  while (-(2 ** (bits - 1)) > lo || 2 ** (bits - 1) - 1 < hi) bits++;
  return bits;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `"${value}" (a string)`;
  if (typeof value === 'object') return `an object (${(value as object).constructor?.name ?? 'Object'})`;
  return `${String(value)} (${typeof value})`;
}

interface Checker {
  where: string;
  fail(field: string, reason: string): never;
  int(field: string, min: number, max?: number): number;
}

function checker(where: string, obj: Record<string, unknown>): Checker {
  const fail = (field: string, reason: string): never => {
    throw new ModelError(`field ${field}: ${reason}`, where);
  };
  return {
    where,
    fail,
    int(field, min, max) {
      const v = obj[field];
      if (typeof v !== 'number' || !Number.isInteger(v)) fail(field, `expected an integer, got ${describe(v)}`);
      const n = v as number;
      if (n < min) fail(field, `must be >= ${min}, got ${n}`);
      if (max !== undefined && n > max) fail(field, `must be <= ${max}, got ${n}`);
      return n;
    },
  };
}

function checkWeights(ck: Checker, weights: unknown, expected: number, dims: string, weightBits: number): Int8Array {
  if (!(weights instanceof Int8Array)) ck.fail('weights', `expected an Int8Array, got ${describe(weights)}`);
  const w = weights as Int8Array;
  if (w.length !== expected) ck.fail('weights', `expected ${expected} values (${dims}), got ${w.length}`);
  const { lo, hi } = signedRange(weightBits);
  for (let i = 0; i < w.length; i++) {
    const v = w[i]!;
    if (v < lo || v > hi) ck.fail(`weights[${i}]`, `value ${v} is outside [${lo}, ${hi}] for weightBits ${weightBits}`);
  }
  return w;
}

/**
 * Static accumulator bound of a weighted sum: each term w*x with x in [lo, hi]
 * (zero padding is inside that range, since every activation range contains 0).
 */
function weightedSumBound(
  weights: Int8Array,
  rows: number,
  rowLength: number,
  input: ActivationValue,
): { lo: number; hi: number } {
  // Per row: with P = sum of positive weights and N = sum of negative ones,
  // the extremes are P*hi + N*lo and P*lo + N*hi (one pass, no per-term min/max).
  let lo = 0;
  let hi = 0;
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    let sumAbs = 0;
    const end = (r + 1) * rowLength;
    for (let i = r * rowLength; i < end; i++) {
      const w = weights[i]!;
      sum += w;
      sumAbs += w < 0 ? -w : w;
    }
    const pos = (sum + sumAbs) / 2;
    const neg = (sum - sumAbs) / 2;
    const rhi = pos * input.hi + neg * input.lo;
    const rlo = pos * input.lo + neg * input.hi;
    if (rlo < lo) lo = rlo;
    if (rhi > hi) hi = rhi;
  }
  return { lo, hi };
}

function accValue(shape: TensorShape, lo: number, hi: number): AccumulatorValue {
  return { kind: 'acc', shape, lo, hi, bits: bitsForRange(lo, hi) };
}

function requireActivation(ck: Checker, layerKind: string, input: ValueInfo): ActivationValue {
  if (input.kind !== 'act') {
    throw new ModelError(
      `${layerKind} needs activations as input, but receives accumulators (insert a requant before it)`,
      ck.where,
    );
  }
  return input;
}

interface ChainContext {
  net: Network;
  names: Map<string, string>;
}

function analyzeConv(
  ck: Checker,
  layer: Conv2dLayer,
  input: ValueInfo,
  ctx: ChainContext,
): { output: ValueInfo; macs: number } {
  const act = requireActivation(ck, 'conv2d', input);
  const l = layer as unknown as Record<string, unknown>;
  const ci = ck.int('inChannels', 1);
  const co = ck.int('outChannels', 1);
  const kh = ck.int('kernelH', 1);
  const kw = ck.int('kernelW', 1);
  const sh = ck.int('strideH', 1);
  const sw = ck.int('strideW', 1);
  const ph = ck.int('padH', 0, kh - 1);
  const pw = ck.int('padW', 0, kw - 1);
  if (ci !== act.shape.c) {
    ck.fail('inChannels', `is ${ci} but the input has ${act.shape.c} channels (shape ${formatShape(act.shape)})`);
  }
  const oh = slidingOutputSize(act.shape.h, kh, sh, ph);
  const ow = slidingOutputSize(act.shape.w, kw, sw, pw);
  if (oh < 1 || ow < 1) {
    ck.fail(
      'kernelH',
      `kernel ${kh}x${kw} with padding ${ph},${pw} does not fit the ${act.shape.h}x${act.shape.w} input (output ${oh}x${ow})`,
    );
  }
  const w = checkWeights(ck, l['weights'], co * ci * kh * kw, `${co}x${ci}x${kh}x${kw}`, ctx.net.weightBits);
  const bound = weightedSumBound(w, co, ci * kh * kw, act);
  const shape = { c: co, h: oh, w: ow };
  return { output: accValue(shape, bound.lo, bound.hi), macs: co * oh * ow * ci * kh * kw };
}

function analyzeLayer(
  layer: Layer,
  index: number,
  path: string,
  where: string,
  input: ValueInfo,
  ctx: ChainContext,
): LayerInfo {
  if (typeof layer !== 'object' || layer === null) {
    throw new ModelError(`expected a layer object, got ${describe(layer)}`, where);
  }
  const l = layer as unknown as Record<string, unknown>;
  const ck = checker(where, l);
  if (typeof l['name'] !== 'string' || l['name'] === '')
    ck.fail('name', `expected a non-empty string, got ${describe(l['name'])}`);
  const previous = ctx.names.get(layer.name);
  if (previous !== undefined) ck.fail('name', `'${layer.name}' is already used by ${previous}`);
  ctx.names.set(layer.name, where);

  switch (layer.kind) {
    case 'conv2d': {
      const { output, macs } = analyzeConv(ck, layer, input, ctx);
      return { index, path, where, layer, input, output, macs };
    }
    case 'dense': {
      const act = requireActivation(ck, 'dense', input);
      const inF = ck.int('inFeatures', 1);
      const outF = ck.int('outFeatures', 1);
      if (act.shape.h !== 1 || act.shape.w !== 1) {
        throw new ModelError(
          `dense needs a Cx1x1 input (insert a flatten before it), got ${formatShape(act.shape)}`,
          where,
        );
      }
      if (inF !== act.shape.c) ck.fail('inFeatures', `is ${inF} but the input has ${act.shape.c} features`);
      const w = checkWeights(ck, l['weights'], outF * inF, `${outF}x${inF}`, ctx.net.weightBits);
      const bound = weightedSumBound(w, outF, inF, act);
      const output = accValue({ c: outF, h: 1, w: 1 }, bound.lo, bound.hi);
      return { index, path, where, layer, input, output, macs: outF * inF };
    }
    case 'maxpool': {
      const k = ck.int('kernel', 1);
      const s = ck.int('stride', 1);
      const oh = slidingOutputSize(input.shape.h, k, s, 0);
      const ow = slidingOutputSize(input.shape.w, k, s, 0);
      if (oh < 1 || ow < 1) {
        ck.fail('kernel', `pool kernel ${k} does not fit the ${input.shape.h}x${input.shape.w} input`);
      }
      const output = { ...input, shape: { c: input.shape.c, h: oh, w: ow } };
      return { index, path, where, layer, input, output, macs: 0 };
    }
    case 'flatten': {
      const output = { ...input, shape: { c: tensorSize(input.shape), h: 1, w: 1 } };
      return { index, path, where, layer, input, output, macs: 0 };
    }
    case 'requant': {
      if (input.kind !== 'acc') {
        throw new ModelError('requant needs accumulators as input, but receives activations', where);
      }
      if (typeof l['signed'] !== 'boolean') ck.fail('signed', `expected a boolean, got ${describe(l['signed'])}`);
      const bits = ck.int('bits', layer.signed ? 2 : 1, MAX_ACTIVATION_BITS);
      const c = input.shape.c;
      if (!(l['bias'] instanceof Int32Array)) ck.fail('bias', `expected an Int32Array, got ${describe(l['bias'])}`);
      if (layer.bias.length !== c) ck.fail('bias', `expected ${c} values (one per channel), got ${layer.bias.length}`);
      if (!(l['shift'] instanceof Int8Array)) ck.fail('shift', `expected an Int8Array, got ${describe(l['shift'])}`);
      if (layer.shift.length !== c)
        ck.fail('shift', `expected ${c} values (one per channel), got ${layer.shift.length}`);
      for (let i = 0; i < c; i++) {
        const s = layer.shift[i]!;
        if (s < -MAX_SHIFT || s > MAX_SHIFT)
          ck.fail(`shift[${i}]`, `value ${s} is outside [${-MAX_SHIFT}, ${MAX_SHIFT}]`);
      }
      const { lo, hi } = requantRange({ signed: layer.signed, bits });
      const output: ActivationValue = { kind: 'act', shape: input.shape, signed: layer.signed, bits, lo, hi };
      return { index, path, where, layer, input, output, macs: 0 };
    }
    case 'residual': {
      const act = requireActivation(ck, 'residual', input);
      if (!Array.isArray(l['main']) || layer.main.length === 0) {
        ck.fail('main', `expected a non-empty list of layers, got ${describe(l['main'])}`);
      }
      const children = analyzeChain(layer.main, act, ctx, where, path);
      const last = children[children.length - 1]!;
      if (last.layer.kind !== 'conv2d') {
        ck.fail(
          'main',
          `must end with a conv2d (its accumulator is summed with the shortcut), ends with ${last.layer.kind}`,
        );
      }
      const sc = layer.shortcut as unknown;
      if (typeof sc !== 'object' || sc === null || (sc as { kind?: unknown }).kind !== 'conv2d') {
        ck.fail('shortcut', `expected a conv2d layer, got ${describe(sc)}`);
      }
      const scWhere = layerWhere(0, layer.shortcut.name, where, 'shortcut');
      const scInfo = analyzeLayer(layer.shortcut, index, `${path}.shortcut`, scWhere, act, ctx);
      const mainOut = last.output;
      const scOut = scInfo.output;
      const ms = mainOut.shape;
      const ss = scOut.shape;
      if (ms.c !== ss.c || ms.h !== ss.h || ms.w !== ss.w) {
        ck.fail(
          'shortcut',
          `output shape ${formatShape(ss)} differs from the main path output shape ${formatShape(ms)}`,
        );
      }
      const output = accValue(ms, mainOut.lo + scOut.lo, mainOut.hi + scOut.hi);
      const macs = children.reduce((s, c) => s + c.macs, 0) + scInfo.macs;
      return { index, path, where, layer, input, output, macs, children: [...children, scInfo] };
    }
    default:
      return ck.fail('kind', `unknown layer kind ${describe((layer as { kind: unknown }).kind)}`);
  }
}

function analyzeChain(
  layers: Layer[],
  input: ValueInfo,
  ctx: ChainContext,
  parentWhere?: string,
  parentPath?: string,
): LayerInfo[] {
  const infos: LayerInfo[] = [];
  let value = input;
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]!;
    const name = typeof layer === 'object' && layer !== null ? (layer as { name?: unknown }).name : undefined;
    const where = layerWhere(i, name, parentWhere);
    const path = parentPath === undefined ? `${i}` : `${parentPath}.main[${i}]`;
    const info = analyzeLayer(layer, i, path, where, value, ctx);
    if (layer.kind === 'residual') {
      const next = layers[i + 1];
      if (next === undefined || next.kind !== 'requant') {
        throw new ModelError('a residual must be followed directly by a requant', where);
      }
    }
    infos.push(info);
    value = info.output;
  }
  return infos;
}

/**
 * Validate every field of a network and infer per-layer shapes and value
 * kinds. Throws ModelError naming the layer (index and name) and the field.
 */
export function analyzeNetwork(net: Network): NetworkAnalysis {
  const where = `network '${typeof net?.name === 'string' ? net.name : '?'}'`;
  if (typeof net !== 'object' || net === null) throw new ModelError(`expected a network object, got ${describe(net)}`);
  const n = net as unknown as Record<string, unknown>;
  const ck = checker(where, n);
  if (typeof n['name'] !== 'string') ck.fail('name', `expected a string, got ${describe(n['name'])}`);
  ck.int('weightBits', MIN_WEIGHT_BITS, MAX_WEIGHT_BITS);
  ck.int('accumulatorBits', MIN_ACCUMULATOR_BITS, MAX_ACCUMULATOR_BITS);
  const spec = n['input'];
  if (typeof spec !== 'object' || spec === null) ck.fail('input', `expected an object, got ${describe(spec)}`);
  const inputFields = spec as Record<string, unknown>;
  const positive = (f: string): number => {
    const v = inputFields[f];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
      ck.fail(`input.${f}`, `expected a positive integer, got ${describe(v)}`);
    }
    return v as number;
  };
  const channels = positive('channels');
  const height = positive('height');
  const width = positive('width');
  const bits = inputFields['bits'];
  if (bits !== 4 && bits !== 8) ck.fail('input.bits', `must be 4 or 8, got ${describe(bits)}`);
  if (inputFields['signed'] !== false) {
    ck.fail('input.signed', `network inputs are unsigned: must be false, got ${describe(inputFields['signed'])}`);
  }
  if (!Array.isArray(n['layers']) || net.layers.length === 0) {
    ck.fail('layers', `expected a non-empty list of layers, got ${describe(n['layers'])}`);
  }
  const { lo, hi } = unsignedRange(bits as number);
  const input: ActivationValue = {
    kind: 'act',
    shape: { c: channels, h: height, w: width },
    signed: false,
    bits: bits as number,
    lo,
    hi,
  };
  const layers = analyzeChain(net.layers, input, { net, names: new Map() });
  const output = layers[layers.length - 1]!.output;
  return { input, layers, output, macs: layers.reduce((s, l) => s + l.macs, 0) };
}

/** Throws ModelError (naming layer index, name and field) if the network is malformed. */
export function validateNetwork(net: Network): void {
  analyzeNetwork(net);
}
