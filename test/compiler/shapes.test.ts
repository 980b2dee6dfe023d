/** Directed layer patterns the random generator rarely builds. */
import { describe, test } from 'vitest';
import { DEFAULT_CONFIG, type ArchConfig } from '../../arch/config.js';
import { calibrateNetwork } from '../../models/calibration.js';
import type { Layer, Network } from '../../models/ir.js';
import type { Conv2dLayer } from '../../models/index.js';
import { compileAndCompare, rng } from './harness.js';

let seedCounter = 1;
function weights(n: number): Int8Array {
  const r = rng(seedCounter++);
  return Int8Array.from({ length: n }, () => Math.floor(r() * 15) - 7);
}
const conv = (name: string, ci: number, co: number, k: number, s = 1, p = 0): Conv2dLayer => ({
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
  weights: weights(co * ci * k * k),
});
const requant = (name: string, c: number, signed = false, bits = 4): Layer => ({
  kind: 'requant',
  name,
  signed,
  bits,
  bias: new Int32Array(c),
  shift: new Int8Array(c),
});
const pool = (name: string, kernel: number, stride: number): Layer => ({ kind: 'maxpool', name, kernel, stride });

function net(layers: Layer[], input: Partial<Network['input']>): Network {
  const n: Network = {
    name: 'shape',
    input: { channels: 3, height: 12, width: 10, bits: 4, signed: false, ...input },
    layers,
    weightBits: 4,
    accumulatorBits: 32,
  };
  calibrateNetwork(n, { method: 'samples', samples: 4, seed: 2 });
  return n;
}
const wide: ArchConfig = { ...structuredClone(DEFAULT_CONFIG), bits: { weight: 4, activation: 8, accumulator: 32 } };

describe('layer patterns', () => {
  test('network ending with a flatten of a map (identity dense into the flat layout)', () => {
    compileAndCompare(
      net([conv('c1', 3, 20, 3, 1, 1), requant('r1', 20, true), pool('p1', 2, 2), { kind: 'flatten', name: 'f' }], {}),
      DEFAULT_CONFIG,
      2,
    );
  });
  test('max pool of the 4-bit network input, then pool after pool on signed activations', () => {
    const layers = [
      pool('p0', 2, 1),
      conv('c1', 3, 18, 3, 2, 1),
      requant('r1', 18, true, 3),
      pool('p1', 2, 1),
      pool('p2', 3, 2),
      conv('c2', 18, 5, 1),
      requant('r2', 5),
    ];
    compileAndCompare(net(layers, {}), DEFAULT_CONFIG, 3);
  });
  test('max pool of accumulators before the requant', () => {
    compileAndCompare(
      net([conv('c1', 3, 17, 3, 1, 1), pool('p1', 3, 2), requant('r1', 17, true)], { bits: 8 }),
      DEFAULT_CONFIG,
      2,
    );
  });
  test('residual whose main path pools, with a strided shortcut', () => {
    const res: Layer = {
      kind: 'residual',
      name: 'res',
      main: [conv('m1', 3, 24, 3, 1, 1), requant('mr', 24), pool('mp', 2, 2), conv('m2', 24, 20, 3, 1, 1)],
      shortcut: conv('sc', 3, 20, 1, 2, 0),
    };
    compileAndCompare(net([res, requant('r', 20)], { height: 12, width: 10, bits: 8 }), DEFAULT_CONFIG, 2);
  });
  test('8-bit activations between layers on an 8-bit machine', () => {
    const layers = [
      conv('c1', 3, 20, 3, 1, 1),
      requant('r1', 20, false, 8),
      conv('c2', 20, 9, 3, 2, 1),
      requant('r2', 9, true, 8),
      pool('p', 2, 2),
      { kind: 'flatten', name: 'f' } as Layer,
    ];
    compileAndCompare(net(layers, { bits: 8 }), wide, 3);
  });
});
