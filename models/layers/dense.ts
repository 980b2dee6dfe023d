/**
 * `dense`: fully connected layer from a Cx1x1 activation to accumulators
 * (docs/model-format.md section 4.2).
 */

import { ModelError } from '../../arch/index.js';
import { requantScaled } from '../../isa/index.js';
import { accumulatorRange, formatShape, type LayerInfoOf } from '../ir.js';
import { expectActStats, type AccStats, type ActStats } from './calibration-stats.js';
import { accValue, checkWeights, requireActivation, weightedSumBound } from './checks.js';
import { axpy, overflow, padChannels, type PreparedLayer, type RequantEpilogue } from './kernels.js';
import { layerFields, plainJson, runOnSamples, type LayerModule } from './layer-module.js';

export interface DenseLayer {
  kind: 'dense';
  name: string;
  inFeatures: number;
  outFeatures: number;
  /** length outFeatures*inFeatures, order [out][in] (input features in C,H,W order) */
  weights: Int8Array;
}

declare module '../ir.js' {
  interface LayerTypes {
    dense: DenseLayer;
  }
}

const FIELDS = layerFields<DenseLayer>()('kind', 'name', 'inFeatures', 'outFeatures', 'weights');

/** Scatter-form dense: acc[:] += w[:][i] * x[i] for non-zero x[i]. */
function prepareDense(info: LayerInfoOf<DenseLayer>, accBits: number, epilogue?: RequantEpilogue): PreparedLayer {
  const layer = info.layer;
  const IN = layer.inFeatures;
  const OUT = layer.outFeatures;
  const OUTP = padChannels(OUT);
  const where = info.where;
  const { lo: accLo, hi: accHi } = accumulatorRange(accBits);
  const wt = new Float64Array(IN * OUTP);
  for (let o = 0; o < OUT; o++) for (let i = 0; i < IN; i++) wt[i * OUTP + o] = layer.weights[o * IN + i]!;
  const acc = new Float64Array(OUTP);
  return {
    info,
    inSize: IN,
    outSize: OUT,
    run(input, output, count, firstImage) {
      for (let k = 0; k < count; k++) {
        acc.fill(0);
        const inOff = k * IN;
        for (let i = 0; i < IN; i++) {
          const x = input[inOff + i]!;
          if (x !== 0) axpy(acc, 0, wt, i * OUTP, OUTP, x);
        }
        const outOff = k * OUT;
        for (let o = 0; o < OUT; o++) {
          const v = acc[o]!;
          if (v < accLo || v > accHi) overflow(where, firstImage + k, info.output.shape, o, v, accBits);
          if (epilogue === undefined) {
            output[outOff + o] = v;
          } else {
            output[outOff + o] = requantScaled(v, epilogue.bias[o]!, epilogue.scale[o]!, epilogue.lo, epilogue.hi);
          }
        }
      }
    },
  };
}

/** Gaussian model of the accumulators: exact mean, variance sum(w^2 var(x)). */
function denseStats(info: LayerInfoOf<DenseLayer>, x: ActStats): AccStats {
  const l = info.layer;
  const IN = l.inFeatures;
  const mean = new Float64Array(l.outFeatures);
  const variance = new Float64Array(l.outFeatures);
  for (let o = 0; o < l.outFeatures; o++) {
    let m = 0;
    let v = 0;
    const base = o * IN;
    for (let i = 0; i < IN; i++) {
      const w = l.weights[base + i]!;
      m += w * x.mean[i]!;
      v += w * w * x.variance[i]!;
    }
    mean[o] = m;
    variance[o] = v;
  }
  return { kind: 'acc', mean, variance };
}

export const denseLayer: LayerModule<DenseLayer> = {
  kind: 'dense',
  fields: FIELDS,

  analyze(ck, _layer, input, ctx) {
    const act = requireActivation(ck, 'dense', input);
    const inF = ck.int('inFeatures', 1);
    const outF = ck.int('outFeatures', 1);
    if (act.shape.h !== 1 || act.shape.w !== 1) {
      throw new ModelError(
        `dense needs a Cx1x1 input (insert a flatten before it), got ${formatShape(act.shape)}`,
        ck.where,
      );
    }
    if (inF !== act.shape.c) ck.fail('inFeatures', `is ${inF} but the input has ${act.shape.c} features`);
    const w = checkWeights(ck, outF * inF, `${outF}x${inF}`, ctx.net.weightBits);
    const bound = weightedSumBound(w, outF, inF, act);
    return { output: accValue({ c: outF, h: 1, w: 1 }, bound.lo, bound.hi), macs: outF * inF };
  },

  prepare: (info, ctx) => prepareDense(info, ctx.accBits),
  prepareWithRequant: (info, ctx, epilogue) => prepareDense(info, ctx.accBits, epilogue),

  calibrateSamples: runOnSamples,
  calibrateAnalytic: (info, x) => denseStats(info, expectActStats(x, info.where)),

  toJson: (layer) => plainJson(layer, FIELDS),
  fromJson(f, { name, weightBits }) {
    const inFeatures = f.int('inFeatures', 1);
    const outFeatures = f.int('outFeatures', 1);
    const weights = f.weights(
      outFeatures * inFeatures,
      `outFeatures x inFeatures = ${outFeatures}x${inFeatures}`,
      weightBits,
    );
    return { kind: 'dense', name, inFeatures, outFeatures, weights };
  },

  toQonnx(info, x, q) {
    const l = info.layer;
    const v = x.flat ? x.value : q.node('Flatten', `${l.name}_flatten_view`, [x.value], { axis: { i: 1 } });
    const w = q.weights(l.name, [l.outFeatures, l.inFeatures], l.weights);
    return { value: q.node('Gemm', l.name, [v, w], { transB: { i: 1 } }), flat: true };
  },
  naive(l, x, ctx) {
    const data: number[] = [];
    for (let o = 0; o < l.outFeatures; o++) {
      let sum = 0;
      for (let i = 0; i < l.inFeatures; i++) sum += l.weights[o * l.inFeatures + i]! * x.data[i]!;
      data.push(sum);
    }
    const out = { c: l.outFeatures, h: 1, w: 1, data };
    ctx.checkAccumulator(out);
    return out;
  },
};
