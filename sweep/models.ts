/**
 * The models of a sweep: built (zoo) or read (files) from a ModelRef, and
 * identified by a hash, so a changed file never reuses old results and a
 * worker can check it loaded the same model. Fixed networks hash by their
 * canonical model JSON; an ONNX file hashes by its bytes and is imported at
 * each point's own weight and activation widths (a point whose widths the
 * model cannot be lowered to fails with the importer's reason).
 */
import { createHash } from 'node:crypto';
import { basename, extname } from 'node:path';
import { ModelError, type ArchConfig } from '../arch/index.js';
import { readInputBytes } from '../io/index.js';
import {
  datasetAccuracy,
  importOnnxGraph,
  loadDataset,
  loadIntegerNetFile,
  loadModelBinaryFile,
  loadModelJsonFile,
  readOnnxGraph,
  saveModelJson,
  zooNetwork,
  type Dataset,
  type Network,
  type WithHost,
} from '../models/index.js';
import type { ModelRef, SpecDataset } from './spec.js';

export type SweepNetwork = Network & WithHost;

/** The widths an imported model is lowered to (the point's config.bits). */
export type ModelWidths = Pick<ArchConfig['bits'], 'weight' | 'activation'>;

export interface LoadedModel {
  ref: ModelRef;
  /** short name for tables: cifar10-32, integernet-mnist-4bit.txt */
  label: string;
  hash: string;
  /** a fixed network; undefined for an ONNX file (lowered per point, for its widths) */
  network: SweepNetwork | undefined;
}

export function modelLabel(ref: ModelRef, net?: Network): string {
  if (ref.kind === 'file') return basename(ref.path);
  return net?.name ?? ref.zoo;
}

function onnxBytes(path: string): Uint8Array {
  return readInputBytes(path, 'model file');
}

function importOnnx(path: string, bytes: Uint8Array, widths: ModelWidths): SweepNetwork {
  const graph = readOnnxGraph(bytes, path);
  const lowered = importOnnxGraph(graph, {
    // as `nibble compile x.onnx` names it: a nibble export keeps its network's name
    name: graph.producer.startsWith('nibble') && graph.name ? graph.name : basename(path, extname(path)),
    weightBits: widths.weight,
    activationBits: widths.activation,
  });
  return { ...lowered.network, host: lowered.host };
}

/** The network of `ref`; an ONNX file is imported for `widths` (the default machine's when not given). */
export function loadNetwork(ref: ModelRef, widths: ModelWidths = { weight: 4, activation: 4 }): SweepNetwork {
  if (ref.kind === 'zoo') {
    return zooNetwork(ref.zoo, {
      ...(ref.inputSize !== undefined ? { inputSize: ref.inputSize } : {}),
      ...(ref.seed !== undefined ? { seed: ref.seed } : {}),
      ...(ref.classes !== undefined ? { classes: ref.classes } : {}),
    });
  }
  switch (ref.format) {
    case 'json':
      return loadModelJsonFile(ref.path);
    case 'integernet':
      return loadIntegerNetFile(ref.path);
    case 'nbm':
      return loadModelBinaryFile(ref.path);
    case 'onnx':
      return importOnnx(ref.path, onnxBytes(ref.path), widths);
  }
}

export function networkHash(net: Network): string {
  return createHash('sha256').update(saveModelJson(net)).digest('hex').slice(0, 16);
}

function bytesHash(bytes: Uint8Array): string {
  return createHash('sha256').update('onnx\n').update(bytes).digest('hex').slice(0, 16);
}

/**
 * Load (and for ONNX, parse and check) the model once, on the coordinator: a
 * missing or malformed file fails the sweep before any point runs.
 */
export function loadModel(ref: ModelRef): LoadedModel {
  if (ref.kind === 'file' && ref.format === 'onnx') {
    const bytes = onnxBytes(ref.path);
    readOnnxGraph(bytes, ref.path);
    return { ref, label: modelLabel(ref), hash: bytesHash(bytes), network: undefined };
  }
  const network = loadNetwork(ref);
  return { ref, label: modelLabel(ref, network), hash: networkHash(network), network };
}

/**
 * Models by hash (and widths, for ONNX), loaded once per process (each worker
 * thread has its own), with their accuracy on a dataset measured once per network.
 */
export class ModelCache {
  private readonly byKey = new Map<string, SweepNetwork>();
  private readonly accuracies = new Map<string, number>();
  private readonly datasets = new Map<string, Dataset>();

  private static key(ref: ModelRef, hash: string, widths: ModelWidths): string {
    return ref.kind === 'file' && ref.format === 'onnx' ? `${hash}:w${widths.weight}a${widths.activation}` : hash;
  }

  /**
   * The network of `ref` for a machine of `widths`; throws ModelError if the
   * model no longer hashes to `hash` (the file changed mid-sweep).
   */
  get(ref: ModelRef, hash: string, widths: ModelWidths = { weight: 4, activation: 4 }): SweepNetwork {
    const key = ModelCache.key(ref, hash, widths);
    const hit = this.byKey.get(key);
    if (hit) return hit;
    let net: SweepNetwork | undefined;
    let got: string;
    if (ref.kind === 'file' && ref.format === 'onnx') {
      const bytes = onnxBytes(ref.path);
      got = bytesHash(bytes);
      if (got === hash) net = importOnnx(ref.path, bytes, widths);
    } else {
      net = loadNetwork(ref);
      got = networkHash(net);
    }
    if (got !== hash || !net) throw changed(ref, got, hash);
    this.byKey.set(key, net);
    return net;
  }

  /** Register a network already in memory (the coordinator's copy, or one fetched from Redis). */
  put(hash: string, net: SweepNetwork): void {
    this.byKey.set(hash, net);
  }

  /** Top-1 accuracy on the dataset of the network `get` returns for these arguments, measured once. */
  accuracy(ref: ModelRef, hash: string, widths: ModelWidths, dataset: SpecDataset): number {
    const net = this.get(ref, hash, widths);
    const dk = `${dataset.name}:${dataset.limit}`;
    const k = `${ModelCache.key(ref, hash, widths)}|${dk}`;
    const hit = this.accuracies.get(k);
    if (hit !== undefined) return hit;
    let data = this.datasets.get(dk);
    if (!data) {
      data = loadDataset(dataset.name, dataset.limit);
      this.datasets.set(dk, data);
    }
    const a = datasetAccuracy(net, data).accuracy;
    this.accuracies.set(k, a);
    return a;
  }
}

function changed(ref: ModelRef, got: string, expected: string): ModelError {
  return new ModelError(
    `the model changed since the sweep started (hash ${got}, expected ${expected}): restart the sweep`,
    modelLabel(ref),
  );
}
