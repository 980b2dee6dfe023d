import { describe, expect, it } from 'vitest';
import { ModelError } from '../../arch/errors.js';
import { calibrateNetwork, randomInputs, requantParamsFromStats } from '../../models/calibration.js';
import type { Network } from '../../models/ir.js';
import { analyzeNetwork, type DenseLayer, type RequantLayer } from '../../models/index.js';
import { loadModelJson, saveModelJson } from '../../models/model-json.js';
import { runReference, runReferenceLayers } from '../../models/reference.js';
import { buildZooNetwork, zooNames, zooNetwork } from '../../models/zoo.js';

/**
 * Runs the network on fresh random images (a different seed from calibration)
 * and returns, per requant, the fraction of outputs at zero and at each end
 * of the range.
 */
function requantUsage(net: Network, images: number) {
  const x = randomInputs(net, images, 4242);
  const traces = runReferenceLayers(net, x, images).layers.filter((t) => t.kind === 'requant');
  return traces.map((t) => {
    let zero = 0;
    let max = 0;
    let min = 0;
    for (const v of t.data) {
      if (v === 0) zero++;
      if (v === t.value.hi) max++;
      if (v === t.value.lo) min++;
    }
    const n = t.data.length;
    return {
      where: t.where,
      zero: zero / n,
      max: max / n,
      min: min / n,
      signed: t.value.kind === 'act' && t.value.signed,
    };
  });
}

function expectUsesRange(net: Network, images: number): void {
  for (const u of requantUsage(net, images)) {
    expect(u.zero, `${u.where}: fraction of zeros`).toBeLessThan(0.9);
    expect(u.max, `${u.where}: fraction at max`).toBeLessThan(0.9);
    if (u.signed) expect(u.min, `${u.where}: fraction at min`).toBeLessThan(0.9);
  }
}

describe('zoo', () => {
  it('lists its networks', () => {
    expect(zooNames()).toEqual(['mnist', 'cifar10', 'vgg16', 'resnet']);
  });

  const small: [string, number, number][] = [
    ['mnist', 28, 8],
    ['cifar10', 32, 2],
    ['resnet', 32, 2],
    ['vgg16', 32, 1],
  ];
  for (const [name, size, images] of small) {
    it(`${name}@${size}: validates, runs, and its requants use the 4-bit range`, () => {
      const { network, calibration } = buildZooNetwork(name, { inputSize: size });
      expect(network.name).toBe(`${name}-${size}`);
      const a = analyzeNetwork(network);
      expect(a.output).toMatchObject({
        kind: 'act',
        signed: true,
        bits: 4,
        shape: { c: name === 'vgg16' ? 1000 : 10, h: 1, w: 1 },
      });
      expect(calibration.method).toBe(name === 'vgg16' ? 'analytic' : 'samples');
      expectUsesRange(network, images);
    });
  }

  it('has the paper shapes', () => {
    const mnist = analyzeNetwork(zooNetwork('mnist', { calibration: 'analytic' }));
    expect(
      mnist.layers.map((l) => `${l.layer.name}:${l.output.shape.c}x${l.output.shape.h}x${l.output.shape.w}`),
    ).toEqual([
      'conv1:16x28x28',
      'requant1:16x28x28',
      'pool1:16x14x14',
      'conv2:16x14x14',
      'requant2:16x14x14',
      'pool2:16x7x7',
      'conv3:16x7x7',
      'requant3:16x7x7',
      'pool3:16x3x3',
      'flatten:144x1x1',
      'fc1:128x1x1',
      'requant4:128x1x1',
      'fc2:10x1x1',
      'requant5:10x1x1',
    ]);
    const cifar = zooNetwork('cifar10', { calibration: 'analytic' });
    expect(
      cifar.layers.filter((l) => l.kind === 'conv2d').map((l) => (l as { outChannels: number }).outChannels),
    ).toEqual([64, 64, 128, 128, 256, 256]);
    expect(
      cifar.layers.filter((l): l is DenseLayer => l.kind === 'dense').map((l) => `${l.inFeatures}->${l.outFeatures}`),
    ).toEqual(['4096->512', '512->10']);
    const resnet = analyzeNetwork(zooNetwork('resnet', { calibration: 'analytic' }));
    const blocks = resnet.layers.filter((l) => l.layer.kind === 'residual');
    expect(blocks.map((b) => `${b.output.shape.c}x${b.output.shape.h}`)).toEqual([
      '32x16',
      '32x16',
      '64x8',
      '64x8',
      '128x4',
      '128x4',
      '256x4',
      '256x4',
      '256x4',
    ]);
    expect(resnet.layers.find((l) => l.layer.name === 'fc1')!.layer).toMatchObject({
      inFeatures: 4096,
      outFeatures: 1024,
    });
  });

  // Its build time ('build net') is measured by `npm run bench` (timing section), not asserted here.
  it('vgg16 at 224x224 has the full VGG-16 shape (analytic calibration)', () => {
    const { network, calibration } = buildZooNetwork('vgg16');
    expect(calibration.method).toBe('analytic');
    const a = analyzeNetwork(network);
    expect(a.layers.filter((l) => l.layer.kind === 'conv2d').length).toBe(13);
    expect(
      network.layers.filter((l): l is DenseLayer => l.kind === 'dense').map((l) => `${l.inFeatures}->${l.outFeatures}`),
    ).toEqual(['25088->4096', '4096->4096', '4096->1000']);
    expect(a.macs).toBeGreaterThan(15e9);
  });

  it('resnet at 224x224 keeps a 4x4 final map', () => {
    const a = analyzeNetwork(zooNetwork('resnet', { inputSize: 224, calibration: 'analytic' }));
    expect(a.layers.find((l) => l.layer.name === 'flatten')!.input.shape).toEqual({ c: 256, h: 4, w: 4 });
  });

  it('analytic calibration also keeps activations in range (checked by running)', () => {
    expectUsesRange(zooNetwork('cifar10', { calibration: 'analytic' }), 2);
    expectUsesRange(zooNetwork('resnet', { calibration: 'analytic' }), 2);
  });

  it('is deterministic per seed', () => {
    const a = zooNetwork('mnist', { seed: 5 });
    const b = zooNetwork('mnist', { seed: 5 });
    const c = zooNetwork('mnist', { seed: 6 });
    expect(saveModelJson(a)).toBe(saveModelJson(b));
    expect(saveModelJson(a)).not.toBe(saveModelJson(c));
    const x = randomInputs(a, 3, 1);
    expect(runReference(a, x, 3).output).toEqual(runReference(b, x, 3).output);
  });

  it('round-trips through the JSON format (residual blocks included)', () => {
    // compared through the serialization: a deep toEqual over millions of weights takes minutes
    const net = zooNetwork('resnet', { calibration: 'analytic' });
    const text = saveModelJson(net);
    const back = loadModelJson(text);
    expect(saveModelJson(back)).toBe(text);
    const x = randomInputs(net, 2, 3);
    expect(runReference(back, x, 2).output).toEqual(runReference(net, x, 2).output);
  });

  it('rejects bad options', () => {
    expect(() => zooNetwork('alexnet')).toThrow(ModelError);
    expect(() => zooNetwork('alexnet')).toThrow(
      "zoo: unknown zoo network 'alexnet' (available: mnist, cifar10, vgg16, resnet)",
    );
    // names of Object properties are no zoo networks either
    expect(() => zooNetwork('constructor')).toThrow(
      "zoo: unknown zoo network 'constructor' (available: mnist, cifar10, vgg16, resnet)",
    );
    expect(() => zooNetwork('vgg16', { inputSize: 16 })).toThrow(
      'zoo: inputSize must be an integer in [32, 1024] for vgg16, got 16',
    );
    // huge inputs fail fast with a typed error instead of a RangeError / out-of-memory
    expect(() => zooNetwork('mnist', { inputSize: 100_000 })).toThrow(
      'zoo: inputSize must be an integer in [8, 1024] for mnist, got 100000',
    );
    expect(() => zooNetwork('vgg16', { inputSize: 1024 })).toThrow(
      /^zoo: layer 'fc1': the network would hold [\d,]+ weights by this layer, more than the zoo builds \(268,435,456\): use a smaller inputSize$/,
    );
  });
});

