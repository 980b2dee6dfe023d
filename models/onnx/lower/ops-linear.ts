/**
 * Conv, ConvInteger, MatMul, MatMulInteger and Gemm to conv2d / dense layers.
 * The layer holds the integer weight codes; every float factor (weight and
 * input scales, Gemm's alpha, the input's offset, the bias) goes into the
 * accumulator's affine value map, to be folded into the next requant.
 */
import type { Conv2dLayer } from '../../layers/conv2d.js';
import type { DenseLayer } from '../../layers/dense.js';
import type { FlattenLayer } from '../../layers/flatten.js';
import { attrFloat, attrInt, windowGeometry } from '../attrs.js';
import { transpose } from '../execute/index.js';
import type { OnnxNode } from '../graph.js';
import type { Lowering } from './context.js';
import { isNchw, isNhwc, orderAt, plainLayout, vectorLength, type Layout } from './layout.js';
import { extend, newAcc, type AccSym, type ActSym, type Sym } from './state.js';
import { accRange, layerInput, layerWeights, toInt8 } from './weights.js';

/** One scale for all input channels (the weights then see plain integer codes). */
function uniformScale(lw: Lowering, node: OnnxNode, x: ActSym): number {
  const s = x.scale[0]!;
  if (!x.scale.every((v) => v === s)) {
    lw.fail(node, 'its input has a different scale per channel: nibble layers need one activation scale per tensor');
  }
  if (!(s > 0)) lw.fail(node, 'its input has a non-positive scale');
  return s;
}

function biasValues(lw: Lowering, node: OnnxNode, s: Sym | undefined, n: number): Float64Array {
  if (!s) return new Float64Array(n);
  let t;
  if (s.kind === 'const') t = s.t;
  else if (s.kind === 'qconst')
    t = { dims: s.codes.dims, data: s.codes.data.map((q, i) => (q - s.zp.data[i]!) * s.scale.data[i]!) };
  else return lw.fail(node, 'the bias must be a constant');
  if (t.data.length === 1 && n > 1) return new Float64Array(n).fill(t.data[0]!);
  if (t.data.length !== n) lw.fail(node, `the bias has ${t.data.length} values for ${n} output channels`);
  return Float64Array.from(t.data);
}

function accFrom(
  node: OnnxNode,
  layout: Layout,
  path: AccSym['path'],
  layer: Conv2dLayer | DenseLayer,
  alpha: Float64Array,
  beta: Float64Array,
  x: ActSym,
): AccSym {
  const rows = layer.kind === 'conv2d' ? layer.outChannels : layer.outFeatures;
  const range = accRange(layer.weights, rows, x.lo, x.hi);
  return newAcc({ layout, path, alpha, beta, sources: [layer], range, probe: node.outputs[0]! });
}

