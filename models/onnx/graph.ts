/**
 * Reading an ONNX file into a checked, topologically ordered graph. Every
 * problem with the file itself is found here and named by place: a truncated
 * or corrupt protobuf, an IR version or opset nibble does not read, external
 * data, dangling inputs, a value produced twice, cycles, symbolic shapes.
 */
import { ModelError } from '../../arch/index.js';
import { modelProtoType } from './schema.js';
import { decodeTensor, exactInt64, int64, type Int64Like, type Tensor, type TensorProtoFields } from './tensor.js';

export const DEFAULT_DOMAIN = 'ai.onnx';
/** QONNX custom-op domains (all three spellings of the same op set). */
export const QONNX_DOMAINS = ['onnx.brevitas', 'finn.custom_op.general', 'qonnx.custom_op.general'] as const;
/** qonnx's channels-last variants of Conv, MaxPool, BatchNormalization (NHWC data). */
export const CHANNELS_LAST_DOMAIN = 'qonnx.custom_op.channels_last';

export const MIN_IR_VERSION = 3;
/** Opsets older than this changed semantics nibble does not model (e.g. BatchNormalization's consumed_inputs). */
export const MIN_OPSET = 6;
/** The newest default-domain opset whose operator definitions nibble was checked against. */
export const MAX_KNOWN_OPSET = 23;

export interface Attribute {
  name: string;
  /** AttributeProto.AttributeType */
  type: number;
  f: number;
  i: number;
  s: string;
  t?: Tensor;
  floats: number[];
  ints: number[];
  strings: string[];
  /** holds a subgraph (If, Loop, Scan): nibble never executes these */
  hasGraph: boolean;
}

export interface OnnxNode {
  /** position in the file's node list */
  index: number;
  name: string;
  opType: string;
  /** '' is normalized to 'ai.onnx' */
  domain: string;
  /** '' = an omitted optional input */
  inputs: string[];
  outputs: string[];
  attrs: Map<string, Attribute>;
  /** `file: node 7 'Conv_0' (Conv)`, for messages */
  where: string;
}

export interface ValueInfo {
  name: string;
  elemType: number;
  /** null: unknown rank; a dimension is a number, a symbolic name, or null (unknown) */
  dims: (number | string | null)[] | null;
}

export interface OnnxGraph {
  file: string;
  irVersion: number;
  /** domain -> opset version ('ai.onnx' for the default domain) */
  opsets: Map<string, number>;
  producer: string;
  name: string;
  /** topologically sorted */
  nodes: OnnxNode[];
  initializers: Map<string, Tensor>;
  /** graph inputs that are not initializers */
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  valueInfo: Map<string, ValueInfo>;
  /** names of model-local functions (ops defined by them are refused) */
  functions: Set<string>;
  /** ModelProto.metadata_props */
  metadata: Map<string, string>;
}

export function nodeWhere(file: string, index: number, name: string, opType: string): string {
  return `${file}: node ${index}${name ? ` '${name}'` : ''} (${opType || '?'})`;
}

// Decoded protobuf message shapes (only the fields nibble reads).
interface AttrProto {
  name?: string;
  type?: number;
  f?: number;
  i?: number | Int64Like;
  s?: Uint8Array;
  t?: TensorProtoFields;
  g?: unknown;
  floats?: number[];
  ints?: (number | Int64Like)[];
  strings?: Uint8Array[];
  graphs?: unknown[];
  ref_attr_name?: string;
}
interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  attribute?: AttrProto[];
}
interface DimProto {
  dim_value?: number | Int64Like;
  dim_param?: string;
}
interface ValueInfoProto {
  name?: string;
  type?: {
    tensor_type?: { elem_type?: number; shape?: { dim?: DimProto[] } };
    sequence_type?: unknown;
    map_type?: unknown;
    sparse_tensor_type?: unknown;
    optional_type?: unknown;
  };
}
interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProtoFields[];
  sparse_initializer?: unknown[];
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  value_info?: ValueInfoProto[];
}
interface ModelProto {
  ir_version?: number | Int64Like;
  producer_name?: string;
  producer_version?: string;
  opset_import?: { domain?: string; version?: number | Int64Like }[];
  graph?: GraphProto;
  functions?: { name?: string; domain?: string }[];
  metadata_props?: { key?: string; value?: string }[];
}

const utf8 = new TextDecoder();

