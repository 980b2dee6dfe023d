/** Executor: data movement and shape operators (ONNX operator definitions, opset 6 and later). */
import { ModelError } from '../../../arch/index.js';
import { attrFloat, attrFloats, attrInt, attrInts, attrString, hasAttr, normalizeAxis } from '../attrs.js';
import { DATA_TYPE } from '../schema.js';
import { checkDims, elementCount, type Tensor } from '../tensor.js';
import { input, intsInput, optionalInput, type ExecOp, type OpContext } from './context.js';
import { broadcastIndex, broadcastShape, stridesOf, tensor, transpose } from './tensor-math.js';

const int64Tensor = (values: number[]): Tensor => tensor([values.length], Float64Array.from(values), DATA_TYPE.INT64);

function axesOf(ctx: OpContext, inputIndex: number, fromOpset: number): number[] | undefined {
  if (ctx.opset >= fromOpset) return optionalInput(ctx, inputIndex) ? intsInput(ctx, inputIndex, 'axes') : undefined;
  return attrInts(ctx.node, 'axes');
}

const identity: ExecOp = (ctx) => [input(ctx, 0)];

const constant: ExecOp = (ctx) => {
  const n = ctx.node;
  const t = n.attrs.get('value')?.t;
  if (t) return [t];
  if (hasAttr(n, 'value_float')) return [tensor([], Float64Array.of(attrFloat(n, 'value_float', 0)))];
  if (hasAttr(n, 'value_floats')) {
    const v = attrFloats(n, 'value_floats')!;
    return [tensor([v.length], Float64Array.from(v))];
  }
  if (hasAttr(n, 'value_int')) return [tensor([], Float64Array.of(attrInt(n, 'value_int', 0)), DATA_TYPE.INT64)];
  if (hasAttr(n, 'value_ints')) return [int64Tensor(attrInts(n, 'value_ints')!)];
  throw new ModelError('Constant needs a value, value_float(s) or value_int(s) attribute', n.where);
};

const shape: ExecOp = (ctx) => {
  const dims = input(ctx, 0).dims;
  const r = dims.length;
  const clampAxis = (a: number) => Math.min(Math.max(a < 0 ? a + r : a, 0), r);
  const start = clampAxis(attrInt(ctx.node, 'start', 0));
  const end = clampAxis(attrInt(ctx.node, 'end', r));
  return [int64Tensor(dims.slice(start, Math.max(start, end)))];
};

const size: ExecOp = (ctx) => [tensor([], Float64Array.of(input(ctx, 0).data.length), DATA_TYPE.INT64)];

const gather: ExecOp = (ctx) => {
  const data = input(ctx, 0);
  const indices = input(ctx, 1);
  const axis = normalizeAxis(ctx.node, attrInt(ctx.node, 'axis', 0), data.dims.length);
  const len = data.dims[axis]!;
  const outer = elementCount(data.dims.slice(0, axis));
  const inner = elementCount(data.dims.slice(axis + 1));
  const dims = [...data.dims.slice(0, axis), ...indices.dims, ...data.dims.slice(axis + 1)];
  const n = checkDims(dims, ctx.node.where, 'result');
  const out = new Float64Array(n);
  const k = indices.data.length;
  let o = 0;
  for (let a = 0; a < outer; a++) {
    for (let j = 0; j < k; j++) {
      let ix = indices.data[j]!;
      if (ix < 0) ix += len;
      if (!Number.isInteger(ix) || ix < 0 || ix >= len) {
        throw new ModelError(`index ${indices.data[j]} is out of range for axis of size ${len}`, ctx.node.where);
      }
      const base = (a * len + ix) * inner;
      for (let b = 0; b < inner; b++) out[o++] = data.data[base + b]!;
    }
  }
  return [tensor(dims, out, data.dataType)];
};

const unsqueeze: ExecOp = (ctx) => {
  const x = input(ctx, 0);
  const axes = axesOf(ctx, 1, 13);
  if (!axes) throw new ModelError('Unsqueeze needs axes', ctx.node.where);
  const rank = x.dims.length + axes.length;
  const norm = axes.map((a) => normalizeAxis(ctx.node, a, rank)).sort((a, b) => a - b);
  const dims = [...x.dims];
  for (const a of norm) dims.splice(a, 0, 1);
  return [tensor(dims, x.data, x.dataType)];
};

