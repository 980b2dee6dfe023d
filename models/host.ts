/**
 * Host-side stages stored with an imported model: what runs on the CPU
 * before and after the accelerator so that the integer network computes
 * exactly what the source model (an ONNX file) defines.
 *
 *  - input: the model's input quantizer as a table from the raw 8-bit input
 *    value (a pixel) to the network's integer input, per channel. The raw
 *    value r stands for the float rawScale * r + rawOffset (x/255 by default,
 *    the usual image convention).
 *  - output: the network's integer outputs back to the model's values:
 *    value[i] = gain[i] * (sum of value i's slices) + bias[i], in the model's
 *    output order, then optional heads (Softmax, ArgMax, TopK) that the
 *    accelerator does not compute.
 */
import { DatasetError, ModelError } from '../arch/index.js';

export interface InputTransform {
  rawBits: 8;
  rawScale: number;
  rawOffset: number;
  /** per input channel: 256 network input codes; null = the raw value is the network input */
  tables: Int32Array[] | null;
  /** one line for reports */
  description: string;
}

export type HostHead = { kind: 'softmax' } | { kind: 'argmax' } | { kind: 'topk'; k: number };

export interface OutputTransform {
  /** model output values per image */
  size: number;
  /** network output index of model value i's first slice (slices of one value are consecutive network channels) */
  index: Int32Array;
  /** network channels summed into one value (wide outputs on a narrow machine) */
  slices: number;
  /** distance between a value's slices in the network output (1 for vectors, H*W for feature maps) */
  sliceStride: number;
  /** per model value: value = gain * code sum + bias */
  gain: Float64Array;
  bias: Float64Array;
  heads: HostHead[];
}

export interface HostStages {
  input?: InputTransform;
  output?: OutputTransform;
}

/** A network together with its host stages, as a loaded model file holds it. */
export interface WithHost {
  host?: HostStages;
}

export function checkHostStages(h: HostStages, inputChannels: number, outputSize: number, where: string): void {
  const i = h.input;
  if (i) {
    if (i.rawBits !== 8) throw new ModelError(`host input: rawBits must be 8, got ${String(i.rawBits)}`, where);
    if (!Number.isFinite(i.rawScale) || !Number.isFinite(i.rawOffset)) {
      throw new ModelError('host input: rawScale and rawOffset must be finite numbers', where);
    }
    if (i.tables && i.tables.length !== inputChannels && i.tables.length !== 1) {
      throw new ModelError(`host input: ${i.tables.length} tables for ${inputChannels} input channels`, where);
    }
    for (const t of i.tables ?? []) {
      if (t.length !== 256) throw new ModelError(`host input: a table has ${t.length} entries, expected 256`, where);
    }
  }
  const o = h.output;
  if (o) {
    if (o.index.length !== o.size || o.gain.length !== o.size || o.bias.length !== o.size) {
      throw new ModelError('host output: index, gain and bias must have one entry per model output value', where);
    }
    if (!Number.isInteger(o.slices) || o.slices < 1) throw new ModelError('host output: slices must be >= 1', where);
    for (const ix of o.index) {
      if (ix < 0 || ix + (o.slices - 1) * o.sliceStride >= outputSize) {
        throw new ModelError(`host output: index ${ix} is outside the network's ${outputSize} outputs`, where);
      }
    }
  }
}

/** Raw 8-bit inputs (count images, NCHW) to network inputs, through the input tables. */
export function applyInputTransform(t: InputTransform, raw: Uint8Array, channels: number, count: number): Uint8Array {
  if (!t.tables) return raw;
  const size = raw.length / count;
  const plane = size / channels;
  const out = new Uint8Array(raw.length);
  for (let k = 0; k < count; k++) {
    for (let c = 0; c < channels; c++) {
      const table = t.tables[t.tables.length === 1 ? 0 : c]!;
      const base = k * size + c * plane;
      for (let p = 0; p < plane; p++) out[base + p] = table[raw[base + p]!]!;
    }
  }
  return out;
}

/** Network outputs (count images) to the model's values (before the heads). */
export function applyOutputTransform(t: OutputTransform, outputs: Int32Array, count: number): Float64Array {
  const size = outputs.length / count;
  if (!Number.isInteger(size)) throw new DatasetError('output count does not divide into images', 'host output');
  const out = new Float64Array(count * t.size);
  for (let k = 0; k < count; k++) {
    for (let i = 0; i < t.size; i++) {
      let s = 0;
      const base = k * size + t.index[i]!;
      for (let j = 0; j < t.slices; j++) s += outputs[base + j * t.sliceStride]!;
      out[k * t.size + i] = t.gain[i]! * s + t.bias[i]!;
    }
  }
  return out;
}

/** Per-image scores for top-1: the model's values (a softmax or argmax head keeps the ranking). */
export function hostScores(h: HostStages | undefined, outputs: Int32Array, count: number): Float64Array | Int32Array {
  if (!h?.output) return outputs;
  return applyOutputTransform(h.output, outputs, count);
}

/** The output heads, per image, on the model's values. */
export function applyHeads(heads: readonly HostHead[], values: Float64Array, size: number): Float64Array {
  let v = values;
  let n = size;
  for (const h of heads) {
    const count = v.length / n;
    if (h.kind === 'softmax') {
      const out = new Float64Array(v.length);
      for (let k = 0; k < count; k++) {
        let m = -Infinity;
        for (let i = 0; i < n; i++) m = Math.max(m, v[k * n + i]!);
        let s = 0;
        for (let i = 0; i < n; i++) s += Math.exp(v[k * n + i]! - m);
        for (let i = 0; i < n; i++) out[k * n + i] = Math.exp(v[k * n + i]! - m) / s;
      }
      v = out;
    } else if (h.kind === 'argmax') {
      const out = new Float64Array(count);
      for (let k = 0; k < count; k++) {
        let best = 0;
        for (let i = 1; i < n; i++) if (v[k * n + i]! > v[k * n + best]!) best = i;
        out[k] = best;
      }
      v = out;
      n = 1;
    } else {
      const out = new Float64Array(count * h.k);
      for (let k = 0; k < count; k++) {
        const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => v[k * n + b]! - v[k * n + a]! || a - b);
        for (let j = 0; j < h.k; j++) out[k * h.k + j] = v[k * n + idx[j]!]!;
      }
      v = out;
      n = h.k;
    }
  }
  return v;
}
