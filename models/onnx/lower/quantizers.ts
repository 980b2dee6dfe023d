/**
 * The lowering's reading of the quantizer nodes: for each, the integer code a
 * float value gets per channel, and the float value of each code. Written
 * from the operator definitions (qonnx custom-op docs; ONNX QuantizeLinear)
 * separately from the executor, which evaluates the same definitions as
 * tensor operations.
 */
import { ModelError } from '../../../arch/index.js';
import { attrInt, attrString } from '../attrs.js';
import type { OnnxNode } from '../graph.js';
import { DATA_TYPE } from '../schema.js';
import type { Layout } from './layout.js';
import type { Sym } from './state.js';

export type Rounding = 'ROUND' | 'CEIL' | 'FLOOR' | 'UP' | 'DOWN' | 'HALF_UP' | 'HALF_DOWN';

const ROUNDINGS: readonly Rounding[] = ['ROUND', 'CEIL', 'FLOOR', 'UP', 'DOWN', 'HALF_UP', 'HALF_DOWN'];

/** Rounds y to an integer the way the mode says (ROUND: ties to even; HALF_UP/HALF_DOWN: ties away from / toward zero). */
export function roundBy(mode: Rounding, y: number): number {
  const f = Math.floor(y);
  const frac = y - f;
  switch (mode) {
    case 'FLOOR':
      return f;
    case 'CEIL':
      return frac === 0 ? f : f + 1;
    case 'DOWN':
      return y >= 0 ? f : frac === 0 ? f : f + 1;
    case 'UP':
      return y >= 0 ? (frac === 0 ? f : f + 1) : f;
    case 'ROUND':
      return frac < 0.5 ? f : frac > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
    case 'HALF_UP':
      return frac < 0.5 ? f : frac > 0.5 ? f + 1 : y >= 0 ? f + 1 : f;
    case 'HALF_DOWN':
      return frac < 0.5 ? f : frac > 0.5 ? f + 1 : y >= 0 ? f : f + 1;
  }
}

export interface QuantizerSpec {
  op: string;
  /** declared integer range of the codes */
  lo: number;
  hi: number;
  rounding: Rounding;
  /** code of float value x in canonical channel c */
  code(x: number, c: number): number;
  /** value of code q in channel c = vscale[c] * (vkappa * q + voffset[c]) */
  vscale: Float64Array;
  vkappa: number;
  voffset: Float64Array;
  /** the float step of one code, per channel, in the value domain (for ratio reports) */
  step: Float64Array;
  /** set when code(x) = clamp(round(x / scale[c] + zp[c])): lets the fit try the model's own parameters first */
  affine?: { scale: Float64Array; zp: Float64Array };
  describe: string;
}

/** A constant input read per canonical channel of the data, or a scalar. */
export type ChannelParam = (input: number, what: string) => Float64Array;

function intRange(signed: boolean, narrow: boolean, bits: number): { lo: number; hi: number } {
  if (signed) return { lo: narrow ? 1 - 2 ** (bits - 1) : -(2 ** (bits - 1)), hi: 2 ** (bits - 1) - 1 };
  return { lo: 0, hi: narrow ? 2 ** bits - 2 : 2 ** bits - 1 };
}

function parseRounding(node: OnnxNode, def: Rounding): Rounding {
  const m = attrString(node, 'rounding_mode', def).toUpperCase();
  if (!(ROUNDINGS as readonly string[]).includes(m)) {
    throw new ModelError(`rounding_mode '${m}' is not one of ${ROUNDINGS.join(', ')}`, node.where);
  }
  return m as Rounding;
}

function scalarBits(node: OnnxNode, v: Float64Array, what: string): number {
  if (v.some((x) => x !== v[0])) throw new ModelError(`${what} must be one bit width for the whole tensor`, node.where);
  const b = v[0]!;
  if (!Number.isInteger(b) || b < 1 || b > 32) {
    throw new ModelError(`${what} = ${b}: nibble imports integer widths of 1 to 32 bits`, node.where);
  }
  return b;
}

function positive(node: OnnxNode, s: Float64Array, what: string): void {
  for (const v of s) {
    if (!(v > 0) || !Number.isFinite(v)) throw new ModelError(`${what} ${v} must be positive and finite`, node.where);
  }
}

/** Quant / IntQuant: q = round(clip(x / scale + zeropt, min, max)); value (q - zeropt) * scale. */
export function quantSpec(node: OnnxNode, param: ChannelParam): QuantizerSpec {
  const scale = param(1, 'scale');
  const zp = param(2, 'zeropt');
  positive(node, scale, 'scale');
  const bits = scalarBits(node, param(3, 'bitwidth'), 'bitwidth');
  const signed = attrInt(node, 'signed', 1) === 1;
  const narrow = attrInt(node, 'narrow', 0) === 1;
  if (!signed && bits < 1) throw new ModelError('bitwidth must be >= 1', node.where);
  const rounding = parseRounding(node, 'ROUND');
  const { lo, hi } = intRange(signed, narrow, bits);
  return {
    op: node.opType,
    lo,
    hi,
    rounding,
    code: (x, c) => {
      const y = x / scale[c]! + zp[c]!;
      return Math.min(hi, Math.max(lo, roundBy(rounding, y)));
    },
    vscale: scale,
    vkappa: 1,
    voffset: zp.map((z) => -z),
    step: scale,
    affine: { scale, zp },
    describe: `${signed ? 'signed' : 'unsigned'}${narrow ? ' narrow' : ''} ${bits}-bit, ${rounding}`,
  };
}