const squeeze: ExecOp = (ctx) => {
  const x = input(ctx, 0);
  const axes = axesOf(ctx, 1, 13);
  const drop = new Set(
    axes ? axes.map((a) => normalizeAxis(ctx.node, a, x.dims.length)) : x.dims.flatMap((d, i) => (d === 1 ? [i] : [])),
  );
  for (const a of drop) {
    if (x.dims[a] !== 1) throw new ModelError(`cannot squeeze axis ${a} of size ${x.dims[a]}`, ctx.node.where);
  }
  return [
    tensor(
      x.dims.filter((_, i) => !drop.has(i)),
      x.data,
      x.dataType,
    ),
  ];
};

const concat: ExecOp = (ctx) => {
  const parts = ctx.inputs.filter((t): t is Tensor => t !== undefined);
  if (parts.length === 0) throw new ModelError('Concat needs inputs', ctx.node.where);
  const rank = parts[0]!.dims.length;
  const axis = normalizeAxis(ctx.node, attrInt(ctx.node, 'axis', 0), rank);
  for (const p of parts) {
    if (p.dims.length !== rank || p.dims.some((d, i) => i !== axis && d !== parts[0]!.dims[i])) {
      throw new ModelError(
        `inputs of shapes ${parts.map((q) => `[${q.dims.join(',')}]`).join(', ')} do not concatenate on axis ${axis}`,
        ctx.node.where,
      );
    }
  }
  const dims = [...parts[0]!.dims];
  dims[axis] = parts.reduce((s, p) => s + p.dims[axis]!, 0);
  const outer = elementCount(dims.slice(0, axis));
  const out = new Float64Array(checkDims(dims, ctx.node.where, 'result'));
  let o = 0;
  for (let a = 0; a < outer; a++) {
    for (const p of parts) {
      const chunk = elementCount(p.dims.slice(axis));
      out.set(p.data.subarray(a * chunk, (a + 1) * chunk), o);
      o += chunk;
    }
  }
  return [tensor(dims, out, parts[0]!.dataType)];
};

/** Reshape's target shape: 0 copies the input dimension (unless allowzero), -1 is inferred. */
export function reshapeTarget(
  where: string,
  inDims: readonly number[],
  target: readonly number[],
  allowZero: boolean,
): number[] {
  const total = elementCount(inDims);
  const dims = target.map((d, i) => {
    if (!Number.isSafeInteger(d))
      throw new ModelError(`shape value ${d} is not an exact integer (int64 overflow?)`, where);
    if (d === 0 && !allowZero) {
      if (i >= inDims.length) throw new ModelError(`shape[${i}] = 0 copies a dimension the input does not have`, where);
      return inDims[i]!;
    }
    if (d < -1) throw new ModelError(`shape[${i}] = ${d} is not a valid size`, where);
    return d;
  });
  const unknown = dims.filter((d) => d === -1).length;
  if (unknown > 1) throw new ModelError('shape has more than one -1', where);
  const known = dims.reduce((a, d) => (d === -1 ? a : a * d), 1);
  if (unknown === 1) {
    if (known === 0 || total % known !== 0) {
      throw new ModelError(`cannot reshape ${inDims.join('x')} (${total} elements) to [${target.join(',')}]`, where);
    }
    dims[dims.indexOf(-1)] = total / known;
  } else if (known !== total) {
    throw new ModelError(`cannot reshape ${inDims.join('x')} (${total} elements) to [${target.join(',')}]`, where);
  }
  return dims;
}

const reshape: ExecOp = (ctx) => {
  const x = input(ctx, 0);
  const target = ctx.opset >= 5 ? intsInput(ctx, 1, 'shape') : (attrInts(ctx.node, 'shape') ?? []);
  const dims = reshapeTarget(ctx.node.where, x.dims, target, attrInt(ctx.node, 'allowzero', 0) === 1);
  return [tensor(dims, x.data, x.dataType)];
};

