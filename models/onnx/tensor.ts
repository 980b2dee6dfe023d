/**
 * ONNX tensors as nibble reads them: a shape and the values as float64
 * (every integer type up to 32 bits, and every float type, is exact in a
 * double; int64/uint64 values beyond 2^53 are rounded and refused where a
 * shape or index needs them exactly). Decoding accepts every storage the
 * specification allows: raw_data (little-endian, fixed width; 4-bit types two
 * per byte, first element in the low nibble), float_data, int32_data (also
 * holding packed 4-bit pairs, float16 and bfloat16 bit patterns), int64_data,
 * double_data and uint64_data. External data is refused with a clear message:
 * nibble reads one self-contained file.
 */
import { ModelError } from '../../arch/index.js';
import { DATA_LOCATION_EXTERNAL, DATA_TYPE, dataTypeName } from './schema.js';

/** A decoded tensor: row-major values. */
export interface Tensor {
  dims: number[];
  data: Float64Array;
  /** TensorProto.DataType of the source (FLOAT for computed values) */
  dataType: number;
}

/** Largest tensor nibble decodes (elements): far above any 4-bit accelerator's network, far below exhausting memory. */
export const MAX_TENSOR_ELEMENTS = 2 ** 28;

/** The decoded protobuf shape of a TensorProto (fields nibble reads). */
export interface TensorProtoFields {
  dims?: (number | Int64Like)[];
  data_type?: number;
  segment?: unknown;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: (number | Int64Like)[];
  double_data?: number[];
  uint64_data?: (number | Int64Like)[];
  string_data?: Uint8Array[];
  raw_data?: Uint8Array;
  name?: string;
  external_data?: { key?: string; value?: string }[];
  data_location?: number;
}

/** How protobufjs hands over an int64: a number, or a Long-like object (low/high 32-bit halves). */
export interface Int64Like {
  low: number;
  high: number;
  unsigned?: boolean;
  toString(): string;
}

function isLongLike(v: unknown): v is Int64Like {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Int64Like).low === 'number' &&
    typeof (v as Int64Like).high === 'number'
  );
}

function longToBigInt(v: Int64Like): bigint {
  const big = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  return v.unsigned ? big : BigInt.asIntN(64, big);
}

/** int64 from protobufjs as a JS number; exact only below 2^53. */
export function int64(v: number | Int64Like | null | undefined): number {
  if (v === undefined || v === null) return 0;
  return typeof v === 'number' ? v : isLongLike(v) ? Number(longToBigInt(v)) : Number(v);
}

/** An int64 that must be an exact safe integer (dims, shape values, axes). */
export function exactInt64(v: number | Int64Like | null | undefined, what: string, where: string): number {
  if (isLongLike(v)) {
    const big = longToBigInt(v);
    if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < -BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new ModelError(`${what} is ${big.toString()}, beyond 2^53 (int64 overflow)`, where);
    }
  } else if (typeof v === 'number' && !Number.isSafeInteger(v)) {
    throw new ModelError(`${what} is ${v}, beyond 2^53 (int64 overflow)`, where);
  }
  return int64(v);
}

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/**
 * Checks dims (non-negative, exact) and that their product stays below
 * MAX_TENSOR_ELEMENTS before anything is allocated.
 */
export function checkDims(dims: readonly number[], where: string, what = 'tensor'): number {
  let n = 1;
  for (let i = 0; i < dims.length; i++) {
    const d = dims[i]!;
    if (!Number.isSafeInteger(d) || d < 0) throw new ModelError(`${what} dims[${i}] is ${d}: not a valid size`, where);
    n *= d;
    if (n > MAX_TENSOR_ELEMENTS) {
      throw new ModelError(
        `${what} of shape ${dims.join('x')} has more than ${MAX_TENSOR_ELEMENTS} elements: too large to import`,
        where,
      );
    }
  }
  return n;
}

/** Bytes per element in raw_data (0.5 for the 4-bit types). */
function rawWidth(dataType: number): number | undefined {
  switch (dataType) {
    case DATA_TYPE.FLOAT:
    case DATA_TYPE.INT32:
    case DATA_TYPE.UINT32:
      return 4;
    case DATA_TYPE.DOUBLE:
    case DATA_TYPE.INT64:
    case DATA_TYPE.UINT64:
      return 8;
    case DATA_TYPE.INT16:
    case DATA_TYPE.UINT16:
    case DATA_TYPE.FLOAT16:
    case DATA_TYPE.BFLOAT16:
      return 2;
    case DATA_TYPE.INT8:
    case DATA_TYPE.UINT8:
    case DATA_TYPE.BOOL:
      return 1;
    case DATA_TYPE.INT4:
    case DATA_TYPE.UINT4:
      return 0.5;
    default:
      return undefined;
  }
}

