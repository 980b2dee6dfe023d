/**
 * The nibble JSON model format (documented in docs/model-format.md):
 *
 *   { "format": "nibble-model", "version": 1, "name": ..., "weightBits": 4,
 *     "accumulatorBits": 32, "input": {...}, "layers": [...] }
 *
 * Each layer object carries exactly the fields of the IR layer (models/ir.ts),
 * with weights, bias and shift as flat integer arrays. Loading is strict: a
 * missing, extra or mistyped field is an error naming the layer and field, so
 * that a hand-edited or truncated file can never load as a subtly different
 * network. After the structural checks the network goes through
 * analyzeNetwork, which checks channel counts and shapes.
 */

import { readFileSync } from 'node:fs';
import { ModelError, parseJsonStrict } from '../arch/index.js';
import {
  MAX_SHIFT,
  analyzeNetwork,
  layerWhere,
  signedRange,
  type Conv2dLayer,
  type InputSpec,
  type Layer,
  type Network,
} from './ir.js';

export const MODEL_FORMAT = 'nibble-model';
export const MODEL_VERSION = 1;

// ---------------------------------------------------------------------------
// Saving
// ---------------------------------------------------------------------------

function layerToJson(layer: Layer): Record<string, unknown> {
  switch (layer.kind) {
    case 'conv2d':
      return {
        kind: layer.kind,
        name: layer.name,
        inChannels: layer.inChannels,
        outChannels: layer.outChannels,
        kernelH: layer.kernelH,
        kernelW: layer.kernelW,
        strideH: layer.strideH,
        strideW: layer.strideW,
        padH: layer.padH,
        padW: layer.padW,
        weights: layer.weights,
      };
    case 'dense':
      return {
        kind: layer.kind,
        name: layer.name,
        inFeatures: layer.inFeatures,
        outFeatures: layer.outFeatures,
        weights: layer.weights,
      };
    case 'maxpool':
      return { kind: layer.kind, name: layer.name, kernel: layer.kernel, stride: layer.stride };
    case 'requant':
      return {
        kind: layer.kind,
        name: layer.name,
        signed: layer.signed,
        bits: layer.bits,
        bias: layer.bias,
        shift: layer.shift,
      };
    case 'flatten':
      return { kind: layer.kind, name: layer.name };
    case 'residual':
      return {
        kind: layer.kind,
        name: layer.name,
        main: layer.main.map(layerToJson),
        shortcut: layerToJson(layer.shortcut),
      };
  }
}

/**
 * Pretty-prints objects one key per line but keeps number arrays (the IR's
 * typed arrays) on one line, so files stay diffable and compact. Typed arrays
 * use the native join: models can hold tens of millions of weights.
 */
function pretty(value: unknown, indent: string): string {
  if (value instanceof Int8Array || value instanceof Int32Array) return `[${value.join(', ')}]`;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const inner = indent + '  ';
    return `[\n${value.map((v) => inner + pretty(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const inner = indent + '  ';
    const entries = Object.entries(value).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${pretty(v, inner)}`);
    return `{\n${entries.join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

/** Serialize a (validated) network to the versioned JSON model format. */
export function saveModelJson(net: Network): string {
  analyzeNetwork(net);
  const doc = {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    name: net.name,
    weightBits: net.weightBits,
    accumulatorBits: net.accumulatorBits,
    input: {
      channels: net.input.channels,
      height: net.input.height,
      width: net.input.width,
      bits: net.input.bits,
      signed: net.input.signed,
    },
    layers: net.layers.map(layerToJson),
  };
  return pretty(doc, '') + '\n';
}

// ---------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (v === undefined) return 'nothing (the field is missing)';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v)}`;
  return `${typeof v} ${String(v)}`;
}

/** Structural checks for one JSON object, failing with `where: field ...: reason`. */
class Fields {
  constructor(
    readonly obj: Record<string, unknown>,
    readonly where: string,
  ) {}

