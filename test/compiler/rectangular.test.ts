/**
 * Rectangular arrays (rows != cols): compiled networks run bit-identical to the
 * reference, the three engines agree with each other and with the compiler's
 * estimate, and DRAM tensors use entries of max(rows, cols) lanes.
 */
import { describe, expect, test } from 'vitest';
import { deriveArch, resolveConfig } from '../../arch/config.js';
import { estimateSchedule } from '../../compiler/index.js';
import { zooNetwork } from '../../models/zoo.js';
import { simulate } from '../../sim/index.js';
import { compileAndCompare, randomInputs } from './harness.js';

describe('rectangular arrays', () => {
  const shapes: [number, number][] = [
    [32, 16],
    [16, 32],
    [8, 4],
    [4, 16],
  ];
  test.each(shapes)('MNISTNET_INT on %ix%i: bit-exact, engines and estimate agree', (rows, cols) => {
    const cfg = resolveConfig({ array: { rows, cols } });
    const net = zooNetwork('mnist', { inputSize: 12 });
    const x = randomInputs(net, 2, rows * cols);
    const { program, sim: fast } = compileAndCompare(net, cfg, 2, x);
    const cycle = simulate(program, { engine: 'cycle', inputs: { input: x } });
    const timing = simulate(program, { engine: 'timing' });
    expect(cycle.cycles).toBe(fast.cycles);
    expect(timing.cycles).toBe(fast.cycles);
    expect(cycle.outputs['output']).toEqual(fast.outputs['output']);
    expect(cycle.dram).toEqual(fast.dram);
    expect(Array.from(cycle.end)).toEqual(Array.from(estimateSchedule(program).end));
    expect(cycle.counters).toEqual(fast.counters);
    // DRAM tensors are blocked by max(rows, cols) lanes
    const a = deriveArch(cfg);
    const out = program.outputs[0]!;
    expect(a.dramLanes).toBe(Math.max(rows, cols));
    expect(out.imageStrideBytes).toBeGreaterThanOrEqual(Math.ceil(out.shape[1] / a.dramLanes) * a.dramEntryBytes);
  });

  test('CIFAR10NET_INT on 16x64 and 64x16 (8x8 input, batch 2) is bit-exact', () => {
    for (const [rows, cols] of [
      [16, 64],
      [64, 16],
    ] as const) {
      compileAndCompare(zooNetwork('cifar10', { inputSize: 8 }), resolveConfig({ array: { rows, cols } }), 2);
    }
  });
});
