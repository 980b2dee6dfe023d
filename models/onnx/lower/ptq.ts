/**
 * Post-training quantization of float models (`import --quantize`), the way
 * the paper evaluates: 4-bit weights and activations, every requant a shift.
 *  - Activations: each float value a layer reads gets a quantizer from the
 *    calibration range (unsigned after a Relu, else signed), scale = max / 15
 *    (or max|x| / 7).
 *  - Weights: per output channel on the grid delta = 2^-s * step / alpha, with
 *    the largest s that keeps every code within the weight range. The scale
 *    ratio of the requant is then exactly the power of two 2^-s, so the only
 *    error is the quantization of weights and activations themselves.
 */
import type { OnnxNode } from '../graph.js';
import type { Lowering } from './context.js';
import type { QuantizerSpec } from './quantizers.js';
import { roundBy } from './quantizers.js';
import type { AccSym, ActSym } from './state.js';
import { accRange } from './weights.js';

/**
 * Quantizes pending float weights. With `step` (the next quantizer's code
 * step per channel) the grid makes the requant ratio a power of two; without,
 * each channel uses its whole weight range.
 */
export function resolvePending(lw: Lowering, acc: AccSym, step?: Float64Array): void {
  const p = acc.pending;
  if (!p) return;
  const limit = lw.weightLimit();
  const row = p.values.length / p.rows;
  for (let c = 0; c < p.rows; c++) {
    let max = 0;
    for (let i = c * row; i < (c + 1) * row; i++) max = Math.max(max, Math.abs(p.values[i]!));
    if (max === 0) continue;
    const a = Math.abs(acc.alpha[c]!);
    let delta = max / limit;
    if (step && a > 0 && step[c]! > 0) {
      const s = Math.floor(Math.log2((limit * step[c]!) / (max * a)));
      delta = (2 ** -s * step[c]!) / a;
    }
    for (let i = c * row; i < (c + 1) * row; i++) {
      p.layer.weights[i] = Math.max(-limit, Math.min(limit, roundBy('ROUND', p.values[i]! / delta)));
    }
    acc.alpha[c] = acc.alpha[c]! * delta;
    acc.probe.alpha[c] = acc.probe.alpha[c]! * delta;
  }
  const r = accRange(p.layer.weights, p.rows, p.inLo, p.inHi);
  acc.range.lo.set(r.lo);
  acc.range.hi.set(r.hi);
  acc.range.gcd.set(r.gcd);
  lw.noteWeights(p.layer.weights);
  acc.pending = undefined;
}

/** A calibrated activation quantizer for an ONNX value (unsigned when it cannot be negative). */
export function calibratedSpec(lw: Lowering, node: OnnxNode, value: string, acc: AccSym): QuantizerSpec {
  const stats = lw.opts.quantize?.stats.get(value);
  if (!stats) lw.fail(node, `no calibration range for '${value}' (post-training quantization needs one)`);
  const bits = lw.opts.activationBits;
  const unsigned = stats.min >= 0 || acc.clampLo.every((v) => v >= 0);
  const hi = unsigned ? 2 ** bits - 1 : 2 ** (bits - 1) - 1;
  const lo = unsigned ? 0 : -hi;
  const range = unsigned ? stats.max : Math.max(-stats.min, stats.max);
  const scale = range > 0 ? range / hi : 1;
  const c = acc.layout.canon.c;
  return {
    op: 'calibrated',
    lo,
    hi,
    rounding: 'ROUND',
    code: (x) => Math.min(hi, Math.max(lo, roundBy('ROUND', x / scale))),
    vscale: new Float64Array(c).fill(scale),
    vkappa: 1,
    voffset: new Float64Array(c),
    step: new Float64Array(c).fill(scale),
    describe: `calibrated ${unsigned ? 'unsigned' : 'signed'} ${bits}-bit, scale ${scale.toPrecision(4)} (range ${range.toPrecision(4)})`,
  };
}

export type Requantize = (lw: Lowering, node: OnnxNode, acc: AccSym, spec: QuantizerSpec, name?: string) => ActSym;

/** The autoQuantize hook of the lowering: one calibrated requant per ONNX value, reused by every reader. */
export function autoQuantizer(lw: Lowering, requantize: Requantize): NonNullable<Lowering['autoQuantize']> {
  const done = new Map<string, ActSym>();
  return (node, value, acc) => {
    const prev = done.get(value);
    if (prev) return prev;
    const producer = lw.graph.nodes.find((n) => n.outputs.includes(value));
    const act = requantize(lw, node, acc, calibratedSpec(lw, node, value, acc), `${producer?.name || value}_quant`);
    done.set(value, act);
    return act;
  };
}