function decodeProtobuf(bytes: Uint8Array, file: string): ModelProto {
  if (bytes.length === 0) throw new ModelError('empty file: not an ONNX model', file);
  try {
    return modelProtoType().decode(bytes) as unknown as ModelProto;
  } catch (e) {
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      throw new ModelError('not a valid ONNX protobuf: messages nested too deeply (corrupt file?)', file);
    }
    const msg = (e as Error).message;
    const truncated = /index out of range/.test(msg);
    throw new ModelError(
      `not a valid ONNX protobuf: ${truncated ? `truncated (${msg})` : msg}${truncated ? '' : ' (corrupt file, or not ONNX?)'}`,
      file,
    );
  }
}

function decodeAttr(a: AttrProto, where: string): Attribute {
  const name = a.name ?? '';
  const at = `${where}: attribute '${name}'`;
  if (a.ref_attr_name) throw new ModelError(`refers to a function attribute ('${a.ref_attr_name}')`, at);
  return {
    name,
    type: a.type ?? 0,
    f: a.f ?? 0,
    i: int64(a.i),
    s: a.s instanceof Uint8Array ? utf8.decode(a.s) : '',
    ...(a.t && (a.type === 4 || a.t.data_type) ? { t: decodeTensor(a.t, at) } : {}),
    floats: a.floats ?? [],
    ints: (a.ints ?? []).map((v) => int64(v)),
    strings: (a.strings ?? []).map((b) => utf8.decode(b)),
    hasGraph: a.g !== undefined && a.g !== null ? true : (a.graphs?.length ?? 0) > 0,
  };
}

function decodeValueInfo(v: ValueInfoProto, file: string, role: string): ValueInfo {
  const name = v.name ?? '';
  const where = `${file}: ${role} '${name}'`;
  const type = v.type;
  if (
    type &&
    !type.tensor_type &&
    (type.sequence_type || type.map_type || type.sparse_tensor_type || type.optional_type)
  ) {
    throw new ModelError('is not a dense tensor (sequence, map, optional or sparse types are not supported)', where);
  }
  const tt = type?.tensor_type;
  const dims = tt?.shape
    ? (tt.shape.dim ?? []).map((d, i): number | string | null => {
        if (d.dim_param) return d.dim_param;
        if (d.dim_value === undefined || d.dim_value === null) return null;
        const n = exactInt64(d.dim_value, `dimension ${i}`, where);
        return n;
      })
    : null;
  return { name, elemType: tt?.elem_type ?? 0, dims };
}

/** Kahn's algorithm; names the first node on a cycle or with a dangling input. */
function topoSort(nodes: OnnxNode[], available: Set<string>): OnnxNode[] {
  const producer = new Map<string, OnnxNode>();
  for (const n of nodes) {
    for (const o of n.outputs) {
      if (o === '') continue;
      if (available.has(o)) throw new ModelError(`output '${o}' has the name of a graph input or initializer`, n.where);
      const prev = producer.get(o);
      if (prev) throw new ModelError(`output '${o}' is already produced by node ${prev.index}`, n.where);
      producer.set(o, n);
    }
  }
  for (const n of nodes) {
    for (const i of n.inputs) {
      if (i !== '' && !available.has(i) && !producer.has(i)) {
        throw new ModelError(
          `input '${i}' is not produced by any node, graph input or initializer (dangling)`,
          n.where,
        );
      }
    }
  }
  const pending = new Map<OnnxNode, number>();
  const consumers = new Map<string, OnnxNode[]>();
  const ready: OnnxNode[] = [];
  for (const n of nodes) {
    const deps = new Set(n.inputs.filter((i) => i !== '' && producer.has(i)));
    pending.set(n, deps.size);
    for (const d of deps) {
      const list = consumers.get(d) ?? [];
      list.push(n);
      consumers.set(d, list);
    }
    if (deps.size === 0) ready.push(n);
  }
  const order: OnnxNode[] = [];
  // Keep the file's order among ready nodes: reports then follow the file.
  ready.sort((a, b) => a.index - b.index);
  while (ready.length) {
    const n = ready.shift()!;
    order.push(n);
    const woken: OnnxNode[] = [];
    for (const o of n.outputs) {
      for (const c of consumers.get(o) ?? []) {
        const left = pending.get(c)! - 1;
        pending.set(c, left);
        if (left === 0) woken.push(c);
      }
    }
    if (woken.length) {
      ready.push(...woken);
      ready.sort((a, b) => a.index - b.index);
    }
  }
  if (order.length < nodes.length) {
    const stuck = nodes.find((n) => pending.get(n)! > 0)!;
    throw new ModelError('the graph has a cycle through this node (ONNX graphs must be acyclic)', stuck.where);
  }
  return order;
}

