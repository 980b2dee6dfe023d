/** Pareto front and ranking: properties over random metric sets, and the constraint checks. */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { paretoFront, rankTop, violatedConstraint, type MetricName } from '../../sweep/index.js';

type M = Partial<Record<MetricName, number>>;
const objectives: MetricName[] = ['latency', 'throughput', 'area'];
const better = (a: M, b: M) =>
  a.latency! <= b.latency! &&
  a.throughput! >= b.throughput! &&
  a.area! <= b.area! &&
  (a.latency! < b.latency! || a.throughput! > b.throughput! || a.area! < b.area!);

const points = fc.array(
  fc.record({
    latency: fc.integer({ min: 1, max: 20 }),
    throughput: fc.integer({ min: 1, max: 20 }),
    area: fc.integer({ min: 1, max: 20 }),
  }),
  { maxLength: 60 },
);

describe('Pareto', () => {
  test('the front holds exactly the non-dominated points (one of each set of equal ones)', () => {
    fc.assert(
      fc.property(points, (ps) => {
        const front = paretoFront(ps, objectives, (p) => p);
        const inFront = new Set(front);
        for (let i = 0; i < ps.length; i++) {
          const dominated = ps.some((q) => better(q, ps[i]!));
          if (inFront.has(i)) expect(dominated).toBe(false);
          else expect(dominated || front.some((f) => JSON.stringify(ps[f]) === JSON.stringify(ps[i]))).toBe(true);
        }
      }),
    );
  });

  test('rankTop peels fronts: rank 1 is the front, ranks never decrease, no point twice', () => {
    fc.assert(
      fc.property(points, fc.integer({ min: 1, max: 80 }), (ps, n) => {
        const top = rankTop(ps, objectives, (p) => p, n);
        expect(top.length).toBe(Math.min(n, ps.length));
        expect(new Set(top.map(([i]) => i)).size).toBe(top.length);
        const front = new Set(paretoFront(ps, objectives, (p) => p));
        for (let k = 1; k < top.length; k++) expect(top[k]![1]).toBeGreaterThanOrEqual(top[k - 1]![1]);
        for (const [i, r] of top) if (r === 1) expect(front.has(i)).toBe(true);
      }),
    );
  });

  test('points missing an objective are never on the front', () => {
    expect(paretoFront([{ latency: 1 }, { latency: 2, throughput: 1, area: 1 }], objectives, (p: M) => p)).toEqual([1]);
  });

  test('constraints: the first one broken, as text; fits checks every resource', () => {
    const c = [
      { kind: 'compare' as const, metric: 'area' as const, op: '<=' as const, value: 2, text: 'area <= 2' },
      { kind: 'fits' as const, device: 'ice40-up5k', text: 'fits ice40-up5k' },
    ];
    expect(violatedConstraint({ area: 3 }, c)).toBe('area <= 2');
    expect(violatedConstraint({ area: 1 }, c)).toBe('fits ice40-up5k (no luts figure)');
    expect(violatedConstraint({ area: 1, luts: 5000, ffs: 3000, brams: 31, dsps: 0 }, c)).toBe(
      'fits ice40-up5k (brams 31 > 30)',
    );
    expect(violatedConstraint({ area: 1, luts: 5000, ffs: 3000, brams: 30, dsps: 0 }, c)).toBeUndefined();
  });
});
