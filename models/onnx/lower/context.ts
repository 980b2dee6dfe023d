/** The lowering's working state: options, the value table, layer names, the report being written. */
import { ModelError, type DiagnosticCode } from '../../../arch/index.js';
import type { OnnxGraph, OnnxNode } from '../graph.js';
import type { Tensor } from '../tensor.js';
import { perChannel, type Layout } from './layout.js';
import type { RequantLayer } from '../../layers/requant.js';
import type { ImportStep, RequantReport, Sym } from './state.js';

export interface LowerOptions {
  /** refuse any inexact step (the message names the node and the ratio) */
  exact: boolean;
  /** the target machine's widths (compiling for another config may allow wider) */
  weightBits: number;
  activationBits: number;
  /** raw input r (0..255) stands for the float r * inputScale + inputOffset */
  inputScale: number;
  inputOffset: number;
  /** float values of ONNX tensors on calibration images (weights inexact requant fits) */
  calibration?: ReadonlyMap<string, Tensor[]>;
  /** most network channels one wide output value may be spread over */
  maxOutputSlices: number;
  /**
   * Post-training quantization of a float model: float weights are quantized
   * per output channel on a grid chosen with the next quantizer, and every
   * float value a layer reads is quantized with a scale from these
   * calibration ranges (per ONNX value).
   */
  quantize?: { stats: ReadonlyMap<string, { min: number; max: number }> };
  name: string;
}

export class Lowering {
  readonly syms = new Map<string, Sym>();
  readonly steps: ImportStep[] = [];
  readonly requants: RequantReport[] = [];
  readonly notes: string[] = [];
  private readonly names = new Set<string>();
  /** node indices consuming each value */
  readonly consumers = new Map<string, OnnxNode[]>();
  /** the node producing each value */
  readonly producers = new Map<string, OnnxNode>();
  /** the ONNX value each requant layer computes (its quantizer's output) */
  readonly requantValues = new Map<RequantLayer, string>();
  /** inexact steps so far (for --exact and the summary) */
  inexact = 0;
  /** largest |weight| in the network (sets its weightBits) */
  maxWeight = 1;
  /** the network input, once the host input has been quantized (or taken raw) */
  inputBits: 4 | 8 | undefined;
  inputTables: Int32Array[] | null = null;
  inputDescription = '';
  /** ONNX values whose calibration histograms would weight inexact requant fits */
  readonly probes = new Set<string>();
  /** post-training quantization: a calibrated quantizer for an accumulator a layer reads */
  autoQuantize?: (node: OnnxNode, value: string, acc: import('./state.js').AccSym) => import('./state.js').ActSym;

  constructor(
    readonly graph: OnnxGraph,
    readonly opts: LowerOptions,
  ) {
    for (const n of graph.nodes) {
      for (const o of n.outputs) if (o) this.producers.set(o, n);
      for (const i of n.inputs) {
        const list = this.consumers.get(i) ?? [];
        list.push(n);
        this.consumers.set(i, list);
      }
    }
  }

  noteWeights(w: ArrayLike<number>): void {
    for (let i = 0; i < w.length; i++) {
      const a = Math.abs(w[i]!);
      if (a > this.maxWeight) this.maxWeight = a;
    }
  }

  /** Largest weight code a layer may use after per-channel multipliers (the target's width, or the model's if wider). */
  weightLimit(): number {
    let b = this.opts.weightBits;
    while (2 ** (b - 1) - 1 < this.maxWeight) b++;
    return 2 ** (b - 1) - 1;
  }

  fail(node: OnnxNode, reason: string, code?: DiagnosticCode): never {
    throw new ModelError(reason, node.where, code);
  }

