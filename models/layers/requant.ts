/**
 * `requant`: the paper's shift batch-norm, per channel
 * y = clamp(floor((acc - bias) / 2^shift), lo, hi), the only layer that turns
 * accumulators into activations (docs/model-format.md section 4.4). Its bias
 * and shift are what calibration sets.
 */

import { ModelError } from '../../arch/index.js';
import { requantScaled } from '../../isa/index.js';
import { MAX_ACTIVATION_BITS, MAX_SHIFT, requantRange, type ActivationValue, type LayerInfoOf } from '../ir.js';
import { actStats, expectAccStats, normalCdf, type AccStats, type ActStats } from './calibration-stats.js';
import { describeValue } from './checks.js';
import { describeJson } from './json-fields.js';
import { requantEpilogue, type PreparedLayer } from './kernels.js';
import { layerFields, plainJson, type LayerModule } from './layer-module.js';
import { naiveFloorDiv } from './naive.js';

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

declare module '../ir.js' {
  interface LayerTypes {
    requant: RequantLayer;
  }
}

const FIELDS = layerFields<RequantLayer>()('kind', 'name', 'signed', 'bits', 'bias', 'shift');

/** y = clamp(floor((acc - bias) * 2^-shift), lo, hi); the power-of-two scale is exact. */
function prepareRequant(info: LayerInfoOf<RequantLayer>): PreparedLayer {
  const { c: C, h: H, w: W } = info.input.shape;
  const HW = H * W;
  const { bias, scale, lo, hi } = requantEpilogue(info.layer);
  return {
    info,
    inSize: C * HW,
    outSize: C * HW,
    run(input, output, count) {
      for (let k = 0; k < count; k++) {
        for (let c = 0; c < C; c++) {
          const b = bias[c]!;
          const s = scale[c]!;
          let i = (k * C + c) * HW;
          const end = i + HW;
          for (; i < end; i++) output[i] = requantScaled(input[i]!, b, s, lo, hi);
        }
      }
    },
  };
}

/**
 * The paper's calibration rule for one channel: bias = round(mean),
 * shift = round(log2(std)) + (signed ? 3 : 2) - bits (std floored at 1,
 * shift clamped to [-31, 31]); see models/calibration.ts.
 */
export function requantParamsFromStats(
  mean: number,
  std: number,
  layer: Pick<RequantLayer, 'signed' | 'bits'>,
): { bias: number; shift: number } {
  const bias = Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.round(mean)));
  const s = Math.max(std, 1);
  const shift = Math.round(Math.log2(s)) + (layer.signed ? 3 : 2) - layer.bits;
  return { bias, shift: Math.max(-MAX_SHIFT, Math.min(MAX_SHIFT, shift)) };
}

function setRequant(layer: RequantLayer, mean: ArrayLike<number>, variance: ArrayLike<number>): void {
  for (let c = 0; c < layer.bias.length; c++) {
    const { bias, shift } = requantParamsFromStats(mean[c]!, Math.sqrt(Math.max(0, variance[c]!)), layer);
    layer.bias[c] = bias;
    layer.shift[c] = shift;
  }
}

function channelMoments(
  x: Int32Array,
  count: number,
  c: number,
  hw: number,
): { mean: Float64Array; variance: Float64Array } {
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  const n = count * hw;
  for (let ch = 0; ch < c; ch++) {
    let sum = 0;
    for (let k = 0; k < count; k++) {
      const base = (k * c + ch) * hw;
      for (let p = 0; p < hw; p++) sum += x[base + p]!;
    }
    const m = sum / n;
    let ss = 0;
    for (let k = 0; k < count; k++) {
      const base = (k * c + ch) * hw;
      for (let p = 0; p < hw; p++) {
        const d = x[base + p]! - m;
        ss += d * d;
      }
    }
    mean[ch] = m;
    variance[ch] = ss / n;
  }
  return { mean, variance };
}

/** Sets the requant's parameters from the Gaussian model and returns its output distribution. */
function requantStats(info: LayerInfoOf<RequantLayer>, x: AccStats): ActStats {
  const layer = info.layer;
  setRequant(layer, x.mean, x.variance);
  const { lo, hi } = requantRange(layer);
  const probs = Array.from(x.mean, (m, ch) => {
    const sd = Math.sqrt(x.variance[ch]!);
    const b = layer.bias[ch]!;
    const step = 2 ** layer.shift[ch]!;
    const out = new Float64Array(hi - lo + 1);
    let prev = 0;
    for (let k = lo; k <= hi; k++) {
      // y <= k  <=>  integer acc <= ceil(b + (k+1)*step) - 1; continuity-corrected
      let cdf = 1;
      if (k < hi) {
        const t = Math.ceil(b + (k + 1) * step) - 0.5;
        cdf = sd > 0 ? normalCdf((t - m) / sd) : t > m ? 1 : 0;
      }
      out[k - lo] = Math.max(0, cdf - prev);
      prev = Math.max(prev, cdf);
    }
    return out;
  });
  return actStats(lo, probs);
}

