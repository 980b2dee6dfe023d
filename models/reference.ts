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
 * per-layer kernels with preallocated buffers; conv and dense scatter each
 * non-zero input value into a position-major accumulator, so the many zero
 * activations (padding, unsigned requant outputs, MNIST background) cost nothing.
 */

import { ArithmeticError, DatasetError, ModelError } from '../arch/index.js';
import {
  MAX_ACCUMULATOR_BITS,
  MIN_ACCUMULATOR_BITS,
  accumulatorRange,
  analyzeNetwork,
  formatShape,
  requantRange,
  tensorSize,
  type Conv2dLayer,
  type DenseLayer,
  type Layer,
  type LayerInfo,
  type MaxPoolLayer,
  type Network,
  type RequantLayer,
  type ResidualLayer,
  type TensorShape,
  type ValueInfo,
} from './ir.js';

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

/**
 * A layer compiled for one input shape. `run` processes `count` consecutive
 * images: image k is read at input[k*inSize ..] and written at
 * output[k*outSize ..]; `firstImage` only numbers images in error messages.
 * Each kernel owns its image loop, so every hot loop stays monomorphic
 * (a shared per-image driver calling many different closures optimizes badly).
 */
interface PreparedLayer {
  info: LayerInfo;
  inSize: number;
  outSize: number;
  run(input: Int32Array, output: Int32Array, count: number, firstImage: number): void;
  /** residual only: prepared sub-layers and their chunk output buffers, for tracing */
  children?: { prepared: PreparedLayer; buffer: Int32Array }[];
}

function overflow(where: string, image: number, shape: TensorShape, index: number, value: number, bits: number): never {
  const { lo, hi } = accumulatorRange(bits);
  const hw = shape.h * shape.w;
  const c = Math.floor(index / hw);
  const y = Math.floor((index % hw) / shape.w);
  const x = index % shape.w;
  throw new ArithmeticError(
    `accumulator overflow at image ${image}, channel ${c}, y ${y}, x ${x}: value ${value} is outside the signed ${bits}-bit range [${lo}, ${hi}]`,
    where,
  );
}

/** Channel loops are unrolled by this much; channel counts are padded up to a multiple of it. */
const UNROLL = 8;

function padChannels(n: number): number {
  return Math.ceil(n / UNROLL) * UNROLL;
}

/**
 * acc[a .. a+n) += w[b .. b+n) * x, n a multiple of UNROLL. Unrolled by hand:
 * this is the innermost loop of the whole reference and V8 does not unroll it.
 */
function axpy(acc: Float64Array, a: number, w: Float64Array, b: number, n: number, x: number): void {
  const end = a + n;
  for (; a < end; a += 8, b += 8) {
    acc[a] += w[b]! * x;
    acc[a + 1] += w[b + 1]! * x;
    acc[a + 2] += w[b + 2]! * x;
    acc[a + 3] += w[b + 3]! * x;
    acc[a + 4] += w[b + 4]! * x;
    acc[a + 5] += w[b + 5]! * x;
    acc[a + 6] += w[b + 6]! * x;
    acc[a + 7] += w[b + 7]! * x;
  }
}

/**
 * A requant folded into the output stage of the conv/dense before it, so the
 * accumulators never take a trip through memory. Only runReference fuses;
 * runReferenceLayers keeps every layer separate so each output can be traced.
 */
interface RequantEpilogue {
  bias: Int32Array;
  /** 2^-shift per channel (exact) */
  scale: Float64Array;
  lo: number;
  hi: number;
}

function requantEpilogue(layer: RequantLayer): RequantEpilogue {
  const { lo, hi } = requantRange(layer);
  return { bias: layer.bias, scale: Float64Array.from(layer.shift, (s) => 2 ** -s), lo, hi };
}

