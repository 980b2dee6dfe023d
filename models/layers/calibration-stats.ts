/**
 * What the layer kinds' calibration pieces share (models/calibration.ts drives
 * them; see its comment for the two methods): the contexts each kind's
 * `calibrateSamples` / `calibrateAnalytic` receive, and the per-channel value
 * distributions the analytic method propagates.
 */

import { ModelError } from '../../arch/index.js';
import type { LayerInfo } from '../ir.js';

/** Sample calibration: every kind maps the batch of sample values it receives to its output. */
export interface SampleContext {
  /** images in the batch */
  count: number;
  accBits: number;
  /** the layer's reference kernel on the batch (no calibration) */
  run(info: LayerInfo, x: Int32Array): Int32Array;
  /** calibrates a nested chain (a residual's main path) and returns its output */
  chain(infos: LayerInfo[], x: Int32Array): Int32Array;
  /** calibrates one nested layer (a residual's shortcut) and returns its output */
  layer(info: LayerInfo, x: Int32Array): Int32Array;
}

/** Analytic calibration: every kind maps the distribution it receives to its output's. */
export interface AnalyticContext {
  chain(infos: LayerInfo[], x: Stats): Stats;
  layer(info: LayerInfo, x: Stats): Stats;
}

/** Per-channel (or, after flatten, per-feature) distribution of narrow values. */
export interface ActStats {
  kind: 'act';
  lo: number;
  /** probs[ch][v - lo] */
  probs: Float64Array[];
  mean: Float64Array;
  variance: Float64Array;
}

/** Per-channel Gaussian model of accumulators. */
export interface AccStats {
  kind: 'acc';
  mean: Float64Array;
  variance: Float64Array;
}

export type Stats = ActStats | AccStats;

export function actStats(lo: number, probs: Float64Array[]): ActStats {
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

/** Analysis guarantees the value kind; a mismatch here is a bug in a kind's calibration. */
export function expectActStats(x: Stats, where: string): ActStats {
  if (x.kind !== 'act') throw new ModelError('internal: analytic calibration expected activations', where);
  return x;
}

export function expectAccStats(x: Stats, where: string): AccStats {
  if (x.kind !== 'acc') throw new ModelError('internal: analytic calibration expected accumulators', where);
  return x;
}

/** Standard normal CDF (Abramowitz-Stegun 7.1.26 erf, |error| < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}
