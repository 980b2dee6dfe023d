import { describe, expect, it } from 'vitest';
import { randomConfig, randomProgram, simulate, type SimResult } from '../../sim/index.js';

function compare(a: SimResult, b: SimResult, what: string): void {
  expect(b.cycles, `${what}: cycles`).toBe(a.cycles);
  expect(Array.from(b.dispatch), `${what}: D`).toEqual(Array.from(a.dispatch));
  expect(Array.from(b.start), `${what}: S`).toEqual(Array.from(a.start));
  expect(Array.from(b.end), `${what}: E`).toEqual(Array.from(a.end));
  expect(b.counters, `${what}: counters`).toEqual(a.counters);
}

describe('fast == cycle == timing on random programs', () => {
  it('agree on 500 seeded random programs', () => {
    let rectangular = 0;
    for (let seed = 1; seed <= 500; seed++) {
      const cfg = randomConfig(seed);
      if (cfg.array.rows !== cfg.array.cols) rectangular++;
      const prog = randomProgram(seed, cfg);
      const msg = `seed ${seed}`;
      try {
        const t = simulate(prog, { engine: 'timing' });
        const f = simulate(prog, { engine: 'fast' });
        const c = simulate(prog, { engine: 'cycle' });
        compare(t, f, `${msg} timing/fast`);
        compare(f, c, `${msg} fast/cycle`);
        expect(Buffer.from(c.dram!).equals(Buffer.from(f.dram!)), `${msg}: DRAM`).toBe(true);
        for (const k of Object.keys(f.scratchpads!) as (keyof NonNullable<SimResult['scratchpads']>)[]) {
          expect(
            Buffer.from(c.scratchpads![k].buffer).equals(Buffer.from(f.scratchpads![k].buffer)),
            `${msg}: ${k}`,
          ).toBe(true);
        }
      } catch (e) {
        throw new Error(`${msg}: ${(e as Error).message}`, { cause: e });
      }
    }
    // rows != cols machines are among them (a third of randomConfig's)
    expect(rectangular).toBeGreaterThan(100);
  });
});
