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

import { ModelError } from '../arch/index.js';
import { analyzeNetwork } from './analysis.js';
import { tensorSize, type ActivationValue, type LayerInfo, type Network } from './ir.js';
import { actStats, type ActStats, type AnalyticContext, type SampleContext } from './layers/calibration-stats.js';
import { knownLayerModule } from './layers/index.js';
import { runLayer } from './reference.js';
import { SeededRandom } from './seeded-random.js';

export { requantParamsFromStats } from './layers/requant.js';

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

// ---------------------------------------------------------------------------
// Sample-based calibration
// ---------------------------------------------------------------------------

function calibrateChainOnSamples(infos: LayerInfo[], x: Int32Array, count: number, accBits: number): Int32Array {
  const ctx: SampleContext = {
    count,
    accBits,
    run: (info, input) => runLayer(info, input, count, accBits),
    chain: (sub, input) => calibrateChainOnSamples(sub, input, count, accBits),
    layer: (info, input) => knownLayerModule(info.layer).calibrateSamples(info, input, ctx),
  };
  for (const info of infos) x = ctx.layer(info, x);
  return x;
}

// ---------------------------------------------------------------------------
// Analytic calibration
// ---------------------------------------------------------------------------

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

const analytic: AnalyticContext = {
  chain(infos, x) {
    for (const info of infos) x = analytic.layer(info, x);
    return x;
  },
  layer: (info, x) => knownLayerModule(info.layer).calibrateAnalytic(info, x, analytic),
};

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
    analytic.chain(analysis.layers, inputStats(analysis.input, opts.inputs));
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
