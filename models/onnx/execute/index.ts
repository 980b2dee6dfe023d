/**
 * The float executor: ONNX and QONNX semantics evaluated in float64, written
 * independently of the integer lowering so that `nibble import --check` and
 * the tests compare two separate readings of the same graph. It is a plain
 * interpreter: one operator function per op type, nodes in topological order,
 * values freed after their last use.
 */
import { ModelError } from '../../../arch/index.js';
import {
  CHANNELS_LAST_DOMAIN,
  DEFAULT_DOMAIN,
  QONNX_DOMAINS,
  opsetOf,
  type OnnxGraph,
  type OnnxNode,
} from '../graph.js';
import type { Tensor } from '../tensor.js';
import type { ExecOp } from './context.js';
import { MATH_OPS } from './ops-math.js';
import { CHANNELS_LAST_OPS, NN_OPS } from './ops-nn.js';
import { QDQ_OPS, QONNX_OPS } from './ops-quant.js';
import { SHAPE_OPS } from './ops-shape.js';

const REGISTRY = new Map<string, ExecOp>();
for (const [op, fn] of Object.entries({ ...SHAPE_OPS, ...MATH_OPS, ...NN_OPS, ...QDQ_OPS })) {
  REGISTRY.set(`${DEFAULT_DOMAIN}:${op}`, fn);
}
for (const domain of QONNX_DOMAINS) {
  for (const [op, fn] of Object.entries(QONNX_OPS)) REGISTRY.set(`${domain}:${op}`, fn);
}
for (const [op, fn] of Object.entries(CHANNELS_LAST_OPS)) REGISTRY.set(`${CHANNELS_LAST_DOMAIN}:${op}`, fn);

/** The executor's implementation of a node's operator, if it has one. */
export function executorOp(node: Pick<OnnxNode, 'domain' | 'opType'>): ExecOp | undefined {
  return REGISTRY.get(`${node.domain}:${node.opType}`);
}

/** Runs one node on its input values. */
export function runNode(graph: OnnxGraph, node: OnnxNode, inputs: (Tensor | undefined)[]): Tensor[] {
  const op = executorOp(node);
  if (!op) throw new ModelError(`op ${node.opType} (domain ${node.domain}) has no float implementation`, node.where);
  const outs = op({ node, opset: opsetOf(graph, node), inputs });
  for (const t of outs) {
    if (t.data.some((v) => Number.isNaN(v))) {
      throw new ModelError('produced NaN (invalid arithmetic in the model, e.g. sqrt of a negative)', node.where);
    }
  }
  return outs;
}

export interface RunOptions {
  /** values to keep besides the graph outputs ('all' keeps every value) */
  keep?: 'all' | ReadonlySet<string>;
}

/**
 * Values that do not depend on the graph inputs (initializers and nodes fed
 * only by them, e.g. weight quantizers), computed once per graph.
 */
/** Runs a node on the values table and stores its outputs there. */
function evaluate(graph: OnnxGraph, node: OnnxNode, values: Map<string, Tensor>): void {
  const outs = runNode(
    graph,
    node,
    node.inputs.map((x) => (x === '' ? undefined : values.get(x))),
  );
  node.outputs.forEach((o, k) => {
    if (o !== '' && outs[k]) values.set(o, outs[k]);
  });
}

const constantCache = new WeakMap<OnnxGraph, { values: Map<string, Tensor>; nodes: Set<OnnxNode> }>();

function constants(graph: OnnxGraph): { values: Map<string, Tensor>; nodes: Set<OnnxNode> } {
  let c = constantCache.get(graph);
  if (c) return c;
  const values = new Map<string, Tensor>(graph.initializers);
  const nodes = new Set<OnnxNode>();
  for (const node of graph.nodes) {
    if (!node.inputs.every((x) => x === '' || values.has(x))) continue;
    evaluate(graph, node, values);
    nodes.add(node);
  }
  c = { values, nodes };
  constantCache.set(graph, c);
  return c;
}

/**
 * Evaluate the graph on one set of inputs (a tensor per graph input name).
 * Returns the graph outputs and the kept values, by name.
 */
export function runGraph(
  graph: OnnxGraph,
  inputs: ReadonlyMap<string, Tensor>,
  opts: RunOptions = {},
): Map<string, Tensor> {
  const fixed = constants(graph);
  const values = new Map<string, Tensor>(fixed.values);
  for (const vi of graph.inputs) {
    const t = inputs.get(vi.name);
    if (!t) throw new ModelError(`no value for graph input '${vi.name}'`, graph.file);
    values.set(vi.name, t);
  }
  const keepAll = opts.keep === 'all';
  const keep = new Set<string>([...graph.outputs.map((o) => o.name), ...(keepAll ? [] : (opts.keep ?? []))]);
  const lastUse = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.inputs.forEach((x) => lastUse.set(x, i)));
  graph.nodes.forEach((node, i) => {
    if (fixed.nodes.has(node)) return;
    evaluate(graph, node, values);
    if (keepAll) return;
    for (const x of node.inputs) {
      if (lastUse.get(x) === i && !keep.has(x) && !fixed.values.has(x)) values.delete(x);
    }
  });
  if (keepAll) return values;
  const result = new Map<string, Tensor>();
  for (const name of keep) {
    const t = values.get(name);
    if (t) result.set(name, t);
  }
  return result;
}

export {
  roundHalfEven,
  roundingFunction,
  parseRoundingMode,
  ROUNDING_MODES,
  type RoundingMode,
} from './tensor-math.js';
export { qonnxIntRange, onnxQuantRange, quantizeLinearType } from './ops-quant.js';
export { reshapeTarget } from './ops-shape.js';
export { tensor, transpose } from './tensor-math.js';