/** BipolarQuant: +scale for x >= 0, -scale otherwise. Codes 0 (-1) and 1 (+1): value = scale * (2q - 1). */
export function bipolarSpec(node: OnnxNode, param: ChannelParam): QuantizerSpec {
  const scale = param(1, 'scale');
  positive(node, scale, 'scale');
  return {
    op: node.opType,
    lo: 0,
    hi: 1,
    rounding: 'FLOOR',
    code: (x) => (x >= 0 ? 1 : 0),
    vscale: scale,
    vkappa: 2,
    voffset: scale.map(() => -1),
    step: scale.map((s) => 2 * s),
    describe: 'bipolar (+-scale)',
  };
}

/** Trunc (qonnx version 1: 5 inputs; version 2: out_scale and signed/narrow clipping). */
export function truncSpec(node: OnnxNode, param: ChannelParam, present: number): QuantizerSpec {
  const scale = param(1, 'scale');
  const zp = param(2, 'zeropt');
  positive(node, scale, 'scale');
  const inBits = scalarBits(node, param(3, 'in_bitwidth'), 'in_bitwidth');
  const rounding = parseRounding(node, 'FLOOR');
  if (present === 5) {
    const outBits = scalarBits(node, param(4, 'out_bitwidth'), 'out_bitwidth');
    const t = 2 ** (inBits - outBits);
    const lo = -(2 ** outBits);
    const hi = 2 ** outBits - 1;
    return {
      op: node.opType,
      lo,
      hi,
      rounding,
      code: (x, c) => roundBy(rounding, roundBy('ROUND', x / scale[c]! + zp[c]!) / t),
      vscale: scale,
      vkappa: 1,
      voffset: zp.map((z) => -z),
      step: scale,
      describe: `truncate ${inBits} -> ${outBits} bits, ${rounding}`,
    };
  }
  const outScale = param(4, 'out_scale');
  positive(node, outScale, 'out_scale');
  const outBits = scalarBits(node, param(present === 7 ? 6 : 5, 'out_bitwidth'), 'out_bitwidth');
  const signed = attrInt(node, 'signed', 1) === 1;
  const narrow = attrInt(node, 'narrow', 0) === 1;
  const { lo, hi } = intRange(signed, narrow, outBits);
  const t = scale.map((s, c) => 2 ** roundBy('ROUND', Math.log2(outScale[c]! / s)));
  return {
    op: node.opType,
    lo,
    hi,
    rounding,
    code: (x, c) => {
      const y = roundBy('ROUND', x / scale[c]! + zp[c]!) / t[c]!;
      return roundBy(rounding, Math.min(hi, Math.max(lo, y)));
    },
    vscale: outScale,
    vkappa: 1,
    voffset: zp.map((z, c) => -z / t[c]!),
    step: outScale,
    describe: `truncate to ${signed ? 'signed' : 'unsigned'} ${outBits} bits, ${rounding}`,
  };
}

const QL_RANGES: Partial<Record<number, [number, number]>> = {
  [DATA_TYPE.UINT8]: [0, 255],
  [DATA_TYPE.INT8]: [-128, 127],
  [DATA_TYPE.UINT4]: [0, 15],
  [DATA_TYPE.INT4]: [-8, 7],
  [DATA_TYPE.UINT16]: [0, 65535],
  [DATA_TYPE.INT16]: [-32768, 32767],
};

/** QuantizeLinear: q = saturate(round_half_even(x / scale) + zero_point); its value is q itself. */
export function quantizeLinearSpec(node: OnnxNode, param: ChannelParam, zpType: number | undefined): QuantizerSpec {
  const scale = param(1, 'y_scale');
  positive(node, scale, 'y_scale');
  const zp = zpType === undefined ? scale.map(() => 0) : param(2, 'y_zero_point');
  const type = zpType ?? (attrInt(node, 'output_dtype', 0) || DATA_TYPE.UINT8);
  const range = QL_RANGES[type];
  if (!range) throw new ModelError(`QuantizeLinear to data type ${type} is not supported`, node.where);
  const [lo, hi] = range;
  return {
    op: node.opType,
    lo,
    hi,
    rounding: 'ROUND',
    code: (x, c) => Math.min(hi, Math.max(lo, roundBy('ROUND', x / scale[c]!) + zp[c]!)),
    vscale: scale.map(() => 1),
    vkappa: 1,
    voffset: scale.map(() => 0),
    step: scale,
    affine: { scale, zp },
    describe: `QuantizeLinear to [${lo}, ${hi}]`,
  };
}

/** Reads constant quantizer inputs per canonical channel of the data's layout. */
export function channelParams(
  node: OnnxNode,
  syms: ReadonlyMap<string, Sym>,
  layout: Layout,
  perChannel: (values: Float64Array, dims: number[]) => Float64Array | null,
): ChannelParam {
  return (i, what) => {
    const name = node.inputs[i];
    const s = name ? syms.get(name) : undefined;
    if (!s || s.kind !== 'const') {
      throw new ModelError(
        `${what} (input ${i}) must be a constant; nibble quantizes with fixed parameters`,
        node.where,
      );
    }
    if (s.t.data.length === 1) return new Float64Array(layout.canon.c).fill(s.t.data[0]!);
    const v = perChannel(s.t.data, s.t.dims);
    if (!v) {
      throw new ModelError(
        `${what} of shape [${s.t.dims.join(',')}] varies within a channel: not a per-channel parameter`,
        node.where,
      );
    }
    return v;
  };
}
