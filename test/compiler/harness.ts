/** Shared test plumbing: compile, simulate, compare with the golden reference. */
import { expect } from 'vitest';
import type { ArchConfig } from '../../arch/config.js';
import { checkTokenBalance } from '../../isa/tokens.js';
import type { Program } from '../../isa/program.js';
import { readProgramFile, writeProgramFile } from '../../isa/index.js';
import { calibrateNetwork } from '../../models/calibration.js';
import { runReference } from '../../models/reference.js';
import type { Layer, Network } from '../../models/ir.js';
import { analyzeNetwork } from '../../models/index.js';
import { simulate, type SimResult } from '../../sim/index.js';
import { compileNetwork } from '../../compiler/index.js';
import { SeededRandom } from '../../models/seeded-random.js';

/** Deterministic pseudo-random generator (the project's mulberry32, models/seeded-random.ts). */
export function rng(seed: number): () => number {
  const r = new SeededRandom(seed);
  return () => r.next();
}

export function randomInputs(net: Network, batch: number, seed: number): Int32Array {
  const r = rng(seed);
  const n = batch * net.input.channels * net.input.height * net.input.width;
  const hi = 2 ** net.input.bits - 1;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(r() * (hi + 1));
  return out;
}

export interface RunResult {
  program: Program;
  sim: SimResult;
  expected: Int32Array;
  actual: Int32Array;
}

/** Compile, check tokens, run the fast simulator and the reference; assert bit-identical outputs. */
export function compileAndCompare(
  net: Network,
  cfg: ArchConfig,
  batch: number,
  inputs?: Int32Array | Uint8Array,
  seed = 1,
): RunResult {
  const program = compileNetwork(net, cfg, { batch });
  checkTokenBalance(program.code, { queues: cfg.queues, strict: true });
  // every compiled program can be written as a program file and read back
  readProgramFile(writeProgramFile(program));
  const x = inputs ?? randomInputs(net, batch, seed);
  const sim = simulate(program, { engine: 'fast', inputs: { input: x } });
  const ref = runReference(net, x, batch);
  const actual = sim.outputs['output']!;
  const expected = ref.output;
  const out = program.outputs[0]!;
  const a = analyzeNetwork(net).output.shape;
  expect(out.shape).toEqual([batch, a.c, a.h, a.w]);
  if (actual.length !== expected.length || actual.some((v, i) => v !== expected[i])) {
    const i = actual.findIndex((v, k) => v !== expected[k]);
    expect.fail(`output mismatch at ${i}: sim ${actual[i]} reference ${expected[i]} (of ${expected.length})`);
  }
  return { program, sim, expected, actual };
}

/** A conv2d layer (square kernel, stride and padding) with the given weights. */
export function convLayer(
  name: string,
  ci: number,
  co: number,
  k: number,
  s: number,
  p: number,
  weights: Int8Array,
): Layer {
  return {
    kind: 'conv2d',
    name,
    inChannels: ci,
    outChannels: co,
    kernelH: k,
    kernelW: k,
    strideH: s,
    strideW: s,
    padH: p,
    padW: p,
    weights,
  };
}

/** A network of `layers` on an unsigned input, its requant parameters calibrated on 3 seeded samples. */
export function calibratedNetwork(
  name: string,
  input: Omit<Network['input'], 'signed'>,
  layers: Layer[],
  seed: number,
): Network {
  const net: Network = { name, input: { ...input, signed: false }, layers, weightBits: 4, accumulatorBits: 32 };
  calibrateNetwork(net, { method: 'samples', samples: 3, seed });
  return net;
}

/** A requant of c channels with zero bias and shift (calibrateNetwork sets them). */
export function requantLayer(name: string, c: number, signed = false): Layer {
  return { kind: 'requant', name, signed, bits: 4, bias: new Int32Array(c), shift: new Int8Array(c) };
}

/**
 * Run `program` on the fast and the cycle engine with seeded random inputs: the same
 * outputs, and both engines' cycles equal to the compiler's estimate. Returns the fast run.
 */
export function expectEnginesAgree(program: Program, net: Network, batch: number, seed: number): SimResult {
  const x = randomInputs(net, batch, seed);
  const fast = simulate(program, { engine: 'fast', inputs: { input: x } });
  const cycle = simulate(program, { engine: 'cycle', inputs: { input: x } });
  expect(cycle.outputs['output']).toEqual(fast.outputs['output']);
  expect([cycle.cycles, program.meta['estimatedCycles']]).toEqual([fast.cycles, fast.cycles]);
  return fast;
}
