/**
 * The graph output. Activations leave the network as they are; accumulators
 * (a model ending in a float layer, e.g. logits after a BatchNorm) need a last
 * requant, and a 4-bit machine cannot hold a wide sum in one code: the output
 * channel is repeated K times, slice k holding clamp(acc - lo - k*Q, 0, Q)
 * with Q = 2^bits - 1, and the host adds the slices back (exact while K is
 * small, else each slice also drops low bits, a measured conversion). Output
 * heads (Softmax, ArgMax, TopK) are recorded for the host.
 */
import type { HostHead, OutputTransform } from '../../host.js';
import type { Conv2dLayer } from '../../layers/conv2d.js';
import type { DenseLayer } from '../../layers/dense.js';
import type { RequantLayer } from '../../layers/requant.js';
import type { OnnxNode } from '../graph.js';
import { attrInt } from '../attrs.js';
import { elementCount } from '../tensor.js';
import type { Lowering } from './context.js';
import { channelOf, orderAt, type Layout } from './layout.js';
import { resolvePending } from './ptq.js';
import { extend, type AccSym, type ActSym, type PathNode, type Sym } from './state.js';

export interface NetworkOutput {
  path: PathNode;
  transform: OutputTransform;
}

function transformOf(
  layout: Layout,
  gain: Float64Array,
  bias: Float64Array,
  slices: number,
  heads: HostHead[],
): OutputTransform {
  const n = elementCount(layout.dims);
  const hw = layout.canon.h * layout.canon.w;
  const index = new Int32Array(n);
  const g = new Float64Array(n);
  const b = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = channelOf(layout, i);
    const p = orderAt(layout, i) - c * hw;
    index[i] = c * slices * hw + p;
    g[i] = gain[c]!;
    b[i] = bias[c]!;
  }
  return { size: n, index, slices, sliceStride: hw, gain: g, bias: b, heads };
}

function actOutput(x: ActSym, heads: HostHead[]): NetworkOutput | null {
  if (!x.path) return null;
  const gain = x.scale.map((s) => s * x.kappa);
  const bias = x.scale.map((s, c) => s * x.offset[c]!);
  return { path: x.path, transform: transformOf(x.layout, gain, bias, 1, heads) };
}

function repeatRows(l: Conv2dLayer | DenseLayer, k: number): void {
  const n = l.kind === 'conv2d' ? l.outChannels : l.outFeatures;
  const row = l.weights.length / n;
  const w = new Int8Array(l.weights.length * k);
  for (let c = 0; c < n; c++)
    for (let j = 0; j < k; j++) w.set(l.weights.subarray(c * row, (c + 1) * row), (c * k + j) * row);
  l.weights = w;
  if (l.kind === 'conv2d') l.outChannels = n * k;
  else l.outFeatures = n * k;
}

/** The accumulator range to slice: the static bound, narrowed to the calibration range (+25 %) when quantizing a float model. */
function outputRange(lw: Lowering, x: AccSym, value: string): { lo: Float64Array; hi: Float64Array } {
  const lo = x.range.lo.slice();
  const hi = x.range.hi.slice();
  const stats = lw.opts.quantize?.stats.get(value);
  if (!stats) return { lo, hi };
  for (let ch = 0; ch < lo.length; ch++) {
    const a = x.alpha[ch]!;
    if (a === 0) continue;
    const e1 = (stats.min - x.beta[ch]!) / a;
    const e2 = (stats.max - x.beta[ch]!) / a;
    const margin = 0.25 * Math.abs(e2 - e1);
    lo[ch] = Math.max(lo[ch]!, Math.floor(Math.min(e1, e2) - margin));
    hi[ch] = Math.min(hi[ch]!, Math.ceil(Math.max(e1, e2) + margin));
  }
  return { lo, hi };
}

