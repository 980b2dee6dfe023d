/**
 * Exact zero padding of activations whose codes carry an offset.
 *
 * A code u stands for the value scale * (kappa * u + offset[c]); a signed
 * non-narrow quantizer, for one, is held as unsigned codes with an offset of
 * -2^(b-1). The ONNX convolution pads with the value 0, the machine with the
 * code 0, whose value is scale * offset. Folding the offsets into the bias
 * is right only where every kernel tap is inside the image. So instead the
 * offsets' contribution is computed by the array itself, from constant
 * channels: J extra input channels holding the code v everywhere in the
 * image (and, like every channel, 0 in the padding), with weights whose sum
 * per tap is E[co][t] / v, E[co][t] = sum_c w[co][c][t] * offset[c] / kappa.
 * At every output position the array then adds exactly the in-image taps'
 * share, and the requant's bias keeps only the model's bias.
 *
 * The constant channels come from the layer that produces the activations
 * (J zero-weight output channels of its conv/dense/residual, requant bias
 * -v, shift 0), or, when other nodes read those activations too (or they
 * are the network input), from an identity 1x1 conv2d + requant inserted
 * before the convolution.
 */
import type { Layer } from '../../ir.js';
import type { Conv2dLayer } from '../../layers/conv2d.js';
import type { DenseLayer } from '../../layers/dense.js';
import type { RequantLayer } from '../../layers/requant.js';
import type { OnnxNode } from '../graph.js';
import type { Lowering } from './context.js';
import { plainLayout } from './layout.js';
import { extend, type AccRange, type ActSym, type PathNode } from './state.js';

/** The geometry of a zero-padded convolution (or average pool) over x. */
export interface PaddedConv {
  co: number;
  ci: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  padT: number;
  padL: number;
  oh: number;
  ow: number;
  /** integer weight codes [co][ci][kh][kw] */
  weights: Float64Array;
  /** per input channel: offset / kappa of the codes (the input's zero point in codes) */
  codeOffset: Float64Array;
}

export interface BorderFix {
  /** the convolution's input: x with `extra` constant channels of code `code` appended */
  x: ActSym;
  /** [co][ci + extra][kh][kw] */
  weights: Float64Array;
  /** per output channel, the integer the real weights were multiplied by (alpha is divided by it) */
  factor: Float64Array;
  extra: number;
  code: number;
  /** the accumulator bound and gcd with the constant channels' exact contribution */
  range: AccRange;
  /** for the import report */
  how: string;
}

const EPS = 1e-9;

function gcd(a: number, b: number): number {
  let x = Math.abs(a);
  let y = Math.abs(b);
  while (y) [x, y] = [y, x % y];
  return x;
}

/** The kernel taps inside the image, per output row (or column), distinct sets only. */
function tapSets(size: number, k: number, s: number, pad: number, out: number): number[][] {
  const seen = new Map<string, number[]>();
  for (let o = 0; o < out; o++) {
    const taps: number[] = [];
    for (let t = 0; t < k; t++) {
      const i = o * s + t - pad;
      if (i >= 0 && i < size) taps.push(t);
    }
    seen.set(taps.join(','), taps);
  }
  return [...seen.values()];
}

/** E[co][t] scaled per row to integers: D = factor * E, or a reason why no row factor makes it integral. */
function integralOffsets(p: PaddedConv, limit: number): { d: Float64Array; factor: Float64Array } | string {
  const taps = p.kh * p.kw;
  const d = new Float64Array(p.co * taps);
  const factor = new Float64Array(p.co);
  for (let o = 0; o < p.co; o++) {
    const e = new Float64Array(taps);
    let maxW = 0;
    for (let c = 0; c < p.ci; c++) {
      for (let t = 0; t < taps; t++) {
        const w = p.weights[(o * p.ci + c) * taps + t]!;
        maxW = Math.max(maxW, Math.abs(w));
        e[t]! += w * p.codeOffset[c]!;
      }
    }
    const fmax = maxW === 0 ? 1 : Math.max(1, Math.floor(limit / maxW));
    let f = 1;
    while (f <= fmax && !e.every((v) => Math.abs(v * f - Math.round(v * f)) < EPS)) f++;
    if (f > fmax) {
      return `output channel ${o}'s offset sum ${e.find((v) => Math.abs(v - Math.round(v)) >= EPS)} (weights times the zero point in codes) is not an integer, nor after multiplying the channel's weights by up to ${fmax}`;
    }
    factor[o] = f;
    for (let t = 0; t < taps; t++) d[o * taps + t] = Math.round(e[t]! * f);
  }
  return { d, factor };
}