/**
 * Scatter-form conv: for every non-zero input x[ci][ih][iw] and every kernel
 * tap that maps it to a valid output, acc[oh][ow][:] += w[ci][kh][kw][:] * x.
 * The (output position, tap) pairs each input position feeds are precomputed
 * once (this also handles stride and padding), so the hot loop has no bounds
 * tests. The accumulator is position-major (HWC) so the innermost loop over
 * output channels is contiguous.
 */
function prepareConv(info: LayerInfo, accBits: number, epilogue?: RequantEpilogue): PreparedLayer {
  const layer = info.layer as Conv2dLayer;
  const { c: CI, h: H, w: W } = info.input.shape;
  const { c: CO, h: OH, w: OW } = info.output.shape;
  const { kernelH: KH, kernelW: KW, strideH: SH, strideW: SW, padH: PH, padW: PW } = layer;
  const where = info.where;
  const { lo: accLo, hi: accHi } = accumulatorRange(accBits);
  const COP = padChannels(CO);
  const taps = KH * KW;

  // weights transposed to [ci][kh][kw][co], co padded to COP with zeros
  const wt = new Float64Array(CI * taps * COP);
  for (let co = 0; co < CO; co++)
    for (let ci = 0; ci < CI; ci++)
      for (let t = 0; t < taps; t++) wt[(ci * taps + t) * COP + co] = layer.weights[(co * CI + ci) * taps + t]!;

  // For each input position p: entries start[p] .. start[p+1] give the
  // accumulator offset it feeds and the weight offset (within a ci block).
  const HW = H * W;
  const start = new Int32Array(HW + 1);
  const accOffsets: number[] = [];
  const tapOffsets: number[] = [];
  for (let ih = 0; ih < H; ih++) {
    for (let iw = 0; iw < W; iw++) {
      start[ih * W + iw] = accOffsets.length;
      for (let kh = 0; kh < KH; kh++) {
        const nh = ih + PH - kh;
        if (nh < 0 || nh % SH !== 0 || nh / SH >= OH) continue;
        for (let kw = 0; kw < KW; kw++) {
          const nw = iw + PW - kw;
          if (nw < 0 || nw % SW !== 0 || nw / SW >= OW) continue;
          accOffsets.push(((nh / SH) * OW + nw / SW) * COP);
          tapOffsets.push((kh * KW + kw) * COP);
        }
      }
    }
  }
  start[HW] = accOffsets.length;
  const AO = Int32Array.from(accOffsets);
  const TO = Int32Array.from(tapOffsets);
  const OHW = OH * OW;
  const acc = new Float64Array(OHW * COP);

  const inSize = CI * HW;
  const outSize = CO * OHW;
  return {
    info,
    inSize,
    outSize,
    run(input, output, count, firstImage) {
      for (let k = 0; k < count; k++) {
        acc.fill(0);
        for (let ci = 0; ci < CI; ci++) {
          const plane = k * inSize + ci * HW;
          const wci = ci * taps * COP;
          for (let p = 0; p < HW; p++) {
            const x = input[plane + p]!;
            if (x === 0) continue;
            const t1 = start[p + 1]!;
            for (let t = start[p]!; t < t1; t++) axpy(acc, AO[t]!, wt, wci + TO[t]!, COP, x);
          }
        }
        const outOff = k * outSize;
        if (epilogue === undefined) {
          for (let p = 0; p < OHW; p++) {
            const ab = p * COP;
            for (let co = 0; co < CO; co++) {
              const v = acc[ab + co]!;
              if (v < accLo || v > accHi) overflow(where, firstImage + k, info.output.shape, co * OHW + p, v, accBits);
              output[outOff + co * OHW + p] = v;
            }
          }
        } else {
          const { bias, scale, lo, hi } = epilogue;
          for (let co = 0; co < CO; co++) {
            const b = bias[co]!;
            const s = scale[co]!;
            const ob = outOff + co * OHW;
            for (let p = 0, a = co; p < OHW; p++, a += COP) {
              const v = acc[a]!;
              if (v < accLo || v > accHi) overflow(where, firstImage + k, info.output.shape, co * OHW + p, v, accBits);
              const y = Math.floor((v - b) * s);
              output[ob + p] = y < lo ? lo : y > hi ? hi : y;
            }
          }
        }
      }
    },
  };
}