function accOutput(
  lw: Lowering,
  node: OnnxNode | undefined,
  x: AccSym,
  heads: HostHead[],
  value: string,
): NetworkOutput {
  const where = node ?? lw.graph.nodes[lw.graph.nodes.length - 1]!;
  if (lw.autoQuantize && (x.rearranged || x.path.layer.kind === 'maxpool' || x.clampLo.some((v) => v !== -Infinity))) {
    const act = lw.autoQuantize(where, value, x);
    return actOutput(act, heads)!;
  }
  resolvePending(lw, x);
  const range = outputRange(lw, x, value);
  if (x.rearranged)
    lw.fail(where, 'the output is a flattened accumulator without a quantizer: add a Quant before the output');
  if (x.path.layer.kind === 'residual' || x.path.layer.kind === 'maxpool') {
    if (x.path.layer.kind === 'maxpool')
      lw.fail(where, 'the output is a max pool of accumulators without a quantizer: add a Quant');
  }
  const c = x.layout.canon.c;
  const q = 2 ** lw.opts.activationBits - 1;
  let lo = Infinity;
  let hi = -Infinity;
  for (let ch = 0; ch < c; ch++) {
    lo = Math.min(lo, range.lo[ch]!);
    hi = Math.max(hi, range.hi[ch]!);
  }
  const span = hi - lo;
  let shift = 0;
  while (Math.ceil(span / 2 ** shift / q) > lw.opts.maxOutputSlices) shift++;
  const k = Math.max(1, Math.ceil(span / 2 ** shift / q));
  const clamped = x.clampLo.some((v) => v !== -Infinity) || x.clampHi.some((v) => v !== Infinity);
  for (const s of x.sources) repeatRows(s, k);
  const bias = new Int32Array(c * k);
  for (let ch = 0; ch < c; ch++) {
    for (let j = 0; j < k; j++) bias[ch * k + j] = range.lo[ch]! + j * q * 2 ** shift;
  }
  const layer: RequantLayer = {
    kind: 'requant',
    name: lw.layerName(where, '_output'),
    signed: false,
    bits: lw.opts.activationBits,
    bias,
    shift: new Int8Array(c * k).fill(shift),
  };
  const gain = x.alpha.map((a) => a * 2 ** shift);
  const b0 = x.alpha.map((a, ch) => a * range.lo[ch]! + x.beta[ch]!);
  const narrowed = range.lo.some((v, ch) => v > x.range.lo[ch]!) || range.hi.some((v, ch) => v < x.range.hi[ch]!);
  const exact = shift === 0 && !clamped && !narrowed;
  const why =
    shift > 0
      ? `each slice drops ${shift} low bits (the range ${lo}..${hi} needs more than ${lw.opts.maxOutputSlices} slices)`
      : 'a Relu/Clip before the output is not applied on the host';
  if (!exact) lw.approximate(where, `the wide output is approximated: ${why}`);
  lw.step(
    where,
    `output: accumulators ${lo}..${hi} leave through requant '${layer.name}' as ${k} unsigned ${lw.opts.activationBits}-bit slice(s) per value, summed on the host${shift ? ` (shift ${shift})` : ''}`,
    exact,
  );
  lw.notes.push(
    `the last layer's ${c} outputs are computed ${k}x (${k} slices each) so the ${lw.opts.activationBits}-bit machine returns them ${exact ? 'exactly' : 'with the measured loss above'}`,
  );
  const layout: Layout = x.layout;
  const t = transformOf(layout, gain, b0, k, heads);
  return { path: extend(x.path, layer), transform: t };
}

/** The network's last layer path and the host output transform for the graph output value. */
export function networkOutput(lw: Lowering, s: Sym, node: OnnxNode | undefined): NetworkOutput {
  const where = node ?? lw.graph.nodes[lw.graph.nodes.length - 1]!;
  const base = s.kind === 'head' ? s.base : s;
  const heads = s.kind === 'head' ? s.heads : [];
  if (base.kind === 'act') {
    const out = actOutput(base, heads);
    if (!out) lw.fail(where, 'the graph output is the (quantized) input itself: nothing runs on the accelerator');
    return out;
  }
  if (base.kind === 'acc')
    return accOutput(lw, node, base, heads, s.kind === 'head' ? s.baseValue : (node?.outputs[0] ?? ''));
  return lw.fail(
    where,
    `the graph output is ${base.kind === 'host' ? 'computed on the host only' : 'a constant'}: nothing runs on the accelerator`,
  );
}

/** Softmax / LogSoftmax / ArgMax / TopK on the final value: recorded for the host. */
export function lowerHead(lw: Lowering, node: OnnxNode): void {
  const s = lw.sym(node, 0);
  const base = s.kind === 'head' ? s.base : s;
  if (base.kind !== 'act' && base.kind !== 'acc') lw.fail(node, `${node.opType} of this value is not supported`);
  const outputs = new Set(lw.graph.outputs.map((o) => o.name));
  const feedsOnlyOutput = node.outputs
    .filter(Boolean)
    .every((o) => outputs.has(o) || (lw.consumers.get(o) ?? []).every((c) => HEADS.has(c.opType)));
  if (!feedsOnlyOutput)
    lw.fail(
      node,
      `${node.opType} runs on the host after the accelerator, so it must be at the output (nothing may consume its result)`,
    );
  const n = elementCount(base.layout.dims);
  const last = base.layout.dims.length - 1;
  const axis = attrInt(
    node,
    'axis',
    node.opType === 'Softmax' || node.opType === 'LogSoftmax' || node.opType === 'TopK' ? -1 : 0,
  );
  const ax = axis < 0 ? axis + base.layout.dims.length : axis;
  if (
    base.layout.dims[ax] !== n &&
    !(node.opType === 'Softmax' && ax >= 1 && elementCount(base.layout.dims.slice(ax)) === n)
  ) {
    lw.fail(
      node,
      `${node.opType} over axis ${axis} of [${base.layout.dims.join(',')}]: host heads work on one vector of all output values`,
    );
  }
  void last;
  const heads: HostHead[] = s.kind === 'head' ? [...s.heads] : [];
  if (node.opType === 'TopK') {
    const k = lw.constant(node, 1, 'K').data[0]!;
    heads.push({ kind: 'topk', k });
  } else heads.push({ kind: node.opType === 'ArgMax' ? 'argmax' : 'softmax' });
  if (node.opType === 'LogSoftmax') lw.notes.push('LogSoftmax is recorded as a softmax head (the same ranking)');
  const baseValue = s.kind === 'head' ? s.baseValue : node.inputs[0]!;
  lw.set(node, { kind: 'head', base, baseValue, heads, layout: base.layout });
  if (node.opType === 'TopK' && node.outputs[1])
    lw.syms.set(node.outputs[1], { kind: 'head', base, baseValue, heads, layout: base.layout });
  lw.step(node, `${node.opType} at the output: runs on the host after the accelerator`);
}

const HEADS = new Set(['Softmax', 'LogSoftmax', 'ArgMax', 'TopK']);
