/**
 * Issue 15, "what the compiler accepts, the machine runs": the valid models an
 * independent executor found the stack mishandling, each pinned. The
 * property that generalizes them is test/compiler/boundaries.test.ts.
 */
import { describe, expect, test } from 'vitest';
import { DEFAULT_CONFIG } from '../../arch/config.js';
import { CompileError } from '../../arch/errors.js';
import { compileNetwork } from '../../compiler/index.js';
import { calibrateNetwork } from '../../models/calibration.js';
import type { Layer, Network } from '../../models/ir.js';
import { squareConv2d, type RequantLayer } from '../../models/index.js';
import { thrownMessage } from '../thrown.js';
import { compileAndCompare, rng } from './harness.js';

const random = rng(15);
function weights(n: number): Int8Array {
  return Int8Array.from({ length: n }, () => Math.floor(random() * 15) - 7);
}
function requant(name: string, c: number, signed = false): RequantLayer {
  return { kind: 'requant', name, signed, bits: 4, bias: new Int32Array(c), shift: new Int8Array(c) };
}
const conv = (name: string, ci: number, co: number, k = 1) =>
  squareConv2d(name, ci, co, k, 1, Math.floor(k / 2), weights(co * ci * k * k));
const pool = (name: string, kernel: number, stride: number): Layer => ({ kind: 'maxpool', name, kernel, stride });
function net(c: number, h: number, w: number, bits: 4 | 8, layers: Layer[]): Network {
  const n: Network = {
    name: 'edge',
    input: { channels: c, height: h, width: w, bits, signed: false },
    layers,
    weightBits: 4,
    accumulatorBits: 32,
  };
  calibrateNetwork(n, { method: 'samples', samples: 2, seed: 1 });
  return n;
}
function mlp(h: number, w: number): Network {
  const f = h * w;
  return net(1, h, w, 8, [
    { kind: 'flatten', name: 'flat' },
    { kind: 'dense', name: 'fc', inFeatures: f, outFeatures: 10, weights: weights(10 * f) },
    requant('rq', 10, true),
  ]);
}

describe('a dense layer on a map wider than 15 whose input needs just under the INP capacity', () => {
  // each 8-bit image needs 2 x H x W of the 2048 INP entries (both nibble planes): 2048, 2028, 2030, 2040, 2046, ...
  test.each([
    [32, 32],
    [26, 39],
    [29, 35],
    [30, 34],
    [31, 33],
    [33, 31],
    [34, 30],
  ])('1x%ix%i 8-bit -> flatten -> dense, batch 1, default config', (h, w) => {
    compileAndCompare(mlp(h, w), DEFAULT_CONFIG, 1);
  });
  test('1x16x16 8-bit at batch 4', () => {
    compileAndCompare(mlp(16, 16), DEFAULT_CONFIG, 4);
  });
  test('a wide map of few rows keeps its rows at batch > 1 (images stack in one GEMM), its INP items sized with the slack', () => {
    for (const [h, w, cfg] of [
      [1, 64, DEFAULT_CONFIG],
      [2, 64, { ...DEFAULT_CONFIG, array: { rows: 4, cols: 4 } }],
    ] as const) {
      const { program } = compileAndCompare(mlp(h, w), cfg, 8);
      const gemms = program.code.filter((i) => i.op === 'GEMM');
      expect(gemms.some((g) => g.op === 'GEMM' && g.out_h > 1 && g.stride_h === h)).toBe(true);
      // no GEMM's tile reaches past the INP buffer
      for (const g of gemms)
        if (g.op === 'GEMM')
          expect(g.inp_addr + g.ci_blocks * g.in_h * g.in_w).toBeLessThanOrEqual(cfg.scratchpad.inputEntries);
    }
  });
  test('its kernel windows are full-width bands of rows: no GEMM starts at a column offset', () => {
    const program = compileNetwork(mlp(32, 32), DEFAULT_CONFIG);
    const gemms = program.code.filter((i) => i.op === 'GEMM');
    expect(gemms.length).toBeGreaterThan(1);
    for (const g of gemms) {
      if (g.op !== 'GEMM') continue;
      expect(g.inp_addr % g.in_w).toBe(0);
      expect(g.kernel_w).toBe(g.in_w);
    }
  });
});

