/**
 * Per-channel affine maps and clamps: Mul/Div/Add/Sub by constants,
 * BatchNormalization, Relu, Clip, DequantizeLinear of activations. They never
 * make a layer of their own: on accumulators they fold into the next requant
 * (alpha, beta, clamp bounds), on activations into the value map (scale,
 * offset) or the producing requant's clamp, on the host input into the host
 * function.
 */
import { attrFloat } from '../attrs.js';
import type { OnnxNode } from '../graph.js';
import type { Lowering } from './context.js';
import type { ActSym, Sym } from './state.js';

/** value' = k[c] * value + b[c] */
export function applyAffine(lw: Lowering, node: OnnxNode, s: Sym, k: Float64Array, b: Float64Array): Sym {
  switch (s.kind) {
    case 'host': {
      const prev = s.value;
      return {
        ...s,
        value: (r, c) => k[c]! * prev(r, c) + b[c]!,
        steps: [...s.steps, `${node.opType} (${node.name || node.index})`],
      };
    }
    case 'act': {
      if (k.some((v) => v === 0)) lw.fail(node, 'multiplies activations by 0: the result is a constant');
      const scale = s.scale.map((v, c) => v * k[c]!);
      const offset = s.offset.map((v, c) => v + b[c]! / scale[c]!);
      return { ...s, scale, offset };
    }
    case 'acc': {
      const lo = new Float64Array(k.length);
      const hi = new Float64Array(k.length);
      for (let c = 0; c < k.length; c++) {
        const a = s.clampLo[c]! * k[c]! + b[c]!;
        const z = s.clampHi[c]! * k[c]! + b[c]!;
        // -inf * 0 is NaN: an unbounded side stays unbounded
        const fa = Number.isNaN(a) ? -Infinity : a;
        const fz = Number.isNaN(z) ? Infinity : z;
        lo[c] = k[c]! >= 0 ? fa : fz;
        hi[c] = k[c]! >= 0 ? fz : fa;
      }
      return {
        ...s,
        alpha: s.alpha.map((v, c) => v * k[c]!),
        beta: s.beta.map((v, c) => v * k[c]! + b[c]!),
        clampLo: lo,
        clampHi: hi,
      };
    }
    case 'head':
    case 'const':
    case 'qconst':
      return lw.fail(node, `${node.opType} after the output head or on a constant here is not supported`);
  }
}

