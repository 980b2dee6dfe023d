/**
 * Trains the embedded MNIST model from scratch and writes it, with its
 * measured accuracy, to models/embedded/:
 *
 *   npm run build && node dist/models/training/train-mnist.js [--out DIR] [--seed N]
 *
 * The run is deterministic for a given seed (seeded initialisation and
 * shuffling, single-threaded float32 arithmetic). Accuracy is measured on the
 * exported integer network by the golden reference executor, not by the
 * trainer, so the recorded figures are exactly what the project's tools see.
 */

import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NibbleError } from '../../arch/index.js';
import { top1Accuracy } from '../accuracy.js';
import type { Network } from '../ir.js';
import { loadMnist, type MnistData } from '../mnist.js';
import { saveModelJson } from '../model-json.js';
import { runReference } from '../reference.js';
import {
  EMBEDDED_MNIST_METADATA,
  EMBEDDED_MNIST_MODEL,
  embeddedModelDir,
  type EmbeddedModelMetadata,
  type MeasuredAccuracy,
} from './embedded.js';
import { DEFAULT_TRAINING, trainMnistNet, type TrainingOptions } from './trainer.js';

export const EMBEDDED_MODEL_NAME = 'mnist-4bit';

/** Reference top-1 accuracy of `net` on the first `images` images of `data`. */
export function measureAccuracy(net: Network, data: MnistData, images = data.count): MeasuredAccuracy {
  const n = Math.min(images, data.count);
  const r = runReference(net, data.images.subarray(0, n * 784), n);
  const { correct } = top1Accuracy(r.output, 10, data.labels.subarray(0, n));
  return { images: n, correct, accuracy: correct / n };
}

export interface TrainedModelFiles {
  network: Network;
  modelJson: string;
  metadata: EmbeddedModelMetadata;
}

/** Train, export and measure; `log` receives progress lines. */
export function trainEmbeddedMnistModel(opts: TrainingOptions, log: (line: string) => void): TrainedModelFiles {
  const train = loadMnist({ set: 'train' });
  const test = loadMnist({ set: 'test' });
  const t0 = performance.now();
  const trainImages = Math.min(train.count, opts.trainLimit ?? train.count);
  log(`training ${EMBEDDED_MODEL_NAME} on ${trainImages} images (seed ${opts.seed})`);
  const net = trainMnistNet(train, opts, {
    onStep: (r) => {
      if (r.step % 200 === 0)
        log(`  ${r.phase} epoch ${r.epoch + 1} step ${r.step}/${r.steps} loss ${r.loss.toFixed(4)}`);
    },
    onEpoch: (r) =>
      log(
        `${r.phase} epoch ${r.epoch + 1}: loss ${r.loss.toFixed(4)} train accuracy ${(100 * r.accuracy).toFixed(2)} % (${r.seconds.toFixed(0)} s)`,
      ),
  });
  const seconds = (performance.now() - t0) / 1000;
  const network = net.toNetwork(EMBEDDED_MODEL_NAME);
  const modelJson = saveModelJson(network);
  log('measuring the integer network with the reference executor');
  const testAccuracy = measureAccuracy(network, test);
  const testAccuracyFirst1000 = measureAccuracy(network, test, 1000);
  const metadata: EmbeddedModelMetadata = {
    model: EMBEDDED_MNIST_MODEL,
    modelSha256: createHash('sha256').update(modelJson).digest('hex'),
    architecture: 'MNISTNET_INT',
    shape: opts.shape,
    scheme:
      'integer-only shift-BN (Guo, Cui, Wang 2021): 4-bit weights in [-7, 7], 8-bit input pixels, ' +
      'requant y = clamp(floor((acc - bias) / 2^shift)) to [0, 15] (last layer [-7, 7]); ' +
      'quantisation-aware training from scratch with straight-through gradients',
    training: {
      seed: opts.seed,
      batchNormEpochs: opts.batchNormEpochs,
      frozenEpochs: opts.frozenEpochs,
      batchSize: opts.batchSize,
      learningRate: opts.learningRate,
      frozenLearningRate: opts.frozenLearningRate,
      shiftPixels: opts.shiftPixels ?? 0,
      trainImages,
      seconds: Math.round(seconds),
      node: process.version,
    },
    testAccuracy,
    testAccuracyFirst1000,
  };
  return { network, modelJson, metadata };
}

export function writeModelFiles(dir: string, files: TrainedModelFiles): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, EMBEDDED_MNIST_MODEL), files.modelJson);
  writeFileSync(join(dir, EMBEDDED_MNIST_METADATA), JSON.stringify(files.metadata, null, 2) + '\n');
}

const OPTIONS =
  '--out DIR, --seed N, --train-limit N, --epochs N, --frozen-epochs N, --batch-size N, --lr X, --frozen-lr X, --shift N';

function parseArgs(argv: string[]): { out: string; opts: TrainingOptions } {
  let out = embeddedModelDir();
  const opts: TrainingOptions = { ...DEFAULT_TRAINING };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new NibbleError(`${a} needs a value`, 'train-mnist');
      return v;
    };
    const int = (): number => {
      const v = value();
      if (!/^\d+$/.test(v)) throw new NibbleError(`${a} expects a non-negative integer, got '${v}'`, 'train-mnist');
      return Number(v);
    };
    const num = (): number => {
      const v = value();
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0)
        throw new NibbleError(`${a} expects a positive number, got '${v}'`, 'train-mnist');
      return n;
    };
    if (a === '--out') out = value();
    else if (a === '--seed') opts.seed = int();
    else if (a === '--train-limit') opts.trainLimit = int();
    else if (a === '--epochs') opts.batchNormEpochs = int();
    else if (a === '--frozen-epochs') opts.frozenEpochs = int();
    else if (a === '--shift') opts.shiftPixels = int();
    else if (a === '--batch-size') opts.batchSize = Math.max(1, int());
    else if (a === '--lr') opts.learningRate = num();
    else if (a === '--frozen-lr') opts.frozenLearningRate = num();
    else throw new NibbleError(`unknown option '${a}' (options: ${OPTIONS})`, 'train-mnist');
  }
  return { out, opts };
}

function main(): void {
  try {
    const { out, opts } = parseArgs(process.argv.slice(2));
    const files = trainEmbeddedMnistModel(opts, (line) => console.log(line));
    writeModelFiles(out, files);
    const pct = (a: MeasuredAccuracy) => `${(100 * a.accuracy).toFixed(2)} % (${a.correct}/${a.images})`;
    console.log(
      `test accuracy ${pct(files.metadata.testAccuracy)}, first 1000: ${pct(files.metadata.testAccuracyFirst1000)}`,
    );
    console.log(`wrote ${join(out, EMBEDDED_MNIST_MODEL)} and ${EMBEDDED_MNIST_METADATA}`);
  } catch (e) {
    if (e instanceof NibbleError) {
      console.error(`error[${e.code}]: ${e.message}`);
      process.exit(1);
    }
    throw e;
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) main();
