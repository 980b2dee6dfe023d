/**
 * ONNX / QONNX graph -> nibble network, host stages and the import report.
 *
 *   constant folding (lower/fold.ts) -> per-node lowering in topological order
 *   (one handler per op) -> the graph output (lower/output.ts) -> Network.
 *
 * Before any work, every node that is not folded is checked to have a
 * handler, so an unsupported op is reported by name, first, and alone.
 */
import { ModelError } from '../../../arch/index.js';
import type { HostStages } from '../../host.js';
import { type Network } from '../../ir.js';
import { analyzeNetwork } from '../../analysis.js';
import { executorOp } from '../execute/index.js';
import {
  CHANNELS_LAST_DOMAIN,
  DEFAULT_DOMAIN,
  QONNX_DOMAINS,
  opsetOf,
  type OnnxGraph,
  type OnnxNode,
} from '../graph.js';
import { DATA_TYPE, dataTypeName } from '../schema.js';
import { Lowering, type LowerOptions } from './context.js';
import { foldNode, isFoldable } from './fold.js';
import { channelsLastLayout, plainLayout } from './layout.js';
import { lowerArithmetic, lowerBatchNorm, lowerClip, lowerDequantize, lowerRelu } from './ops-affine.js';
import { lowerPassThrough, lowerReshape } from './ops-layout.js';
import { lowerConv, lowerDense } from './ops-linear.js';
import { lowerAveragePool, lowerMaxPool } from './ops-pool.js';
import { lowerQuantizer, requantize } from './ops-quant.js';
import { autoQuantizer } from './ptq.js';
import { lowerHead, networkOutput } from './output.js';
import { lowerResidualAdd } from './residual.js';
import { pathLayers, type HostSym, type ImportStep, type RequantReport } from './state.js';
import { weightBitsFor } from './weights.js';

export type { LowerOptions } from './context.js';
export type { ImportStep, RequantReport, RequantChannelReport } from './state.js';

type Handler = (lw: Lowering, node: OnnxNode) => void;

const arithmetic: Handler = (lw, node) => {
  const a = lw.sym(node, 0);
  const b = lw.sym(node, 1);
  if (a.kind === 'const' || b.kind === 'const') return lowerArithmetic(lw, node);
  if (node.opType === 'Add') return lowerResidualAdd(lw, node);
  return lw.fail(
    node,
    `${node.opType} of two computed tensors is not supported (nibble has no elementwise product layer; only residual Add)`,
  );
};

const DEFAULT_HANDLERS: Record<string, Handler> = {
  Identity: lowerPassThrough,
  Dropout: lowerPassThrough,
  Cast: lowerPassThrough,
  Reshape: lowerReshape,
  Flatten: lowerReshape,
  Squeeze: lowerReshape,
  Unsqueeze: lowerReshape,
  Transpose: lowerReshape,
  Mul: arithmetic,
  Div: arithmetic,
  Add: arithmetic,
  Sub: arithmetic,
  Relu: lowerRelu,
  Clip: (lw, node) => lowerClip(lw, node, opsetOf(lw.graph, node)),
  BatchNormalization: (lw, node) => lowerBatchNorm(lw, node, false),
  Conv: (lw, node) => lowerConv(lw, node, false),
  ConvInteger: (lw, node) => lowerConv(lw, node, false),
  MatMul: lowerDense,
  MatMulInteger: lowerDense,
  Gemm: lowerDense,
  MaxPool: (lw, node) => lowerMaxPool(lw, node, false, false),
  GlobalMaxPool: (lw, node) => lowerMaxPool(lw, node, false, true),
  AveragePool: (lw, node) => lowerAveragePool(lw, node, false),
  GlobalAveragePool: (lw, node) => lowerAveragePool(lw, node, true),
  QuantizeLinear: lowerQuantizer,
  DequantizeLinear: lowerDequantize,
  Softmax: lowerHead,
  LogSoftmax: lowerHead,
  ArgMax: lowerHead,
  TopK: lowerHead,
};

const QONNX_HANDLERS: Record<string, Handler> = {
  Quant: lowerQuantizer,
  IntQuant: lowerQuantizer,
  BipolarQuant: lowerQuantizer,
  Trunc: lowerQuantizer,
};

const CHANNELS_LAST_HANDLERS: Record<string, Handler> = {
  Conv: (lw, node) => lowerConv(lw, node, true),
  MaxPool: (lw, node) => lowerMaxPool(lw, node, true, false),
  BatchNormalization: (lw, node) => lowerBatchNorm(lw, node, true),
};

function handlerFor(node: OnnxNode): Handler | undefined {
  if (node.domain === DEFAULT_DOMAIN) return DEFAULT_HANDLERS[node.opType];
  if ((QONNX_DOMAINS as readonly string[]).includes(node.domain)) return QONNX_HANDLERS[node.opType];
  if (node.domain === CHANNELS_LAST_DOMAIN) return CHANNELS_LAST_HANDLERS[node.opType];
  return undefined;
}