  static of(value: unknown, where: string, what: string): Fields {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ModelError(`expected ${what} (a JSON object), got ${describe(value)}`, where);
    }
    return new Fields(value as Record<string, unknown>, where);
  }

  fail(field: string, reason: string): never {
    throw new ModelError(`field ${field}: ${reason}`, this.where);
  }

  /** Exactly these keys: reports the first missing one, then any extra one. */
  exactly(keys: readonly string[], what: string): void {
    for (const k of keys) if (!(k in this.obj)) this.fail(k, `missing (required for ${what})`);
    for (const k of Object.keys(this.obj)) {
      if (!keys.includes(k)) this.fail(k, `unknown field for ${what} (allowed: ${keys.join(', ')})`);
    }
  }

  int(key: string, min: number, max?: number): number {
    const v = this.obj[key];
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(key, `expected an integer, got ${describe(v)}`);
    const n = v as number;
    if (n < min) this.fail(key, `must be >= ${min}, got ${n}`);
    if (max !== undefined && n > max) this.fail(key, `must be <= ${max}, got ${n}`);
    return n;
  }

  bool(key: string): boolean {
    const v = this.obj[key];
    if (typeof v !== 'boolean') this.fail(key, `expected true or false, got ${describe(v)}`);
    return v as boolean;
  }

  string(key: string): string {
    const v = this.obj[key];
    if (typeof v !== 'string' || v === '') this.fail(key, `expected a non-empty string, got ${describe(v)}`);
    return v as string;
  }

  /** Integer array of an exact length (`dims` explains the expected count) and range. */
  ints(key: string, length: number, dims: string, lo: number, hi: number, rangeNote: string): number[] {
    const v = this.obj[key];
    if (!Array.isArray(v)) this.fail(key, `expected an array of integers, got ${describe(v)}`);
    const a = v as unknown[];
    if (a.length !== length) this.fail(key, `expected ${length} values (${dims}), got ${a.length}`);
    for (let i = 0; i < a.length; i++) {
      const x = a[i];
      if (typeof x !== 'number' || !Number.isInteger(x))
        this.fail(`${key}[${i}]`, `expected an integer, got ${describe(x)}`);
      if ((x as number) < lo || (x as number) > hi) {
        this.fail(`${key}[${i}]`, `value ${x} is outside [${lo}, ${hi}]${rangeNote}`);
      }
    }
    return a as number[];
  }
}

const LAYER_KEYS: Record<Layer['kind'], readonly string[]> = {
  conv2d: [
    'kind',
    'name',
    'inChannels',
    'outChannels',
    'kernelH',
    'kernelW',
    'strideH',
    'strideW',
    'padH',
    'padW',
    'weights',
  ],
  dense: ['kind', 'name', 'inFeatures', 'outFeatures', 'weights'],
  maxpool: ['kind', 'name', 'kernel', 'stride'],
  requant: ['kind', 'name', 'signed', 'bits', 'bias', 'shift'],
  flatten: ['kind', 'name'],
  residual: ['kind', 'name', 'main', 'shortcut'],
};

/** Channel count of each requant is only known from the shapes; the structural pass checks bias/shift against each other. */
function parseLayer(value: unknown, where: string, weightBits: number): Layer {
  const f = Fields.of(value, where, 'a layer');
  const kind = f.obj['kind'];
  if (kind === undefined) f.fail('kind', `missing: every layer names its kind (${Object.keys(LAYER_KEYS).join(', ')})`);
  if (typeof kind !== 'string' || !(kind in LAYER_KEYS)) {
    f.fail('kind', `unknown layer kind ${describe(kind)} (expected one of ${Object.keys(LAYER_KEYS).join(', ')})`);
  }
  const k = kind as Layer['kind'];
  f.exactly(LAYER_KEYS[k], `a ${k} layer`);
  const name = f.string('name');
  const w = signedRange(weightBits);
  const wNote = ` for weightBits ${weightBits}`;
  switch (k) {
    case 'conv2d': {
      const inChannels = f.int('inChannels', 1);
      const outChannels = f.int('outChannels', 1);
      const kernelH = f.int('kernelH', 1);
      const kernelW = f.int('kernelW', 1);
      const strideH = f.int('strideH', 1);
      const strideW = f.int('strideW', 1);
      const padH = f.int('padH', 0);
      const padW = f.int('padW', 0);
      const count = outChannels * inChannels * kernelH * kernelW;
      const weights = f.ints(
        'weights',
        count,
        `outChannels x inChannels x kernelH x kernelW = ${outChannels}x${inChannels}x${kernelH}x${kernelW}`,
        w.lo,
        w.hi,
        wNote,
      );
      return {
        kind: k,
        name,
        inChannels,
        outChannels,
        kernelH,
        kernelW,
        strideH,
        strideW,
        padH,
        padW,
        weights: Int8Array.from(weights),
      };
    }
    case 'dense': {
      const inFeatures = f.int('inFeatures', 1);
      const outFeatures = f.int('outFeatures', 1);
      const weights = f.ints(
        'weights',
        outFeatures * inFeatures,
        `outFeatures x inFeatures = ${outFeatures}x${inFeatures}`,
        w.lo,
        w.hi,
        wNote,
      );
      return { kind: k, name, inFeatures, outFeatures, weights: Int8Array.from(weights) };
    }
    case 'maxpool':
      return { kind: k, name, kernel: f.int('kernel', 1), stride: f.int('stride', 1) };
    case 'flatten':
      return { kind: k, name };
    case 'requant': {
      const signed = f.bool('signed');
      const bits = f.int('bits', signed ? 2 : 1, 16);
      const b = f.obj['bias'];
      if (!Array.isArray(b)) f.fail('bias', `expected an array of integers, got ${describe(b)}`);
      const channels = (b as unknown[]).length;
      const bias = f.ints('bias', channels, 'one per channel', -(2 ** 31), 2 ** 31 - 1, ' (32-bit)');
      const shift = f.ints('shift', channels, `one per channel, as many as bias`, -MAX_SHIFT, MAX_SHIFT, '');
      return { kind: k, name, signed, bits, bias: Int32Array.from(bias), shift: Int8Array.from(shift) };
    }
    case 'residual': {
      const main = f.obj['main'];
      if (!Array.isArray(main) || main.length === 0)
        f.fail('main', `expected a non-empty array of layers, got ${describe(main)}`);
      const layers = (main as unknown[]).map((m, i) =>
        parseLayer(m, layerWhere(i, (m as { name?: unknown } | null)?.name, where), weightBits),
      );
      const scValue = f.obj['shortcut'];
      const scWhere = layerWhere(0, (scValue as { name?: unknown } | null)?.name, where, 'shortcut');
      const shortcut = parseLayer(scValue, scWhere, weightBits);
      if (shortcut.kind !== 'conv2d') f.fail('shortcut', `must be a conv2d layer, got a ${shortcut.kind}`);
      return { kind: k, name, main: layers, shortcut: shortcut as Conv2dLayer };
    }
  }
}

