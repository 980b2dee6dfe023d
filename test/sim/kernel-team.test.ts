/**
 * The fast engine on two threads (sim/kernels/gemm-team.ts) against one
 * thread and against the JavaScript GEMM alone: identical cycles, counters,
 * per-instruction times, outputs, DRAM and scratchpads, on zoo networks and
 * random programs, with the helper thread running a share of the GEMMs.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../arch/index.js';
import { compileNetwork } from '../../compiler/index.js';
import type { Program } from '../../isa/index.js';
import { zooNetwork } from '../../models/index.js';
import { randomConfig, randomProgram, simulate, type SimResult } from '../../sim/index.js';
import { gemmKernelModule, sharedGemmKernel } from '../../sim/kernels/gemm-kernel.js';
import { HANDOFF_MIN_MACS, sharedGemmTeam } from '../../sim/kernels/gemm-team.js';
import { SimError } from '../../arch/index.js';

function same(a: SimResult, b: SimResult, what: string): void {
  expect(b.cycles, what).toBe(a.cycles);
  expect(JSON.stringify(b.counters), what).toBe(JSON.stringify(a.counters));
  expect(Array.from(b.start), what).toEqual(Array.from(a.start));
  expect(Buffer.compare(Buffer.from(b.dram!), Buffer.from(a.dram!)), `${what}: DRAM`).toBe(0);
  for (const k of ['inp', 'wgt', 'acc', 'out'] as const) {
    const x = a.scratchpads![k];
    const y = b.scratchpads![k];
    expect(Buffer.compare(Buffer.from(y.buffer), Buffer.from(x.buffer)), `${what}: ${k}`).toBe(0);
  }
  expect(JSON.stringify(b.outputs), what).toBe(JSON.stringify(a.outputs));
}

/** The helper thread starts asynchronously: wait (bounded) until it takes GEMMs. */
async function readyTeam() {
  const team = sharedGemmTeam(gemmKernelModule()!, sharedGemmKernel()!)!;
  expect(team).toBeDefined();
  for (let i = 0; i < 500 && !team.ready; i++) await new Promise((r) => setTimeout(r, 10));
  expect(team.ready).toBe(true);
  return team;
}

describe('fast engine on two threads == one thread == JavaScript GEMM', () => {
  it('on zoo networks (the helper runs some of the GEMMs)', async () => {
    const team = await readyTeam();
    for (const [name, size] of [
      ['cifar10', 32],
      ['resnet', 32],
      ['mnist', 28],
    ] as const) {
      const program: Program = compileNetwork(zooNetwork(name, { inputSize: size }), DEFAULT_CONFIG, { batch: 2 });
      const js = simulate(program, { engine: 'fast', gemm: 'js' });
      const one = simulate(program, { engine: 'fast', threads: 1 });
      const before = team.helped;
      const two = simulate(program, { engine: 'fast', threads: 2 });
      same(js, one, `${name} one thread`);
      same(js, two, `${name} two threads`);
      expect(team.helped - before, name).toBeGreaterThan(0);
    }
  });

  it('on random programs (overlapping ACC ranges, accumulate chains, REQUANT of ACC in flight)', async () => {
    const team = await readyTeam();
    // hand over every GEMM the kernel takes, however small, so the random programs' hazards meet the helper
    team.handoffMinMacs = 0;
    const before = team.helped;
    try {
      for (let seed = 900; seed < 960; seed++) {
        const program = randomProgram(seed, randomConfig(seed), { rounds: 30 });
        const js = simulate(program, { engine: 'fast', gemm: 'js' });
        same(js, simulate(program, { engine: 'fast', threads: 2 }), `seed ${seed}`);
      }
    } finally {
      team.handoffMinMacs = HANDOFF_MIN_MACS;
    }
    expect(team.helped - before).toBeGreaterThan(100);
  });

  it('refuses a bad thread count with one clear message', () => {
    const program = randomProgram(1, DEFAULT_CONFIG, { rounds: 2 });
    for (const threads of [0, 1.5, -1]) {
      expect(() => simulate(program, { engine: 'fast', threads })).toThrow(SimError);
      expect(() => simulate(program, { engine: 'fast', threads })).toThrow(
        `options.threads: must be a positive integer, got ${threads}`,
      );
    }
  });
});
