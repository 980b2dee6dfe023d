/**
 * Quantisation-aware training of the MNIST network, from scratch, seeded.
 *
 * Two phases (see shift-batch-norm.ts):
 *  1. shift-BN with batch statistics, which trains fast and stably;
 *  2. frozen: requant shifts fixed from the running statistics and biases
 *     learned directly, so the network being fine-tuned is exactly the
 *     integer network that is exported.
 * Adam with a cosine learning-rate decay inside each phase.
 */

import { Adam } from './adam.js';
import { MnistQatNet, type MnistNetShape } from './mnist-qat-net.js';
import { SeededRandom } from '../seeded-random.js';

export interface TrainingOptions {
  shape: MnistNetShape;
  seed: number;
  /** epochs with batch-statistics shift-BN */
  batchNormEpochs: number;
  /** epochs of fine-tuning the frozen integer network */
  frozenEpochs: number;
  batchSize: number;
  /** peak learning rate (parameters are in integer / output-level units) */
  learningRate: number;
  frozenLearningRate: number;
  /** train on the first `trainLimit` images only */
  trainLimit?: number;
  /** augmentation: translate each training image by up to this many pixels (seeded; 0 = off) */
  shiftPixels?: number;
}

export const DEFAULT_TRAINING: TrainingOptions = {
  shape: { conv: [16, 16, 16], hidden: 128 },
  seed: 20210601,
  batchNormEpochs: 1,
  frozenEpochs: 5,
  batchSize: 64,
  learningRate: 0.1,
  frozenLearningRate: 0.02,
  shiftPixels: 2,
};

export interface TrainingData {
  /** count * 784 pixels */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export interface EpochReport {
  phase: 'batch-norm' | 'frozen';
  epoch: number;
  /** mean training loss and accuracy over the epoch (as the network was while training) */
  loss: number;
  accuracy: number;
  seconds: number;
}

export interface StepReport {
  phase: 'batch-norm' | 'frozen';
  epoch: number;
  step: number;
  steps: number;
  loss: number;
}

export interface TrainingHooks {
  onStep?(r: StepReport): void;
  onEpoch?(r: EpochReport, net: MnistQatNet): void;
}

export function trainMnistNet(data: TrainingData, opts: TrainingOptions, hooks: TrainingHooks = {}): MnistQatNet {
  const rng = new SeededRandom(opts.seed);
  const net = new MnistQatNet(opts.shape, opts.batchSize, rng);
  const count = Math.min(data.count, opts.trainLimit ?? data.count);
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  const labels = new Uint8Array(opts.batchSize);
  const steps = Math.ceil(count / opts.batchSize);
  const shift = opts.shiftPixels ?? 0;
  const shifted = new Uint8Array(opts.batchSize * 784);
  const identity = Int32Array.from({ length: opts.batchSize }, (_, i) => i);

  const phases: { phase: 'batch-norm' | 'frozen'; epochs: number; lr: number }[] = [
    { phase: 'batch-norm', epochs: opts.batchNormEpochs, lr: opts.learningRate },
    { phase: 'frozen', epochs: opts.frozenEpochs, lr: opts.frozenLearningRate },
  ];
  for (const { phase, epochs, lr } of phases) {
    if (epochs === 0) continue;
    if (phase === 'frozen') net.setNormMode('frozen');
    const adam = new Adam();
    const total = epochs * steps;
    for (let epoch = 0; epoch < epochs; epoch++) {
      const t0 = performance.now();
      rng.shuffle(order);
      let lossSum = 0;
      let correct = 0;
      for (let s = 0; s < steps; s++) {
        const start = s * opts.batchSize;
        const batch = Math.min(opts.batchSize, count - start);
        const idx = order.subarray(start, start + batch);
        for (let n = 0; n < batch; n++) labels[n] = data.labels[idx[n]!]!;
        net.zeroGrads();
        if (shift > 0) {
          for (let n = 0; n < batch; n++) {
            translateImage(
              data.images,
              idx[n]!,
              shifted,
              n,
              rng.below(2 * shift + 1) - shift,
              rng.below(2 * shift + 1) - shift,
            );
          }
          net.forward(shifted, identity, batch, true);
        } else {
          net.forward(data.images, idx, batch, true);
        }
        const r = net.backward(labels.subarray(0, batch));
        const progress = (epoch * steps + s) / total;
        adam.update(net.parameters(), lr * 0.5 * (1 + Math.cos(Math.PI * progress)));
        lossSum += r.loss * batch;
        correct += r.correct;
        hooks.onStep?.({ phase, epoch, step: s, steps, loss: r.loss });
      }
      hooks.onEpoch?.(
        { phase, epoch, loss: lossSum / count, accuracy: correct / count, seconds: (performance.now() - t0) / 1000 },
        net,
      );
    }
  }
  net.setNormMode('frozen');
  return net;
}

/** Top-1 hits of the trainer's own forward pass (eval mode) over a dataset. */
export function countCorrect(net: MnistQatNet, data: TrainingData, limit = data.count): number {
  let correct = 0;
  const idx = new Int32Array(net.maxBatch);
  for (let start = 0; start < limit; start += net.maxBatch) {
    const batch = Math.min(net.maxBatch, limit - start);
    for (let n = 0; n < batch; n++) idx[n] = start + n;
    const out = net.forward(data.images, idx, batch, false);
    for (let n = 0; n < batch; n++) {
      let best = 0;
      for (let k = 1; k < 10; k++) if (out[n * 10 + k]! > out[n * 10 + best]!) best = k;
      if (best === data.labels[start + n]) correct++;
    }
  }
  return correct;
}

/** Copies 28x28 image `src` into slot `dst` of `out`, moved by (dx, dy) pixels with zero fill. */
function translateImage(images: Uint8Array, src: number, out: Uint8Array, dst: number, dx: number, dy: number): void {
  const o = dst * 784;
  out.fill(0, o, o + 784);
  for (let y = 0; y < 28; y++) {
    const sy = y - dy;
    if (sy < 0 || sy >= 28) continue;
    for (let x = 0; x < 28; x++) {
      const sx = x - dx;
      if (sx >= 0 && sx < 28) out[o + y * 28 + x] = images[src * 784 + sy * 28 + sx]!;
    }
  }
}
