/**
 * Executor: quantizers. QONNX Quant / IntQuant, BipolarQuant and Trunc as the
 * qonnx custom-op documents define them (fastmachinelearning/qonnx,
 * docs/qonnx-custom-ops: quant_op.md, bipolar_quant_op.md, trunc_v1.md,
 * trunc_v2.md), and ONNX QuantizeLinear / DequantizeLinear.
 */
import { ModelError } from '../../../arch/index.js';
import { attrInt, attrString, normalizeAxis } from '../attrs.js';
import { DATA_TYPE, dataTypeName } from '../schema.js';
import type { Tensor } from '../tensor.js';
import { input, optionalInput, scalarInput, type ExecOp, type OpContext } from './context.js';
import { elementwise, parseRoundingMode, roundHalfEven, roundingFunction, tensor } from './tensor-math.js';

/** Integer range of a QONNX quantizer (min_int / max_int of the qonnx reference). */
export function qonnxIntRange(signed: boolean, narrow: boolean, bits: number): { lo: number; hi: number } {
  if (signed) return { lo: narrow ? -(2 ** (bits - 1)) + 1 : -(2 ** (bits - 1)), hi: 2 ** (bits - 1) - 1 };
  return { lo: 0, hi: narrow ? 2 ** bits - 2 : 2 ** bits - 1 };
}

function bitWidth(ctx: OpContext, i: number, what: string): number {
  const b = scalarInput(ctx, i, what);
  if (!Number.isInteger(b) || b < 1 || b > 32) {
    throw new ModelError(`${what} must be an integer number of bits in 1..32, got ${b}`, ctx.node.where);
  }
  return b;
}

/** Quant(x, scale, zeropt, bitwidth): clip(x / scale + zeropt) to the integer range, round, then (q - zeropt) * scale. */
const quant: ExecOp = (ctx) => {
  const x = input(ctx, 0, 'X');
  const scale = input(ctx, 1, 'scale');
  const zeropt = input(ctx, 2, 'zeropt');
  const bits = bitWidth(ctx, 3, 'bitwidth');
  const signed = attrInt(ctx.node, 'signed', 1) === 1;
  const narrow = attrInt(ctx.node, 'narrow', 0) === 1;
  const round = roundingFunction(parseRoundingMode(ctx.node.where, attrString(ctx.node, 'rounding_mode', 'ROUND')));
  const { lo, hi } = qonnxIntRange(signed, narrow, bits);
  const y = elementwise(ctx.node.where, [x, scale, zeropt], (v, s, z) => {
    let q = v / s + z;
    q = q > hi ? hi : q < lo ? lo : q;
    return (round(q) - z) * s;
  });
  return [y];
};

const bipolarQuant: ExecOp = (ctx) => {
  const x = input(ctx, 0, 'X');
  const scale = input(ctx, 1, 'scale');
  return [elementwise(ctx.node.where, [x, scale], (v, s) => (v >= 0 ? s : -s))];
};

/**
 * Trunc. Version 1 (5 inputs: X, scale, zeropt, in_bitwidth, out_bitwidth):
 * round(X/scale + zeropt) / 2^(in - out), rounded by rounding_mode, then
 * (y - zeropt) * scale. Version 2 (6 inputs, out_scale before out_bitwidth; a
 * 7th output zero point is ignored as qonnx does): the rescale is
 * 2^round(log2(out_scale / scale)), the result is clipped to the signed /
 * narrow out_bitwidth range and scaled by out_scale.
 */
const trunc: ExecOp = (ctx) => {
  const x = input(ctx, 0, 'X');
  const scale = input(ctx, 1, 'scale');
  const zeropt = input(ctx, 2, 'zeropt');
  const inBits = bitWidth(ctx, 3, 'in_bitwidth');
  const round = roundingFunction(parseRoundingMode(ctx.node.where, attrString(ctx.node, 'rounding_mode', 'FLOOR')));
  const present = ctx.inputs.filter((t) => t !== undefined).length;
  if (present === 5) {
    const outBits = bitWidth(ctx, 4, 'out_bitwidth');
    const t = 2 ** (inBits - outBits);
    return [
      elementwise(ctx.node.where, [x, scale, zeropt], (v, s, z) => (round(roundHalfEven(v / s + z) / t) - z) * s),
    ];
  }
  if (present !== 6 && present !== 7) {
    throw new ModelError(`Trunc needs 5 (version 1) or 6 (version 2) inputs, got ${present}`, ctx.node.where);
  }
  const outScale = input(ctx, 4, 'out_scale');
  const outBits = bitWidth(ctx, present === 7 ? 6 : 5, 'out_bitwidth');
  const signed = attrInt(ctx.node, 'signed', 1) === 1;
  const narrow = attrInt(ctx.node, 'narrow', 0) === 1;
  const { lo, hi } = qonnxIntRange(signed, narrow, outBits);
  return [
    elementwise(ctx.node.where, [x, scale, zeropt, outScale], (v, s, z, os) => {
      const t = 2 ** roundHalfEven(Math.log2(os / s));
      let y = roundHalfEven(v / s + z) / t;
      y = y > hi ? hi : y < lo ? lo : y;
      return (round(y) - z / t) * os;
    }),
  ];
};

