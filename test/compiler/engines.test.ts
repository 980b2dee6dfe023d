/** Compiled programs run the same on the fast and the cycle-stepped engines (same cycles, same outputs). */
import { expect, test } from 'vitest';
import { DEFAULT_CONFIG } from '../../arch/config.js';
import { compileNetwork } from '../../compiler/index.js';
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
    // The compiler's own schedule estimate tracks the real machine closely.
    expect(Math.abs(Number(program.meta['estimatedCycles']) - fast.cycles)).toBeLessThan(0.05 * fast.cycles + 50);
  }
});