const TOP_KEYS = ['format', 'version', 'name', 'weightBits', 'accumulatorBits', 'input', 'layers'] as const;
const INPUT_KEYS = ['channels', 'height', 'width', 'bits', 'signed'] as const;

/**
 * Parse and fully validate a JSON model. `source` (a file name) prefixes every
 * error; syntax errors give `source:line:col`.
 */
export function loadModelJson(text: string, source = '<model.json>'): Network {
  // Strict: duplicate keys and nesting deeper than the readers below can follow are errors.
  const doc = parseJsonStrict(text, source, ModelError);
  const top = Fields.of(doc, source, 'a nibble model');
  if (top.obj['format'] !== MODEL_FORMAT) {
    top.fail('format', `expected "${MODEL_FORMAT}", got ${describe(top.obj['format'])} (not a nibble model file?)`);
  }
  if (top.obj['version'] !== MODEL_VERSION) {
    top.fail(
      'version',
      `unsupported version ${describe(top.obj['version'])}: this build reads version ${MODEL_VERSION}`,
    );
  }
  top.exactly(TOP_KEYS, 'a nibble model');
  const name = top.obj['name'];
  if (typeof name !== 'string') top.fail('name', `expected a string, got ${describe(name)}`);
  const weightBits = top.int('weightBits', 2, 8);
  const accumulatorBits = top.int('accumulatorBits', 2, 32);
  const inp = Fields.of(top.obj['input'], `${source}: input`, 'the input description');
  inp.exactly(INPUT_KEYS, 'the input description');
  const bits = inp.int('bits', 4, 8);
  if (bits !== 4 && bits !== 8) inp.fail('bits', `must be 4 or 8, got ${bits}`);
  if (inp.obj['signed'] !== false)
    inp.fail('signed', `network inputs are unsigned: must be false, got ${describe(inp.obj['signed'])}`);
  const input: InputSpec = {
    channels: inp.int('channels', 1),
    height: inp.int('height', 1),
    width: inp.int('width', 1),
    bits: bits as 4 | 8,
    signed: false,
  };
  const rawLayers = top.obj['layers'];
  if (!Array.isArray(rawLayers) || rawLayers.length === 0) {
    top.fail('layers', `expected a non-empty array of layers, got ${describe(rawLayers)}`);
  }
  const layers = (rawLayers as unknown[]).map((l, i) =>
    parseLayer(l, `${source}: ${layerWhere(i, (l as { name?: unknown } | null)?.name)}`, weightBits),
  );
  const net: Network = { name: name as string, input, layers, weightBits, accumulatorBits };
  try {
    analyzeNetwork(net);
  } catch (e) {
    if (e instanceof ModelError) {
      const reason = e.where === undefined ? e.message : e.message.slice(e.where.length + 2);
      throw new ModelError(reason, e.where === undefined ? source : `${source}: ${e.where}`);
    }
    throw e;
  }
  return net;
}

/** Read and load a JSON model file. */
export function loadModelJsonFile(path: string): Network {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ModelError(code === 'ENOENT' ? 'file not found' : `cannot read file: ${(e as Error).message}`, path);
  }
  return loadModelJson(text, path);
}
