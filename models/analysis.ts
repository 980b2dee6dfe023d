/**
 * Analysis: validation and shape / value-kind inference of a network.
 *
 * Shapes only exist for well-formed networks, so one walk does both: it checks
 * every field and records, per layer, what flows in and out. The compiler and
 * the simulator rely on these invariants instead of re-checking them. This
 * file walks the chain and checks what all layers share (an object, a unique
 * name, a known kind); each kind's `analyze` (models/layers/<kind>.ts) checks
 * its own fields.
 */

import { ModelError } from '../arch/index.js';
import {
  MAX_ACCUMULATOR_BITS,
  MAX_WEIGHT_BITS,
  MIN_ACCUMULATOR_BITS,
  MIN_WEIGHT_BITS,
  layerWhere,
  unsignedRange,
  type ActivationValue,
  type Layer,
  type LayerInfo,
  type Network,
  type NetworkAnalysis,
  type ValueInfo,
} from './ir.js';
import { checker, describeValue } from './layers/checks.js';
import { knownLayerModule, layerModule } from './layers/index.js';

interface ChainContext {
  net: Network;
  /** layer name -> where it was first used */
  names: Map<string, string>;
}

function analyzeLayer(
  layer: Layer,
  index: number,
  path: string,
  where: string,
  input: ValueInfo,
  ctx: ChainContext,
): LayerInfo {
  if (typeof layer !== 'object' || layer === null) {
    throw new ModelError(`expected a layer object, got ${describeValue(layer)}`, where);
  }
  const l = layer as unknown as Record<string, unknown>;
  const ck = checker(where, l);
  if (typeof l['name'] !== 'string' || l['name'] === '')
    ck.fail('name', `expected a non-empty string, got ${describeValue(l['name'])}`);
  const previous = ctx.names.get(layer.name);
  if (previous !== undefined) ck.fail('name', `'${layer.name}' is already used by ${previous}`);
  ctx.names.set(layer.name, where);

  const module = layerModule(l['kind']);
  if (module === undefined) return ck.fail('kind', `unknown layer kind ${describeValue(l['kind'])}`);
  const result = module.analyze(ck, layer, input, {
    net: ctx.net,
    index,
    path,
    where,
    chain: (layers, chainInput, parentWhere, parentPath) =>
      analyzeChain(layers, chainInput, ctx, parentWhere, parentPath),
    layer: (sub, subIndex, subPath, subWhere, subInput) =>
      analyzeLayer(sub, subIndex, subPath, subWhere, subInput, ctx),
  });
  const info: LayerInfo = { index, path, where, layer, input, output: result.output, macs: result.macs };
  if (result.children !== undefined) info.children = result.children;
  return info;
}

function analyzeChain(
  layers: Layer[],
  input: ValueInfo,
  ctx: ChainContext,
  parentWhere?: string,
  parentPath?: string,
): LayerInfo[] {
  const infos: LayerInfo[] = [];
  let value = input;
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]!;
    const name = typeof layer === 'object' && layer !== null ? (layer as { name?: unknown }).name : undefined;
    const where = layerWhere(i, name, parentWhere);
    const path = parentPath === undefined ? `${i}` : `${parentPath}.main[${i}]`;
    const info = analyzeLayer(layer, i, path, where, value, ctx);
    knownLayerModule(layer).checkNext?.(layers[i + 1], where);
    infos.push(info);
    value = info.output;
  }
  return infos;
}

/**
 * Validate every field of a network and infer per-layer shapes and value
 * kinds. Throws ModelError naming the layer (index and name) and the field.
 */
export function analyzeNetwork(net: Network): NetworkAnalysis {
  const where = `network '${typeof net?.name === 'string' ? net.name : '?'}'`;
  if (typeof net !== 'object' || net === null)
    throw new ModelError(`expected a network object, got ${describeValue(net)}`);
  const n = net as unknown as Record<string, unknown>;
  const ck = checker(where, n);
  if (typeof n['name'] !== 'string') ck.fail('name', `expected a string, got ${describeValue(n['name'])}`);
  ck.int('weightBits', MIN_WEIGHT_BITS, MAX_WEIGHT_BITS);
  ck.int('accumulatorBits', MIN_ACCUMULATOR_BITS, MAX_ACCUMULATOR_BITS);
  const spec = n['input'];
  if (typeof spec !== 'object' || spec === null) ck.fail('input', `expected an object, got ${describeValue(spec)}`);
  const inputFields = spec as Record<string, unknown>;
  const positive = (f: string): number => {
    const v = inputFields[f];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
      ck.fail(`input.${f}`, `expected a positive integer, got ${describeValue(v)}`);
    }
    return v as number;
  };
  const channels = positive('channels');
  const height = positive('height');
  const width = positive('width');
  const bits = inputFields['bits'];
  if (bits !== 4 && bits !== 8) ck.fail('input.bits', `must be 4 or 8, got ${describeValue(bits)}`);
  if (inputFields['signed'] !== false) {
    ck.fail('input.signed', `network inputs are unsigned: must be false, got ${describeValue(inputFields['signed'])}`);
  }
  if (!Array.isArray(n['layers']) || net.layers.length === 0) {
    ck.fail('layers', `expected a non-empty list of layers, got ${describeValue(n['layers'])}`);
  }
  const { lo, hi } = unsignedRange(bits as number);
  const input: ActivationValue = {
    kind: 'act',
    shape: { c: channels, h: height, w: width },
    signed: false,
    bits: bits as number,
    lo,
    hi,
  };
  const layers = analyzeChain(net.layers, input, { net, names: new Map() });
  const output = layers[layers.length - 1]!.output;
  return { input, layers, output, macs: layers.reduce((s, l) => s + l.macs, 0) };
}

/** Throws ModelError (naming layer index, name and field) if the network is malformed. */
export function validateNetwork(net: Network): void {
  analyzeNetwork(net);
}
