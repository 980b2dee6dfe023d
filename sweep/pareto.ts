/**
 * Constraints and Pareto ranking over finished points. Every objective is
 * turned into "smaller is better" (max-metrics are negated); a point
 * dominates another when it is no worse on every objective and better on one.
 */
import { FPGA_DEVICES } from './fpga-devices.js';
import { METRICS, type MetricName } from './metrics.js';
import type { Constraint } from './spec.js';

type Metrics = Partial<Record<MetricName, number>>;

/** The first constraint the metrics violate (or cannot be judged on), as text; undefined if all hold. */
export function violatedConstraint(m: Metrics, constraints: readonly Constraint[]): string | undefined {
  for (const c of constraints) {
    if (c.kind === 'fits') {
      const d = FPGA_DEVICES[c.device]!;
      for (const r of ['luts', 'ffs', 'brams', 'dsps'] as const) {
        const v = m[r];
        if (v === undefined) return `${c.text} (no ${r} figure)`;
        if (v > d[r]) return `${c.text} (${r} ${v} > ${d[r]})`;
      }
      continue;
    }
    const v = m[c.metric];
    if (v === undefined) return `${c.text} (no ${c.metric} figure)`;
    const ok =
      c.op === '<='
        ? v <= c.value
        : c.op === '<'
          ? v < c.value
          : c.op === '>='
            ? v >= c.value
            : c.op === '>'
              ? v > c.value
              : v === c.value;
    if (!ok) return c.text;
  }
  return undefined;
}

function costs(m: Metrics, objectives: readonly MetricName[]): number[] {
  return objectives.map((o) => {
    const v = m[o] ?? NaN;
    return METRICS[o].better === 'max' ? -v : v;
  });
}

function dominates(a: number[], b: number[]): boolean {
  let better = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]! > b[i]!) return false;
    if (a[i]! < b[i]!) better = true;
  }
  return better;
}

/**
 * Indices of the non-dominated items. Sorted by the first objective, each item
 * is only compared with the front found so far, so this is O(n x front).
 */
export function paretoFront<T>(
  items: readonly T[],
  objectives: readonly MetricName[],
  metricsOf: (t: T) => Metrics,
): number[] {
  const c = items.map((t) => costs(metricsOf(t), objectives));
  const order = c
    .map((_, i) => i)
    .filter((i) => c[i]!.every(Number.isFinite))
    .sort((i, j) => {
      for (let k = 0; k < objectives.length; k++) if (c[i]![k] !== c[j]![k]) return c[i]![k]! - c[j]![k]!;
      return i - j;
    });
  const front: number[] = [];
  for (const i of order) {
    if (front.some((f) => dominates(c[f]!, c[i]!) || c[f]!.every((v, k) => v === c[i]![k]))) continue;
    front.push(i);
  }
  return front.sort((a, b) => a - b);
}

/**
 * The best `n` items: whole Pareto fronts peeled off one after another (rank
 * 1 = the front), each front ordered by the first objective. Returns
 * [index, rank] pairs.
 */
export function rankTop<T>(
  items: readonly T[],
  objectives: readonly MetricName[],
  metricsOf: (t: T) => Metrics,
  n: number,
): [number, number][] {
  let left = items.map((_, i) => i);
  const out: [number, number][] = [];
  const first = objectives[0]!;
  const sign = METRICS[first].better === 'max' ? -1 : 1;
  for (let rank = 1; out.length < n && left.length > 0; rank++) {
    const f = paretoFront(
      left.map((i) => items[i]!),
      objectives,
      metricsOf,
    ).map((k) => left[k]!);
    if (f.length === 0) break;
    f.sort((a, b) => sign * ((metricsOf(items[a]!)[first] ?? 0) - (metricsOf(items[b]!)[first] ?? 0)));
    for (const i of f) if (out.length < n) out.push([i, rank]);
    const taken = new Set(f);
    left = left.filter((i) => !taken.has(i));
  }
  return out;
}
