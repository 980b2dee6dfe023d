/**
 * Issue #5 acceptance, property part: random networks on random machines
 * compile, pass the token checker, and run bit-identical to the reference on
 * the fast simulator.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { DEFAULT_CONFIG } from '../../arch/config.js';
import { CompileError } from '../../arch/errors.js';
import { compileAndCompare } from './harness.js';
import { randomConfig, randomNetwork } from './random-network.js';

describe('compiled random networks match the reference', () => {
  test('random networks x random configs x batch 1..4 (fast-check, seeded)', () => {
    let compiled = 0;
    let rejected = 0;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 30 }), fc.integer({ min: 1, max: 4 }), (seed, batch) => {
        const net = randomNetwork(seed, 26);
        const cfg = randomConfig(seed);
        try {
          compileAndCompare(net, cfg, batch, undefined, seed);
          compiled++;
        } catch (e) {
          // Small random buffers may not fit a layer: that must be a CompileError naming a config field.
          if (e instanceof CompileError && /raise (scratchpad|dram)\./.test(e.message)) {
            rejected++;
            return;
          }
          throw e;
        }
      }),
      { seed: 20261130, numRuns: 150 },
    );
    expect(compiled).toBeGreaterThan(0.85 * (compiled + rejected));
  });

  test('random networks on the default config', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 30 }), fc.integer({ min: 1, max: 4 }), (seed, batch) => {
        compileAndCompare(randomNetwork(seed, 20), DEFAULT_CONFIG, batch, undefined, seed);
      }),
      { seed: 7, numRuns: 40 },
    );
  });
});
