/**
 * Requant calibration, as the paper's evaluation does it: for each requant,
 * look at the accumulators it receives and choose per channel
 *
 *   bias  = round(mean(acc))
 *   shift = round(log2(std(acc))) + (signed ? 3 : 2) - bits
 *
 * so one standard deviation spans 4 output steps (unsigned) or 2 (signed):
 * activations then use the whole 4-bit range instead of saturating or
 * collapsing to zero. std is floored at 1 (accumulators are integers; a
 * smaller spread, including std = 0, would only amplify rounding noise), and
 * shift is clamped to [-31, 31].
 *
 * Two ways to get the accumulator statistics:
 *  - 'samples': run the reference over sample images (seeded random pixels by
 *    default), layer by layer, fixing each requant before running past it.
 *    Exact statistics, cost = one forward pass per sample.
 *  - 'analytic': propagate per-channel value distributions instead of data.
 *    A conv/dense accumulator is modelled as a Gaussian with the exact mean
 *    and the variance sum(w^2 var(x)) (inputs treated as independent;
 *    zero padding accounted for per border class); requant and maxpool
 *    outputs are computed as discrete distributions from that. Cost = one
 *    pass over the weights, so VGG-16 at 224x224 calibrates in well under a
 *    second where a single sample would take many seconds.
 * 'auto' uses samples while the forward passes stay cheap and analytic beyond.
 */

import { ArithmeticError, ModelError } from '../arch/index.js';
import {
  MAX_SHIFT,
  accumulatorRange,
  analyzeNetwork,
  requantRange,
  tensorSize,
  type ActivationValue,
  type Conv2dLayer,
  type DenseLayer,
  type LayerInfo,
  type MaxPoolLayer,
  type Network,
  type RequantLayer,
  type ResidualLayer,
} from './ir.js';
import { runLayer } from './reference.js';
import { SeededRandom } from './seeded-random.js';

export type CalibrationMethod = 'samples' | 'analytic';

export interface CalibrationOptions {
  /** default 'auto' */
  method?: CalibrationMethod | 'auto';
  /** number of random sample images for 'samples' (default: 4..16 within a compute budget) */
  samples?: number;
  /** seed of the random sample images (default 1) */
  seed?: number;
  /** calibrate on these images (NCHW) instead of random ones */
  inputs?: { data: Uint8Array | Int32Array; count: number };
}

export interface CalibrationReport {
  method: CalibrationMethod;
  /** sample images used (0 for analytic without explicit inputs) */
  samples: number;
}

/** Multiply-accumulates (samples x MACs) that 'auto' allows before switching to analytic. */
const SAMPLE_BUDGET_MACS = 1e9;
const MIN_AUTO_SAMPLES = 4;
const MAX_AUTO_SAMPLES = 16;

/** Seeded random images, uniform over the network's input range. */
export function randomInputs(net: Network, count: number, seed: number): Uint8Array {
  const size = net.input.channels * net.input.height * net.input.width;
  const hi = 2 ** net.input.bits - 1;
  const rng = new SeededRandom(seed);
  const out = new Uint8Array(count * size);
  for (let i = 0; i < out.length; i++) out[i] = rng.int(0, hi);
  return out;
}

/** The paper's rule (see the module comment), for one channel. */
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

// ---------------------------------------------------------------------------
// Sample-based calibration
// ---------------------------------------------------------------------------

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

function calibrateChainOnSamples(infos: LayerInfo[], x: Int32Array, count: number, accBits: number): Int32Array {
  for (const info of infos) {
    const layer = info.layer;
    if (layer.kind === 'requant') {
      const { c, h, w } = info.input.shape;
      const { mean, variance } = channelMoments(x, count, c, h * w);
      setRequant(layer, mean, variance);
      x = runLayer(info, x, count, accBits);
    } else if (layer.kind === 'residual') {
      const children = info.children!;
      const m = layer.main.length;
      const mainOut = calibrateChainOnSamples(children.slice(0, m), x, count, accBits);
      const sc = runLayer(children[m]!, x, count, accBits);
      const { lo, hi } = accumulatorRange(accBits);
      const sum = new Int32Array(mainOut.length);
      for (let i = 0; i < sum.length; i++) {
        const v = mainOut[i]! + sc[i]!;
        if (v < lo || v > hi) {
          throw new ArithmeticError(`accumulator overflow during calibration: value ${v}`, info.where);
        }
        sum[i] = v;
      }
      x = sum;
    } else {
      x = runLayer(info, x, count, accBits);
    }
  }
  return x;
}

// ---------------------------------------------------------------------------
// Analytic calibration
// ---------------------------------------------------------------------------

/** Per-channel (or, after flatten, per-feature) distribution of narrow values. */
interface ActStats {
  kind: 'act';
  lo: number;
  /** probs[ch][v - lo] */
  probs: Float64Array[];
  mean: Float64Array;
  variance: Float64Array;
}

/** Per-channel Gaussian model of accumulators. */
interface AccStats {
  kind: 'acc';
  mean: Float64Array;
  variance: Float64Array;
}

type Stats = ActStats | AccStats;