/** Reshapes a per-axis 1-D parameter so it broadcasts along `axis` of x. */
function perAxis(ctx: OpContext, x: Tensor, p: Tensor, what: string): Tensor {
  if (p.data.length === 1) return tensor([], p.data, p.dataType);
  const axis = normalizeAxis(ctx.node, attrInt(ctx.node, 'axis', 1), x.dims.length);
  if (p.dims.length !== 1 || p.dims[0] !== x.dims[axis]) {
    throw new ModelError(
      `${what} of shape [${p.dims.join(',')}] is neither a scalar nor per-axis for axis ${axis} of [${x.dims.join(',')}]`,
      ctx.node.where,
    );
  }
  const dims = x.dims.map((_, i) => (i === axis ? p.dims[0]! : 1));
  return tensor(dims, p.data, p.dataType);
}

/** Integer range of an ONNX quantized type. */
export function onnxQuantRange(dataType: number, where: string): { lo: number; hi: number } {
  switch (dataType) {
    case DATA_TYPE.UINT8:
      return { lo: 0, hi: 255 };
    case DATA_TYPE.INT8:
      return { lo: -128, hi: 127 };
    case DATA_TYPE.UINT16:
      return { lo: 0, hi: 65535 };
    case DATA_TYPE.INT16:
      return { lo: -32768, hi: 32767 };
    case DATA_TYPE.UINT4:
      return { lo: 0, hi: 15 };
    case DATA_TYPE.INT4:
      return { lo: -8, hi: 7 };
    case DATA_TYPE.INT32:
      return { lo: -(2 ** 31), hi: 2 ** 31 - 1 };
    default:
      throw new ModelError(`quantized type ${dataTypeName(dataType)} is not supported`, where);
  }
}

/** The output type of a QuantizeLinear: the zero point's, else output_dtype, else uint8. */
export function quantizeLinearType(ctx: { node: OpContext['node'] }, zeroPoint: Tensor | undefined): number {
  if (zeroPoint) return zeroPoint.dataType;
  return attrInt(ctx.node, 'output_dtype', 0) || DATA_TYPE.UINT8;
}

function refuseBlocks(ctx: OpContext): void {
  if (attrInt(ctx.node, 'block_size', 0) !== 0) {
    throw new ModelError('blocked quantization (block_size) is not supported', ctx.node.where);
  }
}

const quantizeLinear: ExecOp = (ctx) => {
  refuseBlocks(ctx);
  const x = input(ctx, 0, 'x');
  const scale = perAxis(ctx, x, input(ctx, 1, 'y_scale'), 'y_scale');
  const zpIn = optionalInput(ctx, 2);
  const zp = zpIn ? perAxis(ctx, x, zpIn, 'y_zero_point') : tensor([], Float64Array.of(0));
  const type = quantizeLinearType(ctx, zpIn);
  const { lo, hi } = onnxQuantRange(type, ctx.node.where);
  const y = elementwise(ctx.node.where, [x, scale, zp], (v, s, z) => {
    const q = roundHalfEven(v / s) + z;
    return q < lo ? lo : q > hi ? hi : q;
  });
  return [{ ...y, dataType: type }];
};

const dequantizeLinear: ExecOp = (ctx) => {
  refuseBlocks(ctx);
  const x = input(ctx, 0, 'x');
  const scale = perAxis(ctx, x, input(ctx, 1, 'x_scale'), 'x_scale');
  const zpIn = optionalInput(ctx, 2);
  const zp = zpIn ? perAxis(ctx, x, zpIn, 'x_zero_point') : tensor([], Float64Array.of(0));
  return [elementwise(ctx.node.where, [x, scale, zp], (v, s, z) => (v - z) * s)];
};

export const QONNX_OPS: Record<string, ExecOp> = {
  Quant: quant,
  IntQuant: quant,
  BipolarQuant: bipolarQuant,
  Trunc: trunc,
};

export const QDQ_OPS: Record<string, ExecOp> = {
  QuantizeLinear: quantizeLinear,
  DequantizeLinear: dequantizeLinear,
};