describe('every layer kind where the IR allows it', () => {
  test('a flatten inside a residual main path (1x1 map) compiles and runs', () => {
    const block: Layer = {
      kind: 'residual',
      name: 'res',
      main: [conv('c1', 4, 4), requant('r1', 4), { kind: 'flatten', name: 'fl' }, conv('c2', 4, 4)],
      shortcut: conv('sc', 4, 4),
    };
    compileAndCompare(net(4, 1, 1, 4, [block, requant('r2', 4)]), DEFAULT_CONFIG, 2);
  });

  test('a flatten and a dense as the main path of a residual on a 3x3 map (the shortcut covers the map)', () => {
    const block: Layer = {
      kind: 'residual',
      name: 'res',
      main: [
        { kind: 'flatten', name: 'fl' },
        { kind: 'dense', name: 'fc', inFeatures: 27, outFeatures: 6, weights: weights(6 * 27) },
        requant('r1', 6),
        conv('c2', 6, 5),
      ],
      shortcut: squareConv2d('sc', 3, 5, 3, 1, 0, weights(5 * 3 * 9)),
    };
    compileAndCompare(net(3, 3, 3, 4, [block, requant('r2', 5)]), DEFAULT_CONFIG, 1);
  });

  test('conv -> pool -> pool -> requant ends with activations: one pool is fused, the other runs on them', () => {
    const n = net(3, 12, 12, 8, [conv('c1', 3, 6, 3), pool('p1', 2, 2), pool('p2', 2, 1), requant('r1', 6)]);
    const { program } = compileAndCompare(n, DEFAULT_CONFIG, 2);
    // REQUANT pools 2x2/2 for the conv, then the identity op's REQUANT pools 2x2/1
    const pools = program.code.flatMap((i) => (i.op === 'REQUANT' ? [`${i.pool_k}/${i.pool_s}`] : []));
    expect(new Set(pools)).toEqual(new Set(['2/2', '2/1']));
  });

  test('the pools of a residual main path before its requant', () => {
    const block: Layer = {
      kind: 'residual',
      name: 'res',
      main: [conv('c1', 4, 4, 3), pool('p1', 2, 2), pool('p2', 2, 1), requant('r1', 4), conv('c2', 4, 4, 3)],
      shortcut: squareConv2d('sc', 4, 4, 3, 3, 1, weights(4 * 4 * 9)),
    };
    // main: 8x8 -> 4x4 -> 3x3; shortcut 3x3 stride 3 pad 1: 3x3
    compileAndCompare(net(4, 8, 8, 4, [block, requant('r2', 4)]), DEFAULT_CONFIG, 1);
  });

  test('a 1x1 pool at stride 2 after a dense at batch 2 is the identity it is (was: REQUANT windows need a 3x1 input)', () => {
    const n = net(2, 1, 1, 4, [
      { kind: 'dense', name: 'fc', inFeatures: 2, outFeatures: 3, weights: weights(6) },
      requant('r1', 3),
      pool('p1', 1, 2),
    ]);
    compileAndCompare(n, DEFAULT_CONFIG, 2);
  });

  test('a network that does end with accumulators is told so', () => {
    const n = net(3, 8, 8, 4, [conv('c1', 3, 4, 3), pool('p1', 2, 2), pool('p2', 2, 2)]);
    expect(thrownMessage(() => compileNetwork(n, DEFAULT_CONFIG), CompileError)).toBe(
      "layer 0 'c1': conv2d ends the network with accumulators: the machine needs a requant after it (max pools may come between), so the network must end with activations",
    );
  });
});
