/**
 * Golden integer reference executor. Everything else (compiler output, the
 * cycle-exact simulator, generated RTL) is checked against this, so it is
 * exact by construction:
 *  - every value is an integer held in a double, and every intermediate stays
 *    far below 2^53 (weights <= 8 bits, activations <= 16 bits), so sums and
 *    products are exact;
 *  - requant multiplies by 2^-shift, which only changes the exponent of a
 *    double and is therefore exact, before Math.floor;
 *  - a conv/dense/residual result outside the signed accumulatorBits range is
 *    an ArithmeticError naming the layer, never a silent wrap.
 *
 * Layout: per image, tensors are C,H,W (NCHW over the batch), in Int32Array.
 * Speed: the batch is processed one image at a time through prepared
 * per-layer kernels with preallocated buffers (each kind's `prepare`,
 * models/layers/<kind>.ts; this file chunks, fuses and traces); conv and dense scatter each
 * non-zero input value into a position-major accumulator, so the many zero
 * activations (padding, unsigned requant outputs, MNIST background) cost nothing.
 */

import { DatasetError, ModelError } from '../arch/index.js';
import { analyzeNetwork } from './analysis.js';
import {
  MAX_ACCUMULATOR_BITS,
  MIN_ACCUMULATOR_BITS,
  formatShape,
  tensorSize,
  type Layer,
  type LayerInfo,
  type Network,
  type TensorShape,
  type ValueInfo,
} from './ir.js';
import { knownLayerModule } from './layers/index.js';
import { requantEpilogue, type PrepareContext, type PreparedLayer } from './layers/kernels.js';

export interface ReferenceOptions {
  /** accumulator width; overrides the network's accumulatorBits */
  accumulatorBits?: number;
}

export interface ReferenceResult {
  /** batch * C*H*W values, NCHW */
  output: Int32Array;
  /** per-image output shape */
  shape: TensorShape;
  batch: number;
}

/** One layer's output over the whole batch (see runReferenceLayers). */
export interface LayerTrace {
  /** "3" for top-level layers, "5.main[1]" / "5.shortcut" inside a residual */
  path: string;
  /** e.g. `layer 5 'block1' main[1] 'conv2'` */
  where: string;
  name: string;
  kind: Layer['kind'];
  /** shape, value kind and static range of the output */
  value: ValueInfo;
  /** batch * C*H*W values, NCHW */
  data: Int32Array;
}

export interface ReferenceLayersResult extends ReferenceResult {
  /** in execution order; inside a residual: its main layers, its shortcut, then the residual sum */
  layers: LayerTrace[];
}

/** `chunk` bounds how many images one run() call may process (sizes the residual's internal buffers). */
function prepareLayer(info: LayerInfo, accBits: number, chunk: number): PreparedLayer {
  return knownLayerModule(info.layer).prepare(info, prepareContext(accBits, chunk));
}

function prepareContext(accBits: number, chunk: number): PrepareContext {
  return { accBits, chunk, prepare: (child) => prepareLayer(child, accBits, chunk) };
}

function resolveAccumulatorBits(net: Network, opts: ReferenceOptions | undefined): number {
  const bits = opts?.accumulatorBits ?? net.accumulatorBits;
  if (!Number.isInteger(bits) || bits < MIN_ACCUMULATOR_BITS || bits > MAX_ACCUMULATOR_BITS) {
    throw new ModelError(
      `accumulatorBits must be an integer in [${MIN_ACCUMULATOR_BITS}, ${MAX_ACCUMULATOR_BITS}], got ${bits}`,
      'reference options',
    );
  }
  return bits;
}

/** Copies images [first, first+count) into the Int32 chunk buffer, rejecting values outside the input range. */
function loadImages(
  inputs: Int32Array | Uint8Array,
  first: number,
  count: number,
  size: number,
  hi: number,
  into: Int32Array,
): void {
  const base = first * size;
  const n = count * size;
  for (let i = 0; i < n; i++) {
    const v = inputs[base + i]!;
    if (v < 0 || v > hi) {
      const image = first + Math.floor(i / size);
      throw new DatasetError(
        `input value ${v} at image ${image}, element ${i % size} is outside the unsigned input range [0, ${hi}]`,
        'reference input',
      );
    }
    into[i] = v;
  }
}

/** Images per chunk: enough to amortize per-call overhead, small enough to stay in cache. */
const CHUNK_ELEMENTS = 1 << 18;

function largestTensor(infos: LayerInfo[]): number {
  let m = 0;
  for (const info of infos) {
    m = Math.max(m, tensorSize(info.input.shape), tensorSize(info.output.shape));
    if (info.children) m = Math.max(m, largestTensor(info.children));
  }
  return m;
}

interface Session {
  /** top-level layers; with fusion, a conv/dense prepared with its requant stands for both */
  layers: PreparedLayer[];
  /** chunk output buffer per top-level layer */
  buffers: Int32Array[];
  inBuf: Int32Array;
  chunk: number;
  inSize: number;
  inHi: number;
  outShape: TensorShape;
}

/**
 * Prepares top-level layers; with `fuse`, a layer whose kind can fold a
 * requant (conv2d, dense) directly followed by one becomes one kernel.
 */