/** Conv (group 1, grouped and depthwise as block-diagonal weights), ConvInteger, and qonnx's channels-last Conv. */
export function lowerConv(lw: Lowering, node: OnnxNode, channelsLast: boolean): void {
  const x = layerInput(lw, node, lw.sym(node, 0));
  const integer = node.opType === 'ConvInteger';
  if (channelsLast ? !isNhwc(x.layout) : !isNchw(x.layout)) {
    lw.fail(
      node,
      `its input [${x.layout.dims.join(',')}] is not laid out ${channelsLast ? 'channels-last (NHWC)' : 'NCHW'} over the ${x.layout.canon.c}x${x.layout.canon.h}x${x.layout.canon.w} feature map`,
    );
  }
  let w = layerWeights(lw, node, lw.sym(node, 1), 0);
  if (channelsLast) {
    const t = transpose({ dims: w.dims, data: w.codes, dataType: 1 }, [0, 3, 1, 2]);
    w = { ...w, codes: t.data, dims: t.dims };
  }
  if (integer && lw.optionalSym(node, 3)) {
    const wz = lw.constant(node, 3, 'w_zero_point');
    if (wz.data.length !== 1) lw.fail(node, 'per-channel w_zero_point is not supported');
    w = { ...w, codes: w.codes.map((v) => v - wz.data[0]!) };
  }
  const one = w.dims.length === 3;
  if (w.dims.length !== 4 && !one)
    lw.fail(node, `weights of rank ${w.dims.length}: only 1-D and 2-D convolutions are supported`);
  const [co, cig] = w.dims as [number, number];
  const kh = one ? 1 : w.dims[2]!;
  const kw = one ? w.dims[2]! : w.dims[3]!;
  const { c: ci, h, w: width } = x.layout.canon;
  const group = attrInt(node, 'group', 1);
  if (group < 1 || ci % group !== 0 || co % group !== 0 || cig * group !== ci) {
    lw.fail(node, `group ${group} does not split ${ci} input channels into weights of shape [${w.dims.join(',')}]`);
  }
  const g = windowGeometry(node, one ? [width] : [h, width], one ? [kw] : [kh, kw]);
  const [padT, padL] = one ? [0, g.padBegin[0]!] : (g.padBegin as [number, number]);
  const [padB, padR] = one ? [0, g.padEnd[0]!] : (g.padEnd as [number, number]);
  const [sh, sw] = one ? [1, g.strides[0]!] : (g.strides as [number, number]);
  const [oh, ow] = one ? [1, g.out[0]!] : (g.out as [number, number]);
  if (g.dilations.some((d) => d !== 1))
    lw.fail(node, `dilations ${g.dilations.join(',')}: only dilation 1 is supported`);
  const sym = (begin: number, end: number, size: number, k: number, s: number, out: number, axis: string) => {
    if (begin === end) return begin;
    // more padding at the start than at the end is exact when the symmetric form gives the same output size
    if (begin > end && Math.floor((size + 2 * begin - k) / s) + 1 === out) return begin;
    return lw.fail(
      node,
      `asymmetric ${axis} padding (${begin} before, ${end} after) has no nibble form (its conv2d pads both sides equally)`,
    );
  };
  const padH = sym(padT, padB, h, kh, sh, oh, 'vertical');
  const padW = sym(padL, padR, width, kw, sw, ow, 'horizontal');
  if (padH > kh - 1 || padW > kw - 1)
    lw.fail(node, `padding ${padH},${padW} is not smaller than the ${kh}x${kw} kernel`);

  // dense [co][ci][kh][kw] codes: grouped convs become block-diagonal
  const taps = kh * kw;
  const full = new Float64Array(co * ci * taps);
  const cog = co / group;
  for (let o = 0; o < co; o++) {
    const gi = Math.floor(o / cog);
    for (let c = 0; c < cig; c++) {
      for (let t = 0; t < taps; t++) full[(o * ci + gi * cig + c) * taps + t] = w.codes[(o * cig + c) * taps + t]!;
    }
  }
  const weights = w.pending ? new Int8Array(full.length) : toInt8(lw, node, full);
  lw.noteWeights(weights);
  const layer: Conv2dLayer = {
    kind: 'conv2d',
    name: lw.layerName(node),
    inChannels: ci,
    outChannels: co,
    kernelH: kh,
    kernelW: kw,
    strideH: sh,
    strideW: sw,
    padH,
    padW,
    weights,
  };
  const s = integer ? 1 : uniformScale(lw, node, x);
  let xOffset = x.offset;
  if (integer && lw.optionalSym(node, 2)) {
    const xz = lw.constant(node, 2, 'x_zero_point').data[0]!;
    xOffset = xOffset.map((v, c) => v - xz / x.scale[c]!);
  }
  const bias = biasValues(lw, node, integer ? undefined : lw.optionalSym(node, 2), co);
  const alpha = w.scale.map((sw0) => sw0 * s * x.kappa);
  const beta = new Float64Array(co);
  let offsets = false;
  for (let o = 0; o < co; o++) {
    let t = 0;
    for (let c = 0; c < ci; c++) {
      if (xOffset[c] === 0) continue;
      offsets = true;
      let sum = 0;
      for (let k = 0; k < taps; k++) sum += full[(o * ci + c) * taps + k]!;
      t += sum * xOffset[c]!;
    }
    beta[o] = bias[o]! + w.scale[o]! * s * t;
  }
  const outDims = one ? [1, co, ow] : [1, co, oh, ow];
  const layout = channelsLast ? { ...plainLayout(outDims), ...nhwcOf(outDims) } : plainLayout(outDims);
  const acc = accFrom(node, layout, extend(x.path, layer), layer, alpha, beta, x);
  if (w.pending) acc.pending = { layer, rows: co, values: full, inLo: x.lo, inHi: x.hi };
  lw.set(node, acc);
  const exactBorders = !(offsets && (padH > 0 || padW > 0));
  if (!exactBorders) {
    lw.approximate(
      node,
      'the input has a nonzero zero point and the convolution pads with zeros: border outputs differ',
    );
    lw.notes.push(
      `node ${node.index}: zero padding of an input with a nonzero zero point: border pixels see code 0, not the value 0`,
    );
  }
  const grouped = group > 1 ? `, group ${group} as block-diagonal weights (${group}x the MACs)` : '';
  lw.step(
    node,
    `conv2d '${layer.name}' ${ci}->${co} ${kh}x${kw} stride ${sh},${sw} pad ${padH},${padW}${grouped}`,
    exactBorders,
  );
}

function nhwcOf(outDims: number[]): Pick<Layout, 'dims' | 'order'> {
  const [, c, h, w] = outDims as [number, number, number, number];
  const order = new Int32Array(h * w * c);
  let i = 0;
  for (let y = 0; y < h; y++)
    for (let xx = 0; xx < w; xx++) for (let ch = 0; ch < c; ch++) order[i++] = (ch * h + y) * w + xx;
  return { dims: [1, h, w, c], order };
}

