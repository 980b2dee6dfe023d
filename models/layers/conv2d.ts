/**
 * `conv2d`: 2-D convolution of activations into accumulators, with zero
 * padding and strides (docs/model-format.md section 4.1).
 */

import { requantScaled } from '../../isa/index.js';
import { accumulatorRange, formatShape, type LayerInfoOf } from '../ir.js';
import { expectActStats, type AccStats, type ActStats } from './calibration-stats.js';
import { accValue, checkWeights, requireActivation, weightedSumBound } from './checks.js';
import { axpy, overflow, padChannels, type PreparedLayer, type RequantEpilogue } from './kernels.js';
import { layerFields, plainJson, runOnSamples, type LayerModule } from './layer-module.js';
import type { NaiveTensor } from './naive.js';
import type { QonnxWriter } from './qonnx-form.js';

export interface Conv2dLayer {
  kind: 'conv2d';
  name: string;
  inChannels: number;
  outChannels: number;
  kernelH: number;
  kernelW: number;
  strideH: number;
  strideW: number;
  /** zero rows above (padH) and columns left (padW) of the input; also below and right unless padBottom / padRight say otherwise */
  padH: number;
  padW: number;
  /** zero rows below the input when they differ from padH (asymmetric padding, e.g. TensorFlow SAME at stride 2) */
  padBottom?: number;
  /** zero columns right of the input when they differ from padW */
  padRight?: number;
  /** length outChannels*inChannels*kernelH*kernelW, order [co][ci][kh][kw] */
  weights: Int8Array;
}

declare module '../ir.js' {
  interface LayerTypes {
    conv2d: Conv2dLayer;
  }
}

/** A conv2d with a square kernel and the same stride and padding in both directions (the common case, built in one place). */
export function squareConv2d(
  name: string,
  inChannels: number,
  outChannels: number,
  kernel: number,
  stride: number,
  pad: number,
  weights: Int8Array,
): Conv2dLayer {
  return {
    kind: 'conv2d',
    name,
    inChannels,
    outChannels,
    kernelH: kernel,
    kernelW: kernel,
    strideH: stride,
    strideW: stride,
    padH: pad,
    padW: pad,
    weights,
  };
}

/** The four paddings of a conv2d: padBottom / padRight default to padH / padW (symmetric). */
export function convPadding(l: Conv2dLayer): { top: number; bottom: number; left: number; right: number } {
  return { top: l.padH, bottom: l.padBottom ?? l.padH, left: l.padW, right: l.padRight ?? l.padW };
}

/** The padding in reports: `1` (all four equal), `1,0` (per axis), `t0 b1 l0 r1` (asymmetric). */
export function formatPadding(l: Conv2dLayer): string {
  const p = convPadding(l);
  if (p.top === p.bottom && p.left === p.right) return p.top === p.left ? `${p.top}` : `${p.top},${p.left}`;
  return `t${p.top} b${p.bottom} l${p.left} r${p.right}`;
}

const FIELDS = layerFields<Conv2dLayer>()(
  'kind',
  'name',
  'inChannels',
  'outChannels',
  'kernelH',
  'kernelW',
  'strideH',
  'strideW',
  'padH',
  'padW',
  'padBottom',
  'padRight',
  'weights',
);

/** Written only when the padding is asymmetric, so symmetric models stay readable by every version-1 reader. */
const OPTIONAL_FIELDS = ['padBottom', 'padRight'] as const;

/**
 * Scatter-form conv: for every non-zero input x[ci][ih][iw] and every kernel
 * tap that maps it to a valid output, acc[oh][ow][:] += w[ci][kh][kw][:] * x.
 * The (output position, tap) pairs each input position feeds are precomputed
 * once (this also handles stride and padding), so the hot loop has no bounds
 * tests. The accumulator is position-major (HWC) so the innermost loop over
 * output channels is contiguous.
 */