/** IEEE half precision bit pattern to a number. */
export function halfToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function bfloatToNumber(b: number): number {
  u32[0] = (b & 0xffff) << 16;
  return f32[0]!;
}

function nibble(byte: number, high: boolean, signed: boolean): number {
  const v = high ? (byte >> 4) & 0xf : byte & 0xf;
  return signed && v >= 8 ? v - 16 : v;
}

function decodeRaw(raw: Uint8Array, dataType: number, n: number, where: string): Float64Array {
  const width = rawWidth(dataType);
  if (width === undefined) {
    throw new ModelError(`raw_data of type ${dataTypeName(dataType)} is not supported`, where);
  }
  const expected = Math.ceil(n * width);
  if (raw.length !== expected) {
    throw new ModelError(
      `raw_data holds ${raw.length} bytes but ${n} ${dataTypeName(dataType)} values need ${expected}`,
      where,
    );
  }
  const out = new Float64Array(n);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (dataType) {
    case DATA_TYPE.FLOAT:
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
      break;
    case DATA_TYPE.DOUBLE:
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
      break;
    case DATA_TYPE.INT32:
      for (let i = 0; i < n; i++) out[i] = dv.getInt32(4 * i, true);
      break;
    case DATA_TYPE.UINT32:
      for (let i = 0; i < n; i++) out[i] = dv.getUint32(4 * i, true);
      break;
    case DATA_TYPE.INT64:
      for (let i = 0; i < n; i++) out[i] = Number(dv.getBigInt64(8 * i, true));
      break;
    case DATA_TYPE.UINT64:
      for (let i = 0; i < n; i++) out[i] = Number(dv.getBigUint64(8 * i, true));
      break;
    case DATA_TYPE.INT16:
      for (let i = 0; i < n; i++) out[i] = dv.getInt16(2 * i, true);
      break;
    case DATA_TYPE.UINT16:
      for (let i = 0; i < n; i++) out[i] = dv.getUint16(2 * i, true);
      break;
    case DATA_TYPE.FLOAT16:
      for (let i = 0; i < n; i++) out[i] = halfToNumber(dv.getUint16(2 * i, true));
      break;
    case DATA_TYPE.BFLOAT16:
      for (let i = 0; i < n; i++) out[i] = bfloatToNumber(dv.getUint16(2 * i, true));
      break;
    case DATA_TYPE.INT8:
      for (let i = 0; i < n; i++) out[i] = dv.getInt8(i);
      break;
    case DATA_TYPE.UINT8:
    case DATA_TYPE.BOOL:
      for (let i = 0; i < n; i++) out[i] = raw[i]!;
      break;
    case DATA_TYPE.INT4:
    case DATA_TYPE.UINT4: {
      const signed = dataType === DATA_TYPE.INT4;
      for (let i = 0; i < n; i++) out[i] = nibble(raw[i >> 1]!, (i & 1) === 1, signed);
      break;
    }
  }
  return out;
}

/** int32_data: one value per entry, except 4-bit types (two per entry) and 16-bit floats (bit patterns). */
function decodeInt32Field(values: number[], dataType: number, n: number, where: string): Float64Array {
  const packed = dataType === DATA_TYPE.INT4 || dataType === DATA_TYPE.UINT4;
  const expected = packed ? Math.ceil(n / 2) : n;
  if (values.length !== expected) {
    throw new ModelError(`int32_data holds ${values.length} values but the tensor needs ${expected}`, where);
  }
  const out = new Float64Array(n);
  if (packed) {
    const signed = dataType === DATA_TYPE.INT4;
    for (let i = 0; i < n; i++) out[i] = nibble(values[i >> 1]! & 0xff, (i & 1) === 1, signed);
  } else if (dataType === DATA_TYPE.FLOAT16) {
    for (let i = 0; i < n; i++) out[i] = halfToNumber(values[i]! & 0xffff);
  } else if (dataType === DATA_TYPE.BFLOAT16) {
    for (let i = 0; i < n; i++) out[i] = bfloatToNumber(values[i]!);
  } else {
    for (let i = 0; i < n; i++) out[i] = values[i]!;
  }
  return out;
}

function checkCount(field: string, have: number, n: number, where: string): void {
  if (have !== n) throw new ModelError(`${field} holds ${have} values but the tensor needs ${n}`, where);
}

