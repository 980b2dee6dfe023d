/** Executor: elementwise arithmetic, activations and output heads (Softmax, ArgMax, TopK). */
import { ModelError } from '../../../arch/index.js';
import { attrFloat, attrInt, hasAttr, normalizeAxis } from '../attrs.js';
import { DATA_TYPE } from '../schema.js';
import { elementCount, type Tensor } from '../tensor.js';
import { input, optionalInput, scalarInput, type ExecOp, type OpContext } from './context.js';
import { elementwise, tensor } from './tensor-math.js';

/**
 * Opset < 7 binary ops broadcast only with broadcast=1, B's shape matching a
 * run of A's axes starting at `axis` (default: A's trailing axes).
 */
function legacyAligned(ctx: OpContext, a: Tensor, b: Tensor): Tensor {
  if (ctx.opset >= 7 || attrInt(ctx.node, 'broadcast', 0) !== 1 || b.dims.length >= a.dims.length) return b;
  const axis = hasAttr(ctx.node, 'axis') ? attrInt(ctx.node, 'axis', 0) : a.dims.length - b.dims.length;
  const dims = a.dims.map(() => 1);
  b.dims.forEach((d, i) => (dims[axis + i] = d));
  return tensor(dims, b.data, b.dataType);
}

function binary(fn: (x: number, y: number) => number): ExecOp {
  return (ctx) => {
    const a = input(ctx, 0);
    const b = legacyAligned(ctx, a, input(ctx, 1));
    return [elementwise(ctx.node.where, [a, b], fn, a.dataType)];
  };
}

function unary(fn: (x: number) => number): ExecOp {
  return (ctx) => {
    const a = input(ctx, 0);
    return [elementwise(ctx.node.where, [a], fn, a.dataType)];
  };
}

function variadic(fn: (x: number, y: number) => number): ExecOp {
  return (ctx) => {
    const parts = ctx.inputs.filter((t): t is Tensor => t !== undefined);
    let acc = parts[0]!;
    for (const p of parts.slice(1)) acc = elementwise(ctx.node.where, [acc, p], fn, acc.dataType);
    return [acc];
  };
}

/** Integer division for integer tensors truncates (C semantics); float division otherwise. */
function isIntegerType(t: number): boolean {
  return t !== DATA_TYPE.FLOAT && t !== DATA_TYPE.DOUBLE && t !== DATA_TYPE.FLOAT16 && t !== DATA_TYPE.BFLOAT16;
}

const div: ExecOp = (ctx) => {
  const a = input(ctx, 0);
  const b = legacyAligned(ctx, a, input(ctx, 1));
  const intDiv = isIntegerType(a.dataType) && isIntegerType(b.dataType);
  return [elementwise(ctx.node.where, [a, b], intDiv ? (x, y) => Math.trunc(x / y) : (x, y) => x / y, a.dataType)];
};

const clip: ExecOp = (ctx) => {
  const x = input(ctx, 0);
  let lo = -Infinity;
  let hi = Infinity;
  if (ctx.opset >= 11) {
    if (optionalInput(ctx, 1)) lo = scalarInput(ctx, 1, 'min');
    if (optionalInput(ctx, 2)) hi = scalarInput(ctx, 2, 'max');
  } else {
    lo = attrFloat(ctx.node, 'min', -3.4028234663852886e38);
    hi = attrFloat(ctx.node, 'max', 3.4028234663852886e38);
  }
  return [elementwise(ctx.node.where, [x], (v) => (v < lo ? lo : v > hi ? hi : v), x.dataType)];
};

/** Softmax / LogSoftmax: opset >= 13 over one axis (default -1); before 13 over the input coerced to 2-D at axis (default 1). */
function softmaxLike(log: boolean): ExecOp {
  return (ctx) => {
    const x = input(ctx, 0);
    const r = x.dims.length;
    const axis = normalizeAxis(ctx.node, attrInt(ctx.node, 'axis', ctx.opset >= 13 ? -1 : 1), r);
    const outer = elementCount(x.dims.slice(0, axis));
    const len = ctx.opset >= 13 ? x.dims[axis]! : elementCount(x.dims.slice(axis));
    const inner = ctx.opset >= 13 ? elementCount(x.dims.slice(axis + 1)) : 1;
    const out = new Float64Array(x.data.length);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const at = (k: number) => (o * len + k) * inner + i;
        let m = -Infinity;
        for (let k = 0; k < len; k++) m = Math.max(m, x.data[at(k)]!);
        let sum = 0;
        for (let k = 0; k < len; k++) sum += Math.exp(x.data[at(k)]! - m);
        for (let k = 0; k < len; k++) {
          const v = x.data[at(k)]! - m;
          out[at(k)] = log ? v - Math.log(sum) : Math.exp(v) / sum;
        }
      }
    }
    return [tensor(x.dims, out)];
  };
}

