import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { analyzeNetwork } from '../../models/analysis.js';
import { loadMnist } from '../../models/mnist.js';
import {
  EMBEDDED_MNIST_MODEL,
  embeddedModelDir,
  loadEmbeddedMnistMetadata,
  loadEmbeddedMnistModel,
  measureAccuracy,
} from '../../models/training/index.js';

describe('embedded MNIST model', () => {
  test('loads, validates and has the MNISTNET_INT layer structure', () => {
    const net = loadEmbeddedMnistModel();
    const a = analyzeNetwork(net);
    expect(net.weightBits).toBe(4);
    expect(net.input).toEqual({ channels: 1, height: 28, width: 28, bits: 8, signed: false });
    expect(net.layers.map((l) => l.kind)).toEqual([
      'conv2d',
      'requant',
      'maxpool',
      'conv2d',
      'requant',
      'maxpool',
      'conv2d',
      'requant',
      'maxpool',
      'flatten',
      'dense',
      'requant',
      'dense',
      'requant',
    ]);
    expect(a.output.shape).toEqual({ c: 10, h: 1, w: 1 });
    expect(a.output.kind === 'act' && a.output.signed && a.output.lo === -7 && a.output.hi === 7).toBe(true);
    for (const l of net.layers) {
      if (l.kind === 'requant') expect(l.bits).toBe(4);
    }
  });

  test('metadata describes exactly the committed file', () => {
    const meta = loadEmbeddedMnistMetadata();
    const bytes = readFileSync(join(embeddedModelDir(), EMBEDDED_MNIST_MODEL));
    expect(meta.model).toBe(EMBEDDED_MNIST_MODEL);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(meta.modelSha256);
    expect(meta.testAccuracy.images).toBe(10000);
    expect(meta.testAccuracy.accuracy).toBeGreaterThan(0.97);
  });

  test('the reference reproduces the recorded accuracy on the first 1,000 test images', () => {
    const meta = loadEmbeddedMnistMetadata();
    const test = loadMnist({ set: 'test', limit: 1000 });
    const measured = measureAccuracy(loadEmbeddedMnistModel(), test, 1000);
    expect(measured).toEqual(meta.testAccuracyFirst1000);
  });
});
