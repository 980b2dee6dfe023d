/**
 * ONNX and QONNX import (docs/import.md): read a model file, lower it to a
 * nibble network with host stages, and check it against the float executor.
 */
import { readFileSync } from 'node:fs';
import { ModelError } from '../../arch/index.js';
import { readOnnxGraph, type OnnxGraph } from './graph.js';
import { lowerGraph, type LoweredModel, type LowerOptions } from './lower/index.js';

export { readOnnxGraph, looksLikeOnnx, type OnnxGraph, type OnnxNode } from './graph.js';
export { runGraph } from './execute/index.js';
export type { LoweredModel, LowerOptions, ImportStep, RequantReport, RequantChannelReport } from './lower/index.js';
export type { Tensor } from './tensor.js';

export const DEFAULT_LOWER_OPTIONS: LowerOptions = {
  exact: false,
  weightBits: 4,
  activationBits: 4,
  inputScale: 1 / 255,
  inputOffset: 0,
  maxOutputSlices: 16,
  name: 'onnx-model',
};

export function readOnnxFile(path: string): OnnxGraph {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ModelError(`cannot read the model: ${(e as Error).message}`, path);
  }
  return readOnnxGraph(bytes, path);
}

export function lowerOnnx(graph: OnnxGraph, opts: Partial<LowerOptions> = {}): LoweredModel {
  return lowerGraph(graph, { ...DEFAULT_LOWER_OPTIONS, ...opts });
}
