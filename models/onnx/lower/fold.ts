/**
 * Constant folding: every node whose inputs are all constant is evaluated
 * once, at import (shape chains, weight arithmetic, Constant nodes); Shape and
 * Size of data values read the static shape. Quantizers on constants become
 * quantized constants (integer codes kept with scale and zero point), which
 * shape operators (Transpose, Reshape, ...) carry along.
 */
import { runNode } from '../execute/index.js';
import type { OnnxNode } from '../graph.js';
import { DATA_TYPE } from '../schema.js';
import { elementCount, type Tensor } from '../tensor.js';
import type { Lowering } from './context.js';
import { roundBy, type Rounding } from './quantizers.js';
import type { QConstSym, Sym } from './state.js';
import { attrInt, attrString } from '../attrs.js';

const QUANTIZERS = new Set(['Quant', 'IntQuant', 'BipolarQuant']);
const SHAPE_OPS = new Set(['Identity', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Transpose', 'Cast', 'Dropout']);

/** True if the node only needs constants (or static shapes) and is folded at import. */
export function isFoldable(lw: Lowering, node: OnnxNode): boolean {
  if ((node.opType === 'Shape' || node.opType === 'Size') && node.domain === 'ai.onnx') return true;
  return node.inputs.every((i) => {
    if (i === '') return true;
    const s = lw.syms.get(i);
    return s?.kind === 'const' || s?.kind === 'qconst';
  });
}

function broadcastTo(t: Tensor, dims: number[]): Float64Array {
  const n = elementCount(dims);
  if (t.data.length === 1) return new Float64Array(n).fill(t.data[0]!);
  const out = new Float64Array(n);
  const rank = dims.length;
  const eff = new Array<number>(rank).fill(0);
  const ts = t.dims.map((_, i) => elementCount(t.dims.slice(i + 1)));
  t.dims.forEach((d, i) => (eff[rank - t.dims.length + i] = d === 1 ? 0 : ts[i]!));
  const counter = new Array<number>(rank).fill(0);
  for (let k = 0; k < n; k++) {
    let src = 0;
    for (let a = 0; a < rank; a++) src += counter[a]! * eff[a]!;
    out[k] = t.data[src]!;
    for (let a = rank - 1; a >= 0; a--) {
      if (++counter[a]! < dims[a]!) break;
      counter[a] = 0;
    }
  }
  return out;
}

/** Per-axis parameter of DequantizeLinear reshaped along `axis`. */
function alongAxis(t: Tensor, dims: number[], axis: number): Tensor {
  if (t.data.length === 1 || dims.length === 0) return t;
  const a = axis < 0 ? axis + dims.length : axis;
  return { ...t, dims: dims.map((d, i) => (i === a ? d : 1)) };
}

function constOf(s: Sym | undefined): Tensor | undefined {
  if (!s) return undefined;
  if (s.kind === 'const') return s.t;
  if (s.kind === 'qconst') {
    const data = s.codes.data.map((q, i) => (q - s.zp.data[i]!) * s.scale.data[i]!);
    return { dims: s.codes.dims, data, dataType: DATA_TYPE.FLOAT };
  }
  return undefined;
}

function quantizeConstant(lw: Lowering, node: OnnxNode, x: Tensor): QConstSym {
  const dims = x.dims;
  const input = (i: number) => lw.constant(node, i, `input ${i}`);
  if (node.opType === 'BipolarQuant') {
    return {
      kind: 'qconst',
      codes: { dims, data: x.data.map((v) => (v >= 0 ? 1 : -1)), dataType: DATA_TYPE.INT8 },
      scale: { dims, data: broadcastTo(input(1), dims), dataType: DATA_TYPE.FLOAT },
      zp: { dims, data: new Float64Array(elementCount(dims)), dataType: DATA_TYPE.FLOAT },
      lo: -1,
      hi: 1,
      from: node.name || `${node.index}`,
    };
  }
  const scale = broadcastTo(input(1), dims);
  const zp = broadcastTo(input(2), dims);
  const bits = input(3).data[0]!;
  const signed = attrInt(node, 'signed', 1) === 1;
  const narrow = attrInt(node, 'narrow', 0) === 1;
  const rounding = attrString(node, 'rounding_mode', 'ROUND').toUpperCase() as Rounding;
  const lo = signed ? (narrow ? 1 - 2 ** (bits - 1) : -(2 ** (bits - 1))) : 0;
  const hi = signed ? 2 ** (bits - 1) - 1 : narrow ? 2 ** bits - 2 : 2 ** bits - 1;
  const codes = x.data.map((v, i) => Math.min(hi, Math.max(lo, roundBy(rounding, v / scale[i]! + zp[i]!))));
  return {
    kind: 'qconst',
    codes: { dims, data: codes, dataType: DATA_TYPE.INT32 },
    scale: { dims, data: scale, dataType: DATA_TYPE.FLOAT },
    zp: { dims, data: zp, dataType: DATA_TYPE.FLOAT },
    lo,
    hi,
    from: node.name || `${node.index}`,
  };
}

/** Evaluates a foldable node; returns a description for the report. */
export function foldNode(lw: Lowering, node: OnnxNode): string {
  const s0 = lw.optionalSym(node, 0);
  if (node.opType === 'Shape' || node.opType === 'Size') {
    if (s0 && s0.kind !== 'const' && s0.kind !== 'qconst') {
      const dims = s0.layout.dims;
      const zero = { dims, data: new Float64Array(elementCount(dims)), dataType: DATA_TYPE.FLOAT };
      lw.set(node, { kind: 'const', t: runNode(lw.graph, node, [zero])[0]! });
      return `the static shape [${dims.join(',')}]`;
    }
  }
  if (QUANTIZERS.has(node.opType) && node.domain !== 'ai.onnx' && s0?.kind === 'const') {
    const q = quantizeConstant(lw, node, s0.t);
    lw.set(node, q);
    return `quantized constant: integer codes in [${q.lo}, ${q.hi}]`;
  }
  if (node.opType === 'DequantizeLinear' && s0?.kind === 'const') {
    const dims = s0.t.dims;
    const axis = attrInt(node, 'axis', 1);
    const sc = alongAxis(lw.constant(node, 1, 'x_scale'), dims, axis);
    const zpT = lw.optionalSym(node, 2) ? alongAxis(lw.constant(node, 2, 'x_zero_point'), dims, axis) : undefined;
    lw.set(node, {
      kind: 'qconst',
      codes: s0.t,
      scale: { dims, data: broadcastTo(sc, dims), dataType: DATA_TYPE.FLOAT },
      zp: {
        dims,
        data: zpT ? broadcastTo(zpT, dims) : new Float64Array(elementCount(dims)),
        dataType: DATA_TYPE.FLOAT,
      },
      lo: -Infinity,
      hi: Infinity,
      from: node.name || `${node.index}`,
    });
    return 'dequantized constant: integer codes kept';
  }
  if (s0?.kind === 'qconst' && SHAPE_OPS.has(node.opType)) {
    const rest = node.inputs.map((_, i) => (i === 0 ? undefined : constOf(lw.optionalSym(node, i))));
    const part = (t: Tensor) => runNode(lw.graph, node, [t, ...rest.slice(1)])[0]!;
    lw.set(node, { ...s0, codes: part(s0.codes), scale: part(s0.scale), zp: part(s0.zp) });
    return 'applied to the quantized constant';
  }
  const inputs = node.inputs.map((i) => (i === '' ? undefined : constOf(lw.syms.get(i))));
  const outs = runNode(lw.graph, node, inputs);
  node.outputs.forEach((o, k) => {
    if (o && outs[k]) lw.syms.set(o, { kind: 'const', t: outs[k] });
  });
  return 'constant-folded';
}