function prepareConv(info: LayerInfoOf<Conv2dLayer>, accBits: number, epilogue?: RequantEpilogue): PreparedLayer {
  const layer = info.layer;
  const { c: CI, h: H, w: W } = info.input.shape;
  const { c: CO, h: OH, w: OW } = info.output.shape;
  const { kernelH: KH, kernelW: KW, strideH: SH, strideW: SW, padH: PH, padW: PW } = layer;
  const where = info.where;
  const { lo: accLo, hi: accHi } = accumulatorRange(accBits);
  const COP = padChannels(CO);
  const taps = KH * KW;

  // weights transposed to [ci][kh][kw][co], co padded to COP with zeros
  const wt = new Float64Array(CI * taps * COP);
  for (let co = 0; co < CO; co++)
    for (let ci = 0; ci < CI; ci++)
      for (let t = 0; t < taps; t++) wt[(ci * taps + t) * COP + co] = layer.weights[(co * CI + ci) * taps + t]!;

  // For each input position p: entries start[p] .. start[p+1] give the
  // accumulator offset it feeds and the weight offset (within a ci block).
  const HW = H * W;
  const start = new Int32Array(HW + 1);
  const accOffsets: number[] = [];
  const tapOffsets: number[] = [];
  for (let ih = 0; ih < H; ih++) {
    for (let iw = 0; iw < W; iw++) {
      start[ih * W + iw] = accOffsets.length;
      for (let kh = 0; kh < KH; kh++) {
        const nh = ih + PH - kh;
        if (nh < 0 || nh % SH !== 0 || nh / SH >= OH) continue;
        for (let kw = 0; kw < KW; kw++) {
          const nw = iw + PW - kw;
          if (nw < 0 || nw % SW !== 0 || nw / SW >= OW) continue;
          accOffsets.push(((nh / SH) * OW + nw / SW) * COP);
          tapOffsets.push((kh * KW + kw) * COP);
        }
      }
    }
  }
  start[HW] = accOffsets.length;
  const AO = Int32Array.from(accOffsets);
  const TO = Int32Array.from(tapOffsets);
  const OHW = OH * OW;
  const acc = new Float64Array(OHW * COP);

  const inSize = CI * HW;
  const outSize = CO * OHW;
  return {
    info,
    inSize,
    outSize,
    run(input, output, count, firstImage) {
      for (let k = 0; k < count; k++) {
        acc.fill(0);
        for (let ci = 0; ci < CI; ci++) {
          const plane = k * inSize + ci * HW;
          const wci = ci * taps * COP;
          for (let p = 0; p < HW; p++) {
            const x = input[plane + p]!;
            if (x === 0) continue;
            const t1 = start[p + 1]!;
            for (let t = start[p]!; t < t1; t++) axpy(acc, AO[t]!, wt, wci + TO[t]!, COP, x);
          }
        }
        const outOff = k * outSize;
        if (epilogue === undefined) {
          for (let p = 0; p < OHW; p++) {
            const ab = p * COP;
            for (let co = 0; co < CO; co++) {
              const v = acc[ab + co]!;
              if (v < accLo || v > accHi) overflow(where, firstImage + k, info.output.shape, co * OHW + p, v, accBits);
              output[outOff + co * OHW + p] = v;
            }
          }
        } else {
          const { bias, scale, lo, hi } = epilogue;
          for (let co = 0; co < CO; co++) {
            const b = bias[co]!;
            const s = scale[co]!;
            const ob = outOff + co * OHW;
            for (let p = 0, a = co; p < OHW; p++, a += COP) {
              const v = acc[a]!;
              if (v < accLo || v > accHi) overflow(where, firstImage + k, info.output.shape, co * OHW + p, v, accBits);
              output[ob + p] = requantScaled(v, b, s, lo, hi);
            }
          }
        }
      }
    },
  };
}

/** Output positions grouped by which kernel taps land inside the input (border classes). */
function tapClasses(size: number, K: number, S: number, P: number, O: number): { taps: number[]; fraction: number }[] {
  const classes = new Map<string, { taps: number[]; count: number }>();
  for (let o = 0; o < O; o++) {
    const taps: number[] = [];
    for (let t = 0; t < K; t++) {
      const i = o * S + t - P;
      if (i >= 0 && i < size) taps.push(t);
    }
    const key = taps.join(',');
    const cls = classes.get(key) ?? { taps, count: 0 };
    cls.count++;
    classes.set(key, cls);
  }
  return [...classes.values()].map((c) => ({ taps: c.taps, fraction: c.count / O }));
}

