/**
 * GEMM pieces of a tap-packed first band and the band-size search
 * (docs/compiler.md "Band sizes of tap-packed layers"): the first band's
 * GEMMs are cut into row pieces, each after the LOAD of its own input rows,
 * bit-identical to the reference and cycle-exact between the engines.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { DEFAULT_CONFIG } from '../../arch/config.js';
import type { Layer, Network } from '../../models/ir.js';
import { loadIntegerNetFile } from '../../models/integernet.js';
import type { Instruction } from '../../isa/index.js';
import { compileNetwork } from '../../compiler/index.js';
import { rooflineOf, simulate } from '../../sim/index.js';
import { calibratedNetwork, compileAndCompare, expectEnginesAgree, requantLayer, rng } from './harness.js';

interface Case {
  ci: number;
  co: number;
  k: number;
  h: number;
  w: number;
  pool: boolean;
}

function net(c: Case, seed: number): Network {
  const r = rng(seed);
  const layers: Layer[] = [
    {
      kind: 'conv2d',
      name: 'conv',
      inChannels: c.ci,
      outChannels: c.co,
      kernelH: c.k,
      kernelW: c.k,
      strideH: 1,
      strideW: 1,
      padH: c.k >> 1,
      padW: c.k >> 1,
      weights: Int8Array.from({ length: c.co * c.ci * c.k * c.k }, () => Math.floor(r() * 15) - 7),
    },
    requantLayer('rq', c.co),
  ];
  if (c.pool) layers.push({ kind: 'maxpool', name: 'pool', kernel: 2, stride: 2 });
  return calibratedNetwork('pieces', { channels: c.ci, height: c.h, width: c.w, bits: 8 }, layers, seed);
}

type Gemm = Extract<Instruction, { op: 'GEMM' }>;
const gemms = (code: readonly Instruction[]) => code.filter((i): i is Gemm => i.op === 'GEMM');

/** GEMMs of the first band: those before the first REQUANT. */
function firstBand(code: readonly Instruction[]): Gemm[] {
  const rq = code.findIndex((i) => i.op === 'REQUANT');
  return gemms(code.slice(0, rq));
}

describe('GEMM pieces of a tap-packed first band', () => {
  test('random 8-bit first layers (Cin 1..3, 3x3 or 5x5, pooled or not) match the reference executor', () => {
    let cut = 0;
    fc.assert(
      fc.property(
        fc.record({
          ci: fc.integer({ min: 1, max: 3 }),
          co: fc.integer({ min: 1, max: 20 }),
          k: fc.constantFrom(3, 5),
          h: fc.integer({ min: 6, max: 24 }),
          w: fc.integer({ min: 5, max: 12 }),
          pool: fc.boolean(),
        }),
        fc.integer({ min: 1, max: 2 ** 30 }),
        (c, seed) => {
          const { program } = compileAndCompare(net(c, seed), DEFAULT_CONFIG, 1, undefined, seed);
          const first = firstBand(program.code);
          // pieces: one ACC base per piece and co block, the first piece's rows from the band's top
          if (new Set(first.map((g) => g.acc_addr)).size > Math.ceil(c.co / 16)) cut++;
        },
      ),
      { seed: 51202, numRuns: 25 },
    );
    expect(cut).toBeGreaterThan(5);
  });

  test('a program with pieces: the cycle engine agrees with the fast engine and the estimate', () => {
    const c: Case = { ci: 1, co: 16, k: 3, h: 16, w: 8, pool: true };
    const n = net(c, 7);
    const program = compileNetwork(n, DEFAULT_CONFIG);
    const first = firstBand(program.code);
    expect(first.length).toBeGreaterThan(1);
    expect(first[0]!.out_h).toBeLessThan(first.reduce((s, g) => s + g.out_h, 0));
    expectEnginesAgree(program, n, 1, 7);
  });

  test("the authors' MNIST conv1: its first GEMM waits for two input rows, and conv1 is faster than one GEMM per band", () => {
    const mnist = loadIntegerNetFile('../shared/reference/integernet-mnist-4bit.txt');
    const program = compileNetwork(mnist, DEFAULT_CONFIG);
    const first = firstBand(program.code);
    expect([first[0]!.out_h, first[0]!.in_h, first[0]!.pad_top]).toEqual([1, 2, 1]);
    // the first INP LOAD holds just those two rows of 28 pixels
    const inp = program.code.find((i) => i.op === 'LOAD' && i.buf === 0)!;
    expect(inp.op === 'LOAD' && inp.x_count * inp.y_count).toBe(56);
    const run = simulate(program, { engine: 'timing' });
    const roof = rooflineOf(program, run.counters);
    // one GEMM per band, the band search of main 6b3f0c4: conv1 2,224 cycles, the whole 6,221
    expect(roof.layers[0]!.cycles).toBeLessThan(2150);
    expect(run.cycles).toBeLessThan(6200);
  });
});