const ACTIVATIONS = [
  'LeakyRelu',
  'PRelu',
  'Sigmoid',
  'Tanh',
  'HardSigmoid',
  'HardSwish',
  'Elu',
  'Selu',
  'Celu',
  'Gelu',
  'Softplus',
  'Softsign',
  'Mish',
  'ThresholdedRelu',
];

/** What would have to change for an op nibble cannot lower (the second half of the item-2 message). */
function unsupportedHint(node: OnnxNode): string {
  const op = node.opType;
  if (ACTIVATIONS.includes(op)) {
    return "nibble's only nonlinearity is the requant's shift-and-clamp, so only Relu and Clip fold into it; retrain with ReLU (or a clipped ReLU)";
  }
  if (['Resize', 'Upsample', 'DepthToSpace', 'SpaceToDepth', 'ConvTranspose'].includes(op)) {
    return 'nibble has no upsampling or pixel-shuffle layer (its layers are conv2d, dense, maxpool, residual, flatten); run it on the host or replace it with a convolution';
  }
  if (['LSTM', 'GRU', 'RNN', 'Loop', 'If', 'Scan'].includes(op))
    return 'control flow and recurrent layers are not nibble layers';
  if (op === 'Concat' || op === 'Split' || op === 'Slice' || op === 'Gather' || op === 'Pad') {
    return `${op} of feature maps computed from the data is not a nibble layer (nibble folds it only on constants)`;
  }
  if (
    op.startsWith('Reduce') ||
    op === 'LpNormalization' ||
    op === 'LRN' ||
    op === 'InstanceNormalization' ||
    op === 'LayerNormalization'
  ) {
    return 'normalizations computed from the data have no integer shift-batch-norm form; use BatchNormalization';
  }
  if (node.domain.startsWith('finn.') || node.domain.startsWith('qonnx.')) {
    return 'this FINN/qonnx op is not part of the QONNX quantization ops nibble reads (Quant, IntQuant, BipolarQuant, Trunc); export the model before FINN streamlining';
  }
  return 'nibble lowers convolutions, matrix products, pooling, BatchNorm, residual Add, constant arithmetic, Relu/Clip and the quantizers; remove or replace it';
}

function checkSupported(lw: Lowering): void {
  for (const node of lw.graph.nodes) {
    if (isFoldable(lw, node)) {
      if (!executorOp(node)) lw.fail(node, unsupportedMessage(lw, node), 'NB-M001');
      // mark outputs as constant for the check of later nodes; folded for real in the walk
      for (const o of node.outputs)
        if (o) lw.syms.set(o, { kind: 'const', t: { dims: [], data: new Float64Array(1), dataType: 1 } });
      continue;
    }
    if (!handlerFor(node)) lw.fail(node, unsupportedMessage(lw, node), 'NB-M001');
  }
  for (const node of lw.graph.nodes) for (const o of node.outputs) lw.syms.delete(o);
}

function unsupportedMessage(lw: Lowering, node: OnnxNode): string {
  const fn = lw.graph.functions.has(`${node.domain}:${node.opType}`) ? ' (a function defined in the model)' : '';
  return `op ${node.opType} (domain ${node.domain})${fn} is not supported: ${unsupportedHint(node)}`;
}

/** Whether the input is channels-last: it reaches a Transpose(0,3,1,2) or a channels-last op before anything spatial. */
function inputIsChannelsLast(graph: OnnxGraph, name: string): boolean {
  const seen = new Set<string>();
  const walk = (v: string): boolean => {
    if (seen.has(v)) return false;
    seen.add(v);
    for (const n of graph.nodes) {
      if (!n.inputs.includes(v)) continue;
      if (n.domain === CHANNELS_LAST_DOMAIN) return true;
      if (n.opType === 'Transpose') return (n.attrs.get('perm')?.ints ?? []).join() === '0,3,1,2';
      if (['Conv', 'MaxPool', 'AveragePool', 'Gemm', 'MatMul', 'Reshape', 'Flatten'].includes(n.opType)) return false;
      if (n.outputs.some(walk)) return true;
    }
    return false;
  };
  return walk(name);
}

/** The graph input as nibble feeds it: dims (batch 1), layout, and whether it is float (else uint8). */
export interface GraphInput {
  name: string;
  dims: number[];
  order: Int32Array | null;
  float: boolean;
}