describe('calibration', () => {
  it("applies the paper's rule", () => {
    expect(requantParamsFromStats(100.4, 64, { signed: false, bits: 4 })).toEqual({ bias: 100, shift: 4 });
    expect(requantParamsFromStats(-7.6, 64, { signed: true, bits: 4 })).toEqual({ bias: -8, shift: 5 });
    expect(requantParamsFromStats(3, 0, { signed: false, bits: 4 })).toEqual({ bias: 3, shift: -2 }); // std floored at 1
    expect(requantParamsFromStats(0, 2 ** 40, { signed: false, bits: 1 })).toEqual({ bias: 0, shift: 31 }); // clamped
  });

  it('uses per-channel statistics of the accumulators from the given samples', () => {
    // conv 1x1 with weights 1 and -2: acc channel 0 = x, channel 1 = -2x
    const net: Network = {
      name: 'cal',
      input: { channels: 1, height: 1, width: 4, bits: 8, signed: false },
      weightBits: 4,
      accumulatorBits: 32,
      layers: [
        {
          kind: 'conv2d',
          name: 'c',
          inChannels: 1,
          outChannels: 2,
          kernelH: 1,
          kernelW: 1,
          strideH: 1,
          strideW: 1,
          padH: 0,
          padW: 0,
          weights: Int8Array.of(1, -2),
        },
        { kind: 'requant', name: 'rq', signed: false, bits: 4, bias: new Int32Array(2), shift: new Int8Array(2) },
      ],
    };
    // values 0, 64, 128, 192 (x2 images): mean 96, std 71.55 -> log2 6.16 -> 6
    const data = Uint8Array.of(0, 64, 128, 192, 192, 128, 64, 0);
    expect(calibrateNetwork(net, { inputs: { data, count: 2 } })).toEqual({ method: 'samples', samples: 2 });
    const rq = net.layers[1] as RequantLayer;
    expect(Array.from(rq.bias)).toEqual([96, -192]);
    expect(Array.from(rq.shift)).toEqual([6 + 2 - 4, 7 + 2 - 4]);
  });
});
