/** How `nibble verify --random N --rtl` shares machines among programs (cosim/verify.ts; no Verilator needed). */
import { describe, expect, test } from 'vitest';
import { defaultMachineCount, machineGroups } from '../../cosim/index.js';

describe('machine groups of a random co-simulation', () => {
  test('contiguous groups, sizes differing by at most one, each machine the seed of its first program', () => {
    expect(machineGroups(10, 100, 3)).toEqual([
      { machineSeed: 100, seeds: [100, 101, 102, 103] },
      { machineSeed: 104, seeds: [104, 105, 106] },
      { machineSeed: 107, seeds: [107, 108, 109] },
    ]);
  });

  test('as many machines as programs: every program on its own machine, randomConfig(its seed), as before grouping', () => {
    const g = machineGroups(5, 7, 5);
    expect(g.map((x) => x.seeds)).toEqual([[7], [8], [9], [10], [11]]);
    expect(g.map((x) => x.machineSeed)).toEqual([7, 8, 9, 10, 11]);
  });

  test('every seed once, in order, for any split', () => {
    for (const [count, machines] of [
      [1, 1],
      [20, 5],
      [10_000, 100],
      [17, 16],
    ] as const) {
      const g = machineGroups(count, 3, machines);
      expect(g).toHaveLength(machines);
      expect(g.flatMap((x) => x.seeds)).toEqual(Array.from({ length: count }, (_, i) => 3 + i));
      const sizes = g.map((x) => x.seeds.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  test('the default grows with the square root of the count', () => {
    expect([1, 4, 20, 200, 10_000].map(defaultMachineCount)).toEqual([1, 2, 5, 15, 100]);
  });

  test('a machine count outside 1..count is refused, naming the range', () => {
    expect(() => machineGroups(4, 1, 5)).toThrow('machines must be an integer in 1..4 (the program count), got 5');
    expect(() => machineGroups(4, 1, 0)).toThrow(/got 0/);
    expect(() => machineGroups(4, 1, 1.5)).toThrow(/got 1\.5/);
  });
});
