/**
 * `import --check`: the imported integer network (host input transform,
 * golden reference executor, host output transform and heads) against the
 * float executor's reading of the original graph, on the same raw inputs.
 * Exact imports must agree on every output value (up to the float64 rounding
 * of the final rescale, 1e-9 relative); converted ones report how often and
 * by how much they differ, and the top-1 agreement and accuracies.
 */
import { top1Accuracy, type Top1Result } from '../accuracy.js';
import { applyHeads, applyInputTransform, applyOutputTransform, type HostStages } from '../host.js';
import type { Network } from '../ir.js';
import { runReference } from '../reference.js';
import { runGraph } from './execute/index.js';
import type { OnnxGraph } from './graph.js';
import type { GraphInput, LoweredModel } from './lower/index.js';
import { DATA_TYPE } from './schema.js';
import type { Tensor } from './tensor.js';

export const VALUE_TOLERANCE = 1e-9;

export interface CheckResult {
  images: number;
  /** output values per image */
  size: number;
  equalValues: number;
  values: number;
  /** images whose every output value agrees */
  equalImages: number;
  maxAbsError: number;
  /** images whose largest output is the same (lowest index on ties) */
  top1Agreement: number;
  firstMismatch?: { image: number; index: number; model: number; nibble: number };
  accuracy?: { model: Top1Result; nibble: Top1Result };
}

/** The ONNX graph input for one raw image (canonical C,H,W order), as the model sees it. */
export function modelInput(input: GraphInput, rawScale: number, rawOffset: number, raw: Uint8Array): Tensor {
  const { dims, order, float } = input;
  const s = rawScale;
  const o = rawOffset;
  const data = new Float64Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const r = raw[order ? order[i]! : i]!;
    data[i] = float ? r * s + o : r;
  }
  return { dims, data, dataType: DATA_TYPE.FLOAT };
}

/** The float model's outputs (after its heads) for count raw images. */
export function modelOutputs(
  graph: OnnxGraph,
  lowered: LoweredModel,
  host: HostStages,
  raw: Uint8Array,
  count: number,
): Float64Array {
  const size = raw.length / count;
  const chunks: Float64Array[] = [];
  for (let k = 0; k < count; k++) {
    const x = modelInput(
      lowered.input,
      host.input?.rawScale ?? 1 / 255,
      host.input?.rawOffset ?? 0,
      raw.subarray(k * size, (k + 1) * size),
    );
    const out = runGraph(graph, new Map([[lowered.input.name, x]]));
    chunks.push(out.get(lowered.output)!.data);
  }
  const per = chunks[0]?.length ?? 0;
  const all = new Float64Array(count * per);
  chunks.forEach((c, k) => all.set(c, k * per));
  return all;
}

/** The imported network's outputs (after host output transform and heads) for count raw images. */
export function nibbleOutputs(net: Network, host: HostStages, raw: Uint8Array, count: number): Float64Array {
  const inputs = host.input ? applyInputTransform(host.input, raw, net.input.channels, count) : raw;
  const r = runReference(net, inputs, count);
  if (!host.output) return Float64Array.from(r.output);
  const values = applyOutputTransform(host.output, r.output, count);
  return applyHeads(host.output.heads, values, host.output.size);
}

function argmax(v: Float64Array, base: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (v[base + i]! > v[base + best]!) best = i;
  return best;
}

export function compareOutputs(
  model: Float64Array,
  nibble: Float64Array,
  count: number,
  labels?: ArrayLike<number>,
): CheckResult {
  const size = model.length / count;
  let equalValues = 0;
  let equalImages = 0;
  let maxAbsError = 0;
  let top1 = 0;
  let firstMismatch: CheckResult['firstMismatch'];
  for (let k = 0; k < count; k++) {
    let all = true;
    for (let i = 0; i < size; i++) {
      const a = model[k * size + i]!;
      const b = nibble[k * size + i]!;
      const d = Math.abs(a - b);
      maxAbsError = Math.max(maxAbsError, d);
      if (d <= VALUE_TOLERANCE * Math.max(1, Math.abs(a), Math.abs(b))) equalValues++;
      else {
        all = false;
        firstMismatch ??= { image: k, index: i, model: a, nibble: b };
      }
    }
    if (all) equalImages++;
    if (argmax(model, k * size, size) === argmax(nibble, k * size, size)) top1++;
  }
  return {
    images: count,
    size,
    equalValues,
    values: model.length,
    equalImages,
    maxAbsError,
    top1Agreement: top1,
    ...(firstMismatch ? { firstMismatch } : {}),
    ...(labels && size > 1
      ? { accuracy: { model: top1Accuracy(model, size, labels), nibble: top1Accuracy(nibble, size, labels) } }
      : {}),
  };
}

export function checkImport(
  graph: OnnxGraph,
  lowered: LoweredModel,
  raw: Uint8Array,
  count: number,
  labels?: ArrayLike<number>,
): CheckResult {
  const model = modelOutputs(graph, lowered, lowered.host, raw, count);
  const nibble = nibbleOutputs(lowered.network, lowered.host, raw, count);
  return compareOutputs(model, nibble, count, labels);
}

/** The float values of the named ONNX tensors on count raw images (one tensor per image each). */
export function probeValues(
  graph: OnnxGraph,
  lowered: LoweredModel,
  raw: Uint8Array,
  count: number,
  names: readonly string[],
): Map<string, Tensor[]> {
  const size = raw.length / count;
  const keep = new Set(names);
  const out = new Map<string, Tensor[]>(names.map((n) => [n, []]));
  for (let k = 0; k < count; k++) {
    const h = lowered.host.input;
    const x = modelInput(
      lowered.input,
      h?.rawScale ?? 1 / 255,
      h?.rawOffset ?? 0,
      raw.subarray(k * size, (k + 1) * size),
    );
    const values = runGraph(graph, new Map([[lowered.input.name, x]]), { keep });
    for (const n of names) {
      const t = values.get(n);
      if (t) out.get(n)!.push(t);
    }
  }
  return out;
}

/** Per ONNX value, the smallest and largest float over count raw images (post-training quantization ranges). */
export function valueRanges(
  graph: OnnxGraph,
  input: GraphInput,
  rawScale: number,
  rawOffset: number,
  raw: Uint8Array,
  count: number,
): Map<string, { min: number; max: number }> {
  const size = raw.length / count;
  const ranges = new Map<string, { min: number; max: number }>();
  for (let k = 0; k < count; k++) {
    const x = modelInput(input, rawScale, rawOffset, raw.subarray(k * size, (k + 1) * size));
    for (const [name, t] of runGraph(graph, new Map([[input.name, x]]), { keep: 'all' })) {
      if (graph.initializers.has(name)) continue;
      const r = ranges.get(name) ?? { min: Infinity, max: -Infinity };
      for (const v of t.data) {
        if (v < r.min) r.min = v;
        if (v > r.max) r.max = v;
      }
      ranges.set(name, r);
    }
  }
  return ranges;
}
