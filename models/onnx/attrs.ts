/**
 * Node attribute access with the specification's defaults, and the one
 * reading of Conv/pool geometry (kernel, strides, dilations, explicit or
 * auto_pad padding) shared by the float executor and the lowering. Every
 * malformed attribute is a located error.
 */
import { ModelError } from '../../arch/index.js';
import type { Attribute, OnnxNode } from './graph.js';

const TYPE_NAMES: Record<number, string> = {
  1: 'FLOAT',
  2: 'INT',
  3: 'STRING',
  4: 'TENSOR',
  5: 'GRAPH',
  6: 'FLOATS',
  7: 'INTS',
  8: 'STRINGS',
};

function get(node: OnnxNode, name: string, type: number): Attribute | undefined {
  const a = node.attrs.get(name);
  if (a === undefined) return undefined;
  // type 0 (UNDEFINED) appears in IR-1-era writers; accept it when the field is present.
  if (a.type !== type && a.type !== 0) {
    throw new ModelError(
      `attribute '${name}' must be ${TYPE_NAMES[type]}, got ${TYPE_NAMES[a.type] ?? `type ${a.type}`}`,
      node.where,
    );
  }
  return a;
}

export function attrInt(node: OnnxNode, name: string, def: number): number {
  return get(node, name, 2)?.i ?? def;
}

export function attrFloat(node: OnnxNode, name: string, def: number): number {
  return get(node, name, 1)?.f ?? def;
}

export function attrString(node: OnnxNode, name: string, def: string): string {
  return get(node, name, 3)?.s ?? def;
}

export function attrInts(node: OnnxNode, name: string): number[] | undefined {
  return get(node, name, 7)?.ints;
}

export function attrFloats(node: OnnxNode, name: string): number[] | undefined {
  return get(node, name, 6)?.floats;
}

export function hasAttr(node: OnnxNode, name: string): boolean {
  return node.attrs.has(name);
}

/** A boolean-valued int attribute (0 or 1). */
export function attrFlag(node: OnnxNode, name: string, def: 0 | 1): boolean {
  const v = attrInt(node, name, def);
  if (v !== 0 && v !== 1) throw new ModelError(`attribute '${name}' must be 0 or 1, got ${v}`, node.where);
  return v === 1;
}

/** Normalizes a possibly negative axis for a tensor of `rank` dimensions. */
export function normalizeAxis(node: OnnxNode, axis: number, rank: number, what = 'axis'): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new ModelError(`${what} ${axis} is out of range for a rank-${rank} tensor`, node.where);
  }
  return a;
}

/** Spatial geometry of a Conv / MaxPool / AveragePool over an N-d input (N spatial dims). */
export interface WindowGeometry {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** padding before each spatial axis */
  padBegin: number[];
  /** padding after each spatial axis */
  padEnd: number[];
  /** output spatial sizes */
  out: number[];
}

/**
 * Reads kernel_shape (or takes it from the weights), strides, dilations,
 * pads / auto_pad and ceil_mode, and computes the output size, as the
 * operator definitions specify (auto_pad SAME_UPPER puts the odd padding
 * element at the end, SAME_LOWER at the beginning).
 */
export function windowGeometry(node: OnnxNode, spatialIn: number[], kernelFromWeights?: number[]): WindowGeometry {
  const n = spatialIn.length;
  const kernel = attrInts(node, 'kernel_shape') ?? kernelFromWeights;
  if (!kernel) throw new ModelError('attribute kernel_shape is missing', node.where);
  if (kernel.length !== n) {
    throw new ModelError(`kernel_shape has ${kernel.length} values for ${n} spatial dimensions`, node.where);
  }
  if (kernelFromWeights && kernelFromWeights.some((k, i) => k !== kernel[i])) {
    throw new ModelError(
      `kernel_shape ${kernel.join('x')} differs from the weights' ${kernelFromWeights.join('x')}`,
      node.where,
    );
  }
  const list = (name: string, def: number): number[] => {
    const v = attrInts(node, name) ?? new Array<number>(n).fill(def);
    if (v.length !== n) throw new ModelError(`${name} has ${v.length} values for ${n} spatial dimensions`, node.where);
    return v;
  };
  const strides = list('strides', 1);
  const dilations = list('dilations', 1);
  for (const [name, v] of [
    ['kernel_shape', kernel],
    ['strides', strides],
    ['dilations', dilations],
  ] as const) {
    if (v.some((x) => !Number.isInteger(x) || x < 1 || x > 65536)) {
      throw new ModelError(`${name} ${v.join(',')} must be positive integers`, node.where);
    }
  }
  const ceil = attrInt(node, 'ceil_mode', 0) === 1;
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  const padBegin = new Array<number>(n).fill(0);
  const padEnd = new Array<number>(n).fill(0);
  const out = new Array<number>(n).fill(0);
  const span = (i: number) => (kernel[i]! - 1) * dilations[i]! + 1;
  if (autoPad === 'NOTSET') {
    const pads = attrInts(node, 'pads') ?? new Array<number>(2 * n).fill(0);
    if (pads.length !== 2 * n) throw new ModelError(`pads has ${pads.length} values, expected ${2 * n}`, node.where);
    if (pads.some((p) => !Number.isInteger(p) || p < 0 || p > 65536)) {
      throw new ModelError(`pads ${pads.join(',')} must be non-negative integers`, node.where);
    }
    for (let i = 0; i < n; i++) {
      padBegin[i] = pads[i]!;
      padEnd[i] = pads[i + n]!;
      const room = spatialIn[i]! + padBegin[i]! + padEnd[i]! - span(i);
      out[i] = (ceil ? Math.ceil(room / strides[i]!) : Math.floor(room / strides[i]!)) + 1;
      // ceil mode: a last window that starts in the end padding is dropped
      if (ceil && (out[i]! - 1) * strides[i]! >= spatialIn[i]! + padBegin[i]!) out[i] = out[i]! - 1;
    }
  } else if (autoPad === 'VALID') {
    for (let i = 0; i < n; i++) out[i] = Math.floor((spatialIn[i]! - span(i)) / strides[i]!) + 1;
  } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    for (let i = 0; i < n; i++) {
      out[i] = Math.ceil(spatialIn[i]! / strides[i]!);
      const total = Math.max(0, (out[i]! - 1) * strides[i]! + span(i) - spatialIn[i]!);
      const small = Math.floor(total / 2);
      padBegin[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      padEnd[i] = total - padBegin[i]!;
    }
  } else {
    throw new ModelError(`auto_pad '${autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID`, node.where);
  }
  if (out.some((o) => o < 1)) {
    throw new ModelError(
      `the ${kernel.join('x')} window does not fit the ${spatialIn.join('x')} input (output ${out.join('x')})`,
      node.where,
    );
  }
  return { kernel, strides, dilations, padBegin, padEnd, out };
}