function argExtreme(max: boolean): ExecOp {
  return (ctx) => {
    const x = input(ctx, 0);
    const r = x.dims.length;
    const axis = normalizeAxis(ctx.node, attrInt(ctx.node, 'axis', 0), r);
    const keep = attrInt(ctx.node, 'keepdims', 1) === 1;
    const last = attrInt(ctx.node, 'select_last_index', 0) === 1;
    const outer = elementCount(x.dims.slice(0, axis));
    const len = x.dims[axis]!;
    const inner = elementCount(x.dims.slice(axis + 1));
    const out = new Float64Array(outer * inner);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        let best = 0;
        for (let k = 1; k < len; k++) {
          const v = x.data[(o * len + k) * inner + i]!;
          const b = x.data[(o * len + best) * inner + i]!;
          if (max ? v > b || (last && v === b) : v < b || (last && v === b)) best = k;
        }
        out[o * inner + i] = best;
      }
    }
    const dims = keep ? x.dims.map((d, a) => (a === axis ? 1 : d)) : x.dims.filter((_, a) => a !== axis);
    return [tensor(dims, out, DATA_TYPE.INT64)];
  };
}

/** TopK: values and indices of the k largest (or smallest) along an axis; ties keep the lower index first. */
const topK: ExecOp = (ctx) => {
  const x = input(ctx, 0);
  const r = x.dims.length;
  const axis = normalizeAxis(ctx.node, attrInt(ctx.node, 'axis', -1), r);
  const k = ctx.opset >= 10 ? scalarInput(ctx, 1, 'K') : attrInt(ctx.node, 'k', 1);
  const largest = attrInt(ctx.node, 'largest', 1) === 1;
  const len = x.dims[axis]!;
  if (!Number.isInteger(k) || k < 0 || k > len) {
    throw new ModelError(`K = ${k} is out of range for an axis of size ${len}`, ctx.node.where);
  }
  const outer = elementCount(x.dims.slice(0, axis));
  const inner = elementCount(x.dims.slice(axis + 1));
  const values = new Float64Array(outer * k * inner);
  const indices = new Float64Array(outer * k * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const order = Array.from({ length: len }, (_, j) => j);
      const v = (j: number) => x.data[(o * len + j) * inner + i]!;
      order.sort((p, q) => (largest ? v(q) - v(p) : v(p) - v(q)) || p - q);
      for (let j = 0; j < k; j++) {
        values[(o * k + j) * inner + i] = v(order[j]!);
        indices[(o * k + j) * inner + i] = order[j]!;
      }
    }
  }
  const dims = x.dims.map((d, a) => (a === axis ? k : d));
  return [tensor(dims, values, x.dataType), tensor([...dims], indices, DATA_TYPE.INT64)];
};

export const MATH_OPS: Record<string, ExecOp> = {
  Add: binary((x, y) => x + y),
  Sub: binary((x, y) => x - y),
  Mul: binary((x, y) => x * y),
  Div: div,
  Pow: binary((x, y) => x ** y),
  Max: variadic((x, y) => Math.max(x, y)),
  Min: variadic((x, y) => Math.min(x, y)),
  Sum: variadic((x, y) => x + y),
  Sqrt: unary(Math.sqrt),
  Neg: unary((x) => -x),
  Abs: unary(Math.abs),
  Reciprocal: unary((x) => 1 / x),
  Exp: unary(Math.exp),
  Log: unary(Math.log),
  Floor: unary(Math.floor),
  Ceil: unary(Math.ceil),
  Relu: unary((x) => (x > 0 ? x : 0)),
  LeakyRelu: (ctx) => {
    const alpha = attrFloat(ctx.node, 'alpha', 0.01);
    return unary((x) => (x >= 0 ? x : alpha * x))(ctx);
  },
  Sigmoid: unary((x) => 1 / (1 + Math.exp(-x))),
  Tanh: unary(Math.tanh),
  Clip: clip,
  Softmax: softmaxLike(false),
  LogSoftmax: softmaxLike(true),
  ArgMax: argExtreme(true),
  ArgMin: argExtreme(false),
  TopK: topK,
};
