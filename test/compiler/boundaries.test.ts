/**
 * Issue 15, "what the compiler accepts, the machine runs", property part:
 * networks at the scratchpad-capacity boundaries, every layer kind inside
 * residual paths, and the models package's random networks (every IR
 * feature, narrow accumulators, extreme inputs) either compile and run on the
 * simulator exactly like the reference, or are refused by the compiler with
 * a reason naming the layer (or the network). Never a simulator refusal, an
 * encoding error, or an overflow one side reports and the other does not.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { DEFAULT_CONFIG, type ArchConfig } from '../../arch/config.js';
import { CompileError } from '../../arch/errors.js';
import { compileNetwork } from '../../compiler/index.js';
import { runReference } from '../../models/reference.js';
import { simulate } from '../../sim/index.js';
import { randomCaseArb } from '../models/random-networks.js';
import { capacityCase, residualCase, type EdgeCase } from './edge-networks.js';
import { compileAndCompare, randomInputs } from './harness.js';

/** A refusal must name the layer (or the network) and give the reason. */
const NAMED_REFUSAL = /^(layer \d+ |network ')/;

function refusal(e: unknown, label: string): string {
  if (e instanceof CompileError && NAMED_REFUSAL.test(e.message)) return e.message;
  throw new Error(
    `${label}: expected a compile, simulate, reference agreement or a layer-named CompileError, got ${String(e)}`,
  );
}

/** Compile and compare on the fast engine; small programs on the cycle engine too. */
function check(c: EdgeCase): 'ok' | 'refused' {
  let program;
  try {
    program = compileNetwork(c.net, c.cfg, { batch: c.batch });
  } catch (e) {
    const msg = refusal(e, c.label);
    if (c.mustFit) expect.fail(`${c.label}: the need fits the buffer, but the compiler refused: ${msg}`);
    return 'refused';
  }
  const { sim } = compileAndCompare(c.net, c.cfg, c.batch, undefined, 1);
  if (sim.cycles < 20_000) {
    const x = randomInputs(c.net, c.batch, 1);
    const cycle = simulate(program, { engine: 'cycle', inputs: { input: x } });
    expect(cycle.cycles, c.label).toBe(sim.cycles);
    expect(cycle.outputs['output'], c.label).toEqual(sim.outputs['output']);
  }
  return 'ok';
}

describe('compile -> simulate -> reference agree, or the compiler refuses naming the layer', () => {
  test('scratchpad-capacity boundaries (INP, ACC, OUT, WGT, PARAM, image stacks; +-3 entries, whole and half buffers)', () => {
    const seen = { ok: 0, refused: 0 };
    for (let seed = 1; seed <= 160; seed++) seen[check(capacityCase(seed))]++;
    // most needs lie at or under a capacity: the boundary itself must be reachable
    expect(seen.ok).toBeGreaterThan(0.8 * (seen.ok + seen.refused));
  });

  test('every layer kind inside residual main paths (conv, requant, pools, flatten, dense, nested residuals)', () => {
    for (let seed = 1; seed <= 120; seed++) check(residualCase(seed));
  });

  test('random IR networks (every feature, 2..8-bit weights, narrow accumulators) with random and extreme inputs', () => {
    const wide: ArchConfig = {
      ...structuredClone(DEFAULT_CONFIG),
      bits: { weight: 8, activation: 8, accumulator: 24 },
    };
    let compiled = 0;
    fc.assert(
      fc.property(randomCaseArb, fc.boolean(), fc.boolean(), ({ net, inputs, batch }, extreme, narrow) => {
        const cfg = narrow ? wide : { ...wide, bits: { ...wide.bits, accumulator: 32 } };
        const x = extreme ? inputs.map(() => 2 ** net.input.bits - 1) : inputs;
        let program;
        try {
          program = compileNetwork(net, cfg, { batch });
        } catch (e) {
          refusal(e, net.name);
          return;
        }
        compiled++;
        const ref = runReference(net, x, batch).output;
        const sim = simulate(program, { engine: 'fast', inputs: { input: x } }).outputs['output']!;
        expect(Array.from(sim)).toEqual(Array.from(ref));
      }),
      { seed: 15, numRuns: 200 },
    );
    expect(compiled).toBeGreaterThan(100);
  });
});