export function graphInput(g: OnnxGraph): GraphInput {
  if (g.inputs.length !== 1) {
    throw new ModelError(
      `the graph has ${g.inputs.length} inputs (${g.inputs.map((i) => i.name).join(', ')}): nibble networks have one`,
      g.file,
    );
  }
  const vi = g.inputs[0]!;
  const where = `${g.file}: graph input '${vi.name}'`;
  if (!vi.dims) throw new ModelError('has no shape: nibble needs static shapes', where);
  const dims = vi.dims.map((d, i) => {
    if (i === 0) return 1; // the batch: nibble runs one image at a time
    if (typeof d !== 'number' || d < 1) {
      throw new ModelError(
        `dimension ${i} is ${d === null ? 'unknown' : typeof d === 'string' ? `symbolic ('${d}')` : d}: nibble needs static shapes (export with a fixed input size)`,
        where,
      );
    }
    return d;
  });
  if (dims.length < 2 || dims.length > 4)
    throw new ModelError(`rank ${dims.length}: nibble inputs are N x C (x H) x W`, where);
  const float = [DATA_TYPE.FLOAT, DATA_TYPE.DOUBLE, DATA_TYPE.FLOAT16, DATA_TYPE.BFLOAT16, 0].includes(
    vi.elemType as 1,
  );
  if (!float && vi.elemType !== DATA_TYPE.UINT8) {
    throw new ModelError(
      `element type ${dataTypeName(vi.elemType)}: nibble feeds float inputs (from raw 8-bit values) or uint8`,
      where,
    );
  }
  const nhwc = dims.length === 4 && inputIsChannelsLast(g, vi.name);
  const layout = nhwc ? channelsLastLayout(dims) : plainLayout(dims);
  return { name: vi.name, dims: layout.dims, order: layout.order, float };
}

function hostInput(lw: Lowering, gi: GraphInput): HostSym {
  const layout = gi.order ? channelsLastLayout(gi.dims) : plainLayout(gi.dims);
  const { inputScale: s, inputOffset: o } = lw.opts;
  return {
    kind: 'host',
    layout,
    value: gi.float ? (r) => r * s + o : (r) => r,
    steps: [gi.float ? `x = raw * ${s} + ${o}` : 'x = raw (uint8 input)'],
  };
}

export interface LoweredModel {
  network: Network;
  host: HostStages;
  steps: ImportStep[];
  requants: RequantReport[];
  notes: string[];
  /** every step exact: the integer network computes the model's outputs exactly */
  exact: boolean;
  /** the graph input's dims (batch 1) and where each element sits in the network input (null: same order) */
  input: GraphInput;
  /** the graph output the network computes */
  output: string;
  /** ONNX values whose calibration histograms weight the inexact fits */
  probes: string[];
}

export function lowerGraph(graph: OnnxGraph, opts: LowerOptions): LoweredModel {
  const lw = new Lowering(graph, opts);
  if (opts.quantize) lw.autoQuantize = autoQuantizer(lw, requantize);
  const gi = graphInput(graph);
  const host = hostInput(lw, gi);
  for (const [name, t] of graph.initializers) lw.syms.set(name, { kind: 'const', t });
  checkSupported(lw);
  lw.syms.set(graph.inputs[0]!.name, host);
  for (const node of graph.nodes) {
    if (isFoldable(lw, node)) {
      const what = foldNode(lw, node);
      lw.step(node, what);
      continue;
    }
    handlerFor(node)!(lw, node);
  }
  const outs = graph.outputs.filter((o, i) => i === 0 || lw.syms.get(o.name)?.kind !== 'head');
  if (outs.length !== 1)
    throw new ModelError(`the graph has ${graph.outputs.length} outputs: nibble networks have one`, graph.file);
  const outName = outs[0]!.name;
  const sym = lw.syms.get(outName);
  if (!sym) throw new ModelError(`graph output '${outName}' has no value`, graph.file);
  const producer = graph.nodes.find((n) => n.outputs.includes(outName));
  const out = networkOutput(lw, sym, producer);
  if (lw.inputBits === undefined) throw new ModelError('internal: the network input was never created', graph.file);
  const inputSym = host.layout.canon;
  const network: Network = {
    name: opts.name,
    input: { channels: inputSym.c, height: inputSym.h, width: inputSym.w, bits: lw.inputBits, signed: false },
    layers: pathLayers(out.path),
    weightBits: Math.max(opts.weightBits, weightBitsFor(lw.maxWeight)),
    accumulatorBits: 32,
  };
  try {
    analyzeNetwork(network);
  } catch (e) {
    if (e instanceof ModelError) throw new ModelError(`the lowered network is not valid: ${e.message}`, graph.file);
    throw e;
  }
  const hostStages: HostStages = {
    input: {
      rawBits: 8,
      rawScale: opts.inputScale,
      rawOffset: opts.inputOffset,
      tables: lw.inputTables,
      description: lw.inputDescription || 'raw 8-bit values',
    },
    output: out.transform,
  };
  return {
    network,
    host: hostStages,
    steps: lw.steps,
    requants: lw.requants,
    notes: lw.notes,
    exact: lw.inexact === 0,
    input: {
      name: graph.inputs[0]!.name,
      dims: host.layout.dims,
      order: host.layout.order,
      float: host.steps[0] !== 'x = raw (uint8 input)',
    },
    output: outName,
    probes: [...lw.probes],
  };
}