const flatten: ExecOp = (ctx) => {
  const x = input(ctx, 0);
  const r = x.dims.length;
  const axisAttr = attrInt(ctx.node, 'axis', 1);
  const axis = axisAttr < 0 ? axisAttr + r : axisAttr;
  if (axis < 0 || axis > r) throw new ModelError(`axis ${axisAttr} is out of range for rank ${r}`, ctx.node.where);
  return [tensor([elementCount(x.dims.slice(0, axis)), elementCount(x.dims.slice(axis))], x.data, x.dataType)];
};

const transposeOp: ExecOp = (ctx) => {
  const x = input(ctx, 0);
  const r = x.dims.length;
  const perm = attrInts(ctx.node, 'perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i);
  if (perm.length !== r || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    throw new ModelError(`perm [${perm.join(',')}] is not a permutation of ${r} axes`, ctx.node.where);
  }
  return [transpose(x, perm)];
};

const slice: ExecOp = (ctx) => {
  const x = input(ctx, 0);
  const r = x.dims.length;
  let starts: number[];
  let ends: number[];
  let axes: number[] | undefined;
  let steps: number[] | undefined;
  if (ctx.opset >= 10) {
    starts = intsInput(ctx, 1, 'starts');
    ends = intsInput(ctx, 2, 'ends');
    axes = optionalInput(ctx, 3) ? intsInput(ctx, 3, 'axes') : undefined;
    steps = optionalInput(ctx, 4) ? intsInput(ctx, 4, 'steps') : undefined;
  } else {
    starts = attrInts(ctx.node, 'starts') ?? [];
    ends = attrInts(ctx.node, 'ends') ?? [];
    axes = attrInts(ctx.node, 'axes');
  }
  const ax = (axes ?? starts.map((_, i) => i)).map((a) => normalizeAxis(ctx.node, a, r));
  const begin = x.dims.map(() => 0);
  const stop = [...x.dims];
  const step = x.dims.map(() => 1);
  ax.forEach((a, k) => {
    const d = x.dims[a]!;
    const st = steps?.[k] ?? 1;
    if (st === 0) throw new ModelError('slice step 0', ctx.node.where);
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    let s = starts[k]!;
    let e = ends[k]!;
    s = s < 0 ? s + d : s;
    e = e < 0 ? e + d : e;
    if (st > 0) {
      begin[a] = clamp(s, 0, d);
      stop[a] = clamp(e, 0, d);
    } else {
      begin[a] = clamp(s, 0, d - 1);
      stop[a] = clamp(e, -1, d - 1);
    }
    step[a] = st;
  });
  const dims = x.dims.map((_, a) => Math.max(0, Math.ceil((stop[a]! - begin[a]!) / step[a]!)));
  const n = elementCount(dims);
  const strides = stridesOf(x.dims);
  const out = new Float64Array(n);
  const counter = dims.map(() => 0);
  for (let k = 0; k < n; k++) {
    let pos = 0;
    for (let a = 0; a < r; a++) pos += (begin[a]! + counter[a]! * step[a]!) * strides[a]!;
    out[k] = x.data[pos]!;
    for (let a = r - 1; a >= 0; a--) {
      if (++counter[a]! < dims[a]!) break;
      counter[a] = 0;
    }
  }
  return [tensor(dims, out, x.dataType)];
};

const INT_RANGES: Partial<Record<number, [number, number]>> = {
  [DATA_TYPE.UINT8]: [0, 255],
  [DATA_TYPE.INT8]: [-128, 127],
  [DATA_TYPE.UINT16]: [0, 65535],
  [DATA_TYPE.INT16]: [-32768, 32767],
  [DATA_TYPE.INT32]: [-(2 ** 31), 2 ** 31 - 1],
  [DATA_TYPE.UINT32]: [0, 2 ** 32 - 1],
  [DATA_TYPE.INT4]: [-8, 7],
  [DATA_TYPE.UINT4]: [0, 15],
};

const cast: ExecOp = (ctx) => {
  const x = input(ctx, 0);
  const to = attrInt(ctx.node, 'to', DATA_TYPE.FLOAT);
  const range = INT_RANGES[to];
  if (to === DATA_TYPE.FLOAT || to === DATA_TYPE.DOUBLE) {
    return [tensor(x.dims, to === DATA_TYPE.FLOAT ? Float64Array.from(x.data, Math.fround) : x.data, to)];
  }
  if (to === DATA_TYPE.BOOL)
    return [
      tensor(
        x.dims,
        Float64Array.from(x.data, (v) => (v !== 0 ? 1 : 0)),
        to,
      ),
    ];
  if (to === DATA_TYPE.INT64 || range) {
    // float -> int truncates toward zero; out-of-range integer casts wrap as two's complement
    return [
      tensor(
        x.dims,
        Float64Array.from(x.data, (v) => {
          const t = Math.trunc(v);
          if (!range) return t;
          const span = range[1] - range[0] + 1;
          return ((((t - range[0]) % span) + span) % span) + range[0];
        }),
        to,
      ),
    ];
  }
  throw new ModelError(`Cast to data type ${to} is not supported`, ctx.node.where);
};

const expand: ExecOp = (ctx) => {
  const x = input(ctx, 0);
  const target = intsInput(ctx, 1, 'shape');
  const dims = broadcastShape(ctx.node.where, x.dims, target);
  checkDims(dims, ctx.node.where, 'result');
  const idx = broadcastIndex(x, dims);
  return [
    tensor(
      dims,
      Float64Array.from(idx, (i) => x.data[i]!),
      x.dataType,
    ),
  ];
};

const constantOfShape: ExecOp = (ctx) => {
  const dims = intsInput(ctx, 0, 'shape');
  const value = ctx.node.attrs.get('value')?.t;
  const n = checkDims(dims, ctx.node.where, 'result');
  return [tensor(dims, new Float64Array(n).fill(value?.data[0] ?? 0), value?.dataType ?? DATA_TYPE.FLOAT)];
};

/** Pad (mode constant only): pads [x1_begin, x2_begin, ..., x1_end, x2_end, ...]. */
const pad: ExecOp = (ctx) => {
  const x = input(ctx, 0);
  const r = x.dims.length;
  const mode = attrString(ctx.node, 'mode', 'constant');
  if (mode !== 'constant') throw new ModelError(`Pad mode '${mode}' is not supported (only constant)`, ctx.node.where);
  let pads = ctx.opset >= 11 ? intsInput(ctx, 1, 'pads') : (attrInts(ctx.node, 'pads') ?? []);
  const value = ctx.opset >= 11 ? (optionalInput(ctx, 2)?.data[0] ?? 0) : attrFloat(ctx.node, 'value', 0);
  if (ctx.opset >= 18 && optionalInput(ctx, 3)) {
    const axes = intsInput(ctx, 3, 'axes').map((a) => normalizeAxis(ctx.node, a, r));
    const full = new Array<number>(2 * r).fill(0);
    axes.forEach((a, k) => {
      full[a] = pads[k]!;
      full[a + r] = pads[k + axes.length]!;
    });
    pads = full;
  }
  if (pads.length !== 2 * r) throw new ModelError(`pads has ${pads.length} values, expected ${2 * r}`, ctx.node.where);
  if (pads.some((p) => p < 0)) throw new ModelError('negative pads (cropping) are not supported', ctx.node.where);
  const dims = x.dims.map((d, a) => d + pads[a]! + pads[a + r]!);
  const n = checkDims(dims, ctx.node.where, 'result');
  const out = new Float64Array(n).fill(value);
  const outStrides = stridesOf(dims);
  const counter = x.dims.map(() => 0);
  for (let k = 0; k < x.data.length; k++) {
    let pos = 0;
    for (let a = 0; a < r; a++) pos += (counter[a]! + pads[a]!) * outStrides[a]!;
    out[pos] = x.data[k]!;
    for (let a = r - 1; a >= 0; a--) {
      if (++counter[a]! < x.dims[a]!) break;
      counter[a] = 0;
    }
  }
  return [tensor(dims, out, x.dataType)];
};

export const SHAPE_OPS: Record<string, ExecOp> = {
  Identity: identity,
  Dropout: (ctx) => [input(ctx, 0)],
  Constant: constant,
  Shape: shape,
  Size: size,
  Gather: gather,
  Unsqueeze: unsqueeze,
  Squeeze: squeeze,
  Concat: concat,
  Reshape: reshape,
  Flatten: flatten,
  Transpose: transposeOp,
  Slice: slice,
  Cast: cast,
  Expand: expand,
  ConstantOfShape: constantOfShape,
  Pad: pad,
};
