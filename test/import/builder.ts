/**
 * Test support: ONNX graphs built in code (encoded with the importer's own
 * protobufjs schema), the import of such a graph, and the comparison of the
 * imported integer network with the float executor on seeded random inputs.
 */
import { expect } from 'vitest';
import { SeededRandom, checkImport, type CheckResult } from '../../models/index.js';
import {
  encodeModel,
  lowerOnnx,
  readOnnxGraph,
  type LoweredModel,
  type LowerOptions,
  type NodeSpec,
  type OnnxGraph,
} from '../../models/onnx/index.js';
import { encodeTensor, type TensorProtoFields } from '../../models/onnx/tensor.js';
import { DATA_TYPE } from '../../models/onnx/schema.js';

export const QONNX = 'qonnx.custom_op.general';

export interface QuantArgs {
  scale?: number | number[];
  zp?: number;
  bits?: number;
  signed?: boolean;
  narrow?: boolean;
  rounding?: string;
  domain?: string;
  /** dims of a per-channel scale (default [1, C, 1, 1] for a 4-D value) */
  scaleDims?: number[];
}

export class GraphBuilder {
  readonly nodes: NodeSpec[] = [];
  readonly inits: TensorProtoFields[] = [];
  private k = 0;
  opset = 13;
  irVersion = 8;
  inputs: { name: string; dims: (number | string)[] | null; elemType?: number }[] = [];
  extraOpsets: { domain: string; version: number }[] = [{ domain: QONNX, version: 1 }];

  fresh(base: string): string {
    return `${base}${this.k++}`;
  }

  input(dims: (number | string)[] | null, name = 'x', elemType?: number): string {
    this.inputs.push({ name, dims, ...(elemType !== undefined ? { elemType } : {}) });
    return name;
  }

  constant(dims: number[], data: ArrayLike<number>, type: number = DATA_TYPE.FLOAT, name?: string): string {
    const n = name ?? this.fresh('c');
    this.inits.push(encodeTensor(n, dims, data, type));
    return n;
  }

  scalar(v: number, type: number = DATA_TYPE.FLOAT): string {
    return this.constant([], [v], type);
  }

  node(
    op: string,
    inputs: string[],
    attrs?: NodeSpec['attrs'],
    opts: { domain?: string; name?: string; outputs?: number } = {},
  ): string {
    const outs = Array.from({ length: opts.outputs ?? 1 }, () => this.fresh(`${op.toLowerCase()}_out`));
    this.nodes.push({
      op,
      inputs,
      outputs: outs,
      name: opts.name ?? this.fresh(op),
      ...(opts.domain ? { domain: opts.domain } : {}),
      ...(attrs ? { attrs } : {}),
    });
    return outs[0]!;
  }

  quant(x: string, q: QuantArgs = {}): string {
    const scale = q.scale ?? 1;
    const s = Array.isArray(scale) ? this.constant(q.scaleDims ?? [1, scale.length, 1, 1], scale) : this.scalar(scale);
    return this.node(
      'Quant',
      [x, s, this.scalar(q.zp ?? 0), this.scalar(q.bits ?? 4)],
      {
        signed: { i: q.signed === false ? 0 : 1 },
        narrow: { i: q.narrow ? 1 : 0 },
        rounding_mode: { s: q.rounding ?? 'ROUND' },
      },
      { domain: q.domain ?? QONNX },
    );
  }

  /** Integer weight codes through a Quant (signed narrow, scale per output channel or scalar). */
  weights(dims: number[], codes: ArrayLike<number>, scale: number | number[] = 1, bits = 4): string {
    // the float weights are code * scale of their output channel (axis 0), so the Quant gives the codes back
    const per = codes.length / dims[0]!;
    const w = this.constant(
      dims,
      Array.from(codes, (c, i) => c * (Array.isArray(scale) ? scale[Math.floor(i / per)]! : scale)),
    );
    const scaleDims = Array.isArray(scale) ? [scale.length, ...dims.slice(1).map(() => 1)] : undefined;
    return this.quant(w, { scale, bits, signed: true, narrow: true, ...(scaleDims ? { scaleDims } : {}) });
  }

  encode(output: string, outDims?: number[]): Uint8Array {
    return encodeModel({
      name: 'test',
      producer: 'vitest graph builder',
      nodes: this.nodes,
      initializers: this.inits,
      inputs: this.inputs.map((i) => ({
        name: i.name,
        dims: i.dims,
        ...(i.elemType !== undefined ? { elemType: i.elemType } : {}),
      })),
      outputs: [{ name: output, ...(outDims ? { dims: outDims } : {}) }],
      opset: this.opset,
      irVersion: this.irVersion,
      opsets: this.extraOpsets,
    });
  }

  graph(output: string, outDims?: number[]): OnnxGraph {
    return readOnnxGraph(this.encode(output, outDims), 'test.onnx');
  }
}

/** Seeded random integer codes in [lo, hi]. */
export function randomInts(n: number, lo: number, hi: number, seed = 7): number[] {
  const rng = new SeededRandom(seed);
  return Array.from({ length: n }, () => rng.int(lo, hi));
}

export function randomRaw(lowered: LoweredModel, count: number, seed = 3): Uint8Array {
  const { channels, height, width } = lowered.network.input;
  return Uint8Array.from(randomInts(count * channels * height * width, 0, 255, seed));
}

export function importGraph(g: OnnxGraph, opts: Partial<LowerOptions> = {}): LoweredModel {
  return lowerOnnx(g, { inputScale: 1, ...opts });
}

/** Imports, runs both sides on random inputs, and returns the comparison. */
export function compare(
  g: OnnxGraph,
  opts: Partial<LowerOptions> = {},
  images = 8,
): { lowered: LoweredModel; check: CheckResult } {
  const lowered = importGraph(g, opts);
  return { lowered, check: checkImport(g, lowered, randomRaw(lowered, images), images) };
}

/** An exact import whose every output value equals the float executor's. */
export function expectExact(g: OnnxGraph, opts: Partial<LowerOptions> = {}, images = 8): LoweredModel {
  const { lowered, check } = compare(g, opts, images);
  expect(lowered.exact, JSON.stringify(lowered.steps.filter((s) => s.exact === false))).toBe(true);
  expect(check.equalValues, JSON.stringify(check.firstMismatch)).toBe(check.values);
  return lowered;
}
