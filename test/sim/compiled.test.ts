/** Compiler output (the real workload) runs identically on the three engines. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../arch/config.js';
import { compileNetwork } from '../../compiler/index.js';
import { zooNetwork } from '../../models/zoo.js';
import { simulate } from '../../sim/index.js';

describe('compiled networks: fast == cycle == timing', () => {
  it('MNIST zoo network, batch 2, default config', () => {
    const p = compileNetwork(zooNetwork('mnist'), DEFAULT_CONFIG, { batch: 2 });
    const t = simulate(p, { engine: 'timing' });
    const f = simulate(p, { engine: 'fast' });
    const c = simulate(p, { engine: 'cycle' });
    for (const r of [f, c]) {
      expect(r.cycles).toBe(t.cycles);
      expect(Array.from(r.start)).toEqual(Array.from(t.start));
      expect(Array.from(r.end)).toEqual(Array.from(t.end));
      expect(r.counters).toEqual(t.counters);
    }
    expect(Buffer.compare(Buffer.from(f.dram!), Buffer.from(c.dram!))).toBe(0);
    expect(Array.from(c.outputs['output']!)).toEqual(Array.from(f.outputs['output']!));
    expect(t.counters.array.utilization).toBeGreaterThan(0);
  });
});
