/**
 * The models of a sweep: built (zoo) or read (files) from a ModelRef, and
 * identified by a hash of their canonical model JSON, so a changed file never
 * reuses old results and a worker can check it loaded the same network.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { ModelError } from '../arch/index.js';
import { loadIntegerNetFile, loadModelJsonFile, saveModelJson, zooNetwork, type Network } from '../models/index.js';
import type { ModelRef } from './spec.js';

export interface LoadedModel {
  ref: ModelRef;
  /** short name for tables: cifar10-32, integernet-mnist-4bit.txt */
  label: string;
  hash: string;
  network: Network;
}

export function modelLabel(ref: ModelRef, net?: Network): string {
  if (ref.kind === 'file') return basename(ref.path);
  return net?.name ?? ref.zoo;
}

export function loadNetwork(ref: ModelRef): Network {
  if (ref.kind === 'zoo') {
    return zooNetwork(ref.zoo, {
      ...(ref.inputSize !== undefined ? { inputSize: ref.inputSize } : {}),
      ...(ref.seed !== undefined ? { seed: ref.seed } : {}),
      ...(ref.classes !== undefined ? { classes: ref.classes } : {}),
    });
  }
  if (!existsSync(ref.path)) throw new ModelError('model file not found', ref.path);
  return ref.format === 'json' ? loadModelJsonFile(ref.path) : loadIntegerNetFile(ref.path);
}

export function networkHash(net: Network): string {
  return createHash('sha256').update(saveModelJson(net)).digest('hex').slice(0, 16);
}

export function loadModel(ref: ModelRef): LoadedModel {
  const network = loadNetwork(ref);
  return { ref, label: modelLabel(ref, network), hash: networkHash(network), network };
}

/** Models by hash, loaded once per process (each worker thread has its own). */
export class ModelCache {
  private readonly byHash = new Map<string, Network>();

  /** The network of `ref`; throws ModelError if it no longer hashes to `hash` (the file changed mid-sweep). */
  get(ref: ModelRef, hash: string): Network {
    const hit = this.byHash.get(hash);
    if (hit) return hit;
    const m = loadModel(ref);
    if (m.hash !== hash)
      throw new ModelError(
        `the model changed since the sweep started (hash ${m.hash}, expected ${hash}): restart the sweep`,
        m.label,
      );
    this.byHash.set(hash, m.network);
    return m.network;
  }

  /** Register a network already in memory (the coordinator's copy, or one fetched from Redis). */
  put(hash: string, net: Network): void {
    this.byHash.set(hash, net);
  }
}
