/**
 * Issue 15: the differential fuzz of the engines, seeded and small (the
 * 10,000-program run is `npm run bench -- engine-fuzz`). Random programs
 * and mutations of them: every one is refused by all three engines alike or
 * accepted by all three with identical timing, counters and DRAM.
 */
import { expect, test } from 'vitest';
import { fuzzEngines } from '../../sim/engine-fuzz.js';

test('random and mutated programs: zero disagreements between the timing, fast and cycle engines', () => {
  const r = fuzzEngines({ count: 100, seed: 15 });
  expect(r.disagreements).toEqual([]);
  expect(r.programs).toBe(400);
  // the mutations reach the refusals that matter: races, deadlocks, bad fields and ranges
  expect(r.accepted).toBeGreaterThan(100);
  expect(r.refused.race).toBeGreaterThan(20);
  expect(r.refused.deadlock).toBeGreaterThan(10);
  expect(r.refused.illegal + r.refused.range).toBeGreaterThan(5);
});