/** Gaussian model of the accumulators: exact mean, variance sum(w^2 var(x)), per border class. */
function convStats(info: LayerInfoOf<Conv2dLayer>, x: ActStats): AccStats {
  const l = info.layer;
  const { inChannels: CI, outChannels: CO, kernelH: KH, kernelW: KW } = l;
  const T = KH * KW;
  // s1[co][t] = sum_ci w * mean, s2[co][t] = sum_ci w^2 * var
  const s1 = new Float64Array(CO * T);
  const s2 = new Float64Array(CO * T);
  for (let co = 0; co < CO; co++) {
    for (let ci = 0; ci < CI; ci++) {
      const m = x.mean[ci]!;
      const v = x.variance[ci]!;
      const base = (co * CI + ci) * T;
      for (let t = 0; t < T; t++) {
        const w = l.weights[base + t]!;
        s1[co * T + t]! += w * m;
        s2[co * T + t]! += w * w * v;
      }
    }
  }
  const { h: H, w: W } = info.input.shape;
  const { h: OH, w: OW } = info.output.shape;
  const rows = tapClasses(H, KH, l.strideH, l.padH, OH);
  const cols = tapClasses(W, KW, l.strideW, l.padW, OW); // bottom/right padding only adds output positions
  const mean = new Float64Array(CO);
  const variance = new Float64Array(CO);
  for (let co = 0; co < CO; co++) {
    let e1 = 0;
    let e2 = 0;
    for (const r of rows) {
      for (const c of cols) {
        let m = 0;
        let v = 0;
        for (const kh of r.taps) {
          for (const kw of c.taps) {
            m += s1[co * T + kh * KW + kw]!;
            v += s2[co * T + kh * KW + kw]!;
          }
        }
        const f = r.fraction * c.fraction;
        e1 += f * m;
        e2 += f * (v + m * m);
      }
    }
    mean[co] = e1;
    variance[co] = Math.max(0, e2 - e1 * e1);
  }
  return { kind: 'acc', mean, variance };
}

/** Conv(x, Quant(W codes, scale 1, signed narrow, weight bits)), also a residual's shortcut. */
function convToQonnx(q: QonnxWriter, x: string, l: Conv2dLayer): string {
  const w = q.weights(l.name, [l.outChannels, l.inChannels, l.kernelH, l.kernelW], l.weights);
  const pad = convPadding(l);
  return q.node('Conv', l.name, [x, w], {
    kernel_shape: { ints: [l.kernelH, l.kernelW] },
    strides: { ints: [l.strideH, l.strideW] },
    pads: { ints: [pad.top, pad.left, pad.bottom, pad.right] },
    group: { i: 1 },
  });
}

function naiveConv(l: Conv2dLayer, x: NaiveTensor): NaiveTensor {
  // padBottom / padRight: extra zero rows below and columns right (default: padH / padW)
  const oh = Math.floor((x.h + l.padH + (l.padBottom ?? l.padH) - l.kernelH) / l.strideH) + 1;
  const ow = Math.floor((x.w + l.padW + (l.padRight ?? l.padW) - l.kernelW) / l.strideW) + 1;
  const data: number[] = [];
  for (let co = 0; co < l.outChannels; co++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let sum = 0;
        for (let ci = 0; ci < l.inChannels; ci++) {
          for (let ky = 0; ky < l.kernelH; ky++) {
            for (let kx = 0; kx < l.kernelW; kx++) {
              const iy = oy * l.strideH - l.padH + ky;
              const ix = ox * l.strideW - l.padW + kx;
              if (iy < 0 || iy >= x.h || ix < 0 || ix >= x.w) continue;
              const wv = l.weights[((co * l.inChannels + ci) * l.kernelH + ky) * l.kernelW + kx]!;
              sum += wv * x.data[(ci * x.h + iy) * x.w + ix]!;
            }
          }
        }
        data.push(sum);
      }
    }
  }
  return { c: l.outChannels, h: oh, w: ow, data };
}