  /** `base`, or base_2, base_3, ... if taken. */
  uniqueName(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_.-]+/g, '_') || 'layer';
    let name = clean;
    for (let k = 2; this.names.has(name); k++) name = `${clean}_${k}`;
    this.names.add(name);
    return name;
  }

  /** A unique layer name derived from the node's name (or op and index). */
  layerName(node: OnnxNode, suffix = ''): string {
    const base =
      (node.name || `${node.opType.toLowerCase()}${node.index}`)
        .replace(/[^A-Za-z0-9_.-]+/g, '_')
        .replace(/^_+|_+$/g, '') || `n${node.index}`;
    let name = `${base}${suffix}`;
    for (let k = 2; this.names.has(name); k++) name = `${base}${suffix}_${k}`;
    this.names.add(name);
    return name;
  }

  sym(node: OnnxNode, i: number): Sym {
    const name = node.inputs[i];
    if (name === undefined || name === '') this.fail(node, `input ${i} is required`);
    const s = this.syms.get(name);
    if (!s) this.fail(node, `input '${name}' has no value (internal order error)`);
    return s;
  }

  optionalSym(node: OnnxNode, i: number): Sym | undefined {
    const name = node.inputs[i];
    return name ? this.syms.get(name) : undefined;
  }

  constant(node: OnnxNode, i: number, what: string): Tensor {
    const s = this.sym(node, i);
    if (s.kind !== 'const')
      this.fail(node, `${what} (input ${i}) must be a constant, but it is computed from the data`);
    return s.t;
  }

  set(node: OnnxNode, sym: Sym, output = 0): void {
    const name = node.outputs[output];
    if (name) this.syms.set(name, sym);
  }

  step(node: OnnxNode, action: string, exact?: boolean): void {
    this.steps.push({
      node: `${node.index}${node.name ? ` '${node.name}'` : ''}`,
      op: node.domain === 'ai.onnx' ? node.opType : `${node.opType} (${node.domain})`,
      action,
      ...(exact === undefined ? {} : { exact }),
    });
  }

  /** Records an approximation; under --exact it is an error instead. */
  approximate(node: OnnxNode, what: string): void {
    if (this.opts.exact) this.fail(node, `--exact: ${what}`, 'NB-M002');
    this.inexact++;
  }

  perChannel(node: OnnxNode, layout: Layout, t: Tensor, what: string): Float64Array {
    if (t.data.length === 1) return new Float64Array(layout.canon.c).fill(t.data[0]!);
    const v = perChannel(layout, t.data, t.dims, node.where);
    if (!v)
      this.fail(node, `${what} of shape [${t.dims.join(',')}] varies within a channel: not a per-channel constant`);
    return v;
  }

  /**
   * True if `value` is read by one node only, and so is every value back to
   * `origin` through layout and value-map nodes: nothing else sees the tensor
   * in between, so its producer may change for this reader.
   */
  soleReader(value: string, origin: string): boolean {
    const outputs = new Set(this.graph.outputs.map((o) => o.name));
    let v = value;
    for (let i = 0; i <= this.graph.nodes.length; i++) {
      if ((this.consumers.get(v) ?? []).length !== 1 || outputs.has(v)) return false;
      if (v === origin) return true;
      const p = this.producers.get(v);
      if (!p || !PASS_THROUGH.has(p.opType)) return false;
      const data = p.inputs.find((name) => {
        const k = name ? this.syms.get(name)?.kind : undefined;
        return k === 'act' || k === 'acc';
      });
      if (!data) return false;
      v = data;
    }
    return false;
  }

  /** True if the value reaches an Add of two computed values through layout and value-map nodes only. */
  feedsResidualAdd(value: string, seen = new Set<string>()): boolean {
    if (seen.has(value)) return false;
    seen.add(value);
    for (const c of this.consumers.get(value) ?? []) {
      const computed = c.inputs.filter((i) => i && this.syms.get(i)?.kind !== 'const').length;
      if (c.opType === 'Add' && computed === 2) return true;
      const through = PASS_THROUGH.has(c.opType) || c.opType === 'BatchNormalization';
      if (through && c.outputs.some((o) => this.feedsResidualAdd(o, seen))) return true;
    }
    return false;
  }

  /** True if the value reaches a zero-padded convolution or pool before being requantized. */
  feedsPadding(value: string, seen = new Set<string>()): boolean {
    if (seen.has(value)) return false;
    seen.add(value);
    for (const c of this.consumers.get(value) ?? []) {
      if (['Conv', 'ConvInteger', 'AveragePool'].includes(c.opType) && c.inputs[0] === value && hasPadding(c))
        return true;
      if (PASS_THROUGH.has(c.opType) && c.outputs.some((o) => this.feedsPadding(o, seen))) return true;
    }
    return false;
  }
}

const PASS_THROUGH = new Set([
  'Identity',
  'Dropout',
  'Reshape',
  'Flatten',
  'Squeeze',
  'Unsqueeze',
  'Transpose',
  'MaxPool',
  'Relu',
  'Clip',
  'Cast',
  'DequantizeLinear',
  'Mul',
  'Div',
  'Add',
  'Sub',
]);

function hasPadding(n: OnnxNode): boolean {
  const ap = n.attrs.get('auto_pad')?.s ?? 'NOTSET';
  if (ap === 'SAME_UPPER' || ap === 'SAME_LOWER') return true;
  return (n.attrs.get('pads')?.ints ?? []).some((p) => p !== 0);
}
