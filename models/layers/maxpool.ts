/**
 * `maxpool`: square max pooling, floor mode, no padding; keeps the value kind
 * (docs/model-format.md section 4.3).
 */

import { slidingOutputSize, type LayerInfoOf } from '../ir.js';
import { actStats, normalCdf, type Stats } from './calibration-stats.js';
import type { PreparedLayer } from './kernels.js';
import { plainJson, runOnSamples, type LayerModule } from './layer-module.js';

export interface MaxPoolLayer {
  kind: 'maxpool';
  name: string;
  kernel: number;
  stride: number;
  /** output size = floor((in - kernel) / stride) + 1 (floor mode, no padding) */
}

declare module '../ir.js' {
  interface LayerTypes {
    maxpool: MaxPoolLayer;
  }
}

const FIELDS = ['kind', 'name', 'kernel', 'stride'] as const;

function prepareMaxPool(info: LayerInfoOf<MaxPoolLayer>): PreparedLayer {
  const layer = info.layer;
  const { c: C, h: H, w: W } = info.input.shape;
  const { h: OH, w: OW } = info.output.shape;
  const K = layer.kernel;
  const S = layer.stride;
  const HW = H * W;
  return {
    info,
    inSize: C * HW,
    outSize: C * OH * OW,
    run(input, output, count) {
      // channels of consecutive images are consecutive planes
      let o = 0;
      const n = count * C;
      if (K === 2 && S === 2) {
        // the common case, without the inner kernel loops
        for (let c = 0; c < n; c++) {
          for (let oh = 0; oh < OH; oh++) {
            let r0 = c * HW + 2 * oh * W;
            const end = r0 + 2 * OW;
            for (; r0 < end; r0 += 2) {
              const r1 = r0 + W;
              const a = input[r0]!;
              const b = input[r0 + 1]!;
              const d = input[r1]!;
              const e = input[r1 + 1]!;
              const m1 = a > b ? a : b;
              const m2 = d > e ? d : e;
              output[o++] = m1 > m2 ? m1 : m2;
            }
          }
        }
        return;
      }
      for (let c = 0; c < n; c++) {
        const plane = c * HW;
        for (let oh = 0; oh < OH; oh++) {
          for (let ow = 0; ow < OW; ow++) {
            const base = plane + oh * S * W + ow * S;
            let m = input[base]!;
            for (let kh = 0; kh < K; kh++) {
              const rb = base + kh * W;
              for (let kw = 0; kw < K; kw++) {
                const v = input[rb + kw]!;
                if (v > m) m = v;
              }
            }
            output[o++] = m;
          }
        }
      }
    },
  };
}

/** Mean and variance of the max of n independent standard normals (numerical integration). */
function normalMaxMoments(n: number): { mean: number; variance: number } {
  let m = 0;
  let m2 = 0;
  const dz = 0.005;
  for (let z = -9; z <= 9; z += dz) {
    const pdf = (n * Math.exp(-0.5 * z * z) * normalCdf(z) ** (n - 1)) / Math.sqrt(2 * Math.PI);
    m += z * pdf * dz;
    m2 += z * z * pdf * dz;
  }
  return { mean: m, variance: m2 - m * m };
}

/** Distribution of the max of kernel^2 independent inputs. */
function poolStats(info: LayerInfoOf<MaxPoolLayer>, x: Stats): Stats {
  const n = info.layer.kernel ** 2;
  if (x.kind === 'acc') {
    const g = normalMaxMoments(n);
    const mean = x.mean.map((m, ch) => m + Math.sqrt(x.variance[ch]!) * g.mean);
    const variance = x.variance.map((v) => v * g.variance);
    return { kind: 'acc', mean, variance };
  }
  // P(max <= v) = P(x <= v)^n for independent inputs
  const probs = x.probs.map((p) => {
    const out = new Float64Array(p.length);
    let cdf = 0;
    let prev = 0;
    for (let i = 0; i < p.length; i++) {
      cdf += p[i]!;
      const c = Math.min(1, cdf) ** n;
      out[i] = c - prev;
      prev = c;
    }
    return out;
  });
  return actStats(x.lo, probs);
}

export const maxpoolLayer: LayerModule<MaxPoolLayer> = {
  kind: 'maxpool',
  fields: FIELDS,

  analyze(ck, _layer, input) {
    const k = ck.int('kernel', 1);
    const s = ck.int('stride', 1);
    const oh = slidingOutputSize(input.shape.h, k, s, 0);
    const ow = slidingOutputSize(input.shape.w, k, s, 0);
    if (oh < 1 || ow < 1) {
      ck.fail('kernel', `pool kernel ${k} does not fit the ${input.shape.h}x${input.shape.w} input`);
    }
    return { output: { ...input, shape: { c: input.shape.c, h: oh, w: ow } }, macs: 0 };
  },

  prepare: (info) => prepareMaxPool(info),

  calibrateSamples: runOnSamples,
  calibrateAnalytic: (info, x) => poolStats(info, x),

  toJson: (layer) => plainJson(layer, FIELDS),
  fromJson: (f, { name }) => ({ kind: 'maxpool', name, kernel: f.int('kernel', 1), stride: f.int('stride', 1) }),

  toQonnx: (info, x, q) => ({
    value: q.node('MaxPool', info.layer.name, [x.value], {
      kernel_shape: { ints: [info.layer.kernel, info.layer.kernel] },
      strides: { ints: [info.layer.stride, info.layer.stride] },
    }),
    flat: false,
  }),
  naive(l, x) {
    const oh = Math.floor((x.h - l.kernel) / l.stride) + 1;
    const ow = Math.floor((x.w - l.kernel) / l.stride) + 1;
    const data: number[] = [];
    for (let c = 0; c < x.c; c++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let m = -Infinity;
          for (let ky = 0; ky < l.kernel; ky++) {
            for (let kx = 0; kx < l.kernel; kx++) {
              m = Math.max(m, x.data[(c * x.h + oy * l.stride + ky) * x.w + ox * l.stride + kx]!);
            }
          }
          data.push(m);
        }
      }
    }
    return { c: x.c, h: oh, w: ow, data };
  },
};
