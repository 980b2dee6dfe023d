/**
 * Writing ONNX files with the same protobufjs schema the reader uses: the
 * QONNX exporter builds its graph with these helpers, and so do the tests
 * (a graph for every op and attribute combination nibble supports).
 */
import { modelProtoType } from './schema.js';
import { DATA_TYPE } from './schema.js';
import { encodeTensor, type TensorProtoFields } from './tensor.js';

export type AttrSpec =
  { i: number } | { f: number } | { s: string } | { ints: number[] } | { floats: number[] } | { t: TensorProtoFields };

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attrs?: Record<string, AttrSpec>;
}

export interface ValueSpec {
  name: string;
  /** TensorProto.DataType (default FLOAT) */
  elemType?: number;
  /** null: no shape; a string is a symbolic dimension */
  dims?: (number | string)[] | null;
}

export interface GraphSpec {
  name?: string;
  nodes: NodeSpec[];
  initializers?: TensorProtoFields[];
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  /** default-domain opset (default 13) */
  opset?: number;
  irVersion?: number;
  /** further opsets, e.g. the QONNX domain */
  opsets?: { domain: string; version: number }[];
  producer?: string;
  metadata?: Record<string, string>;
}

/** A float32 initializer. */
export function floatTensor(name: string, dims: number[], data: ArrayLike<number>): TensorProtoFields {
  return encodeTensor(name, dims, data, DATA_TYPE.FLOAT);
}

const ATTR_TYPE = { i: 2, f: 1, s: 3, t: 4, floats: 6, ints: 7 } as const;

function attribute(name: string, a: AttrSpec): Record<string, unknown> {
  if ('i' in a) return { name, type: ATTR_TYPE.i, i: a.i };
  if ('f' in a) return { name, type: ATTR_TYPE.f, f: a.f };
  if ('s' in a) return { name, type: ATTR_TYPE.s, s: new TextEncoder().encode(a.s) };
  if ('ints' in a) return { name, type: ATTR_TYPE.ints, ints: a.ints };
  if ('floats' in a) return { name, type: ATTR_TYPE.floats, floats: a.floats };
  return { name, type: ATTR_TYPE.t, t: a.t };
}

function valueInfo(v: ValueSpec): Record<string, unknown> {
  const shape =
    v.dims === null
      ? undefined
      : { dim: (v.dims ?? []).map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) };
  return {
    name: v.name,
    type: { tensor_type: { elem_type: v.elemType ?? DATA_TYPE.FLOAT, ...(shape ? { shape } : {}) } },
  };
}

export function encodeModel(spec: GraphSpec): Uint8Array {
  const T = modelProtoType();
  const msg = {
    ir_version: spec.irVersion ?? 8,
    producer_name: spec.producer ?? 'nibble',
    opset_import: [{ domain: '', version: spec.opset ?? 13 }, ...(spec.opsets ?? [])],
    metadata_props: Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: spec.name ?? 'graph',
      node: spec.nodes.map((n) => ({
        input: n.inputs,
        output: n.outputs,
        name: n.name ?? '',
        op_type: n.op,
        domain: n.domain ?? '',
        attribute: Object.entries(n.attrs ?? {}).map(([k, a]) => attribute(k, a)),
      })),
      initializer: spec.initializers ?? [],
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
    },
  };
  return T.encode(T.fromObject(msg)).finish();
}
