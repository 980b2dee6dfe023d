/**
 * ONNX and QONNX import (docs/import.md): read a model file, lower it to a
 * nibble network with host stages, and check it against the float executor.
 */
import { readFileSync } from 'node:fs';
import { ModelError } from '../../arch/index.js';
import { readOnnxGraph, type OnnxGraph } from './graph.js';
import { probeValues, valueRanges } from './check.js';
import { graphInput, lowerGraph, type LoweredModel, type LowerOptions } from './lower/index.js';

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

/** Calibration images for an import: raw 8-bit inputs in the network input's C,H,W order. */
export interface CalibrationImages {
  raw: Uint8Array;
  count: number;
}

/**
 * Lower, and with calibration images lower again with the accumulator
 * histograms of every requant weighting its inexact fits (exact fits are the
 * same either way).
 */
export function importOnnxGraph(
  graph: OnnxGraph,
  opts: Partial<LowerOptions> = {},
  calibration?: CalibrationImages,
  quantize = false,
): LoweredModel {
  if (quantize) {
    if (!calibration) throw new ModelError('--quantize needs calibration data (--calibrate DATASET)', graph.file);
    const o = { ...DEFAULT_LOWER_OPTIONS, ...opts };
    const stats = valueRanges(
      graph,
      graphInput(graph),
      o.inputScale,
      o.inputOffset,
      calibration.raw,
      calibration.count,
    );
    opts = { ...opts, quantize: { stats } };
  }
  const first = lowerOnnx(graph, opts);
  if (!calibration || first.exact || first.probes.length === 0) return first;
  const values = probeValues(graph, first, calibration.raw, calibration.count, first.probes);
  return lowerOnnx(graph, { ...opts, calibration: values });
}
