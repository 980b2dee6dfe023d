/**
 * Datasets a model is evaluated on (nibble run, verify, import --calibrate,
 * sweep accuracy objectives), and their images as a network's inputs.
 */
import { DatasetError } from '../arch/index.js';
import { analyzeNetwork } from './analysis.js';
import { top1Accuracy, type Top1Result } from './accuracy.js';
import { applyInputTransform, hostScores, type WithHost } from './host.js';
import { formatShape, type Network } from './ir.js';
import { loadMnist } from './mnist.js';
import { runReference } from './reference.js';

export const DATASETS = ['mnist-test', 'mnist-train'] as const;
export type DatasetName = (typeof DATASETS)[number];

export interface Dataset {
  name: DatasetName;
  /** count * C*H*W unsigned pixel values, NCHW */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  imageSize: number;
}

export function loadDataset(name: string, limit: number | undefined): Dataset {
  if (name !== 'mnist-test' && name !== 'mnist-train') {
    throw new DatasetError(`unknown dataset '${name}' (known: ${DATASETS.join(', ')})`, '--dataset');
  }
  const d = loadMnist({ set: name === 'mnist-test' ? 'test' : 'train', ...(limit !== undefined ? { limit } : {}) });
  return { name, images: d.images, labels: d.labels, count: d.count, imageSize: d.shape.c * d.shape.h * d.shape.w };
}

/** Class scores per image: the host output transform's values for imported models, else the network outputs. */
export function classCount(net: Network & WithHost): number {
  if (net.host?.output) return net.host.output.size;
  const out = analyzeNetwork(net).output.shape;
  return out.c * out.h * out.w;
}

/** A dataset's images as network inputs, and how they were made from the pixels. */
export interface DatasetInputs {
  values: Uint8Array;
  /** e.g. `MNIST pixels >> 4 (the model's inputs are 4-bit)` */
  transform: string;
}

/**
 * The dataset's images as network inputs: shapes must agree; an imported
 * model's host input transform maps the pixels (its input quantizer); other
 * networks get the pixels shifted right by `shift` bits (default: 8 minus the
 * input width, i.e. the high nibble for 4-bit inputs), which must leave values
 * that fit the inputs. The output count is not checked here (see classNote).
 */
export function datasetInputsFor(net: Network & WithHost, data: Dataset, shift?: number): DatasetInputs {
  const a = analyzeNetwork(net);
  const s = a.input.shape;
  if (s.c !== 1 || s.h !== 28 || s.w !== 28) {
    throw new DatasetError(`the model's input is ${formatShape(s)} but ${data.name} images are 1x28x28`, data.name);
  }
  const pixels = 'MNIST pixels';
  if (net.host?.input) {
    if (shift !== undefined)
      throw new DatasetError("--input-shift does not apply: the imported model's input quantizer maps the pixels");
    return {
      values: applyInputTransform(net.host.input, data.images, s.c, data.count),
      transform: `${pixels} through the imported model's input quantizer`,
    };
  }
  const bits = a.input.bits;
  const k = shift ?? 8 - bits;
  if (!Number.isInteger(k) || k < 0 || k > 7)
    throw new DatasetError(`--input-shift must be an integer in [0, 7], got ${String(shift)}`);
  if (255 >> k > 2 ** bits - 1) {
    throw new DatasetError(
      `--input-shift ${k} leaves pixel values up to ${255 >> k} but the model's inputs are ${bits}-bit (at most ${2 ** bits - 1}): shift by at least ${8 - bits}`,
    );
  }
  const transform =
    k === 0
      ? `${pixels} as they are (0..255)`
      : `${pixels} >> ${k} (0..${255 >> k}; the model's inputs are ${bits}-bit)`;
  return { values: k === 0 ? data.images : data.images.map((v) => v >> k), transform };
}

/**
 * Accuracy needs the model's class scores to be the dataset's classes: a
 * model with another output count is still scored (top-1 over its outputs),
 * and this says how the labels meet them; undefined when they match.
 */
export function classNote(net: Network & WithHost, data: Dataset): string | undefined {
  const classes = classCount(net);
  const labels = 10;
  if (classes === labels) return undefined;
  return classes < labels
    ? `the model has ${classes} outputs but ${data.name} has ${labels} classes: images of classes ${classes}..${labels - 1} always count as wrong`
    : `the model has ${classes} outputs but ${data.name} has ${labels} classes: a top-1 output ${labels}..${classes - 1} never matches a label`;
}

/**
 * Top-1 accuracy of the network's integer semantics on the dataset (the
 * reference executor, which the simulator and the RTL match bit for bit),
 * after an imported model's host output stage.
 */
export function datasetAccuracy(net: Network & WithHost, data: Dataset): Top1Result {
  const inputs = datasetInputsFor(net, data).values;
  const s = analyzeNetwork(net).output.shape;
  const outSize = s.c * s.h * s.w;
  const outputs = new Int32Array(data.count * outSize);
  const chunk = 500; // bounded memory for the per-layer activations
  for (let first = 0; first < data.count; first += chunk) {
    const n = Math.min(chunk, data.count - first);
    const r = runReference(net, inputs.subarray(first * data.imageSize, (first + n) * data.imageSize), n);
    outputs.set(r.output, first * outSize);
  }
  return top1Accuracy(hostScores(net.host, outputs, data.count), classCount(net), data.labels);
}
