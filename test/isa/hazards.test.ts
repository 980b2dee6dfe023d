/** The race detector's core (isa/hazards.ts) against a brute-force happens-before oracle. */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { findRace as findRaceIn, type TokenGraph } from '../../isa/hazards.js';
import type { Access } from '../../isa/ops/define.js';
import { TOKEN_CHANNELS, UNITS, type TokenChannel, type Unit } from '../../isa/word.js';

interface TokenUse {
  unit: Unit | undefined;
  pops: TokenChannel[];
  pushes: TokenChannel[];
}

/** The detector on a token graph given as per-instruction units and channel names. */
function findRace(uses: TokenUse[], accesses: Access[][]) {
  const code = (ch: TokenChannel | undefined) => (ch ? TOKEN_CHANNELS.indexOf(ch) : -1);
  const g: TokenGraph = {
    count: uses.length,
    unit: uses.map((u) => (u.unit ? UNITS.indexOf(u.unit) : 3)),
    pop0: uses.map((u) => code(u.pops[0])),
    pop1: uses.map((u) => code(u.pops[1])),
    push0: uses.map((u) => code(u.pushes[0])),
    push1: uses.map((u) => code(u.pushes[1])),
  };
  return findRaceIn(g, accesses);
}

const CHANNELS: Record<Unit, { pop: TokenChannel[]; push: TokenChannel[] }> = {
  load: { pop: ['compute->load'], push: ['load->compute'] },
  compute: { pop: ['load->compute', 'store->compute'], push: ['compute->load', 'compute->store'] },
  store: { pop: ['compute->store'], push: ['store->compute'] },
};

/** Brute force: happens-before as the transitive closure of unit order and k-th push -> k-th pop. */
function oracle(uses: TokenUse[], accesses: Access[][]): { first: number; second: number } | undefined {
  const n = uses.length;
  const succ: number[][] = uses.map(() => []);
  const last: Partial<Record<Unit, number>> = {};
  const pushes = new Map<TokenChannel, number[]>();
  uses.forEach((u, i) => {
    if (!u.unit) return;
    const p = last[u.unit];
    if (p !== undefined) succ[p]!.push(i);
    last[u.unit] = i;
    for (const ch of u.pushes) pushes.set(ch, [...(pushes.get(ch) ?? []), i]);
  });
  const pops = new Map<TokenChannel, number>();
  const popless = new Array<boolean>(n).fill(false);
  uses.forEach((u, i) => {
    for (const ch of u.pops) {
      const k = pops.get(ch) ?? 0;
      pops.set(ch, k + 1);
      const from = pushes.get(ch)?.[k];
      if (from === undefined) popless[i] = true;
      else succ[from]!.push(i);
    }
  });
  // least fixpoint: an instruction starts once everything before it (unit order, its pushes) has
  const preds = uses.map((_, i) => succ.flatMap((s, j) => (s.includes(i) ? [j] : [])));
  const started = new Array<boolean>(n).fill(false);
  for (let changed = true; changed;) {
    changed = false;
    for (let i = 0; i < n; i++) {
      if (started[i] || popless[i] || !preds[i]!.every((j) => started[j])) continue;
      started[i] = true;
      changed = true;
    }
  }
  const reach = (a: number, b: number): boolean => {
    const seen = new Set([a]);
    const stack = [a];
    while (stack.length) {
      const x = stack.pop()!;
      if (x === b) return true;
      for (const y of succ[x]!) {
        if (seen.has(y)) continue;
        seen.add(y);
        stack.push(y);
      }
    }
    return false;
  };
  const touch = (x: Access) => {
    const s = new Set<number>();
    for (let r = 0; r < x.rows; r++) for (let c = 0; c < x.count; c++) s.add(x.first + r * x.stride + c);
    return s;
  };
  let best: { first: number; second: number } | undefined;
  for (let second = 0; second < n; second++) {
    for (let first = 0; first < second; first++) {
      const a = uses[first]!;
      const b = uses[second]!;
      if (!a.unit || !b.unit || a.unit === b.unit || !started[first] || !started[second]) continue;
      if (reach(first, second) || reach(second, first)) continue;
      const hit = accesses[first]!.some((x) =>
        accesses[second]!.some((y) => {
          if (x.space !== y.space || !(x.write || y.write)) return false;
          const t = touch(y);
          return [...touch(x)].some((v) => t.has(v));
        }),
      );
      if (hit && !best) best = { first, second };
    }
    if (best) return best;
  }
  return best;
}

