/** The engines' data path against a naive re-implementation, on random valid programs. */
import { describe, expect, it } from 'vitest';
import { randomConfig, randomProgram, simulate } from '../../sim/index.js';
import { naiveRun } from './naive.js';

describe('fast engine == naive ISA semantics', () => {
  it('on 200 random programs with given inputs', () => {
    for (let seed = 1000; seed < 1200; seed++) {
      const cfg = randomConfig(seed);
      const p = randomProgram(seed, cfg);
      const inputs: Record<string, Int32Array> = {};
      for (const d of p.inputs) {
        const len = d.shape.reduce((x, y) => x * y, 1);
        const hi = 2 ** d.bits;
        inputs[d.name] = Int32Array.from({ length: len }, (_, i) => ((i * 2654435761 + seed) % hi) >>> 0);
      }
      const r = simulate(p, { engine: 'fast', inputs });
      const ref = naiveRun(p, inputs, r.dram!.length);
      for (const d of p.outputs) {
        expect(Array.from(r.outputs[d.name]!), `seed ${seed} output ${d.name}`).toEqual(
          Array.from(ref.outputs[d.name]!),
        );
      }
      expect(Buffer.compare(Buffer.from(r.dram!), Buffer.from(ref.dram)), `seed ${seed} DRAM`).toBe(0);
    }
  });
});
