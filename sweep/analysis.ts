/**
 * What a finished sweep says: which points are feasible under the spec's
 * constraints, the Pareto front over its objectives, the best N, and the
 * failures grouped by reason.
 */
import { METRICS, type MetricName } from './metrics.js';
import { paretoFront, rankTop, violatedConstraint } from './pareto.js';
import type { Constraint } from './spec.js';
import type { PointRecord } from './store.js';

export interface SweepAnalysis {
  objectives: MetricName[];
  ok: PointRecord[];
  failed: PointRecord[];
  /** ok points that break a constraint, with the first one they break */
  infeasible: { record: PointRecord; reason: string }[];
  feasible: PointRecord[];
  /** keys of the feasible points on the Pareto front */
  front: Set<string>;
  /** failure reasons, most frequent first */
  failures: { reason: string; stage: string; count: number; example: PointRecord }[];
}

export function analyze(
  records: readonly PointRecord[],
  constraints: readonly Constraint[],
  objectives: readonly MetricName[],
): SweepAnalysis {
  const ok = records.filter((r) => r.status === 'ok');
  const failed = records.filter((r) => r.status === 'failed');
  const infeasible: SweepAnalysis['infeasible'] = [];
  const feasible: PointRecord[] = [];
  for (const r of ok) {
    const why = violatedConstraint(r.metrics, constraints);
    if (why) infeasible.push({ record: r, reason: why });
    else feasible.push(r);
  }
  const front = new Set(paretoFront(feasible, objectives, (r) => r.metrics).map((i) => feasible[i]!.key));
  const groups = new Map<string, SweepAnalysis['failures'][number]>();
  for (const r of failed) {
    // one group per message with numbers masked, so "needs 70 entries" and "needs 96 entries" group together
    const reason = r.reason ?? 'unknown';
    const g = `${r.stage}|${reason.replace(/\d+/g, '#')}`;
    const e = groups.get(g);
    if (e) e.count++;
    else groups.set(g, { reason, stage: r.stage ?? '?', count: 1, example: r });
  }
  return {
    objectives: [...objectives],
    ok,
    failed,
    infeasible,
    feasible,
    front,
    failures: [...groups.values()].sort((a, b) => b.count - a.count),
  };
}

/** The best `n` feasible points: by Pareto rank over the objectives, or by one metric. */
export function topPoints(a: SweepAnalysis, n: number, sortBy?: MetricName): { record: PointRecord; rank: number }[] {
  if (sortBy) {
    const sign = METRICS[sortBy].better === 'max' ? -1 : 1;
    return a.feasible
      .filter((r) => r.metrics[sortBy] !== undefined)
      .sort((x, y) => sign * (x.metrics[sortBy]! - y.metrics[sortBy]!))
      .slice(0, n)
      .map((record, i) => ({ record, rank: i + 1 }));
  }
  return rankTop(a.feasible, a.objectives, (r) => r.metrics, n).map(([i, rank]) => ({ record: a.feasible[i]!, rank }));
}