/** Tightens activation codes for a Relu/Clip: reopens the requant that made them, or proves it a no-op. */
function clampAct(lw: Lowering, node: OnnxNode, s: ActSym, lo: number, hi: number): ActSym {
  // codes u with value scale*(kappa*u + offset) in [lo, hi]; scale > 0 and kappa > 0 make it monotone
  if (s.scale.some((v) => v <= 0)) lw.fail(node, 'a clamp of activations with a negative scale is not supported');
  let uLo = -Infinity;
  let uHi = Infinity;
  for (let c = 0; c < s.scale.length; c++) {
    const a = Math.ceil((lo / s.scale[c]! - s.offset[c]!) / s.kappa - 1e-12);
    const z = Math.floor((hi / s.scale[c]! - s.offset[c]!) / s.kappa + 1e-12);
    if (c > 0 && (a !== uLo || z !== uHi)) {
      if (Math.max(a, s.lo) !== Math.max(uLo, s.lo) || Math.min(z, s.hi) !== Math.min(uHi, s.hi)) {
        lw.fail(node, 'the clamp falls on different codes in different channels: quantize after it instead');
      }
    }
    uLo = a;
    uHi = z;
  }
  const newLo = Math.max(s.lo, uLo);
  const newHi = Math.min(s.hi, uHi);
  if (newLo === s.lo && newHi === s.hi) {
    lw.step(node, `no effect: the codes already lie in [${s.lo}, ${s.hi}]`, true);
    return s;
  }
  const rq = s.requant;
  const shared = (lw.consumers.get(node.inputs[0]!) ?? []).length > 1;
  if (rq && shared)
    lw.fail(
      node,
      'clamps activations that other nodes also read: the producing requant cannot change for this reader alone',
    );
  // A requant's clamp can become any unsigned [0, 2^b - 1] or signed symmetric range.
  const bits = (n: number) => Math.max(1, Math.ceil(Math.log2(n + 1)));
  if (rq && newLo === -newHi && newHi > 0) {
    const b = bits(newHi) + 1;
    if (2 ** (b - 1) - 1 === newHi) {
      rq.layer.signed = true;
      rq.layer.bits = b;
      lw.step(node, `folded into requant '${rq.layer.name}': its clamp becomes signed ${b}-bit`, rq.exact);
      return { ...s, signed: true, bits: b, lo: -newHi, hi: newHi };
    }
  }
  const b = bits(newHi - newLo);
  // clamp(floor((acc - bias) / 2^shift), newLo, newHi) - newLo = clamp(floor((acc - bias') / 2^shift), 0, newHi - newLo)
  // with bias' = bias + newLo * 2^shift: the codes move down by newLo, the value map keeps them
  const moved = rq ? Array.from(rq.layer.bias, (v, c) => v + newLo * 2 ** rq.layer.shift[c]!) : [];
  if (rq && 2 ** b - 1 === newHi - newLo && moved.every((v) => Number.isInteger(v) && Math.abs(v) < 2 ** 31)) {
    rq.layer.signed = false;
    rq.layer.bits = b;
    rq.layer.bias = Int32Array.from(moved);
    const offset = s.offset.map((v) => v + s.kappa * newLo);
    const padded = newLo !== 0 && offset.some((v) => v !== 0) && lw.feedsPadding(node.outputs[0]!);
    if (padded) lw.approximate(node, 'the clamped codes carry an offset and a later convolution pads with zeros');
    lw.step(
      node,
      `folded into requant '${rq.layer.name}': its clamp becomes unsigned ${b}-bit (codes ${newLo}..${newHi})`,
      rq.exact && !padded,
    );
    return { ...s, signed: false, bits: b, lo: 0, hi: newHi - newLo, offset };
  }
  return lw.fail(
    node,
    `clamps activation codes [${s.lo}, ${s.hi}] to [${newLo}, ${newHi}], which no requant clamp (unsigned [0, 2^b-1] or signed [-(2^(b-1)-1), 2^(b-1)-1]) holds: put the Relu/Clip before the quantizer`,
  );
}

export function applyClamp(lw: Lowering, node: OnnxNode, s: Sym, lo: number, hi: number): Sym {
  switch (s.kind) {
    case 'host': {
      const prev = s.value;
      return { ...s, value: (r, c) => Math.min(hi, Math.max(lo, prev(r, c))), steps: [...s.steps, node.opType] };
    }
    case 'acc': {
      lw.step(node, `folded into the next requant's clamp [${lo}, ${hi}]`, true);
      return { ...s, clampLo: s.clampLo.map((v) => Math.max(v, lo)), clampHi: s.clampHi.map((v) => Math.min(v, hi)) };
    }
    case 'act':
      return clampAct(lw, node, s, lo, hi);
    case 'head':
    case 'const':
    case 'qconst':
      return lw.fail(node, `${node.opType} here is not supported`);
  }
}

const zeros = (n: number) => new Float64Array(n);
const ones = (n: number) => new Float64Array(n).fill(1);

function channels(s: Sym): number {
  return s.kind === 'host' || s.kind === 'act' || s.kind === 'acc' ? s.layout.canon.c : 0;
}

/** Mul / Div / Add / Sub with one constant operand. */
export function lowerArithmetic(lw: Lowering, node: OnnxNode): void {
  const a = lw.sym(node, 0);
  const b = lw.sym(node, 1);
  const dataFirst = b.kind === 'const';
  const data = dataFirst ? a : b;
  const cst = dataFirst ? b : a;
  if (cst.kind !== 'const') lw.fail(node, 'internal: arithmetic without a constant operand');
  if (data.kind !== 'host' && data.kind !== 'act' && data.kind !== 'acc') {
    lw.fail(
      node,
      `${node.opType} of ${data.kind === 'head' ? 'the output head' : 'a quantized constant'} is not supported`,
    );
  }
  const n = channels(data);
  const v = lw.perChannel(node, data.layout, cst.t, 'the constant');
  let k: Float64Array = ones(n);
  let off: Float64Array = zeros(n);
  switch (node.opType) {
    case 'Mul':
      k = v;
      break;
    case 'Div':
      if (!dataFirst) lw.fail(node, 'dividing a constant by the data is not an affine map');
      k = v.map((x) => 1 / x);
      break;
    case 'Add':
      off = v;
      break;
    case 'Sub':
      if (dataFirst) off = v.map((x) => -x);
      else {
        k = k.map(() => -1);
        off = v;
      }
      break;
  }
  lw.set(node, applyAffine(lw, node, data, k, off));
  lw.step(node, describeFold(data.kind, node.opType), true);
}