function prepareTopLevel(infos: LayerInfo[], accBits: number, chunk: number, fuse: boolean): PreparedLayer[] {
  const out: PreparedLayer[] = [];
  const ctx = prepareContext(accBits, chunk);
  for (let i = 0; i < infos.length; i++) {
    const info = infos[i]!;
    const next = infos[i + 1];
    const fused = knownLayerModule(info.layer).prepareWithRequant;
    if (fuse && next?.layer.kind === 'requant' && fused !== undefined) {
      out.push(fused(info, ctx, requantEpilogue(next.layer)));
      i++;
    } else {
      out.push(prepareLayer(info, accBits, chunk));
    }
  }
  return out;
}

function startSession(
  net: Network,
  inputs: Int32Array | Uint8Array,
  batch: number,
  opts: ReferenceOptions | undefined,
  fuse: boolean,
): Session {
  const analysis = analyzeNetwork(net);
  const accBits = resolveAccumulatorBits(net, opts);
  const inSize = tensorSize(analysis.input.shape);
  if (!Number.isInteger(batch) || batch < 0) {
    throw new DatasetError(`batch must be a non-negative integer, got ${batch}`, 'reference input');
  }
  if (!(inputs instanceof Int32Array || inputs instanceof Uint8Array)) {
    throw new DatasetError('inputs must be an Int32Array or Uint8Array', 'reference input');
  }
  if (inputs.length !== batch * inSize) {
    throw new DatasetError(
      `expected ${batch} x ${formatShape(analysis.input.shape)} = ${batch * inSize} input values, got ${inputs.length}`,
      'reference input',
    );
  }
  const chunk = Math.max(1, Math.min(batch, Math.floor(CHUNK_ELEMENTS / largestTensor(analysis.layers))));
  const layers = prepareTopLevel(analysis.layers, accBits, chunk, fuse);
  return {
    layers,
    buffers: layers.map((l) => new Int32Array(chunk * l.outSize)),
    inBuf: new Int32Array(chunk * inSize),
    chunk,
    inSize,
    inHi: analysis.input.hi,
    outShape: analysis.output.shape,
  };
}

/** Runs images [first, first+count) through all layers; the result is in the last buffer. */
function runChunk(s: Session, inputs: Int32Array | Uint8Array, first: number, count: number): Int32Array {
  loadImages(inputs, first, count, s.inSize, s.inHi, s.inBuf);
  let src = s.inBuf;
  for (let i = 0; i < s.layers.length; i++) {
    s.layers[i]!.run(src, s.buffers[i]!, count, first);
    src = s.buffers[i]!;
  }
  return src;
}

/**
 * Run the network on `batch` images (NCHW, batch*C*H*W values) and return the
 * final layer's output. Throws ModelError for a malformed network,
 * ArithmeticError on accumulator overflow, DatasetError for bad inputs.
 */
export function runReference(
  net: Network,
  inputs: Int32Array | Uint8Array,
  batch: number,
  opts?: ReferenceOptions,
): ReferenceResult {
  const s = startSession(net, inputs, batch, opts, true);
  const outSize = tensorSize(s.outShape);
  const output = new Int32Array(batch * outSize);
  for (let first = 0; first < batch; first += s.chunk) {
    const count = Math.min(s.chunk, batch - first);
    const last = runChunk(s, inputs, first, count);
    output.set(last.subarray(0, count * outSize), first * outSize);
  }
  return { output, shape: s.outShape, batch };
}

/**
 * Like runReference, but also returns every layer's output over the batch
 * (including the layers inside residual blocks) for debugging a simulator
 * against the reference. Memory is the sum of all layer outputs: use small batches.
 */
export function runReferenceLayers(
  net: Network,
  inputs: Int32Array | Uint8Array,
  batch: number,
  opts?: ReferenceOptions,
): ReferenceLayersResult {
  const s = startSession(net, inputs, batch, opts, false);
  const traces: { trace: LayerTrace; buffer: Int32Array; size: number }[] = [];
  const visit = (prepared: PreparedLayer, buffer: Int32Array) => {
    for (const child of prepared.children ?? []) visit(child.prepared, child.buffer);
    const info = prepared.info;
    const trace: LayerTrace = {
      path: info.path,
      where: info.where,
      name: info.layer.name,
      kind: info.layer.kind,
      value: info.output,
      data: new Int32Array(batch * prepared.outSize),
    };
    traces.push({ trace, buffer, size: prepared.outSize });
  };
  s.layers.forEach((l, i) => visit(l, s.buffers[i]!));

  for (let first = 0; first < batch; first += s.chunk) {
    const count = Math.min(s.chunk, batch - first);
    runChunk(s, inputs, first, count);
    for (const t of traces) t.trace.data.set(t.buffer.subarray(0, count * t.size), first * t.size);
  }
  const layers = traces.map((t) => t.trace);
  return { output: layers[layers.length - 1]!.data, shape: s.outShape, batch, layers };
}

/**
 * Run one layer over a batch, given its analysis (from analyzeNetwork).
 * Used by calibration, which fixes requant parameters layer by layer; the
 * requant's bias/shift arrays are read when this is called.
 */
export function runLayer(info: LayerInfo, input: Int32Array, batch: number, accumulatorBits: number): Int32Array {
  const prepared = prepareLayer(info, accumulatorBits, Math.max(1, batch));
  const out = new Int32Array(batch * prepared.outSize);
  prepared.run(input, out, batch, 0);
  return out;
}