/** A flatten layer where a dense layer reads a feature map; per-channel value maps become per feature. */
function flattened(lw: Lowering, node: OnnxNode, x: ActSym): ActSym {
  const { c, h, w } = x.layout.canon;
  if (h * w === 1) return x;
  const layer: FlattenLayer = {
    kind: 'flatten',
    name: x.layout.flatten ? lw.uniqueName(x.layout.flatten) : lw.layerName(node, '_flatten'),
  };
  const per = (a: Float64Array) => Float64Array.from({ length: c * h * w }, (_, j) => a[Math.floor(j / (h * w))]!);
  return {
    ...x,
    path: extend(x.path, layer),
    layout: { ...x.layout, canon: { c: c * h * w, h: 1, w: 1 } },
    scale: per(x.scale),
    offset: per(x.offset),
    requant: undefined,
  };
}

/** MatMul(x, W[F,O]), MatMulInteger and Gemm(x, W, C) with x a vector of F features. */
export function lowerDense(lw: Lowering, node: OnnxNode): void {
  const op = node.opType;
  let x = layerInput(lw, node, lw.sym(node, 0));
  const f = vectorLength(x.layout);
  if (f === null)
    lw.fail(node, `its input [${x.layout.dims.join(',')}] is not a vector: flatten the feature map first`);
  if (op === 'Gemm' && attrInt(node, 'transA', 0) !== 0) lw.fail(node, 'Gemm with transA = 1 is not supported');
  const transB = op === 'Gemm' && attrInt(node, 'transB', 0) === 1;
  const wsym = lw.sym(node, 1);
  let w = layerWeights(lw, node, wsym, transB ? 0 : 1);
  if (w.dims.length !== 2) lw.fail(node, `weights of shape [${w.dims.join(',')}] are not a matrix`);
  if (op === 'MatMulInteger' && lw.optionalSym(node, 3)) {
    const bz = lw.constant(node, 3, 'b_zero_point');
    if (bz.data.length !== 1) lw.fail(node, 'per-column b_zero_point is not supported');
    w = { ...w, codes: w.codes.map((v) => v - bz.data[0]!) };
  }
  const [r0, r1] = w.dims as [number, number];
  const inF = transB ? r1 : r0;
  const outF = transB ? r0 : r1;
  if (inF !== f) lw.fail(node, `weights [${w.dims.join(',')}] take ${inF} features but the input has ${f}`);
  const viewLayout = x.layout;
  x = flattened(lw, node, x);
  const values = new Float64Array(outF * inF);
  for (let i = 0; i < inF; i++) {
    const j = orderAt(viewLayout, i);
    for (let o = 0; o < outF; o++) values[o * inF + j] = w.codes[transB ? o * inF + i : i * outF + o]!;
  }
  const weights = w.pending ? new Int8Array(values.length) : toInt8(lw, node, values);
  lw.noteWeights(weights);
  const layer: DenseLayer = { kind: 'dense', name: lw.layerName(node), inFeatures: inF, outFeatures: outF, weights };
  const integer = op === 'MatMulInteger';
  const s = integer ? 1 : uniformScale(lw, node, x);
  let offset = x.offset;
  if (integer && lw.optionalSym(node, 2)) {
    const az = lw.constant(node, 2, 'a_zero_point').data[0]!;
    offset = offset.map((v, j) => v - az / x.scale[j]!);
  }
  const gain = op === 'Gemm' ? attrFloat(node, 'alpha', 1) : 1;
  const bias = biasValues(lw, node, op === 'Gemm' ? lw.optionalSym(node, 2) : undefined, outF).map(
    (b) => b * (op === 'Gemm' ? attrFloat(node, 'beta', 1) : 1),
  );
  const alpha = w.scale.map((ws) => ws * s * x.kappa * gain);
  const beta = new Float64Array(outF);
  for (let o = 0; o < outF; o++) {
    let t = 0;
    for (let j = 0; j < inF; j++) t += values[o * inF + j]! * offset[j]!;
    beta[o] = bias[o]! + w.scale[o]! * s * gain * t;
  }
  const dims =
    op === 'Gemm' ? [1, outF] : viewLayout.dims.length === 1 ? [outF] : [...viewLayout.dims.slice(0, -1), outF];
  const layout: Layout = { dims, canon: { c: outF, h: 1, w: 1 }, order: null };
  const acc = accFrom(node, layout, extend(x.path, layer), layer, alpha, beta, x);
  if (w.pending) acc.pending = { layer, rows: outF, values, inLo: x.lo, inHi: x.hi };
  lw.set(node, acc);
  lw.step(
    node,
    `dense '${layer.name}' ${inF}->${outF}${x.path && x.path.layer.kind === 'flatten' ? ' (after a flatten layer)' : ''}`,
    true,
  );
}
