/**
 * Top-1 accuracy over integer network outputs. Integer outputs tie often
 * (a signed 4-bit output has only 15 levels), so the tie rule changes the
 * score: ties go to the lowest class index, as numpy's argmax does (that
 * is how the authors' 99.39 % MNIST figure is reproduced exactly).
 */

import { DatasetError } from '../arch/index.js';

/** Index of the largest of values[offset .. offset+count), lowest index on ties. */
export function argmaxLowest(values: ArrayLike<number>, offset: number, count: number): number {
  let best = 0;
  let bestValue = values[offset]!;
  for (let i = 1; i < count; i++) {
    const v = values[offset + i]!;
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

/** Predicted class per image; `outputs` holds `classes` values per image. */
export function predictTop1(outputs: ArrayLike<number>, classes: number): Int32Array {
  if (!Number.isInteger(classes) || classes < 1) {
    throw new DatasetError(`classes must be a positive integer, got ${classes}`, 'accuracy');
  }
  if (outputs.length % classes !== 0) {
    throw new DatasetError(`${outputs.length} outputs are not a whole number of ${classes}-class rows`, 'accuracy');
  }
  const n = outputs.length / classes;
  const pred = new Int32Array(n);
  for (let i = 0; i < n; i++) pred[i] = argmaxLowest(outputs, i * classes, classes);
  return pred;
}

export interface Top1Result {
  correct: number;
  total: number;
  /** correct / total, in [0, 1] (0 when total is 0) */
  accuracy: number;
}

export function top1Accuracy(outputs: ArrayLike<number>, classes: number, labels: ArrayLike<number>): Top1Result {
  const pred = predictTop1(outputs, classes);
  if (pred.length !== labels.length) {
    throw new DatasetError(`${pred.length} output rows but ${labels.length} labels`, 'accuracy');
  }
  let correct = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) correct++;
  return { correct, total: pred.length, accuracy: pred.length === 0 ? 0 : correct / pred.length };
}
