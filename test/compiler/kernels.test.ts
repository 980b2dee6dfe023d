/** Kernels larger than one WGT budget (up to the 15x15 field limit) and dense layers over big maps run in kernel windows. */
import { describe, test } from 'vitest';
import { DEFAULT_CONFIG, type ArchConfig } from '../../arch/config.js';
import { calibrateNetwork } from '../../models/calibration.js';
import type { Layer, Network } from '../../models/ir.js';
import { compileAndCompare, rng } from './harness.js';

function weights(n: number, seed: number): Int8Array {
  const r = rng(seed);
  return Int8Array.from({ length: n }, () => Math.floor(r() * 15) - 7);
}
function calibrated(net: Network): Network {
  calibrateNetwork(net, { method: 'samples', samples: 4, seed: 3 });
  return net;
}
function small(patch: Partial<ArchConfig['scratchpad']>): ArchConfig {
  const c = structuredClone(DEFAULT_CONFIG);
  Object.assign(c.scratchpad, patch);
  return c;
}

describe('kernel windows', () => {
  for (const [k, pad, stride] of [
    [13, 6, 1],
    [15, 7, 2],
    [15, 3, 1],
    [9, 4, 1],
  ] as const) {
    test(`${k}x${k} conv, pad ${pad}, stride ${stride}, 8-bit input`, () => {
      const ci = 5;
      const co = 20;
      const layers: Layer[] = [
        {
          kind: 'conv2d',
          name: 'big',
          inChannels: ci,
          outChannels: co,
          kernelH: k,
          kernelW: k,
          strideH: stride,
          strideW: stride,
          padH: pad,
          padW: pad,
          weights: weights(co * ci * k * k, k),
        },
        { kind: 'requant', name: 'rq', signed: false, bits: 4, bias: new Int32Array(co), shift: new Int8Array(co) },
      ];
      const net = calibrated({
        name: 'big',
        input: { channels: ci, height: 21, width: 19, bits: 8, signed: false },
        layers,
        weightBits: 4,
        accumulatorBits: 32,
      });
      compileAndCompare(net, DEFAULT_CONFIG, 2);
      compileAndCompare(net, small({ weightEntries: 512, inputEntries: 1024, accEntries: 256 }), 1);
    });
  }

  test('MLP on raw 28x28 images: dense over a flattened map wider than the kernel fields', () => {
    const layers: Layer[] = [
      { kind: 'flatten', name: 'flat' },
      { kind: 'dense', name: 'fc1', inFeatures: 784, outFeatures: 40, weights: weights(784 * 40, 1) },
      { kind: 'requant', name: 'rq1', signed: false, bits: 4, bias: new Int32Array(40), shift: new Int8Array(40) },
      { kind: 'dense', name: 'fc2', inFeatures: 40, outFeatures: 10, weights: weights(400, 2) },
      { kind: 'requant', name: 'rq2', signed: true, bits: 4, bias: new Int32Array(10), shift: new Int8Array(10) },
    ];
    const net = calibrated({
      name: 'mlp',
      input: { channels: 1, height: 28, width: 28, bits: 8, signed: false },
      layers,
      weightBits: 4,
      accumulatorBits: 32,
    });
    compileAndCompare(net, DEFAULT_CONFIG, 3);
    compileAndCompare(net, small({ weightEntries: 256 }), 2);
  });
});
