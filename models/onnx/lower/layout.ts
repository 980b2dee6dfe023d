/**
 * How an ONNX tensor's elements sit in the nibble tensor that holds them.
 * nibble tensors are C x H x W per image (`canon`); an ONNX value may view
 * the same elements with other dimensions (a flatten, unit axes) and in
 * another order (a Transpose, channels-last). `order[i]` is the canonical
 * (C,H,W) flat index of the ONNX value's per-image element i; null means the
 * identity, which is what every plain NCHW graph keeps.
 */
import { ModelError } from '../../../arch/index.js';
import { elementCount } from '../tensor.js';

export interface Canon {
  c: number;
  h: number;
  w: number;
}

export interface Layout {
  /** ONNX dimensions with the batch axis first (always 1 here) */
  dims: number[];
  canon: Canon;
  order: Int32Array | null;
  /** the node that viewed a feature map as a vector (names the flatten layer a dense layer then needs) */
  flatten?: string;
}

export function canonSize(c: Canon): number {
  return c.c * c.h * c.w;
}

/** The layout of an NCHW (or NCL, or NC) ONNX value held in the same order. */
export function plainLayout(dims: number[]): Layout {
  const c = dims[1] ?? 1;
  const h = dims.length >= 4 ? dims[2]! : 1;
  const w = dims.length >= 4 ? dims[3]! : dims.length === 3 ? dims[2]! : 1;
  return { dims: [1, ...dims.slice(1)], canon: { c, h, w }, order: null };
}

/** The layout of an NHWC ONNX value of a C x H x W canonical tensor. */
export function channelsLastLayout(dims: number[]): Layout {
  const [, h, w, c] = dims as [number, number, number, number];
  const order = new Int32Array(h * w * c);
  let i = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) order[i++] = (ch * h + y) * w + x;
  return { dims: [1, h, w, c], canon: { c, h, w }, order };
}

export function orderAt(l: Layout, i: number): number {
  return l.order ? l.order[i]! : i;
}

/** Canonical channel of each ONNX element. */
export function channelOf(l: Layout, i: number): number {
  return Math.floor(orderAt(l, i) / (l.canon.h * l.canon.w));
}

/** Same elements, new dims (Reshape, Flatten, Squeeze, Unsqueeze keep the row-major order). */
export function reshapeLayout(l: Layout, dims: number[]): Layout {
  return { ...l, dims: [...dims] };
}

export function transposeLayout(l: Layout, perm: number[], where: string): Layout {
  if (perm.length !== l.dims.length)
    throw new ModelError(`perm [${perm.join(',')}] does not match rank ${l.dims.length}`, where);
  const dims = perm.map((p) => l.dims[p]!);
  const n = elementCount(l.dims);
  const inStrides = l.dims.map((_, i) => elementCount(l.dims.slice(i + 1)));
  const order = new Int32Array(n);
  const counter = dims.map(() => 0);
  for (let j = 0; j < n; j++) {
    let src = 0;
    for (let a = 0; a < dims.length; a++) src += counter[a]! * inStrides[perm[a]!]!;
    order[j] = orderAt(l, src);
    for (let a = dims.length - 1; a >= 0; a--) {
      if (++counter[a]! < dims[a]!) break;
      counter[a] = 0;
    }
  }
  const identity = order.every((v, i) => v === i);
  return { dims, canon: l.canon, order: identity ? null : order };
}

/** True if the value is exactly the canonical tensor viewed as N x C x H x W (or N x C x W for 1-D). */
export function isNchw(l: Layout): boolean {
  if (l.order !== null || l.dims[1] !== l.canon.c) return false;
  if (l.dims.length === 4) return l.dims[2] === l.canon.h && l.dims[3] === l.canon.w;
  if (l.dims.length === 3) return l.canon.h === 1 && l.dims[2] === l.canon.w;
  return false;
}

/** True if the value is the canonical tensor viewed channels-last, N x H x W x C. */
export function isNhwc(l: Layout): boolean {
  if (l.dims.length !== 4) return false;
  const [, h, w, c] = l.dims as [number, number, number, number];
  if (h !== l.canon.h || w !== l.canon.w || c !== l.canon.c) return false;
  const ref = channelsLastLayout(l.dims).order!;
  return l.order !== null && l.order.every((v, i) => v === ref[i]);
}

/** The feature count if the value is a vector (every axis but one is 1, or a plain rank-1 value), else null. */
export function vectorLength(l: Layout): number | null {
  const big = l.dims.filter((d) => d !== 1);
  if (big.length > 1) return null;
  return big[0] ?? 1;
}

/**
 * A constant broadcast over the value, read per canonical channel; null if
 * it varies within a channel (then it is not a per-channel scale or shift).
 */
export function perChannel(l: Layout, values: Float64Array, constDims: number[], where: string): Float64Array | null {
  const dims = l.dims;
  if (constDims.length > dims.length) {
    throw new ModelError(
      `a constant of shape [${constDims.join(',')}] has more axes than the data [${dims.join(',')}]`,
      where,
    );
  }
  const n = elementCount(dims);
  const rank = dims.length;
  const eff = new Array<number>(rank).fill(0);
  const cs = constDims.map((_, i) => elementCount(constDims.slice(i + 1)));
  for (let i = 0; i < constDims.length; i++) {
    const o = rank - constDims.length + i;
    const d = constDims[i]!;
    if (d !== 1 && d !== dims[o]) {
      throw new ModelError(
        `a constant of shape [${constDims.join(',')}] does not broadcast to [${dims.join(',')}]`,
        where,
      );
    }
    eff[o] = d === 1 ? 0 : cs[i]!;
  }
  const out = new Float64Array(l.canon.c).fill(NaN);
  const counter = new Array<number>(rank).fill(0);
  for (let i = 0; i < n; i++) {
    let k = 0;
    for (let a = 0; a < rank; a++) k += counter[a]! * eff[a]!;
    const v = values[k]!;
    const c = channelOf(l, i);
    const prev = out[c]!;
    if (Number.isNaN(prev)) out[c] = v;
    else if (prev !== v) return null;
    for (let a = rank - 1; a >= 0; a--) {
      if (++counter[a]! < dims[a]!) break;
      counter[a] = 0;
    }
  }
  return out;
}
