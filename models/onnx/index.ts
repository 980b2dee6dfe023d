/**
 * ONNX and QONNX import (docs/import.md): read a model file, lower it to a
 * nibble network with host stages, and check it against the float executor.
 */
import { readFileSync } from 'node:fs';
import { ModelError } from '../../arch/index.js';
import { readOnnxGraph, type OnnxGraph } from './graph.js';
import { probeValues, valueRanges } from './check.js';
import { RAW_SCALE_KEY } from './export.js';
import { graphInput, lowerGraph, type LoweredModel, type LowerOptions } from './lower/index.js';

export { readOnnxGraph, looksLikeOnnx, type OnnxGraph, type OnnxNode } from './graph.js';
export { runGraph } from './execute/index.js';
export { exportQonnx, QONNX_DOMAIN, RAW_SCALE_KEY } from './export.js';
export { encodeModel, floatTensor, type AttrSpec, type GraphSpec, type NodeSpec, type ValueSpec } from './encode.js';
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

/**
 * Options with their defaults: the raw input scale recorded by `nibble export`
 * (metadata nibble.raw_input_scale) when not given, the graph's name as the network's.
 */
export function resolveOptions(graph: OnnxGraph, opts: Partial<LowerOptions>): LowerOptions {
  const hinted = Number(graph.metadata.get(RAW_SCALE_KEY));
  return {
    ...DEFAULT_LOWER_OPTIONS,
    ...(Number.isFinite(hinted) && hinted > 0 ? { inputScale: hinted } : {}),
    ...(graph.name ? { name: graph.name } : {}),
    ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)),
  };
}

export function lowerOnnx(graph: OnnxGraph, opts: Partial<LowerOptions> = {}): LoweredModel {
  return lowerGraph(graph, resolveOptions(graph, opts));
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
    const o = resolveOptions(graph, opts);
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
