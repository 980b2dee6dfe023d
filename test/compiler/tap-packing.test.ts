/**
 * Tap packing in the compiler (docs/compiler.md "Tap packing"): conv layers
 * with fewer input channels than half the array rows put kernel taps on the
 * rows (GEMM taps = 1, LOAD replicate = g), bit-identical to the reference.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { DEFAULT_CONFIG, type ArchConfig } from '../../arch/config.js';
import { CompileError } from '../../arch/errors.js';
import type { Layer, Network } from '../../models/ir.js';
import { loadIntegerNetFile } from '../../models/integernet.js';
import { BUF_INP, gemmPassCount, type Instruction } from '../../isa/index.js';
import { compileNetwork } from '../../compiler/index.js';
import { simulate } from '../../sim/index.js';
import {
  calibratedNetwork,
  compileAndCompare,
  convLayer,
  expectEnginesAgree,
  randomInputs,
  requantLayer,
  rng,
} from './harness.js';
import { randomConfig } from './random-network.js';

interface ConvCase {
  ci: number;
  co: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  h: number;
  w: number;
  bits: 4 | 8;
  signed: boolean;
  pool: boolean;
}

function convNet(c: ConvCase, seed: number): Network {
  const r = rng(seed);
  const w = (n: number) => Int8Array.from({ length: n }, () => Math.floor(r() * 15) - 7);
  // network inputs are unsigned: a signed input to the layer under test comes from a 1x1 conv before it
  const signedPrefix: Layer[] = [
    convLayer('pre', c.ci, c.ci, 1, 1, 0, w(c.ci * c.ci)),
    requantLayer('pre.rq', c.ci, true),
  ];
  const layers: Layer[] = [
    ...(c.signed ? signedPrefix : []),
    {
      kind: 'conv2d',
      name: 'conv',
      inChannels: c.ci,
      outChannels: c.co,
      kernelH: c.kh,
      kernelW: c.kw,
      strideH: c.sh,
      strideW: c.sw,
      padH: c.ph,
      padW: c.pw,
      weights: w(c.co * c.ci * c.kh * c.kw),
    },
    requantLayer('rq', c.co),
  ];
  const oh = Math.floor((c.h + 2 * c.ph - c.kh) / c.sh) + 1;
  const ow = Math.floor((c.w + 2 * c.pw - c.kw) / c.sw) + 1;
  if (c.pool && oh >= 2 && ow >= 2) layers.push({ kind: 'maxpool', name: 'pool', kernel: 2, stride: 2 });
  return calibratedNetwork('tap', { channels: c.ci, height: c.h, width: c.w, bits: c.bits }, layers, seed);
}

const gemms = (code: Instruction[]) => code.filter((i): i is Extract<Instruction, { op: 'GEMM' }> => i.op === 'GEMM');

/** A small conv layer whose input channels may be fewer than half the rows of `rows`. */
const convCase = (rows: number) =>
  fc
    .record({
      ci: fc.integer({ min: 1, max: rows }),
      co: fc.integer({ min: 1, max: 40 }),
      kh: fc.integer({ min: 1, max: 7 }),
      kw: fc.integer({ min: 1, max: 7 }),
      sh: fc.integer({ min: 1, max: 3 }),
      sw: fc.integer({ min: 1, max: 3 }),
      ph: fc.integer({ min: 0, max: 3 }),
      pw: fc.integer({ min: 0, max: 3 }),
      h: fc.integer({ min: 1, max: 14 }),
      w: fc.integer({ min: 1, max: 14 }),
      bits: fc.constantFrom(4 as const, 8 as const),
      signed: fc.boolean(),
      pool: fc.boolean(),
    })
    .map((c) => ({
      ...c,
      ph: Math.min(c.ph, c.kh - 1),
      pw: Math.min(c.pw, c.kw - 1),
      h: Math.max(c.h, c.kh),
      w: Math.max(c.w, c.kw),
    }));

/**
 * Compile and compare. The layer is tap-packed exactly when it has taps to pack (g <= R/2,
 * kernel > 1 tap), or when it reads an input laid out as nibble lanes (g = 2 x channels).
 */
