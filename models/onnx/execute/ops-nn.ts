/** Executor: convolution, matrix products, pooling and batch normalization (NCHW; 1-D and 2-D spatial). */
import { ModelError } from '../../../arch/index.js';
import { attrFloat, attrInt, windowGeometry, type WindowGeometry } from '../attrs.js';
import { elementCount, checkDims, type Tensor } from '../tensor.js';
import { input, optionalInput, type ExecOp, type OpContext } from './context.js';
import { broadcastShape, elementwise, stridesOf, tensor, transpose } from './tensor-math.js';

/** Views an N x C x (H) x W tensor as 2-D spatial (1-D inputs get H = 1). */
function spatial2d(ctx: OpContext, x: Tensor, what: string): { n: number; c: number; h: number; w: number } {
  if (x.dims.length === 4) return { n: x.dims[0]!, c: x.dims[1]!, h: x.dims[2]!, w: x.dims[3]! };
  if (x.dims.length === 3) return { n: x.dims[0]!, c: x.dims[1]!, h: 1, w: x.dims[2]! };
  throw new ModelError(
    `${what} of shape [${x.dims.join(',')}]: only 1-D and 2-D spatial data is supported`,
    ctx.node.where,
  );
}

function geometry2d(ctx: OpContext, x: Tensor, kernel?: number[]): { g: WindowGeometry; one: boolean } {
  const one = x.dims.length === 3;
  const g = windowGeometry(ctx.node, x.dims.slice(2), kernel);
  if (!one) return { g, one };
  // 1-D: prepend a unit height axis
  return {
    one,
    g: {
      kernel: [1, ...g.kernel],
      strides: [1, ...g.strides],
      dilations: [1, ...g.dilations],
      padBegin: [0, ...g.padBegin],
      padEnd: [0, ...g.padEnd],
      out: [1, ...g.out],
    },
  };
}

function outDims(x: Tensor, c: number, g: WindowGeometry, one: boolean): number[] {
  return one ? [x.dims[0]!, c, g.out[1]!] : [x.dims[0]!, c, g.out[0]!, g.out[1]!];
}

/** Direct convolution; `xOff`/`wOff` are subtracted first (ConvInteger zero points). */
function convolve(ctx: OpContext, x: Tensor, w: Tensor, b: Tensor | undefined, xOff = 0, wOff = 0): Tensor {
  const { n, c, h, w: W } = spatial2d(ctx, x, 'input');
  if (w.dims.length !== x.dims.length) {
    throw new ModelError(
      `weights of rank ${w.dims.length} do not match the rank-${x.dims.length} input`,
      ctx.node.where,
    );
  }
  const group = attrInt(ctx.node, 'group', 1);
  const co = w.dims[0]!;
  const cig = w.dims[1]!;
  if (group < 1 || c % group !== 0 || co % group !== 0 || cig * group !== c) {
    throw new ModelError(
      `group ${group} does not divide ${c} input channels into weights of shape [${w.dims.join(',')}]`,
      ctx.node.where,
    );
  }
  const { g, one } = geometry2d(ctx, x, w.dims.slice(2));
  const [kh, kw] = g.kernel as [number, number];
  const [sh, sw] = g.strides as [number, number];
  const [dh, dw] = g.dilations as [number, number];
  const [ph, pw] = g.padBegin as [number, number];
  const [oh, ow] = g.out as [number, number];
  if (b && b.data.length !== co)
    throw new ModelError(`bias has ${b.data.length} values for ${co} output channels`, ctx.node.where);
  const dims = outDims(x, co, g, one);
  const out = new Float64Array(checkDims(dims, ctx.node.where, 'result'));
  const cog = co / group;
  for (let img = 0; img < n; img++) {
    for (let oc = 0; oc < co; oc++) {
      const grp = Math.floor(oc / cog);
      const bias = b ? b.data[oc]! : 0;
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let s = 0;
          for (let ic = 0; ic < cig; ic++) {
            const xc = (img * c + grp * cig + ic) * h * W;
            const wc = (oc * cig + ic) * kh * kw;
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * sh - ph + ky * dh;
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = ox * sw - pw + kx * dw;
                if (ix < 0 || ix >= W) continue;
                s += (x.data[xc + iy * W + ix]! - xOff) * (w.data[wc + ky * kw + kx]! - wOff);
              }
            }
          }
          out[((img * co + oc) * oh + oy) * ow + ox] = s + bias;
        }
      }
    }
  }
  return tensor(dims, out);
}

const conv: ExecOp = (ctx) => [convolve(ctx, input(ctx, 0, 'X'), input(ctx, 1, 'W'), optionalInput(ctx, 2))];