const instArb = fc.record({
  unit: fc.constantFrom(...UNITS),
  pop: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
  push: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
  access: fc.option(
    fc.record({
      space: fc.constantFrom('inp' as const, 'out' as const, 'dram' as const),
      write: fc.boolean(),
      what: fc.constant('access'),
      first: fc.integer({ min: 0, max: 20 }),
      count: fc.integer({ min: 1, max: 6 }),
      rows: fc.integer({ min: 1, max: 3 }),
      stride: fc.integer({ min: 0, max: 9 }),
    }),
  ),
});

type InstPlan = typeof instArb extends fc.Arbitrary<infer T> ? T : never;

function build(insts: InstPlan[]): { uses: TokenUse[]; accesses: Access[][] } {
  const uses = insts.map((x): TokenUse => {
    const ch = CHANNELS[x.unit];
    return {
      unit: x.unit,
      pops: ch.pop.filter((_, k) => x.pop[k]),
      pushes: ch.push.filter((_, k) => x.push[k]),
    };
  });
  const accesses = insts.map((x) => (x.access ? [x.access] : []));
  return { uses, accesses };
}

describe('findRace', () => {
  test('agrees with a brute-force happens-before closure on random token graphs', () => {
    fc.assert(
      fc.property(fc.array(instArb, { minLength: 1, maxLength: 14 }), (insts) => {
        const { uses, accesses } = build(insts);
        const race = findRace(uses, accesses);
        const want = oracle(uses, accesses);
        expect(race ? { first: race.first, second: race.second } : undefined).toEqual(want);
      }),
      { seed: 15, numRuns: 2000 },
    );
  });

  test('a LOAD into a band a GEMM still reads, with no token between them, is a write-after-read race', () => {
    const uses: TokenUse[] = [
      { unit: 'load', pops: [], pushes: ['load->compute'] },
      { unit: 'compute', pops: ['load->compute'], pushes: [] },
      { unit: 'load', pops: [], pushes: [] },
    ];
    const inp = (first: number, count: number, write: boolean): Access => ({
      space: 'inp',
      write,
      what: write ? 'INP write' : 'INP read',
      first,
      count,
      rows: 1,
      stride: 0,
    });
    const race = findRace(uses, [[inp(0, 64, true)], [inp(0, 100, false)], [inp(64, 64, true)]]);
    expect(race).toMatchObject({ first: 1, second: 2, kind: 'write-after-read', overlap: { first: 64, last: 99 } });
    // the GEMM telling the load unit it is done orders them
    uses[1] = { unit: 'compute', pops: ['load->compute'], pushes: ['compute->load'] };
    uses[2] = { unit: 'load', pops: ['compute->load'], pushes: [] };
    expect(findRace(uses, [[inp(0, 64, true)], [inp(0, 100, false)], [inp(64, 64, true)]])).toBeUndefined();
  });

  test('strided DRAM rows that interleave do not meet; rows that cross do', () => {
    const uses: TokenUse[] = [
      { unit: 'load', pops: [], pushes: [] },
      { unit: 'store', pops: [], pushes: [] },
    ];
    const rows = (first: number, write: boolean): Access => ({
      space: 'dram',
      write,
      what: write ? 'DRAM write' : 'DRAM read',
      first,
      count: 8,
      rows: 4,
      stride: 16,
    });
    expect(findRace(uses, [[rows(0, false)], [rows(8, true)]])).toBeUndefined();
    expect(findRace(uses, [[rows(0, false)], [rows(12, true)]])).toMatchObject({
      kind: 'write-after-read',
      overlap: { first: 16, last: 19 },
    });
  });
});
