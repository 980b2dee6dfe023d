/**
 * Pooling. MaxPool commutes with every monotone increasing map, so a max pool
 * of activations is a maxpool layer on the codes, and of accumulators a
 * maxpool before the requant (after negating channels whose scale is
 * negative). AveragePool and GlobalAveragePool are sums over the window, a
 * convolution with weights of one per channel; the divisor folds into the
 * next requant, exactly.
 */
import type { Conv2dLayer } from '../../layers/conv2d.js';
import type { MaxPoolLayer } from '../../layers/maxpool.js';
import { attrInt, windowGeometry } from '../attrs.js';
import type { OnnxNode } from '../graph.js';
import type { Lowering } from './context.js';
import { channelsLastLayout, isNchw, isNhwc, plainLayout } from './layout.js';
import { extend, newAcc, type AccSym, type ActSym } from './state.js';
import { accRange, layerInput } from './weights.js';

interface Window {
  k: number;
  kh: number;
  kw: number;
  s: number;
  sh: number;
  sw: number;
  padH: number;
  padW: number;
  oh: number;
  ow: number;
}

function poolWindow(lw: Lowering, node: OnnxNode, h: number, w: number, global: boolean): Window {
  if (global) return { k: h === w ? h : -1, kh: h, kw: w, s: 1, sh: 1, sw: 1, padH: 0, padW: 0, oh: 1, ow: 1 };
  const g = windowGeometry(node, [h, w]);
  if (g.dilations.some((d) => d !== 1)) lw.fail(node, 'pooling with dilations is not supported');
  const [kh, kw] = g.kernel as [number, number];
  const [sh, sw] = g.strides as [number, number];
  if (g.padBegin[0] !== g.padEnd[0] || g.padBegin[1] !== g.padEnd[1]) {
    lw.fail(
      node,
      `asymmetric pooling pads (${g.padBegin.join(',')} before, ${g.padEnd.join(',')} after) are not supported`,
    );
  }
  const [padH, padW] = g.padBegin as [number, number];
  const [oh, ow] = g.out as [number, number];
  const floorH = Math.floor((h + 2 * padH - kh) / sh) + 1;
  const floorW = Math.floor((w + 2 * padW - kw) / sw) + 1;
  if (oh !== floorH || ow !== floorW) lw.fail(node, 'ceil_mode adds a partial window at the border: not supported');
  return { k: kh === kw ? kh : -1, kh, kw, s: sh === sw ? sh : -1, sh, sw, padH, padW, oh, ow };
}

function spatialInput(lw: Lowering, node: OnnxNode, x: ActSym | AccSym, channelsLast: boolean): void {
  if (channelsLast ? !isNhwc(x.layout) : !isNchw(x.layout) || x.layout.dims.length !== 4) {
    lw.fail(node, `its input [${x.layout.dims.join(',')}] is not a ${channelsLast ? 'NHWC' : 'NCHW'} feature map`);
  }
}

export function lowerMaxPool(lw: Lowering, node: OnnxNode, channelsLast: boolean, global: boolean): void {
  const s0 = lw.sym(node, 0);
  const settled =
    s0.kind === 'acc' && s0.path.layer.kind === 'residual' && lw.autoQuantize
      ? lw.autoQuantize(node, node.inputs[0]!, s0)
      : s0;
  const x = settled.kind === 'acc' ? settled : layerInput(lw, node, settled);
  spatialInput(lw, node, x, channelsLast);
  const { c, h, w } = x.layout.canon;
  const win = poolWindow(lw, node, h, w, global);
  if (win.k < 0 || win.s < 0)
    lw.fail(node, `a ${win.kh}x${win.kw} window with strides ${win.sh},${win.sw}: nibble's max pool is square`);
  if (win.padH || win.padW)
    lw.fail(node, 'max pooling with padding is not supported (nibble pools valid windows only)');
  const layer: MaxPoolLayer = { kind: 'maxpool', name: lw.layerName(node), kernel: win.k, stride: win.s };
  const dims = [1, c, win.oh, win.ow];
  const layout = channelsLast ? channelsLastLayout([1, win.oh, win.ow, c]) : plainLayout(dims);
  if (x.kind === 'act') {
    if (x.scale.some((v) => v <= 0))
      lw.fail(node, 'max pooling of activations with a negative scale would be a min pool');
    lw.set(node, { ...x, layout, path: extend(x.path, layer), requant: undefined });
    lw.step(node, `maxpool '${layer.name}' ${win.k}x${win.k} stride ${win.s} on the codes`, true);
    return;
  }
  if (x.path.layer.kind === 'residual')
    lw.fail(node, 'a max pool directly after a residual Add needs a quantizer between them');
  for (let ch = 0; ch < c; ch++) {
    if (x.alpha[ch]! >= 0) continue;
    if (x.signFixed || x.rearranged)
      lw.fail(node, `channel ${ch} has a negative scale after an earlier pool: the max pool would be a min pool`);
    negateChannel(x, ch);
  }
  lw.set(node, { ...x, layout, path: extend(x.path, layer), signFixed: true, probe: { ...x.probe } });
  lw.step(
    node,
    `maxpool '${layer.name}' ${win.k}x${win.k} stride ${win.s} on the accumulators (before the requant)`,
    true,
  );
}