function readOpsets(m: ModelProto, file: string): Map<string, number> {
  const opsets = new Map<string, number>();
  for (const o of m.opset_import ?? []) {
    const domain = o.domain === '' || o.domain === undefined ? DEFAULT_DOMAIN : o.domain;
    opsets.set(domain, exactInt64(o.version, `opset version of '${domain}'`, file));
  }
  const v = opsets.get(DEFAULT_DOMAIN);
  if (v === undefined) throw new ModelError('no opset_import for the default ONNX domain', file);
  if (v < MIN_OPSET) {
    throw new ModelError(`opset ${v} of the default domain is older than nibble reads (${MIN_OPSET} and later)`, file);
  }
  return opsets;
}

/** Decode and check an ONNX model file's bytes. */
export function readOnnxGraph(bytes: Uint8Array, file: string): OnnxGraph {
  const m = decodeProtobuf(bytes, file);
  const irVersion = int64(m.ir_version);
  if (!m.graph) throw new ModelError('the ModelProto has no graph (not an ONNX model?)', file);
  if (irVersion < MIN_IR_VERSION) {
    throw new ModelError(`IR version ${irVersion} is older than nibble reads (${MIN_IR_VERSION} and later)`, file);
  }
  const opsets = readOpsets(m, file);
  const g = m.graph;
  if ((g.sparse_initializer?.length ?? 0) > 0) {
    throw new ModelError('sparse initializers are not supported (store the weights densely)', file);
  }
  const initializers = new Map<string, Tensor>();
  for (const [k, t] of (g.initializer ?? []).entries()) {
    const name = t.name ?? '';
    if (!name) throw new ModelError(`initializer ${k} has no name`, file);
    if (initializers.has(name)) throw new ModelError(`initializer '${name}' is defined twice`, file);
    initializers.set(name, decodeTensor(t, `${file}: initializer '${name}'`));
  }
  const inputs = (g.input ?? [])
    .map((v) => decodeValueInfo(v, file, 'graph input'))
    .filter((v) => !initializers.has(v.name));
  const outputs = (g.output ?? []).map((v) => decodeValueInfo(v, file, 'graph output'));
  const valueInfo = new Map<string, ValueInfo>();
  for (const v of g.value_info ?? []) {
    const info = decodeValueInfo(v, file, 'value');
    valueInfo.set(info.name, info);
  }
  const nodes = (g.node ?? []).map((n, index): OnnxNode => {
    const opType = n.op_type ?? '';
    const where = nodeWhere(file, index, n.name ?? '', opType);
    if (!opType) throw new ModelError('has no op_type', where);
    const attrs = new Map<string, Attribute>();
    for (const a of n.attribute ?? []) attrs.set(a.name ?? '', decodeAttr(a, where));
    return {
      index,
      name: n.name ?? '',
      opType,
      domain: n.domain === '' || n.domain === undefined ? DEFAULT_DOMAIN : n.domain,
      inputs: n.input ?? [],
      outputs: n.output ?? [],
      attrs,
      where,
    };
  });
  if (nodes.length === 0) throw new ModelError('the graph has no nodes', file);
  if (inputs.length === 0) throw new ModelError('the graph has no input (besides initializers)', file);
  if (outputs.length === 0) throw new ModelError('the graph has no output', file);
  const available = new Set<string>([...initializers.keys(), ...inputs.map((i) => i.name)]);
  const sorted = topoSort(nodes, available);
  const produced = new Set(sorted.flatMap((n) => n.outputs));
  for (const o of outputs) {
    if (!produced.has(o.name) && !available.has(o.name)) {
      throw new ModelError(`graph output '${o.name}' is not produced by any node`, file);
    }
  }
  const functions = new Set((m.functions ?? []).map((f) => `${f.domain || DEFAULT_DOMAIN}:${f.name ?? ''}`));
  return {
    file,
    irVersion,
    opsets,
    producer: [m.producer_name, m.producer_version].filter(Boolean).join(' '),
    name: g.name ?? '',
    nodes: sorted,
    initializers,
    inputs,
    outputs,
    valueInfo,
    functions,
    metadata: new Map((m.metadata_props ?? []).map((e) => [e.key ?? '', e.value ?? ''])),
  };
}

/** The opset version that governs `node` (default domain) */
export function opsetOf(graph: OnnxGraph, node: OnnxNode): number {
  return graph.opsets.get(node.domain) ?? graph.opsets.get(DEFAULT_DOMAIN)!;
}

/** True if the first bytes look like an ONNX ModelProto (field 1 ir_version varint, or field 8 opset_import). */
export function looksLikeOnnx(bytes: Uint8Array): boolean {
  return bytes.length > 2 && (bytes[0] === 0x08 || bytes[0] === 0x42 || bytes[0] === 0x3a) && bytes[1]! < 0x80;
}
