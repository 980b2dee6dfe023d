/** Compiled programs run the same on the fast and the cycle-stepped engines (same cycles, same outputs), as the compiler estimated. */
import { expect, test } from 'vitest';
import { DEFAULT_CONFIG } from '../../arch/config.js';
import { compileNetwork, estimateSchedule } from '../../compiler/index.js';
import { simulate } from '../../sim/index.js';
import { randomInputs } from './harness.js';
import { randomConfig, randomNetwork } from './random-network.js';

test('fast and cycle engines agree on compiled random networks', () => {
  for (let seed = 1; seed <= 6; seed++) {
    const net = randomNetwork(seed, 10);
    const cfg = seed % 2 ? DEFAULT_CONFIG : randomConfig(seed);
    const program = compileNetwork(net, cfg, { batch: 2 });
    const x = randomInputs(net, 2, seed);
    const fast = simulate(program, { engine: 'fast', inputs: { input: x } });
    const cycle = simulate(program, { engine: 'cycle', inputs: { input: x } });
    expect(cycle.cycles).toBe(fast.cycles);
    expect(cycle.outputs['output']).toEqual(fast.outputs['output']);
    // The compiler's estimate is the simulator's timing model: exact, per instruction.
    const est = estimateSchedule(program);
    expect(program.meta['estimatedCycles']).toBe(fast.cycles);
    expect(est.cycles).toBe(fast.cycles);
    expect(Array.from(est.dispatch)).toEqual(Array.from(cycle.dispatch));
    expect(Array.from(est.start)).toEqual(Array.from(cycle.start));
    expect(Array.from(est.end)).toEqual(Array.from(cycle.end));
  }
});