/** Weights of the fixed convolution, the constant code and channel count, and the accumulator range. */
export function borderWeights(
  p: PaddedConv,
  x: ActSym,
  h: number,
  w: number,
  limit: number,
): Omit<BorderFix, 'x' | 'how'> | string {
  const taps = p.kh * p.kw;
  const int = integralOffsets(p, limit);
  if (typeof int === 'string') return int;
  const { d, factor } = int;
  let g = 0;
  for (const v of d) g = gcd(g, v);
  // the largest code v the activations hold that divides every offset sum: fewest constant channels
  let code = 1;
  for (let v = Math.min(x.hi, Math.max(1, g)); v >= 1; v--) {
    if (g % v === 0) {
      code = v;
      break;
    }
  }
  let most = 0;
  for (const v of d) most = Math.max(most, Math.abs(v / code));
  const extra = Math.ceil(most / limit);
  const cin = p.ci + extra;
  const weights = new Float64Array(p.co * cin * taps);
  for (let o = 0; o < p.co; o++) {
    for (let c = 0; c < p.ci; c++) {
      for (let t = 0; t < taps; t++)
        weights[(o * cin + c) * taps + t] = p.weights[(o * p.ci + c) * taps + t]! * factor[o]!;
    }
    for (let t = 0; t < taps; t++) {
      // split D / code over the constant channels as evenly as possible, each within the weight range
      const total = d[o * taps + t]! / code;
      const base = Math.trunc(total / extra);
      const rest = total - base * extra;
      for (let j = 0; j < extra; j++) {
        weights[(o * cin + p.ci + j) * taps + t] = base + (j < Math.abs(rest) ? Math.sign(rest) : 0);
      }
    }
  }
  return { weights, factor, extra, code, range: fixedRange(p, x, weights, cin, d, h, w) };
}

/** Bound of the real channels' sum plus the exact constant contribution per border class; gcd of both. */
function fixedRange(
  p: PaddedConv,
  x: ActSym,
  weights: Float64Array,
  cin: number,
  d: Float64Array,
  h: number,
  w: number,
): AccRange {
  const taps = p.kh * p.kw;
  const rows = tapSets(h, p.kh, p.sh, p.padT, p.oh);
  const cols = tapSets(w, p.kw, p.sw, p.padL, p.ow);
  const r: AccRange = { lo: new Float64Array(p.co), hi: new Float64Array(p.co), gcd: new Int32Array(p.co) };
  for (let o = 0; o < p.co; o++) {
    let lo = 0;
    let hi = 0;
    let g = 0;
    for (let c = 0; c < p.ci; c++) {
      for (let t = 0; t < taps; t++) {
        const v = weights[(o * cin + c) * taps + t]!;
        lo += Math.min(v * x.lo, v * x.hi);
        hi += Math.max(v * x.lo, v * x.hi);
        g = gcd(g, v);
      }
    }
    let cLo = Infinity;
    let cHi = -Infinity;
    for (const ry of rows) {
      for (const cx of cols) {
        let s = 0;
        for (const ky of ry) for (const kx of cx) s += d[o * taps + ky * p.kw + kx]!;
        cLo = Math.min(cLo, s);
        cHi = Math.max(cHi, s);
        g = gcd(g, s);
      }
    }
    r.lo[o] = lo + cLo;
    r.hi[o] = hi + cHi;
    r.gcd[o] = g;
  }
  return r;
}

/** The path from x back to the layers that make its channels: [pools], requant, [pools], source. */
function producerChain(x: ActSym): { requant: RequantLayer; source: Layer } | undefined {
  let n: PathNode | null = x.path;
  while (n && n.layer.kind === 'maxpool') n = n.prev;
  if (!n || n.layer.kind !== 'requant') return undefined;
  const requant = n.layer;
  n = n.prev;
  while (n && n.layer.kind === 'maxpool') n = n.prev;
  if (!n || !['conv2d', 'dense', 'residual'].includes(n.layer.kind)) return undefined;
  return { requant, source: n.layer };
}

function addZeroRows(l: Conv2dLayer | DenseLayer, extra: number): void {
  const rows = l.kind === 'conv2d' ? l.outChannels : l.outFeatures;
  const grown = new Int8Array((l.weights.length / rows) * (rows + extra));
  grown.set(l.weights);
  l.weights = grown;
  if (l.kind === 'conv2d') l.outChannels += extra;
  else l.outFeatures += extra;
}

