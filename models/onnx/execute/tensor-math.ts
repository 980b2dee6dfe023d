/**
 * Float tensor helpers of the executor: multidirectional (numpy) broadcasting,
 * strides, transposition. Values are float64 throughout.
 */
import { ModelError } from '../../../arch/index.js';
import { DATA_TYPE } from '../schema.js';
import { checkDims, elementCount, type Tensor } from '../tensor.js';

export function tensor(dims: number[], data: Float64Array, dataType: number = DATA_TYPE.FLOAT): Tensor {
  return { dims, data, dataType };
}

export function scalar(v: number, dataType: number = DATA_TYPE.FLOAT): Tensor {
  return tensor([], Float64Array.of(v), dataType);
}

export function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1]! * dims[i + 1]!;
  return s;
}

/** The broadcast shape of several shapes (numpy rules), or an error naming both. */
export function broadcastShape(where: string, ...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i]!;
      if (d === out[o] || d === 1) continue;
      if (out[o] === 1) out[o] = d;
      else
        throw new ModelError(`shapes ${shapes.map((x) => `[${x.join(',')}]`).join(' and ')} do not broadcast`, where);
    }
  }
  return out;
}

/** For each output element, the index into `t` under broadcasting to `outDims`. */
export function broadcastIndex(t: Tensor, outDims: readonly number[]): Int32Array {
  const n = elementCount(outDims);
  const idx = new Int32Array(n);
  const rank = outDims.length;
  const tStrides = stridesOf(t.dims);
  // stride of each output axis inside t (0 where t is broadcast)
  const eff = new Array<number>(rank).fill(0);
  for (let i = 0; i < t.dims.length; i++) {
    const o = rank - t.dims.length + i;
    eff[o] = t.dims[i] === 1 ? 0 : tStrides[i]!;
  }
  const counter = new Array<number>(rank).fill(0);
  let pos = 0;
  for (let k = 0; k < n; k++) {
    idx[k] = pos;
    for (let a = rank - 1; a >= 0; a--) {
      counter[a]!++;
      pos += eff[a]!;
      if (counter[a]! < outDims[a]!) break;
      pos -= eff[a]! * outDims[a]!;
      counter[a] = 0;
    }
  }
  return idx;
}

export function elementwise(
  where: string,
  inputs: Tensor[],
  fn: (...v: number[]) => number,
  dataType: number = DATA_TYPE.FLOAT,
): Tensor {
  const dims = broadcastShape(where, ...inputs.map((t) => t.dims));
  const n = checkDims(dims, where, 'result');
  const idx = inputs.map((t) =>
    t.dims.length === dims.length && elementCount(t.dims) === n ? null : broadcastIndex(t, dims),
  );
  const out = new Float64Array(n);
  if (inputs.length === 1) {
    const a = inputs[0]!.data;
    for (let i = 0; i < n; i++) out[i] = fn(a[i]!);
  } else if (inputs.length === 2) {
    const a = inputs[0]!.data;
    const b = inputs[1]!.data;
    const ia = idx[0];
    const ib = idx[1];
    for (let i = 0; i < n; i++) out[i] = fn(a[ia ? ia[i]! : i]!, b[ib ? ib[i]! : i]!);
  } else {
    const args = new Array<number>(inputs.length);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < inputs.length; k++) {
        const ik = idx[k];
        args[k] = inputs[k]!.data[ik ? ik[i]! : i]!;
      }
      out[i] = fn(...args);
    }
  }
  return tensor(dims, out, dataType);
}

export function transpose(t: Tensor, perm: readonly number[]): Tensor {
  const rank = t.dims.length;
  const dims = perm.map((p) => t.dims[p]!);
  const inStrides = stridesOf(t.dims);
  const permStrides = perm.map((p) => inStrides[p]!);
  const n = t.data.length;
  const out = new Float64Array(n);
  const counter = new Array<number>(rank).fill(0);
  let pos = 0;
  for (let k = 0; k < n; k++) {
    out[k] = t.data[pos]!;
    for (let a = rank - 1; a >= 0; a--) {
      counter[a]!++;
      pos += permStrides[a]!;
      if (counter[a]! < dims[a]!) break;
      pos -= permStrides[a]! * dims[a]!;
      counter[a] = 0;
    }
  }
  return tensor(dims, out, t.dataType);
}

/** Round half to even (numpy.round, torch.round, ONNX QuantizeLinear). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** The QONNX rounding modes (docs/qonnx-custom-ops/quant_op.md of fastmachinelearning/qonnx). */
export const ROUNDING_MODES = ['ROUND', 'CEIL', 'FLOOR', 'UP', 'DOWN', 'HALF_UP', 'HALF_DOWN'] as const;
export type RoundingMode = (typeof ROUNDING_MODES)[number];

export function roundingFunction(mode: RoundingMode): (x: number) => number {
  switch (mode) {
    case 'ROUND':
      return roundHalfEven;
    case 'CEIL':
      return Math.ceil;
    case 'FLOOR':
      return Math.floor;
    case 'UP':
      return (x) => Math.sign(x) * Math.ceil(Math.abs(x));
    case 'DOWN':
      return Math.trunc;
    case 'HALF_UP':
      return (x) => Math.sign(x) * Math.floor(Math.abs(x) + 0.5);
    case 'HALF_DOWN':
      return (x) => Math.sign(x) * Math.ceil(Math.abs(x) - 0.5);
  }
}

export function parseRoundingMode(where: string, value: string): RoundingMode {
  const m = value.toUpperCase();
  if ((ROUNDING_MODES as readonly string[]).includes(m)) return m as RoundingMode;
  throw new ModelError(`rounding_mode '${value}' is not one of ${ROUNDING_MODES.join(', ')}`, where);
}
