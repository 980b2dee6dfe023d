/**
 * The MNIST model this repository trains (train-mnist.ts) and commits, so the
 * demo needs no training and no download. The files live in the repository's
 * models/embedded/ directory, found from the package root (the nearest
 * package.json above this module): that path is the same whether this module
 * runs as TypeScript source under vitest or as built JavaScript in dist/.
 */

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelError, packageRoot } from '../../arch/index.js';
import type { Network } from '../ir.js';
import { loadModelJsonFile } from '../model-json.js';
import type { MnistNetShape } from './mnist-qat-net.js';

export const EMBEDDED_MNIST_MODEL = 'mnist-4bit.json';
export const EMBEDDED_MNIST_METADATA = 'mnist-4bit.meta.json';

/** Accuracy as measured by the golden reference executor (models/reference.ts). */
export interface MeasuredAccuracy {
  /** images evaluated: the first `images` of the official t10k test set */
  images: number;
  correct: number;
  /** correct / images */
  accuracy: number;
}

/**
 * What train-mnist.ts records next to the model: how it was trained and what
 * the integer model scores. The JSON model format has no metadata field, so it
 * is a separate file.
 */
export interface EmbeddedModelMetadata {
  model: string;
  /** sha256 of the model file's bytes, tying this record to that exact file */
  modelSha256: string;
  architecture: string;
  shape: MnistNetShape;
  scheme: string;
  training: {
    seed: number;
    batchNormEpochs: number;
    frozenEpochs: number;
    batchSize: number;
    learningRate: number;
    frozenLearningRate: number;
    /** random-translation augmentation, in pixels (0 = none) */
    shiftPixels: number;
    trainImages: number;
    seconds: number;
    /** node version the run used (float rounding of the training itself depends only on IEEE arithmetic) */
    node: string;
  };
  /** top-1 with ties to the lowest class index, full 10,000-image test set */
  testAccuracy: MeasuredAccuracy;
  /** the same on the first 1,000 test images (what the fast test re-checks) */
  testAccuracyFirst1000: MeasuredAccuracy;
}

/** Directory of the nearest package.json at or above `start`. */
export function embeddedModelDir(): string {
  return join(packageRoot(), 'models', 'embedded');
}

/** The trained 4-bit MNISTNET_INT network (validated on load). */
export function loadEmbeddedMnistModel(): Network {
  return loadModelJsonFile(join(embeddedModelDir(), EMBEDDED_MNIST_MODEL));
}

export function loadEmbeddedMnistMetadata(): EmbeddedModelMetadata {
  const path = join(embeddedModelDir(), EMBEDDED_MNIST_METADATA);
  if (!existsSync(path)) throw new ModelError('file not found', path);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as EmbeddedModelMetadata;
  } catch (e) {
    throw new ModelError(`not valid JSON: ${(e as Error).message}`, path);
  }
}