/** x with constant channels made by its producer, if nothing else reads the values in between. */
function fromProducer(
  lw: Lowering,
  node: OnnxNode,
  x: ActSym,
  extra: number,
  code: number,
): { x: ActSym; requant: string } | undefined {
  const chain = producerChain(x);
  const origin = chain && lw.requantValues.get(chain.requant);
  if (!chain || !origin || !lw.soleReader(node.inputs[0]!, origin)) return undefined;
  const src = chain.source;
  if (src.kind === 'residual') {
    addZeroRows(src.main[src.main.length - 1] as Conv2dLayer, extra);
    addZeroRows(src.shortcut, extra);
  } else if (src.kind === 'conv2d' || src.kind === 'dense') addZeroRows(src, extra);
  const rq = chain.requant;
  rq.bias = Int32Array.from([...rq.bias, ...new Array<number>(extra).fill(-code)]);
  rq.shift = Int8Array.from([...rq.shift, ...new Array<number>(extra).fill(0)]);
  return { x: widened(x, x.path, extra), requant: rq.name };
}

function widened(x: ActSym, path: PathNode | null, extra: number): ActSym {
  const { c, h, w } = x.layout.canon;
  const pad = (a: Float64Array, v: number) => Float64Array.from([...a, ...new Array<number>(extra).fill(v)]);
  return {
    ...x,
    path,
    layout: plainLayout([1, c + extra, h, w]),
    scale: pad(x.scale, x.scale[0]!),
    offset: pad(x.offset, 0),
    requant: undefined,
  };
}

/** x through an identity 1x1 conv2d whose requant appends the constant channels (codes unchanged). */
function throughIdentity(lw: Lowering, node: OnnxNode, x: ActSym, extra: number, code: number): ActSym | string {
  if (x.bits > lw.opts.activationBits)
    return `the constant channels would need an identity layer on ${x.bits}-bit activations (bits.activation is ${lw.opts.activationBits})`;
  if (lw.feedsResidualAdd(node.outputs[0]!))
    return 'the convolution is a branch of a residual Add, which must stay a single layer';
  const c = x.layout.canon.c;
  const weights = new Int8Array((c + extra) * c);
  for (let i = 0; i < c; i++) weights[i * c + i] = 1;
  const conv: Conv2dLayer = {
    kind: 'conv2d',
    name: lw.layerName(node, '_borders'),
    inChannels: c,
    outChannels: c + extra,
    kernelH: 1,
    kernelW: 1,
    strideH: 1,
    strideW: 1,
    padH: 0,
    padW: 0,
    weights,
  };
  const rq: RequantLayer = {
    kind: 'requant',
    name: lw.layerName(node, '_borders_requant'),
    signed: x.signed,
    bits: x.bits,
    bias: Int32Array.from({ length: c + extra }, (_, i) => (i < c ? 0 : -code)),
    shift: new Int8Array(c + extra),
  };
  return widened(x, extend(extend(x.path, conv), rq), extra);
}

/**
 * The exact form of a zero-padded convolution over activations with code
 * offsets, or the reason there is none (the caller then reports the border
 * outputs as converted).
 */
export function fixBorders(lw: Lowering, node: OnnxNode, x: ActSym, p: PaddedConv): BorderFix | string {
  const { h, w } = x.layout.canon;
  const fit = borderWeights(p, x, h, w, lw.weightLimit());
  if (typeof fit === 'string') return fit;
  if (fit.extra === 0) return { ...fit, x, how: 'the offsets cancel in every kernel tap' };
  const own = fromProducer(lw, node, x, fit.extra, fit.code);
  const grown = own?.x ?? throughIdentity(lw, node, x, fit.extra, fit.code);
  if (typeof grown === 'string') return grown;
  const channels = `${fit.extra} constant channel${fit.extra === 1 ? '' : 's'} of code ${fit.code}`;
  const most = Math.max(...fit.factor);
  const mult = most > 1 ? `, weights x${most} where the offset sums are fractional` : '';
  const where = own
    ? `made by requant '${own.requant}'`
    : `made by identity conv2d '${(grown.path!.prev as PathNode).layer.name}'`;
  return {
    ...fit,
    x: grown,
    how: `zero padding of codes with an offset made exact: ${channels} (${where}) add the offsets' share of the in-image taps${mult}`,
  };
}