const convInteger: ExecOp = (ctx) => {
  const xz = optionalInput(ctx, 2);
  const wz = optionalInput(ctx, 3);
  if ((xz && xz.data.length !== 1) || (wz && wz.data.length !== 1)) {
    throw new ModelError('per-channel zero points of ConvInteger are not supported', ctx.node.where);
  }
  const r = convolve(ctx, input(ctx, 0, 'x'), input(ctx, 1, 'w'), undefined, xz?.data[0] ?? 0, wz?.data[0] ?? 0);
  return [{ ...r, dataType: 6 }];
};

/** numpy matmul: 1-D operands are promoted, leading (batch) axes broadcast. */
function matmul(ctx: OpContext, a0: Tensor, b0: Tensor, aOff = 0, bOff = 0): Tensor {
  const a = a0.dims.length === 1 ? tensor([1, a0.dims[0]!], a0.data) : a0;
  const b = b0.dims.length === 1 ? tensor([b0.dims[0]!, 1], b0.data) : b0;
  const m = a.dims[a.dims.length - 2]!;
  const k = a.dims[a.dims.length - 1]!;
  const k2 = b.dims[b.dims.length - 2]!;
  const nn = b.dims[b.dims.length - 1]!;
  if (k !== k2) {
    throw new ModelError(`cannot multiply [${a0.dims.join(',')}] by [${b0.dims.join(',')}]`, ctx.node.where);
  }
  const batch = broadcastShape(ctx.node.where, a.dims.slice(0, -2), b.dims.slice(0, -2));
  const nb = elementCount(batch);
  const batchIndex = (t: Tensor, i: number): number => {
    const bd = t.dims.slice(0, -2);
    let idx = 0;
    let rem = i;
    const bs = stridesOf(batch);
    const ts = stridesOf(bd);
    for (let d = 0; d < batch.length; d++) {
      const coord = Math.floor(rem / bs[d]!);
      rem -= coord * bs[d]!;
      const td = d - (batch.length - bd.length);
      if (td >= 0 && bd[td] !== 1) idx += coord * ts[td]!;
    }
    return idx;
  };
  const dims = [...batch, m, nn];
  const out = new Float64Array(checkDims(dims, ctx.node.where, 'result'));
  for (let bi = 0; bi < nb; bi++) {
    const ao = batchIndex(a, bi) * m * k;
    const bo = batchIndex(b, bi) * k * nn;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < nn; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) s += (a.data[ao + i * k + q]! - aOff) * (b.data[bo + q * nn + j]! - bOff);
        out[(bi * m + i) * nn + j] = s;
      }
    }
  }
  let d = dims;
  if (a0.dims.length === 1) d = d.filter((_, i) => i !== d.length - 2);
  if (b0.dims.length === 1) d = d.slice(0, -1);
  return tensor(d, out);
}

const matMulInteger: ExecOp = (ctx) => {
  const az = optionalInput(ctx, 2);
  const bz = optionalInput(ctx, 3);
  if ((az && az.data.length !== 1) || (bz && bz.data.length !== 1)) {
    throw new ModelError('per-row/column zero points of MatMulInteger are not supported', ctx.node.where);
  }
  const r = matmul(ctx, input(ctx, 0, 'A'), input(ctx, 1, 'B'), az?.data[0] ?? 0, bz?.data[0] ?? 0);
  return [{ ...r, dataType: 6 }];
};

/** Gemm: alpha * A' * B' + beta * C (C broadcast; opset < 7 needs broadcast=1 for that, which nibble accepts either way). */
const gemm: ExecOp = (ctx) => {
  let a = input(ctx, 0, 'A');
  let b = input(ctx, 1, 'B');
  if (a.dims.length !== 2 || b.dims.length !== 2) {
    throw new ModelError(`Gemm needs 2-D A and B, got [${a.dims.join(',')}] and [${b.dims.join(',')}]`, ctx.node.where);
  }
  if (attrInt(ctx.node, 'transA', 0)) a = transpose(a, [1, 0]);
  if (attrInt(ctx.node, 'transB', 0)) b = transpose(b, [1, 0]);
  const alpha = attrFloat(ctx.node, 'alpha', 1);
  const beta = attrFloat(ctx.node, 'beta', 1);
  const y = matmul(ctx, a, b);
  const c = optionalInput(ctx, 2);
  if (!c)
    return [
      alpha === 1
        ? y
        : tensor(
            y.dims,
            y.data.map((v) => alpha * v),
          ),
    ];
  const r = elementwise(ctx.node.where, [y, c], (p, q) => alpha * p + beta * q);
  if (r.dims.length !== 2 || r.dims[0] !== y.dims[0] || r.dims[1] !== y.dims[1]) {
    throw new ModelError(`C of shape [${c.dims.join(',')}] does not broadcast to the product`, ctx.node.where);
  }
  return [r];
};

