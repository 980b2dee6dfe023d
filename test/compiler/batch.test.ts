/** Batching: images stacked in one GEMM for dense layers and for small-map convs. */
import { describe, expect, test } from 'vitest';
import { DEFAULT_CONFIG } from '../../arch/config.js';
import { calibrateNetwork } from '../../models/calibration.js';
import type { Layer, Network } from '../../models/ir.js';
import { simulate } from '../../sim/index.js';
import { compileNetwork } from '../../compiler/index.js';
import { compileAndCompare, convLayer, requantLayer, rng } from './harness.js';

function weights(n: number, seed: number): Int8Array {
  const r = rng(seed);
  return Int8Array.from({ length: n }, () => Math.floor(r() * 15) - 7);
}
const conv = (name: string, ci: number, co: number, k: number, s: number, p: number): Layer =>
  convLayer(name, ci, co, k, s, p, weights(co * ci * k * k, co + k));
const requant = requantLayer;

function smallMapNet(): Network {
  const layers: Layer[] = [
    conv('c1', 40, 64, 3, 1, 1),
    requant('r1', 64),
    conv('c2', 64, 48, 3, 2, 1),
    requant('r2', 48),
    { kind: 'maxpool', name: 'p2', kernel: 2, stride: 1 },
    conv('c3', 48, 32, 1, 1, 0),
    requant('r3', 32, true),
    { kind: 'flatten', name: 'f' },
    { kind: 'dense', name: 'fc', inFeatures: 32 * 2 * 2, outFeatures: 10, weights: weights(1280, 9) },
    requant('r4', 10, true),
  ];
  const net: Network = {
    name: 'small-map',
    input: { channels: 40, height: 5, width: 5, bits: 4, signed: false },
    layers,
    weightBits: 4,
    accumulatorBits: 32,
  };
  calibrateNetwork(net, { method: 'samples', samples: 4, seed: 5 });
  return net;
}

describe('batching', () => {
  test('small-map convs stack images in one GEMM: bit-exact and faster per image', () => {
    const net = smallMapNet();
    const r = compileAndCompare(net, DEFAULT_CONFIG, 6);
    expect(r.program.segments.some((s) => s.name === 'zeros')).toBe(true);
    const c1 = r.program.code.filter((i) => i.op === 'GEMM' && i.kernel_h === 3 && i.stride_h === 1);
    expect(Math.max(...c1.map((g) => (g.op === 'GEMM' ? g.out_h : 0)))).toBeGreaterThan(5);
    const one = simulate(compileNetwork(net, DEFAULT_CONFIG, { batch: 1 }), { engine: 'timing' }).cycles;
    // 0.99 of batch 1 per image (0.85 before config fastPreload and weightBanks: stacking amortized the weight
    // preload of short passes, which now costs batch 1 little)
    expect(r.sim.cycles / 6).toBeLessThan(one);
  });

  test('dense layers stream every image of a batch through one weight tile (stride_h = H)', () => {
    const net = smallMapNet();
    const r = compileAndCompare(net, DEFAULT_CONFIG, 5);
    const fc = r.program.code.filter((i) => i.op === 'GEMM' && i.kernel_h === 2 && i.kernel_w === 2);
    expect(fc.length).toBeGreaterThan(0);
    for (const g of fc) if (g.op === 'GEMM') expect([g.out_h, g.stride_h, g.in_h]).toEqual([5, 2, 10]);
  });
});
