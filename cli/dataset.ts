/** Datasets the CLI can evaluate a model on. */
import { DatasetError } from '../arch/index.js';
import {
  analyzeNetwork,
  applyInputTransform,
  formatShape,
  type Network,
  type WithHost,
  loadMnist,
} from '../models/index.js';

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

/**
 * The dataset's images as network inputs: shapes must agree; an imported
 * model's host input transform maps the pixels (its input quantizer); other
 * 4-bit networks get the pixels' high nibble (the usual 8 -> 4 bit input quantisation).
 */
export function datasetInputsFor(net: Network & WithHost, data: Dataset): Uint8Array {
  const a = analyzeNetwork(net);
  const s = a.input.shape;
  if (s.c !== 1 || s.h !== 28 || s.w !== 28) {
    throw new DatasetError(`the model's input is ${formatShape(s)} but ${data.name} images are 1x28x28`, data.name);
  }
  const classes = classCount(net);
  if (classes !== 10) {
    throw new DatasetError(`the model has ${classes} outputs but ${data.name} has 10 classes`, data.name);
  }
  if (net.host?.input) return applyInputTransform(net.host.input, data.images, s.c, data.count);
  if (a.input.bits === 8) return data.images;
  return data.images.map((v) => v >> 4);
}