function describeFold(kind: string, op: string): string {
  if (kind === 'host') return `${op} by a constant: part of the host-side input transform`;
  if (kind === 'act') return `${op} by a constant: folded into the activations' scale and offset`;
  return `${op} by a constant: folded into the next requant (per-channel scale and bias)`;
}

export function lowerBatchNorm(lw: Lowering, node: OnnxNode, channelsLast: boolean): void {
  const data = lw.sym(node, 0);
  if (data.kind !== 'host' && data.kind !== 'act' && data.kind !== 'acc')
    lw.fail(node, 'BatchNormalization of this value is not supported');
  const dims = data.layout.dims;
  const axis = channelsLast ? dims.length - 1 : 1;
  // the parameters run along the channel axis (axis 1, or the last one channels-last), not numpy's last axis
  const param = (i: number, what: string) => {
    const t = lw.constant(node, i, what);
    const along = dims.map((_, k) => (k === axis ? t.data.length : 1));
    return lw.perChannel(node, data.layout, { ...t, dims: t.data.length === 1 ? [] : along }, what);
  };
  const g = param(1, 'scale');
  const beta = param(2, 'B');
  const mean = param(3, 'mean');
  const variance = param(4, 'var');
  const eps = attrFloat(node, 'epsilon', 1e-5);
  const k = g.map((x, c) => x / Math.sqrt(variance[c]! + eps));
  const b = beta.map((x, c) => x - mean[c]! * k[c]!);
  lw.set(node, applyAffine(lw, node, data, k, b));
  lw.step(
    node,
    data.kind === 'acc'
      ? 'folded into the next requant (shift-batch-norm)'
      : describeFold(data.kind, 'BatchNormalization'),
    true,
  );
}

export function lowerRelu(lw: Lowering, node: OnnxNode): void {
  lw.set(node, applyClamp(lw, node, lw.sym(node, 0), 0, Infinity));
  if (lw.sym(node, 0).kind === 'host') lw.step(node, 'part of the host-side input transform', true);
}

export function lowerClip(lw: Lowering, node: OnnxNode, opset: number): void {
  let lo = -Infinity;
  let hi = Infinity;
  if (opset >= 11) {
    if (lw.optionalSym(node, 1)) lo = lw.constant(node, 1, 'min').data[0]!;
    if (lw.optionalSym(node, 2)) hi = lw.constant(node, 2, 'max').data[0]!;
  } else {
    lo = attrFloat(node, 'min', -Infinity);
    hi = attrFloat(node, 'max', Infinity);
  }
  lw.set(node, applyClamp(lw, node, lw.sym(node, 0), lo, hi));
  if (lw.sym(node, 0).kind === 'host') lw.step(node, 'part of the host-side input transform', true);
}

/** DequantizeLinear of activation codes: value = (q - zero_point) * scale. */
export function lowerDequantize(lw: Lowering, node: OnnxNode): void {
  const data = lw.sym(node, 0);
  if (data.kind !== 'act' && data.kind !== 'acc') lw.fail(node, 'DequantizeLinear of this value is not supported');
  const scale = lw.perChannel(node, data.layout, lw.constant(node, 1, 'x_scale'), 'x_scale');
  const zp = lw.optionalSym(node, 2)
    ? lw.perChannel(node, data.layout, lw.constant(node, 2, 'x_zero_point'), 'x_zero_point')
    : zeros(scale.length);
  lw.set(
    node,
    applyAffine(
      lw,
      node,
      data,
      scale,
      zp.map((z, c) => -z * scale[c]!),
    ),
  );
  lw.step(
    node,
    data.kind === 'act' ? "folded into the activations' scale and offset" : 'folded into the next requant',
    true,
  );
}
