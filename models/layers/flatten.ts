/**
 * `flatten`: CxHxW -> (C*H*W)x1x1 in C,H,W order; keeps the value kind and
 * moves no data (docs/model-format.md section 4.5).
 */

import { tensorSize, type LayerInfoOf } from '../ir.js';
import type { Stats } from './calibration-stats.js';
import type { PreparedLayer } from './kernels.js';
import { layerFields, plainJson, runOnSamples, type LayerModule } from './layer-module.js';

export interface FlattenLayer {
  kind: 'flatten';
  name: string;
  /** [C,H,W] -> [C*H*W,1,1], element order C,H,W */
}

declare module '../ir.js' {
  interface LayerTypes {
    flatten: FlattenLayer;
  }
}

const FIELDS = layerFields<FlattenLayer>()('kind', 'name');

function prepareFlatten(info: LayerInfoOf<FlattenLayer>): PreparedLayer {
  const n = tensorSize(info.input.shape);
  return {
    info,
    inSize: n,
    outSize: n,
    run(input, output, count) {
      // C,H,W storage order already is the flatten order.
      output.set(input.subarray(0, count * n));
    },
  };
}

/** Every feature of a channel has that channel's distribution. */
function flattenStats(info: LayerInfoOf<FlattenLayer>, x: Stats): Stats {
  const { c, h, w } = info.input.shape;
  const hw = h * w;
  const n = tensorSize(info.input.shape);
  const expand = (a: Float64Array) => {
    const out = new Float64Array(n);
    for (let ch = 0; ch < c; ch++) out.fill(a[ch]!, ch * hw, (ch + 1) * hw);
    return out;
  };
  if (x.kind === 'acc') return { kind: 'acc', mean: expand(x.mean), variance: expand(x.variance) };
  const probs: Float64Array[] = [];
  for (let ch = 0; ch < c; ch++) for (let p = 0; p < hw; p++) probs.push(x.probs[ch]!);
  return { kind: 'act', lo: x.lo, probs, mean: expand(x.mean), variance: expand(x.variance) };
}

export const flattenLayer: LayerModule<FlattenLayer> = {
  kind: 'flatten',
  fields: FIELDS,

  analyze: (_ck, _layer, input) => ({
    output: { ...input, shape: { c: tensorSize(input.shape), h: 1, w: 1 } },
    macs: 0,
  }),

  prepare: (info) => prepareFlatten(info),

  calibrateSamples: runOnSamples,
  calibrateAnalytic: (info, x) => flattenStats(info, x),

  toJson: (layer) => plainJson(layer, FIELDS),
  fromJson: (_f, { name }) => ({ kind: 'flatten', name }),

  toQonnx: (info, x, q) => ({ value: q.node('Flatten', info.layer.name, [x.value], { axis: { i: 1 } }), flat: true }),
  naive: (_l, x) => ({ c: x.c * x.h * x.w, h: 1, w: 1, data: [...x.data] }),
};