export const requantLayer: LayerModule<RequantLayer> = {
  kind: 'requant',
  fields: FIELDS,

  analyze(ck, layer, input) {
    if (input.kind !== 'acc') {
      throw new ModelError('requant needs accumulators as input, but receives activations', ck.where);
    }
    if (typeof ck.value('signed') !== 'boolean')
      ck.fail('signed', `expected a boolean, got ${describeValue(ck.value('signed'))}`);
    const bits = ck.int('bits', layer.signed ? 2 : 1, MAX_ACTIVATION_BITS);
    const c = input.shape.c;
    if (!(ck.value('bias') instanceof Int32Array))
      ck.fail('bias', `expected an Int32Array, got ${describeValue(ck.value('bias'))}`);
    if (layer.bias.length !== c) ck.fail('bias', `expected ${c} values (one per channel), got ${layer.bias.length}`);
    if (!(ck.value('shift') instanceof Int8Array))
      ck.fail('shift', `expected an Int8Array, got ${describeValue(ck.value('shift'))}`);
    if (layer.shift.length !== c) ck.fail('shift', `expected ${c} values (one per channel), got ${layer.shift.length}`);
    for (let i = 0; i < c; i++) {
      const s = layer.shift[i]!;
      if (s < -MAX_SHIFT || s > MAX_SHIFT)
        ck.fail(`shift[${i}]`, `value ${s} is outside [${-MAX_SHIFT}, ${MAX_SHIFT}]`);
    }
    const { lo, hi } = requantRange({ signed: layer.signed, bits });
    const output: ActivationValue = { kind: 'act', shape: input.shape, signed: layer.signed, bits, lo, hi };
    return { output, macs: 0 };
  },

  prepare: (info) => prepareRequant(info),

  calibrateSamples(info, x, ctx) {
    const { c, h, w } = info.input.shape;
    const { mean, variance } = channelMoments(x, ctx.count, c, h * w);
    setRequant(info.layer, mean, variance);
    return ctx.run(info, x);
  },
  calibrateAnalytic: (info, x) => requantStats(info, expectAccStats(x, info.where)),

  toJson: (layer) => plainJson(layer, FIELDS),
  fromJson(f, { name }) {
    const signed = f.bool('signed');
    const bits = f.int('bits', signed ? 2 : 1, MAX_ACTIVATION_BITS);
    const b = f.obj['bias'];
    if (!Array.isArray(b)) f.fail('bias', `expected an array of integers, got ${describeJson(b)}`);
    const channels = (b as unknown[]).length;
    const bias = f.ints('bias', channels, 'one per channel', -(2 ** 31), 2 ** 31 - 1, ' (32-bit)');
    const shift = f.ints('shift', channels, `one per channel, as many as bias`, -MAX_SHIFT, MAX_SHIFT, '');
    return { kind: 'requant', name, signed, bits, bias: Int32Array.from(bias), shift: Int8Array.from(shift) };
  },

  toQonnx(info, x, q) {
    // Add(-bias) -> Mul(2^-shift) -> Quant(scale 1, FLOOR, its signedness and width)
    const l = info.layer;
    const dims = x.flat ? [1, l.bias.length] : [1, l.bias.length, 1, 1];
    if (x.flat && info.input.shape.h * info.input.shape.w !== 1) {
      throw new ModelError(
        'a requant after a flatten of accumulators has no QONNX export (per-feature parameters)',
        info.where,
      );
    }
    const negBias = q.constant(
      `${l.name}_neg_bias`,
      dims,
      Array.from(l.bias, (v) => -v),
    );
    const biased = q.node('Add', `${l.name}_bias`, [x.value, negBias]);
    const scale = q.constant(
      `${l.name}_scale`,
      dims,
      Array.from(l.shift, (s) => 2 ** -s),
    );
    const scaled = q.node('Mul', `${l.name}_shift`, [biased, scale]);
    return { value: q.quant(scaled, l.name, l.bits, l.signed, l.signed, 'FLOOR'), flat: x.flat };
  },
  naive(l, x) {
    const lo = l.signed ? -(2n ** BigInt(l.bits - 1) - 1n) : 0n;
    const hi = l.signed ? 2n ** BigInt(l.bits - 1) - 1n : 2n ** BigInt(l.bits) - 1n;
    const data = x.data.map((v, i) => {
      const c = Math.floor(i / (x.h * x.w));
      const d = BigInt(v) - BigInt(l.bias[c]!);
      const s = l.shift[c]!;
      let y = s >= 0 ? naiveFloorDiv(d, 2n ** BigInt(s)) : d * 2n ** BigInt(-s);
      if (y < lo) y = lo;
      if (y > hi) y = hi;
      return Number(y);
    });
    return { c: x.c, h: x.h, w: x.w, data };
  },
};