function check(c: ConvCase, cfg: ArchConfig, batch: number, seed: number): void {
  const { program } = compileAndCompare(convNet(c, seed), cfg, batch, undefined, seed);
  const lanes = program.inputs[0]!.layout === 'nibble-lanes' && !c.signed;
  const g = lanes ? 2 * c.ci : c.ci;
  const packable = lanes || (c.ci <= cfg.array.rows / 2 && c.kh * c.kw > 1);
  const layer = program.layers[program.layers.length - 1]!; // the layer under test (after any prefix)
  const code = program.code.slice(layer.firstInstruction, layer.lastInstruction + 1);
  const gs = gemms(code);
  // packable: tap-packed, unless the unpacked passes are faster (config fastPreload: an unpacked pass preloads
  // two rows a cycle and issues from PL + 1, a tap-packed one from PL + R: small maps); a nibble-lanes input
  // is read tap-packed only
  const packed = packable && (lanes || !cfg.fastPreload || gs.some((i) => i.taps === 1));
  expect(gs.every((i) => i.taps === (packed ? 1 : 0))).toBe(true);
  if (!packed) return;
  expect(gs.every((i) => i.ci_blocks === g && i.nibble_lanes === (lanes ? 1 : 0))).toBe(true);
  const replicas = code.flatMap((i) => (i.op === 'LOAD' && i.buf === BUF_INP ? [i.replicate] : []));
  expect(replicas.every((r) => r === g)).toBe(true);
}

describe('tap-packed conv layers match the reference executor', () => {
  test('random small conv layers (Cin 1..R, kernel, stride, padding, 4- and 8-bit input), default config', () => {
    fc.assert(
      fc.property(convCase(16), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 ** 30 }), (c, b, seed) =>
        check(c, DEFAULT_CONFIG, b, seed),
      ),
      { seed: 12012, numRuns: 60 },
    );
  });

  test('random small conv layers on random machines (4..16 rows, rectangular, 8-bit lanes, small buffers)', () => {
    let compiled = 0;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 30 }), fc.integer({ min: 1, max: 2 }), (seed, b) => {
        const cfg = randomConfig(seed);
        const c = fc.sample(convCase(cfg.array.rows), { seed, numRuns: 1 })[0]!;
        try {
          check(c, cfg, b, seed);
          compiled++;
        } catch (e) {
          // small random buffers may not fit a layer: a CompileError naming a config field
          if (e instanceof CompileError && /raise (scratchpad|dram)\./.test(e.message)) return;
          throw e;
        }
      }),
      { seed: 12013, numRuns: 60 },
    );
    expect(compiled).toBeGreaterThan(40);
  });

  test('tap-packed programs: the cycle engine agrees with the fast engine and the compiler estimate', () => {
    const cases: ConvCase[] = [
      { ci: 1, co: 8, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, h: 9, w: 7, bits: 8, signed: false, pool: true },
      { ci: 3, co: 20, kh: 5, kw: 3, sh: 2, sw: 1, ph: 2, pw: 0, h: 11, w: 6, bits: 4, signed: true, pool: false },
    ];
    cases.forEach((c, k) => {
      const net = convNet(c, k + 1);
      const program = compileNetwork(net, DEFAULT_CONFIG, { batch: 2 });
      expect(gemms(program.code).some((g) => g.taps === 1)).toBe(true);
      expectEnginesAgree(program, net, 2, k + 1);
    });
  });

  test("the authors' MNIST model: conv1 (1 channel, 8-bit pixels) reads nibble lanes, 2 passes for 9 taps x 2 nibbles", () => {
    const net = loadIntegerNetFile('../shared/reference/integernet-mnist-4bit.txt');
    const program = compileNetwork(net, DEFAULT_CONFIG);
    expect(program.inputs[0]!.layout).toBe('nibble-lanes');
    const conv1 = program.layers[0]!;
    const gs = gemms(program.code.slice(conv1.firstInstruction, conv1.lastInstruction + 1));
    expect(gs.length).toBeGreaterThan(0);
    for (const g of gs) expect([g.taps, g.ci_blocks, g.nibble_lanes, gemmPassCount(g, 16)]).toEqual([1, 2, 1, 2]);
  });

  test('tapPacking: false compiles one tap per pass everywhere (the mapping of machines without tap packing)', () => {
    const net = loadIntegerNetFile('../shared/reference/integernet-mnist-4bit.txt');
    const plain = compileNetwork(net, DEFAULT_CONFIG, { tapPacking: false });
    expect(plain.inputs[0]!.layout).toBe('nibble-planes');
    expect(gemms(plain.code).every((g) => g.taps === 0 && g.nibble_lanes === 0)).toBe(true);
    expect(plain.code.every((i) => i.op !== 'LOAD' || i.replicate === 0)).toBe(true);
    const packed = compileNetwork(net, DEFAULT_CONFIG);
    expect(Number(packed.meta['estimatedCycles'])).toBeLessThan(Number(plain.meta['estimatedCycles']));
    const x = randomInputs(net, 1, 5);
    const run = (p: typeof plain) => simulate(p, { engine: 'fast', inputs: { input: x } }).outputs['output'];
    expect(run(packed)).toEqual(run(plain));
  });
});