function pool(kind: 'max' | 'avg'): ExecOp {
  return (ctx) => {
    const x = input(ctx, 0);
    if (ctx.node.outputs.length > 1 && ctx.node.outputs[1]) {
      throw new ModelError('MaxPool with an Indices output is not supported', ctx.node.where);
    }
    const { n, c, h, w } = spatial2d(ctx, x, 'input');
    const { g, one } = geometry2d(ctx, x);
    const [kh, kw] = g.kernel as [number, number];
    const [sh, sw] = g.strides as [number, number];
    const [dh, dw] = g.dilations as [number, number];
    const [ph, pw] = g.padBegin as [number, number];
    const [oh, ow] = g.out as [number, number];
    const includePad = attrInt(ctx.node, 'count_include_pad', 0) === 1;
    const dims = outDims(x, c, g, one);
    const out = new Float64Array(checkDims(dims, ctx.node.where, 'result'));
    for (let p = 0; p < n * c; p++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let m = -Infinity;
          let s = 0;
          let count = 0;
          let padCount = 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - ph + ky * dh;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - pw + kx * dw;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
                // count_include_pad counts explicit padding, not the ceil-mode overhang
                if (iy < h + g.padEnd[0]! && ix < w + g.padEnd[1]!) padCount++;
                continue;
              }
              const v = x.data[(p * h + iy) * w + ix]!;
              if (v > m) m = v;
              s += v;
              count++;
            }
          }
          out[(p * oh + oy) * ow + ox] = kind === 'max' ? m : s / (includePad ? count + padCount : count);
        }
      }
    }
    return [tensor(dims, out)];
  };
}

function globalPool(kind: 'max' | 'avg'): ExecOp {
  return (ctx) => {
    const x = input(ctx, 0);
    const n = x.dims[0]!;
    const c = x.dims[1]!;
    const hw = elementCount(x.dims.slice(2));
    const out = new Float64Array(n * c);
    for (let p = 0; p < n * c; p++) {
      let m = -Infinity;
      let s = 0;
      for (let i = 0; i < hw; i++) {
        const v = x.data[p * hw + i]!;
        m = Math.max(m, v);
        s += v;
      }
      out[p] = kind === 'max' ? m : s / hw;
    }
    return [tensor([n, c, ...x.dims.slice(2).map(() => 1)], out)];
  };
}

/** Inference-mode batch normalization over axis 1: (x - mean) / sqrt(var + epsilon) * scale + B. */
const batchNorm: ExecOp = (ctx) => {
  const x = input(ctx, 0);
  const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => input(ctx, i));
  if (attrInt(ctx.node, 'training_mode', 0) === 1) {
    throw new ModelError('BatchNormalization in training mode is not supported', ctx.node.where);
  }
  const eps = attrFloat(ctx.node, 'epsilon', 1e-5);
  const c = x.dims[1] ?? 1;
  for (const [name, t] of [
    ['scale', scale],
    ['B', bias],
    ['mean', mean],
    ['var', variance],
  ] as const) {
    if (t!.data.length !== c)
      throw new ModelError(`${name} has ${t!.data.length} values for ${c} channels`, ctx.node.where);
  }
  const inner = elementCount(x.dims.slice(2));
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < x.data.length; i++) {
    const ch = Math.floor(i / inner) % c;
    out[i] =
      ((x.data[i]! - mean!.data[ch]!) / Math.sqrt(variance!.data[ch]! + eps)) * scale!.data[ch]! + bias!.data[ch]!;
  }
  return [tensor(x.dims, out)];
};

/** qonnx channels-last variants: the same operator on NHWC data (transposed around the NCHW definition). */
function channelsLast(op: ExecOp): ExecOp {
  return (ctx) => {
    const x = input(ctx, 0);
    const r = x.dims.length;
    const toFirst = [0, r - 1, ...Array.from({ length: r - 2 }, (_, i) => i + 1)];
    const toLast = [0, ...Array.from({ length: r - 2 }, (_, i) => i + 2), 1];
    const inputs = [...ctx.inputs];
    inputs[0] = transpose(x, toFirst);
    // Conv weights are stored [CO, KH, KW, CI/group] in qonnx's channels-last Conv
    if (inputs[1] && ctx.node.opType === 'Conv') inputs[1] = transpose(inputs[1], toFirst);
    return op({ ...ctx, inputs }).map((t) => transpose(t, toLast));
  };
}

export const NN_OPS: Record<string, ExecOp> = {
  Conv: conv,
  ConvInteger: convInteger,
  MatMul: (ctx) => [matmul(ctx, input(ctx, 0, 'A'), input(ctx, 1, 'B'))],
  MatMulInteger: matMulInteger,
  Gemm: gemm,
  MaxPool: pool('max'),
  AveragePool: pool('avg'),
  GlobalAveragePool: globalPool('avg'),
  GlobalMaxPool: globalPool('max'),
  BatchNormalization: batchNorm,
};

export const CHANNELS_LAST_OPS: Record<string, ExecOp> = {
  Conv: channelsLast(conv),
  MaxPool: channelsLast(pool('max')),
  BatchNormalization: channelsLast(batchNorm),
};
