/**
 * Weights and inputs of the layers: integer weight codes with their
 * per-output-channel scale, the accumulator range a layer can reach, and the
 * host input turned into the network's raw 8-bit input.
 */
import type { OnnxNode } from '../graph.js';
import { elementCount } from '../tensor.js';
import type { Lowering } from './context.js';
import { squareConv2d } from '../../layers/conv2d.js';
import { extend, newAcc, type AccRange, type AccSym, type ActSym, type Sym } from './state.js';

export interface Weights {
  /** integer codes, same dims as the ONNX weight tensor (float values while `pending`) */
  codes: Float64Array;
  /** float weights to be quantized later (post-training quantization) */
  pending?: boolean;
  dims: number[];
  /** per output channel */
  scale: Float64Array;
}

function gcd(a: number, b: number): number {
  let x = Math.abs(a);
  let y = Math.abs(b);
  while (y) [x, y] = [y, x % y];
  return x;
}

/**
 * Integer weights of a layer: a quantized constant (zero point 0, one scale
 * per output channel along `outAxis`), or a float constant whose values are
 * already integers (scale 1).
 */
export function layerWeights(lw: Lowering, node: OnnxNode, s: Sym, outAxis: number, what = 'weights'): Weights {
  if (s.kind === 'const') {
    if (lw.opts.quantize && !s.t.data.every((v) => Number.isInteger(v))) {
      return { codes: s.t.data, dims: s.t.dims, scale: new Float64Array(s.t.dims[outAxis]!).fill(1), pending: true };
    }
    if (!s.t.data.every((v) => Number.isInteger(v))) {
      lw.fail(
        node,
        `${what} are float values, not quantized (no Quant / DequantizeLinear on them): export the model with quantized weights, or import it with --quantize --calibrate DATASET`,
      );
    }
    const n = s.t.dims[outAxis]!;
    return { codes: s.t.data, dims: s.t.dims, scale: new Float64Array(n).fill(1) };
  }
  if (s.kind !== 'qconst') lw.fail(node, `${what} must be constant (weights computed from the data are not supported)`);
  const dims = s.codes.dims;
  const n = dims[outAxis]!;
  const inner = elementCount(dims.slice(outAxis + 1));
  const scale = new Float64Array(n).fill(NaN);
  for (let i = 0; i < s.codes.data.length; i++) {
    if (s.zp.data[i] !== 0) {
      lw.fail(
        node,
        `${what} have zero point ${s.zp.data[i]}: asymmetric weight quantization has no exact integer form (re-export with symmetric weights)`,
      );
    }
    const o = Math.floor(i / inner) % n;
    const v = s.scale.data[i]!;
    if (Number.isNaN(scale[o]!)) scale[o] = v;
    else if (scale[o] !== v)
      lw.fail(node, `${what} scale varies within output channel ${o}: only per-output-channel scales are supported`);
  }
  return { codes: s.codes.data, dims, scale };
}

/** Symmetric weight width that holds the codes: [-(2^(b-1)-1), 2^(b-1)-1]. */
export function weightBitsFor(maxAbs: number): number {
  let b = 2;
  while (2 ** (b - 1) - 1 < maxAbs) b++;
  return b;
}

/** Checks the codes fit the IR's weight storage, returns them as Int8Array. */
export function toInt8(lw: Lowering, node: OnnxNode, values: ArrayLike<number>): Int8Array {
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]!));
  if (max > 127)
    lw.fail(node, `weight code ${max} needs more than 8 bits: nibble's weights are at most 8 bits (bits.weight <= 8)`);
  return Int8Array.from(values);
}

/** Per-row accumulator bounds and gcd of weights [rows][rowLength] over inputs in [lo, hi]. */
export function accRange(weights: Int8Array, rows: number, lo: number, hi: number): AccRange {
  const rowLength = weights.length / rows;
  const r: AccRange = { lo: new Float64Array(rows), hi: new Float64Array(rows), gcd: new Int32Array(rows) };
  for (let o = 0; o < rows; o++) {
    let a = 0;
    let z = 0;
    let g = 0;
    for (let i = o * rowLength; i < (o + 1) * rowLength; i++) {
      const w = weights[i]!;
      if (w === 0) continue;
      a += Math.min(w * lo, w * hi);
      z += Math.max(w * lo, w * hi);
      g = gcd(g, w);
    }
    r.lo[o] = a;
    r.hi[o] = z;
    r.gcd[o] = g;
  }
  return r;
}

/**
 * The host input reaching a layer without a quantizer: the raw 8-bit value r
 * itself is the network input, which is exact when the host function is
 * affine in r (value = a[c] * r + b[c], e.g. the x/255 of image models).
 */
export function hostAsRawInput(lw: Lowering, node: OnnxNode, s: Sym): ActSym {
  if (s.kind !== 'host') lw.fail(node, 'internal: not the host input');
  const c = s.layout.canon.c;
  const a = new Float64Array(c);
  const b = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    b[ch] = s.value(0, ch);
    a[ch] = s.value(1, ch) - b[ch]!;
    if (!(a[ch]! > 0))
      lw.fail(
        node,
        `the input reaches this layer as a constant or decreasing function of the raw value (channel ${ch}): quantize it first`,
      );
    for (let r = 2; r < 256; r++) {
      const v = s.value(r, ch);
      if (Math.abs(v - (a[ch]! * r + b[ch]!)) > 1e-9 * (Math.abs(v) + 1)) {
        lw.fail(
          node,
          'the input reaches this layer through a non-affine host function: quantize it (Quant / QuantizeLinear) before the first layer',
        );
      }
    }
  }
  lw.inputBits = 8;
  return {
    kind: 'act',
    layout: s.layout,
    path: null,
    signed: false,
    bits: 8,
    lo: 0,
    hi: 255,
    scale: a,
    kappa: 1,
    offset: b.map((v, ch) => v / a[ch]!),
  };
}

/** The data input of a layer as activations (the host input becomes the raw network input). */
export function layerInput(lw: Lowering, node: OnnxNode, s: Sym): ActSym {
  if (s.kind === 'act') return s;
  if (s.kind === 'host') {
    const act = hostAsRawInput(lw, node, s);
    lw.notes.push(`the network input is the raw 8-bit value (no input quantizer before node ${node.index})`);
    return act;
  }
  if (s.kind === 'acc') {
    if (lw.autoQuantize) return lw.autoQuantize(node, node.inputs[0]!, s);
    return lw.fail(
      node,
      'its input is an accumulator (a convolution or matrix product not followed by a quantizer): nibble needs activations between layers; add a Quant',
    );
  }
  return lw.fail(node, 'its data input is a constant: nothing to compute on the accelerator');
}

/** acc = u through an identity 1x1 convolution: how activations reach a requant or a residual sum. */
export function identityAcc(lw: Lowering, node: OnnxNode, x: ActSym, suffix: string, probe: string): AccSym {
  const c = x.layout.canon.c;
  const weights = new Int8Array(c * c);
  for (let i = 0; i < c; i++) weights[i * c + i] = 1;
  const layer = squareConv2d(lw.layerName(node, suffix), c, c, 1, 1, 0, weights);
  return newAcc({
    layout: x.layout,
    path: extend(x.path, layer),
    alpha: x.scale.map((s) => s * x.kappa),
    beta: x.scale.map((s, i) => s * x.offset[i]!),
    sources: [layer],
    range: { lo: new Float64Array(c).fill(x.lo), hi: new Float64Array(c).fill(x.hi), gcd: new Int32Array(c).fill(1) },
    probe,
  });
}