/** Scatter-form dense: acc[:] += w[:][i] * x[i] for non-zero x[i]. */
function prepareDense(info: LayerInfo, accBits: number, epilogue?: RequantEpilogue): PreparedLayer {
  const layer = info.layer as DenseLayer;
  const IN = layer.inFeatures;
  const OUT = layer.outFeatures;
  const OUTP = padChannels(OUT);
  const where = info.where;
  const { lo: accLo, hi: accHi } = accumulatorRange(accBits);
  const wt = new Float64Array(IN * OUTP);
  for (let o = 0; o < OUT; o++) for (let i = 0; i < IN; i++) wt[i * OUTP + o] = layer.weights[o * IN + i]!;
  const acc = new Float64Array(OUTP);
  return {
    info,
    inSize: IN,
    outSize: OUT,
    run(input, output, count, firstImage) {
      for (let k = 0; k < count; k++) {
        acc.fill(0);
        const inOff = k * IN;
        for (let i = 0; i < IN; i++) {
          const x = input[inOff + i]!;
          if (x !== 0) axpy(acc, 0, wt, i * OUTP, OUTP, x);
        }
        const outOff = k * OUT;
        for (let o = 0; o < OUT; o++) {
          const v = acc[o]!;
          if (v < accLo || v > accHi) overflow(where, firstImage + k, info.output.shape, o, v, accBits);
          if (epilogue === undefined) {
            output[outOff + o] = v;
          } else {
            const y = Math.floor((v - epilogue.bias[o]!) * epilogue.scale[o]!);
            output[outOff + o] = y < epilogue.lo ? epilogue.lo : y > epilogue.hi ? epilogue.hi : y;
          }
        }
      }
    },
  };
}

function prepareMaxPool(info: LayerInfo): PreparedLayer {
  const layer = info.layer as MaxPoolLayer;
  const { c: C, h: H, w: W } = info.input.shape;
  const { h: OH, w: OW } = info.output.shape;
  const K = layer.kernel;
  const S = layer.stride;
  const HW = H * W;
  return {
    info,
    inSize: C * HW,
    outSize: C * OH * OW,
    run(input, output, count) {
      // channels of consecutive images are consecutive planes
      let o = 0;
      const n = count * C;
      if (K === 2 && S === 2) {
        // the common case, without the inner kernel loops
        for (let c = 0; c < n; c++) {
          for (let oh = 0; oh < OH; oh++) {
            let r0 = c * HW + 2 * oh * W;
            const end = r0 + 2 * OW;
            for (; r0 < end; r0 += 2) {
              const r1 = r0 + W;
              const a = input[r0]!;
              const b = input[r0 + 1]!;
              const d = input[r1]!;
              const e = input[r1 + 1]!;
              const m1 = a > b ? a : b;
              const m2 = d > e ? d : e;
              output[o++] = m1 > m2 ? m1 : m2;
            }
          }
        }
        return;
      }
      for (let c = 0; c < n; c++) {
        const plane = c * HW;
        for (let oh = 0; oh < OH; oh++) {
          for (let ow = 0; ow < OW; ow++) {
            const base = plane + oh * S * W + ow * S;
            let m = input[base]!;
            for (let kh = 0; kh < K; kh++) {
              const rb = base + kh * W;
              for (let kw = 0; kw < K; kw++) {
                const v = input[rb + kw]!;
                if (v > m) m = v;
              }
            }
            output[o++] = m;
          }
        }
      }
    },
  };
}