/** acc' = -acc for one output channel: negated weights, alpha and range. */
export function negateChannel(x: AccSym, ch: number): void {
  for (const l of x.sources) {
    const n = l.kind === 'conv2d' ? l.outChannels : l.outFeatures;
    const row = l.weights.length / n;
    for (let i = ch * row; i < (ch + 1) * row; i++) l.weights[i] = -l.weights[i]!;
  }
  x.alpha[ch] = -x.alpha[ch]!;
  const lo = x.range.lo[ch]!;
  x.range.lo[ch] = -x.range.hi[ch]!;
  x.range.hi[ch] = -lo;
  x.negated[ch] = x.negated[ch] ? 0 : 1;
  const p = x.pending;
  if (p) {
    const row = p.values.length / p.rows;
    for (let i = ch * row; i < (ch + 1) * row; i++) p.values[i] = -p.values[i]!;
  }
}

export function lowerAveragePool(lw: Lowering, node: OnnxNode, global: boolean): void {
  const x = layerInput(lw, node, lw.sym(node, 0));
  spatialInput(lw, node, x, false);
  const { c, h, w } = x.layout.canon;
  const win = poolWindow(lw, node, h, w, global);
  const includePad = attrInt(node, 'count_include_pad', 0) === 1;
  if ((win.padH || win.padW) && !includePad) {
    lw.fail(
      node,
      'average pooling with padding and count_include_pad = 0 divides border windows by fewer elements: no exact nibble form',
    );
  }
  if ((win.padH || win.padW) && x.offset.some((v) => v !== 0)) {
    lw.fail(node, 'average pooling pads with zeros but the input has a nonzero zero point');
  }
  if (win.padH > win.kh - 1 || win.padW > win.kw - 1) lw.fail(node, 'padding is not smaller than the window');
  const taps = win.kh * win.kw;
  const weights = new Int8Array(c * c * taps);
  for (let ch = 0; ch < c; ch++) weights.fill(1, (ch * c + ch) * taps, (ch * c + ch + 1) * taps);
  const layer: Conv2dLayer = {
    kind: 'conv2d',
    name: lw.layerName(node),
    inChannels: c,
    outChannels: c,
    kernelH: win.kh,
    kernelW: win.kw,
    strideH: win.sh,
    strideW: win.sw,
    padH: win.padH,
    padW: win.padW,
    weights,
  };
  const alpha = x.scale.map((s) => (s * x.kappa) / taps);
  const beta = x.scale.map((s, ch) => s * x.offset[ch]!);
  const layout = plainLayout([1, c, win.oh, win.ow]);
  const acc = newAcc({
    layout,
    path: extend(x.path, layer),
    alpha,
    beta,
    sources: [layer],
    range: accRange(weights, c, x.lo, x.hi),
    probe: node.outputs[0]!,
  });
  lw.set(node, acc);
  lw.step(
    node,
    `sum over the ${win.kh}x${win.kw} window as conv2d '${layer.name}' (weights 1, ${c}x the MACs of a depthwise pool); the 1/${taps} folds into the next requant`,
    true,
  );
}