const NUMERIC_TYPES = new Set<number>([
  DATA_TYPE.FLOAT,
  DATA_TYPE.UINT8,
  DATA_TYPE.INT8,
  DATA_TYPE.UINT16,
  DATA_TYPE.INT16,
  DATA_TYPE.INT32,
  DATA_TYPE.INT64,
  DATA_TYPE.BOOL,
  DATA_TYPE.FLOAT16,
  DATA_TYPE.DOUBLE,
  DATA_TYPE.UINT32,
  DATA_TYPE.UINT64,
  DATA_TYPE.BFLOAT16,
  DATA_TYPE.UINT4,
  DATA_TYPE.INT4,
]);

/** Decode a TensorProto; `where` names it in errors (file and tensor or node). */
export function decodeTensor(t: TensorProtoFields, where: string): Tensor {
  const dataType = t.data_type ?? 0;
  if (t.data_location === DATA_LOCATION_EXTERNAL || (t.external_data?.length ?? 0) > 0) {
    const loc = t.external_data?.find((e) => e.key === 'location')?.value;
    throw new ModelError(
      `its data is stored in an external file${loc ? ` ('${loc}')` : ''}: nibble reads self-contained models; ` +
        'save the model with its weights inside (onnx.save_model(model, path, save_as_external_data=False))',
      where,
    );
  }
  if (t.segment) throw new ModelError('segmented tensors (TensorProto.segment) are not supported', where);
  if (!NUMERIC_TYPES.has(dataType)) {
    throw new ModelError(`data type ${dataTypeName(dataType)} is not supported (numeric tensors only)`, where);
  }
  const dims = (t.dims ?? []).map((d, i) => exactInt64(d, `dims[${i}]`, where));
  const n = checkDims(dims, where);
  let data: Float64Array;
  if (t.raw_data && t.raw_data.length > 0) {
    data = decodeRaw(t.raw_data, dataType, n, where);
  } else if (t.float_data && t.float_data.length > 0) {
    checkCount('float_data', t.float_data.length, n, where);
    data = Float64Array.from(t.float_data);
  } else if (t.int32_data && t.int32_data.length > 0) {
    data = decodeInt32Field(t.int32_data, dataType, n, where);
  } else if (t.int64_data && t.int64_data.length > 0) {
    checkCount('int64_data', t.int64_data.length, n, where);
    data = Float64Array.from(t.int64_data, (v) => int64(v));
  } else if (t.double_data && t.double_data.length > 0) {
    checkCount('double_data', t.double_data.length, n, where);
    data = Float64Array.from(t.double_data);
  } else if (t.uint64_data && t.uint64_data.length > 0) {
    checkCount('uint64_data', t.uint64_data.length, n, where);
    data = Float64Array.from(t.uint64_data, (v) => (isLongLike(v) ? Number(BigInt.asUintN(64, longToBigInt(v))) : v));
  } else if (n === 0) {
    data = new Float64Array(0);
  } else {
    throw new ModelError(`holds no data for its ${n} elements`, where);
  }
  return { dims, data, dataType };
}

/** Encoding for the exporter and test graphs: float32 raw_data, or raw integers of the given type. */
export function encodeTensor(
  name: string,
  dims: readonly number[],
  data: ArrayLike<number>,
  dataType: number,
): TensorProtoFields {
  const n = elementCount(dims);
  if (data.length !== n)
    throw new Error(`internal: tensor '${name}' has ${data.length} values for dims ${dims.join('x')}`);
  const width = rawWidth(dataType);
  if (width === undefined) throw new Error(`internal: cannot encode ${dataTypeName(dataType)}`);
  const raw = new Uint8Array(Math.ceil(n * width));
  const dv = new DataView(raw.buffer);
  for (let i = 0; i < n; i++) {
    const v = data[i]!;
    switch (dataType) {
      case DATA_TYPE.FLOAT:
        dv.setFloat32(4 * i, v, true);
        break;
      case DATA_TYPE.DOUBLE:
        dv.setFloat64(8 * i, v, true);
        break;
      case DATA_TYPE.INT32:
        dv.setInt32(4 * i, v, true);
        break;
      case DATA_TYPE.INT64:
        dv.setBigInt64(8 * i, BigInt(v), true);
        break;
      case DATA_TYPE.INT8:
        dv.setInt8(i, v);
        break;
      case DATA_TYPE.UINT8:
      case DATA_TYPE.BOOL:
        raw[i] = v;
        break;
      case DATA_TYPE.INT4:
      case DATA_TYPE.UINT4:
        raw[i >> 1] |= (v & 0xf) << ((i & 1) * 4);
        break;
      default:
        throw new Error(`internal: cannot encode ${dataTypeName(dataType)}`);
    }
  }
  return { name, dims: [...dims], data_type: dataType, raw_data: raw };
}
