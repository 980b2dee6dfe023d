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

import { ArithmeticError, DatasetError } from '../arch/errors.js';
import {
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

/** A layer compiled for one input shape: runs one image from `input` at inOff into `output` at outOff. */
interface PreparedLayer {
  info: LayerInfo;
  outSize: number;
  run(input: Int32Array, inOff: number, output: Int32Array, outOff: number, image: number): void;
  /** residual only: prepared sub-layers and their per-image output buffers, for tracing */
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

/**
 * Scatter-form conv: for every non-zero input x[ci][ih][iw] and every kernel
 * tap that maps it to a valid output, acc[oh][ow][:] += w[ci][kh][kw][:] * x.
 * Which (kh, oh) pairs an input row feeds is precomputed once, so the hot loop
 * has no bounds or divisibility tests. The accumulator is position-major
 * (HWC) so the innermost loop over output channels is contiguous.
 */
function prepareConv(info: LayerInfo, accBits: number): PreparedLayer {
  const layer = info.layer as Conv2dLayer;
  const { c: CI, h: H, w: W } = info.input.shape;
  const { c: CO, h: OH, w: OW } = info.output.shape;
  const { kernelH: KH, kernelW: KW, strideH: SH, strideW: SW, padH: PH, padW: PW } = layer;
  const where = info.where;
  const { lo: accLo, hi: accHi } = accumulatorRange(accBits);

  // weights transposed to [ci][kh][kw][co]
  const wt = new Float64Array(CI * KH * KW * CO);
  for (let co = 0; co < CO; co++)
    for (let ci = 0; ci < CI; ci++)
      for (let kh = 0; kh < KH; kh++)
        for (let kw = 0; kw < KW; kw++)
          wt[((ci * KH + kh) * KW + kw) * CO + co] = layer.weights[((co * CI + ci) * KH + kh) * KW + kw]!;

  // For input coordinate i: the (kernel tap, output coordinate) pairs it feeds.
  const taps = (size: number, K: number, S: number, P: number, O: number) => {
    const start = new Int32Array(size + 1);
    const k: number[] = [];
    const o: number[] = [];
    for (let i = 0; i < size; i++) {
      start[i] = k.length;
      for (let t = 0; t < K; t++) {
        const num = i + P - t;
        if (num < 0 || num % S !== 0) continue;
        const out = num / S;
        if (out >= O) continue;
        k.push(t);
        o.push(out);
      }
    }
    start[size] = k.length;
    return { start, k: Int32Array.from(k), o: Int32Array.from(o) };
  };
  const rows = taps(H, KH, SH, PH, OH);
  const cols = taps(W, KW, SW, PW, OW);
  const acc = new Float64Array(OH * OW * CO);
  const OHW = OH * OW;

  return {
    info,
    outSize: CO * OHW,
    run(input, inOff, output, outOff, image) {
      acc.fill(0);
      for (let ci = 0; ci < CI; ci++) {
        const plane = inOff + ci * H * W;
        for (let ih = 0; ih < H; ih++) {
          const r0 = rows.start[ih]!;
          const r1 = rows.start[ih + 1]!;
          if (r0 === r1) continue;
          const rowBase = plane + ih * W;
          for (let iw = 0; iw < W; iw++) {
            const x = input[rowBase + iw]!;
            if (x === 0) continue;
            const c0 = cols.start[iw]!;
            const c1 = cols.start[iw + 1]!;
            for (let r = r0; r < r1; r++) {
              const kh = rows.k[r]!;
              const oh = rows.o[r]!;
              for (let c = c0; c < c1; c++) {
                const ab = (oh * OW + cols.o[c]!) * CO;
                const wb = ((ci * KH + kh) * KW + cols.k[c]!) * CO;
                for (let co = 0; co < CO; co++) acc[ab + co] += wt[wb + co]! * x;
              }
            }
          }
        }
      }
      for (let p = 0; p < OHW; p++) {
        const ab = p * CO;
        for (let co = 0; co < CO; co++) {
          const v = acc[ab + co]!;
          if (v < accLo || v > accHi) overflow(where, image, info.output.shape, co * OHW + p, v, accBits);
          output[outOff + co * OHW + p] = v;
        }
      }
    },
  };
}

/** Scatter-form dense: acc[:] += w[:][i] * x[i] for non-zero x[i]. */
function prepareDense(info: LayerInfo, accBits: number): PreparedLayer {
  const layer = info.layer as DenseLayer;
  const IN = layer.inFeatures;
  const OUT = layer.outFeatures;
  const where = info.where;
  const { lo: accLo, hi: accHi } = accumulatorRange(accBits);
  const wt = new Float64Array(IN * OUT);
  for (let o = 0; o < OUT; o++) for (let i = 0; i < IN; i++) wt[i * OUT + o] = layer.weights[o * IN + i]!;
  const acc = new Float64Array(OUT);
  return {
    info,
    outSize: OUT,
    run(input, inOff, output, outOff, image) {
      acc.fill(0);
      for (let i = 0; i < IN; i++) {
        const x = input[inOff + i]!;
        if (x === 0) continue;
        const wb = i * OUT;
        for (let o = 0; o < OUT; o++) acc[o] += wt[wb + o]! * x;
      }
      for (let o = 0; o < OUT; o++) {
        const v = acc[o]!;
        if (v < accLo || v > accHi) overflow(where, image, info.output.shape, o, v, accBits);
        output[outOff + o] = v;
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
  return {
    info,
    outSize: C * OH * OW,
    run(input, inOff, output, outOff) {
      let o = outOff;
      for (let c = 0; c < C; c++) {
        const plane = inOff + c * H * W;
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
  const { lo, hi } = requantRange(layer);
  const scale = Float64Array.from(layer.shift, (s) => 2 ** -s);
  return {
    info,
    outSize: C * HW,
    run(input, inOff, output, outOff) {
      for (let c = 0; c < C; c++) {
        const b = layer.bias[c]!;
        const s = scale[c]!;
        const base = c * HW;
        for (let p = 0; p < HW; p++) {
          let y = Math.floor((input[inOff + base + p]! - b) * s);
          if (y < lo) y = lo;
          else if (y > hi) y = hi;
          output[outOff + base + p] = y;
        }
      }
    },
  };
}

function prepareFlatten(info: LayerInfo): PreparedLayer {
  const n = tensorSize(info.input.shape);
  return {
    info,
    outSize: n,
    run(input, inOff, output, outOff) {
      // C,H,W storage order already is the flatten order.
      output.set(input.subarray(inOff, inOff + n), outOff);
    },
  };
}

function prepareResidual(info: LayerInfo, accBits: number): PreparedLayer {
  const where = info.where;
  const { lo: accLo, hi: accHi } = accumulatorRange(accBits);
  const kids = info.children!;
  const children = kids.map((child) => {
    const prepared = prepareLayer(child, accBits);
    return { prepared, buffer: new Int32Array(prepared.outSize) };
  });
  const mainCount = (info.layer as ResidualLayer).main.length;
  const mainOut = children[mainCount - 1]!.buffer;
  const short = children[mainCount]!;
  const n = tensorSize(info.output.shape);
  return {
    info,
    outSize: n,
    children,
    run(input, inOff, output, outOff, image) {
      let src = input;
      let srcOff = inOff;
      for (let i = 0; i < mainCount; i++) {
        const child = children[i]!;
        child.prepared.run(src, srcOff, child.buffer, 0, image);
        src = child.buffer;
        srcOff = 0;
      }
      short.prepared.run(input, inOff, short.buffer, 0, image);
      const sc = short.buffer;
      for (let i = 0; i < n; i++) {
        const v = mainOut[i]! + sc[i]!;
        if (v < accLo || v > accHi) overflow(where, image, info.output.shape, i, v, accBits);
        output[outOff + i] = v;
      }
    },
  };
}

function prepareLayer(info: LayerInfo, accBits: number): PreparedLayer {
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
      return prepareResidual(info, accBits);
  }
}

function resolveAccumulatorBits(net: Network, opts: ReferenceOptions | undefined): number {
  const bits = opts?.accumulatorBits ?? net.accumulatorBits;
  if (!Number.isInteger(bits) || bits < 2 || bits > 32) {
    throw new ArithmeticError(`accumulatorBits must be an integer in [2, 32], got ${bits}`, 'reference options');
  }
  return bits;
}

/** Copies one image into the Int32 input buffer, rejecting values outside the input range. */
function loadImage(
  inputs: Int32Array | Uint8Array,
  image: number,
  size: number,
  hi: number,
  into: Int32Array,
): void {
  const base = image * size;
  for (let i = 0; i < size; i++) {
    const v = inputs[base + i]!;
    if (v < 0 || v > hi) {
      throw new DatasetError(
        `input value ${v} at image ${image}, element ${i} is outside the unsigned input range [0, ${hi}]`,
        'reference input',
      );
    }
    into[i] = v;
  }
}

interface Session {
  layers: PreparedLayer[];
  inSize: number;
  inHi: number;
  outShape: TensorShape;
}

function startSession(net: Network, inputs: Int32Array | Uint8Array, batch: number, opts?: ReferenceOptions): Session {
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
  return {
    layers: analysis.layers.map((info) => prepareLayer(info, accBits)),
    inSize,
    inHi: analysis.input.hi,
    outShape: analysis.output.shape,
  };
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
  const s = startSession(net, inputs, batch, opts);
  const outSize = tensorSize(s.outShape);
  const output = new Int32Array(batch * outSize);
  const inBuf = new Int32Array(s.inSize);
  const buffers = s.layers.map((l) => new Int32Array(l.outSize));
  for (let image = 0; image < batch; image++) {
    loadImage(inputs, image, s.inSize, s.inHi, inBuf);
    let src = inBuf;
    for (let i = 0; i < s.layers.length; i++) {
      const last = i === s.layers.length - 1;
      const dst = last ? output : buffers[i]!;
      s.layers[i]!.run(src, 0, dst, last ? image * outSize : 0, image);
      src = dst;
    }
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
  const s = startSession(net, inputs, batch, opts);
  const traces: LayerTrace[] = [];
  // Per prepared layer (recursively): where its per-image result lives and where to copy it.
  const copies: { from: () => Int32Array; size: number; trace: LayerTrace }[] = [];
  const addTrace = (prepared: PreparedLayer, buffer: () => Int32Array) => {
    const info = prepared.info;
    const size = tensorSize(info.output.shape);
    const trace: LayerTrace = {
      path: info.path,
      where: info.where,
      name: info.layer.name,
      kind: info.layer.kind,
      value: info.output,
      data: new Int32Array(batch * size),
    };
    copies.push({ from: buffer, size, trace });
    traces.push(trace);
  };
  const buffers = s.layers.map((l) => new Int32Array(l.outSize));
  const visit = (prepared: PreparedLayer, buffer: Int32Array) => {
    for (const child of prepared.children ?? []) visit(child.prepared, child.buffer);
    addTrace(prepared, () => buffer);
  };
  s.layers.forEach((l, i) => visit(l, buffers[i]!));

  const inBuf = new Int32Array(s.inSize);
  for (let image = 0; image < batch; image++) {
    loadImage(inputs, image, s.inSize, s.inHi, inBuf);
    let src = inBuf;
    for (let i = 0; i < s.layers.length; i++) {
      s.layers[i]!.run(src, 0, buffers[i]!, 0, image);
      src = buffers[i]!;
    }
    for (const c of copies) c.trace.data.set(c.from().subarray(0, c.size), image * c.size);
  }
  const last = traces[traces.length - 1]!;
  return { output: last.data, shape: s.outShape, batch, layers: traces };
}

/**
 * Run one layer over a batch, given its analysis (from analyzeNetwork).
 * Used by calibration, which fixes requant parameters layer by layer.
 */
export function runLayer(info: LayerInfo, input: Int32Array, batch: number, accumulatorBits: number): Int32Array {
  const prepared = prepareLayer(info, accumulatorBits);
  const inSize = tensorSize(info.input.shape);
  const out = new Int32Array(batch * prepared.outSize);
  for (let image = 0; image < batch; image++) {
    prepared.run(input, image * inSize, out, image * prepared.outSize, image);
  }
  return out;
}
