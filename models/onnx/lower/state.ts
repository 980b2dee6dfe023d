/**
 * What the lowering knows about each ONNX value while it walks the graph:
 *
 *  - const: a constant tensor (initializer or folded constant subgraph);
 *  - qconst: a constant quantized by a Quant / QuantizeLinear / DequantizeLinear
 *    chain, kept as integer codes with scale and zero point (weights);
 *  - host: the graph input before its quantizer, a float function of the raw
 *    8-bit input computed on the host;
 *  - act: a nibble activation tensor, value = scale[c] * (kappa * u + offset[c])
 *    for the stored integer code u in [lo, hi];
 *  - acc: a nibble accumulator, value = clamp(alpha[c] * acc + beta[c], clampLo[c], clampHi[c]),
 *    with the per-channel static range of acc (for exact requant fitting) and
 *    the layers whose weights may still be scaled or negated per channel;
 *  - head: the network output followed by host-side heads (Softmax, ArgMax, TopK).
 *
 * Layers form persistent paths (linked lists) from the network input, so that
 * a residual Add can find where its two branches fork.
 */
import type { Layer } from '../../ir.js';
import type { Conv2dLayer } from '../../layers/conv2d.js';
import type { DenseLayer } from '../../layers/dense.js';
import type { HostHead } from '../../host.js';
import type { Tensor } from '../tensor.js';
import type { Layout } from './layout.js';

export interface PathNode {
  layer: Layer;
  prev: PathNode | null;
}

export function pathLayers(p: PathNode | null): Layer[] {
  const out: Layer[] = [];
  for (let n = p; n; n = n.prev) out.push(n.layer);
  return out.reverse();
}

export function extend(p: PathNode | null, layer: Layer): PathNode {
  return { layer, prev: p };
}

export interface ConstSym {
  kind: 'const';
  t: Tensor;
}

export interface QConstSym {
  kind: 'qconst';
  /** integer codes; scale and zp have the same dims */
  codes: Tensor;
  scale: Tensor;
  zp: Tensor;
  /** the quantizer's integer range */
  lo: number;
  hi: number;
  from: string;
}

export interface HostSym {
  kind: 'host';
  layout: Layout;
  /** float value of raw input r in canonical channel c */
  value(r: number, c: number): number;
  /** what the host computes, for the report */
  steps: string[];
}

export interface ActSym {
  kind: 'act';
  layout: Layout;
  path: PathNode | null;
  signed: boolean;
  bits: number;
  lo: number;
  hi: number;
  scale: Float64Array;
  kappa: number;
  offset: Float64Array;
  /** the requant that produced it, while a following Relu/Clip may still tighten its clamp */
  requant?: { layer: import('../../layers/requant.js').RequantLayer; exact: boolean };
}

export interface AccRange {
  lo: Float64Array;
  hi: Float64Array;
  /** gcd of each channel's weights: reachable accumulators are multiples of it */
  gcd: Int32Array;
}

export interface AccSym {
  kind: 'acc';
  layout: Layout;
  path: PathNode;
  alpha: Float64Array;
  beta: Float64Array;
  clampLo: Float64Array;
  clampHi: Float64Array;
  /** layers whose per-output-channel weights may be scaled (negated, multiplied) */
  sources: (Conv2dLayer | DenseLayer)[];
  range: AccRange;
  /** passed through a flatten: per-channel weight scaling no longer maps 1:1 */
  rearranged: boolean;
  /** passed through a max pool: weights may still be scaled by m > 0, not negated */
  signFixed: boolean;
  /** channels whose weights were negated since the probe (their accumulators changed sign) */
  negated: Uint8Array;
  /** float weights still to be quantized (post-training quantization), per source layer */
  pending?: PendingWeights;
  /** the ONNX value where acc was produced and its affine then, to read calibration histograms */
  probe: { tensor: string; alpha: Float64Array; beta: Float64Array; layout: Layout };
  consumed: boolean;
}

/** Float weights of a layer, in the layer's [row][...] order, quantized once the output grid is known. */
export interface PendingWeights {
  layer: Conv2dLayer | DenseLayer;
  rows: number;
  values: Float64Array;
  /** input code range, for the accumulator bound */
  inLo: number;
  inHi: number;
}

export interface HeadSym {
  kind: 'head';
  base: ActSym | AccSym;
  /** the ONNX value the heads read (the network's output) */
  baseValue: string;
  heads: HostHead[];
  layout: Layout;
}

export type Sym = ConstSym | QConstSym | HostSym | ActSym | AccSym | HeadSym;

/** One line of the import report per node. */
export interface ImportStep {
  node: string;
  op: string;
  /** what became of it */
  action: string;
  /** true exact, false converted (measured), undefined not applicable */
  exact?: boolean;
}

export interface RequantChannelReport {
  channel: number;
  exact: boolean;
  multiplier: number;
  shift: number;
  bias: number;
  /** model's code step in accumulator units (1 / ratio) */
  modelStep: number;
  /** realized step 2^shift / multiplier */
  step: number;
  /** realized / model step - 1 */
  stepError: number;
  /** accumulator values (or calibration samples) mapped to another code, and of how many */
  wrong: number;
  total: number;
}

export interface RequantReport {
  layer: string;
  node: string;
  signed: boolean;
  bits: number;
  codeOffset: number;
  exact: boolean;
  exactChannels: number;
  channels: RequantChannelReport[];
  notes: string[];
}

/** A fresh accumulator value produced by `sources` (nothing folded yet, no clamp, not consumed). */
export function newAcc(
  fields: Pick<AccSym, 'layout' | 'path' | 'alpha' | 'beta' | 'sources' | 'range'> & { probe: string },
): AccSym {
  const c = fields.alpha.length;
  return {
    kind: 'acc',
    ...fields,
    clampLo: new Float64Array(c).fill(-Infinity),
    clampHi: new Float64Array(c).fill(Infinity),
    rearranged: false,
    signFixed: false,
    negated: new Uint8Array(c),
    probe: { tensor: fields.probe, alpha: fields.alpha.slice(), beta: fields.beta.slice(), layout: fields.layout },
    consumed: false,
  };
}