function actStats(lo: number, probs: Float64Array[]): ActStats {
  const mean = new Float64Array(probs.length);
  const variance = new Float64Array(probs.length);
  probs.forEach((p, ch) => {
    let m = 0;
    let m2 = 0;
    for (let i = 0; i < p.length; i++) {
      const v = lo + i;
      m += p[i]! * v;
      m2 += p[i]! * v * v;
    }
    mean[ch] = m;
    variance[ch] = Math.max(0, m2 - m * m);
  });
  return { kind: 'act', lo, probs, mean, variance };
}

/** Standard normal CDF (Abramowitz-Stegun 7.1.26 erf, |error| < 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

function inputStats(input: ActivationValue, inputs?: { data: Uint8Array | Int32Array; count: number }): ActStats {
  const levels = input.hi - input.lo + 1;
  const c = input.shape.c;
  if (!inputs)
    return actStats(
      input.lo,
      Array.from({ length: c }, () => new Float64Array(levels).fill(1 / levels)),
    );
  const hw = input.shape.h * input.shape.w;
  const probs = Array.from({ length: c }, () => new Float64Array(levels));
  for (let k = 0; k < inputs.count; k++) {
    for (let ch = 0; ch < c; ch++) {
      const base = (k * c + ch) * hw;
      const p = probs[ch]!;
      for (let i = 0; i < hw; i++) p[inputs.data[base + i]! - input.lo]! += 1;
    }
  }
  for (const p of probs) for (let i = 0; i < levels; i++) p[i]! /= inputs.count * hw;
  return actStats(input.lo, probs);
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

function convStats(info: LayerInfo, x: ActStats): AccStats {
  const l = info.layer as Conv2dLayer;
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
  const cols = tapClasses(W, KW, l.strideW, l.padW, OW);
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

function denseStats(info: LayerInfo, x: ActStats): AccStats {
  const l = info.layer as DenseLayer;
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

function poolStats(info: LayerInfo, x: Stats): Stats {
  const n = (info.layer as MaxPoolLayer).kernel ** 2;
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

function flattenStats(info: LayerInfo, x: Stats): Stats {
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

/** Sets the requant's parameters from the Gaussian model and returns its output distribution. */
function requantStats(info: LayerInfo, x: AccStats): ActStats {
  const layer = info.layer as RequantLayer;
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

function analyticChain(infos: LayerInfo[], x: Stats): Stats {
  for (const info of infos) x = analyticLayer(info, x);
  return x;
}

function analyticLayer(info: LayerInfo, x: Stats): Stats {
  const expectAct = (s: Stats): ActStats => {
    if (s.kind !== 'act') throw new ModelError('internal: analytic calibration expected activations', info.where);
    return s;
  };
  switch (info.layer.kind) {
    case 'conv2d':
      return convStats(info, expectAct(x));
    case 'dense':
      return denseStats(info, expectAct(x));
    case 'maxpool':
      return poolStats(info, x);
    case 'flatten':
      return flattenStats(info, x);
    case 'requant':
      if (x.kind !== 'acc') throw new ModelError('internal: analytic calibration expected accumulators', info.where);
      return requantStats(info, x);
    case 'residual': {
      const children = info.children!;
      const m = (info.layer as ResidualLayer).main.length;
      const main = analyticChain(children.slice(0, m), x) as AccStats;
      const sc = convStats(children[m]!, expectAct(x));
      return {
        kind: 'acc',
        mean: main.mean.map((v, i) => v + sc.mean[i]!),
        variance: main.variance.map((v, i) => v + sc.variance[i]!),
      };
    }
  }
}

// ---------------------------------------------------------------------------

/**
 * Set every requant's bias and shift (in place) from accumulator statistics.
 * The network must already be valid (requant arrays of the right length;
 * their current values are ignored).
 */
export function calibrateNetwork(net: Network, opts: CalibrationOptions = {}): CalibrationReport {
  const analysis = analyzeNetwork(net);
  const size = tensorSize(analysis.input.shape);
  let method = opts.method ?? 'auto';
  let samples = opts.inputs?.count ?? opts.samples;
  if (method === 'auto') {
    const affordable = Math.floor(SAMPLE_BUDGET_MACS / Math.max(1, analysis.macs));
    if (opts.inputs || opts.samples !== undefined) method = 'samples';
    else if (affordable >= MIN_AUTO_SAMPLES) {
      method = 'samples';
      samples = Math.min(MAX_AUTO_SAMPLES, affordable);
    } else method = 'analytic';
  }
  if (opts.inputs && opts.inputs.data.length !== opts.inputs.count * size) {
    throw new ModelError(
      `calibration inputs hold ${opts.inputs.data.length} values, expected ${opts.inputs.count} x ${size}`,
      'calibration',
    );
  }
  if (method === 'analytic') {
    analyticChain(analysis.layers, inputStats(analysis.input, opts.inputs));
    return { method, samples: opts.inputs?.count ?? 0 };
  }
  const count = samples ?? MAX_AUTO_SAMPLES;
  if (!Number.isInteger(count) || count < 1) {
    throw new ModelError(`calibration needs at least one sample, got ${count}`, 'calibration');
  }
  const data = opts.inputs?.data ?? randomInputs(net, count, opts.seed ?? 1);
  calibrateChainOnSamples(analysis.layers, Int32Array.from(data), count, net.accumulatorBits);
  return { method: 'samples', samples: count };
}
