import { describe, expect, test } from 'vitest';
import { loadMnist } from '../../models/mnist.js';
import { runReference } from '../../models/reference.js';
import { Adam } from '../../models/training/adam.js';
import { MnistQatNet, SeededRandom, trainMnistNet } from '../../models/training/index.js';

const SMALL = { conv: [4, 4, 4] as [number, number, number], hidden: 16 };

describe('MNIST quantisation-aware trainer', () => {
  const data = loadMnist({ set: 'train', limit: 256 });

  test('a few steps on a few images decrease the loss', () => {
    const net = new MnistQatNet(SMALL, 64, new SeededRandom(1));
    const idx = Int32Array.from({ length: 64 }, (_, i) => i);
    const labels = data.labels.subarray(0, 64);
    const adam = new Adam();
    const losses: number[] = [];
    for (let step = 0; step < 30; step++) {
      net.zeroGrads();
      net.forward(data.images, idx, 64, true);
      losses.push(net.backward(labels).loss);
      adam.update(net.parameters(), 0.1);
    }
    const first = (losses[0]! + losses[1]! + losses[2]!) / 3;
    const last = (losses[27]! + losses[28]! + losses[29]!) / 3;
    expect(last).toBeLessThan(first * 0.7);
  });

  test('the frozen trainer network is bit-exactly the exported integer network', () => {
    const net = trainMnistNet(data, {
      shape: SMALL,
      seed: 7,
      batchNormEpochs: 1,
      frozenEpochs: 1,
      batchSize: 32,
      learningRate: 0.1,
      frozenLearningRate: 0.01,
    });
    const idx = Int32Array.from({ length: 32 }, (_, i) => 100 + i);
    const fromTrainer = Array.from(net.forward(data.images, idx, 32, false).subarray(0, 320));
    const exported = net.toNetwork('small');
    const ref = runReference(exported, data.images.subarray(100 * 784, 132 * 784), 32);
    expect(Array.from(ref.output)).toEqual(fromTrainer);
  });

  test('training is reproducible from the seed', () => {
    const opts = {
      shape: SMALL,
      seed: 3,
      batchNormEpochs: 1,
      frozenEpochs: 0,
      batchSize: 64,
      learningRate: 0.1,
      frozenLearningRate: 0.01,
      trainLimit: 128,
      shiftPixels: 2,
    };
    const a = trainMnistNet(data, opts).toNetwork('a');
    const b = trainMnistNet(data, opts).toNetwork('a');
    expect(b).toEqual(a);
  });
});
