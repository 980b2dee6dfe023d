/**
 * The nibble JSON model format (documented in docs/model-format.md):
 *
 *   { "format": "nibble-model", "version": 1, "name": ..., "weightBits": 4,
 *     "accumulatorBits": 32, "input": {...}, "layers": [...] }
 *
 * Each layer object carries exactly the fields of its kind's IR type (the
 * kind's `fields`, models/layers/<kind>.ts, which also reads and writes it),
 * with weights, bias and shift as flat integer arrays. Loading is strict: a
 * missing, extra or mistyped field is an error naming the layer and field, so
 * that a hand-edited or truncated file can never load as a subtly different
 * network. After the structural checks the network goes through
 * analyzeNetwork, which checks channel counts and shapes.
 */

import { readFileSync } from 'node:fs';
import { ModelError, parseJsonStrict } from '../arch/index.js';
import { analyzeNetwork } from './analysis.js';
import { layerWhere, type InputSpec, type Layer, type Network } from './ir.js';
import { LAYER_KINDS, knownLayerModule, layerModule } from './layers/index.js';
import { describeJson, Fields } from './layers/json-fields.js';
import { readModelJsonFast } from './model-json-reader.js';

export const MODEL_FORMAT = 'nibble-model';
export const MODEL_VERSION = 1;

// ---------------------------------------------------------------------------
// Saving
// ---------------------------------------------------------------------------

function layerToJson(layer: Layer): Record<string, unknown> {
  return knownLayerModule(layer).toJson(layer, { write: layerToJson });
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

/**
 * One layer object: what all kinds share (an object, a known kind, exactly its
 * fields, a name), then its kind's `fromJson`. Shapes are checked afterwards by
 * analyzeNetwork (a requant's channel count, for one, is only known from them).
 */
function parseLayer(value: unknown, where: string, weightBits: number): Layer {
  const f = Fields.of(value, where, 'a layer');
  const kind = f.obj['kind'];
  if (kind === undefined) f.fail('kind', `missing: every layer names its kind (${LAYER_KINDS.join(', ')})`);
  const module = layerModule(kind);
  if (module === undefined) {
    return f.fail('kind', `unknown layer kind ${describeJson(kind)} (expected one of ${LAYER_KINDS.join(', ')})`);
  }
  f.exactly(module.fields, `a ${module.kind} layer`, module.optionalFields);
  const name = f.string('name');
  return module.fromJson(f, {
    name,
    weightBits,
    parse: (sub, subWhere) => parseLayer(sub, subWhere, weightBits),
  });
}

const TOP_KEYS = ['format', 'version', 'name', 'weightBits', 'accumulatorBits', 'input', 'layers'] as const;
const INPUT_KEYS = ['channels', 'height', 'width', 'bits', 'signed'] as const;

/**
 * Parse and fully validate a JSON model. `source` (a file name) prefixes every
 * error; syntax errors give `source:line:col`.
 */
export function loadModelJson(text: string, source = '<model.json>'): Network {
  // Strict: duplicate keys and nesting deeper than the readers below can follow are errors. The fast reader takes
  // the documents nibble writes; anything else (and every error) is the strict reader's
  const doc = readModelJsonFast(text) ?? parseJsonStrict(text, source, ModelError);
  const top = Fields.of(doc, source, 'a nibble model');
  if (top.obj['format'] !== MODEL_FORMAT) {
    top.fail('format', `expected "${MODEL_FORMAT}", got ${describeJson(top.obj['format'])} (not a nibble model file?)`);
  }
  if (top.obj['version'] !== MODEL_VERSION) {
    top.fail(
      'version',
      `unsupported version ${describeJson(top.obj['version'])}: this build reads version ${MODEL_VERSION}`,
    );
  }
  top.exactly(TOP_KEYS, 'a nibble model');
  const name = top.obj['name'];
  if (typeof name !== 'string') top.fail('name', `expected a string, got ${describeJson(name)}`);
  const weightBits = top.int('weightBits', 2, 8);
  const accumulatorBits = top.int('accumulatorBits', 2, 32);
  const inp = Fields.of(top.obj['input'], `${source}: input`, 'the input description');
  inp.exactly(INPUT_KEYS, 'the input description');
  const bits = inp.int('bits', 4, 8);
  if (bits !== 4 && bits !== 8) inp.fail('bits', `must be 4 or 8, got ${bits}`);
  if (inp.obj['signed'] !== false)
    inp.fail('signed', `network inputs are unsigned: must be false, got ${describeJson(inp.obj['signed'])}`);
  const input: InputSpec = {
    channels: inp.int('channels', 1),
    height: inp.int('height', 1),
    width: inp.int('width', 1),
    bits: bits as 4 | 8,
    signed: false,
  };
  const rawLayers = top.obj['layers'];
  if (!Array.isArray(rawLayers) || rawLayers.length === 0) {
    top.fail('layers', `expected a non-empty array of layers, got ${describeJson(rawLayers)}`);
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