export const conv2dLayer: LayerModule<Conv2dLayer> = {
  kind: 'conv2d',
  fields: FIELDS,

  analyze(ck, _layer, input, ctx) {
    const act = requireActivation(ck, 'conv2d', input);
    const ci = ck.int('inChannels', 1);
    const co = ck.int('outChannels', 1);
    const kh = ck.int('kernelH', 1);
    const kw = ck.int('kernelW', 1);
    const sh = ck.int('strideH', 1);
    const sw = ck.int('strideW', 1);
    const ph = ck.int('padH', 0, kh - 1);
    const pw = ck.int('padW', 0, kw - 1);
    const pb = ck.value('padBottom') === undefined ? ph : ck.int('padBottom', 0, kh - 1);
    const pr = ck.value('padRight') === undefined ? pw : ck.int('padRight', 0, kw - 1);
    if (ci !== act.shape.c) {
      ck.fail('inChannels', `is ${ci} but the input has ${act.shape.c} channels (shape ${formatShape(act.shape)})`);
    }
    const oh = Math.floor((act.shape.h + ph + pb - kh) / sh) + 1;
    const ow = Math.floor((act.shape.w + pw + pr - kw) / sw) + 1;
    if (oh < 1 || ow < 1) {
      const pads = pb === ph && pr === pw ? `${ph},${pw}` : `top ${ph} bottom ${pb} left ${pw} right ${pr}`;
      ck.fail(
        'kernelH',
        `kernel ${kh}x${kw} with padding ${pads} does not fit the ${act.shape.h}x${act.shape.w} input (output ${oh}x${ow})`,
      );
    }
    const w = checkWeights(ck, co * ci * kh * kw, `${co}x${ci}x${kh}x${kw}`, ctx.net.weightBits);
    const bound = weightedSumBound(w, co, ci * kh * kw, act);
    const shape = { c: co, h: oh, w: ow };
    return { output: accValue(shape, bound.lo, bound.hi), macs: co * oh * ow * ci * kh * kw };
  },

  prepare: (info, ctx) => prepareConv(info, ctx.accBits),
  prepareWithRequant: (info, ctx, epilogue) => prepareConv(info, ctx.accBits, epilogue),

  calibrateSamples: runOnSamples,
  calibrateAnalytic: (info, x) => convStats(info, expectActStats(x, info.where)),

  optionalFields: OPTIONAL_FIELDS,
  toJson(layer) {
    const json = plainJson(layer, FIELDS);
    const p = convPadding(layer);
    if (p.bottom === p.top) delete json['padBottom'];
    if (p.right === p.left) delete json['padRight'];
    return json;
  },
  fromJson(f, { name, weightBits }) {
    const inChannels = f.int('inChannels', 1);
    const outChannels = f.int('outChannels', 1);
    const kernelH = f.int('kernelH', 1);
    const kernelW = f.int('kernelW', 1);
    const strideH = f.int('strideH', 1);
    const strideW = f.int('strideW', 1);
    const padH = f.int('padH', 0);
    const padW = f.int('padW', 0);
    const asymmetric = {
      ...(f.obj['padBottom'] !== undefined ? { padBottom: f.int('padBottom', 0) } : {}),
      ...(f.obj['padRight'] !== undefined ? { padRight: f.int('padRight', 0) } : {}),
    };
    const weights = f.weights(
      outChannels * inChannels * kernelH * kernelW,
      `outChannels x inChannels x kernelH x kernelW = ${outChannels}x${inChannels}x${kernelH}x${kernelW}`,
      weightBits,
    );
    return {
      kind: 'conv2d',
      name,
      inChannels,
      outChannels,
      kernelH,
      kernelW,
      strideH,
      strideW,
      padH,
      padW,
      ...asymmetric,
      weights,
    };
  },

  toQonnx: (info, x, q) => ({ value: convToQonnx(q, x.value, info.layer), flat: false }),
  naive(l, x, ctx) {
    const out = naiveConv(l, x);
    ctx.checkAccumulator(out);
    return out;
  },
};
