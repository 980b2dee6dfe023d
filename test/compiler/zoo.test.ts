/** Issue #5 acceptance: every zoo network and the authors' MNIST model compile and match the reference. */
import { describe, expect, test } from 'vitest';
import { DEFAULT_CONFIG } from '../../arch/config.js';
import { top1Accuracy } from '../../models/accuracy.js';
import { loadIntegerNetFile } from '../../models/integernet.js';
import { loadMnist } from '../../models/mnist.js';
import { zooNetwork } from '../../models/zoo.js';
import { compileNetwork } from '../../compiler/index.js';
import { simulate } from '../../sim/index.js';
import { compileAndCompare } from './harness.js';
import { AUTHORS_MODEL } from '../reference-data.js';

describe('zoo networks on the default config', () => {
  const cases = [
    ['mnist', 28, 3],
    ['cifar10', 32, 2],
    ['resnet', 32, 1],
    ['vgg16', 32, 1],
  ] as const;
  for (const [name, size, batch] of cases) {
    test(`${name} ${size}x${size}, batch ${batch}`, () => {
      const net = zooNetwork(name, { inputSize: size });
      const r = compileAndCompare(net, DEFAULT_CONFIG, batch, undefined, 3);
      expect(r.program.layers.reduce((s, l) => s + l.macs, 0)).toBeGreaterThan(0);
    });
  }
});

describe("the authors' MNIST model (IntegerNet export)", () => {
  test('300 test images through the fast simulator match the reference', () => {
    const net = loadIntegerNetFile(AUTHORS_MODEL);
    const data = loadMnist({ set: 'test' });
    const count = 300;
    const images = data.images.subarray(0, count * 784);
    const r = compileAndCompare(net, DEFAULT_CONFIG, count, images);
    const acc = top1Accuracy(r.actual, 10, data.labels.subarray(0, count));
    expect(acc.accuracy).toBeGreaterThan(0.97);
  });

  // ~100 s on one core, so opt-in: NIBBLE_FULL_MNIST=1 npx vitest run test/compiler/zoo.test.ts
  test.runIf(process.env['NIBBLE_FULL_MNIST'] === '1')(
    'all 10,000 test images: 99.39 % (opt-in: NIBBLE_FULL_MNIST=1)',
    () => {
      const net = loadIntegerNetFile(AUTHORS_MODEL);
      const data = loadMnist({ set: 'test' });
      const batch = 1000;
      const program = compileNetwork(net, DEFAULT_CONFIG, { batch });
      const out = new Int32Array(data.count * 10);
      for (let i = 0; i < data.count / batch; i++) {
        const images = data.images.subarray(i * batch * 784, (i + 1) * batch * 784);
        const sim = simulate(program, { engine: 'fast', inputs: { input: images } });
        out.set(sim.outputs['output']!, i * batch * 10);
      }
      const acc = top1Accuracy(out, 10, data.labels);
      expect(acc.correct).toBe(9939);
    },
    600_000,
  );
});