/** y = clamp(floor((acc - bias) * 2^-shift), lo, hi); the power-of-two scale is exact. */
function prepareRequant(info: LayerInfo): PreparedLayer {
  const layer = info.layer as RequantLayer;
  const { c: C, h: H, w: W } = info.input.shape;
  const HW = H * W;
  const { bias, scale, lo, hi } = requantEpilogue(layer);
  return {
    info,
    inSize: C * HW,
    outSize: C * HW,
    run(input, output, count) {
      for (let k = 0; k < count; k++) {
        for (let c = 0; c < C; c++) {
          const b = bias[c]!;
          const s = scale[c]!;
          let i = (k * C + c) * HW;
          const end = i + HW;
          for (; i < end; i++) {
            const y = Math.floor((input[i]! - b) * s);
            output[i] = y < lo ? lo : y > hi ? hi : y;
          }
        }
      }
    },
  };
}

function prepareFlatten(info: LayerInfo): PreparedLayer {
  const n = tensorSize(info.input.shape);
  return {
    info,
    inSize: n,
    outSize: n,
    run(input, output, count) {
      // C,H,W storage order already is the flatten order.
      output.set(input.subarray(0, count * n));
    },
  };
}

function prepareResidual(info: LayerInfo, accBits: number, chunk: number): PreparedLayer {
  const where = info.where;
  const { lo: accLo, hi: accHi } = accumulatorRange(accBits);
  const children = info.children!.map((child) => {
    const prepared = prepareLayer(child, accBits, chunk);
    return { prepared, buffer: new Int32Array(chunk * prepared.outSize) };
  });
  const mainCount = (info.layer as ResidualLayer).main.length;
  const mainOut = children[mainCount - 1]!.buffer;
  const short = children[mainCount]!;
  const n = tensorSize(info.output.shape);
  return {
    info,
    inSize: tensorSize(info.input.shape),
    outSize: n,
    children,
    run(input, output, count, firstImage) {
      if (count > chunk) throw new Error(`internal: residual prepared for ${chunk} images, got ${count}`);
      let src = input;
      for (let i = 0; i < mainCount; i++) {
        const child = children[i]!;
        child.prepared.run(src, child.buffer, count, firstImage);
        src = child.buffer;
      }
      short.prepared.run(input, short.buffer, count, firstImage);
      const sc = short.buffer;
      const total = count * n;
      for (let i = 0; i < total; i++) {
        const v = mainOut[i]! + sc[i]!;
        if (v < accLo || v > accHi) {
          const k = Math.floor(i / n);
          overflow(where, firstImage + k, info.output.shape, i - k * n, v, accBits);
        }
        output[i] = v;
      }
    },
  };
}

/** `chunk` bounds how many images one run() call may process (sizes the residual's internal buffers). */
function prepareLayer(info: LayerInfo, accBits: number, chunk: number): PreparedLayer {
  switch (info.layer.kind) {
    case 'conv2d':
      return prepareConv(info, accBits);
    case 'dense':
      return prepareDense(info, accBits);
    case 'maxpool':
      return prepareMaxPool(info);
    case 'requant':
      return prepareRequant(info);
    case 'flatten':
      return prepareFlatten(info);
    case 'residual':
      return prepareResidual(info, accBits, chunk);
  }
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

/** Prepares top-level layers; with `fuse`, a conv/dense directly followed by a requant becomes one kernel. */
function prepareTopLevel(infos: LayerInfo[], accBits: number, chunk: number, fuse: boolean): PreparedLayer[] {
  const out: PreparedLayer[] = [];
  for (let i = 0; i < infos.length; i++) {
    const info = infos[i]!;
    const next = infos[i + 1];
    if (fuse && next?.layer.kind === 'requant' && (info.layer.kind === 'conv2d' || info.layer.kind === 'dense')) {
      const epilogue = requantEpilogue(next.layer);
      out.push(
        info.layer.kind === 'conv2d' ? prepareConv(info, accBits, epilogue) : prepareDense(info, accBits, epilogue),
      );
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
