/**
 * Quantizers (Quant / IntQuant, BipolarQuant, Trunc, QuantizeLinear) on data:
 *  - on the host input: the input transform, a table from the raw 8-bit value
 *    to the network's input code;
 *  - on accumulators: the shift-batch-norm requant, fitted per channel
 *    (lower/fit.ts), with the code representation (signed or unsigned, width,
 *    code offset) chosen to be exact where any is;
 *  - on activations: an identity 1x1 convolution, then a requant.
 */
import type { RequantLayer } from '../../layers/requant.js';
import { MAX_SHIFT, MAX_ACTIVATION_BITS } from '../../ir.js';
import { attrInt } from '../attrs.js';
import type { OnnxNode } from '../graph.js';
import { DATA_TYPE } from '../schema.js';
import type { Lowering } from './context.js';
import { fitChannel, type FitProblem, type FitResult } from './fit.js';
import { channelOf, perChannel, type Layout } from './layout.js';
import { negateChannel } from './ops-pool.js';
import { resolvePending } from './ptq.js';
import { identityAcc } from './weights.js';
import {
  bipolarSpec,
  channelParams,
  quantizeLinearSpec,
  quantSpec,
  truncSpec,
  type QuantizerSpec,
} from './quantizers.js';
import { extend, type AccSym, type ActSym, type HostSym, type RequantChannelReport } from './state.js';

function specFor(lw: Lowering, node: OnnxNode, layout: Layout): QuantizerSpec {
  let per = (values: Float64Array, dims: number[]) => perChannel(layout, values, dims, node.where);
  if (node.opType === 'QuantizeLinear') {
    const axis = attrInt(node, 'axis', 1);
    const rank = layout.dims.length;
    const a = axis < 0 ? axis + rank : axis;
    // per-axis parameters are 1-D along `axis`, not numpy-broadcast along the last axis
    per = (values, dims) =>
      dims.length === 1 && values.length > 1
        ? perChannel(
            layout,
            values,
            layout.dims.map((d, i) => (i === a ? d : 1)),
            node.where,
          )
        : perChannel(layout, values, dims, node.where);
  }
  const param = channelParams(node, lw.syms, layout, per);
  switch (node.opType) {
    case 'Quant':
    case 'IntQuant':
      return quantSpec(node, param);
    case 'BipolarQuant':
      return bipolarSpec(node, param);
    case 'Trunc':
      return truncSpec(node, param, node.inputs.filter((i) => i !== '').length);
    case 'QuantizeLinear': {
      const zp = lw.optionalSym(node, 2);
      const zpType = zp?.kind === 'const' ? zp.t.dataType : undefined;
      return quantizeLinearSpec(node, param, zpType ?? (zp ? DATA_TYPE.UINT8 : undefined));
    }
    default:
      return lw.fail(node, 'internal: not a quantizer');
  }
}

export function lowerQuantizer(lw: Lowering, node: OnnxNode): void {
  const data = lw.sym(node, 0);
  if (data.kind === 'const' || data.kind === 'qconst' || data.kind === 'head') {
    lw.fail(node, 'internal: quantizer of a constant or output head reached the data lowering');
  }
  const spec = specFor(lw, node, data.layout);
  if (data.kind === 'host') return quantizeHost(lw, node, data, spec);
  let acc: AccSym;
  if (data.kind === 'act') {
    acc = identityAcc(lw, node, data, '_identity', node.inputs[0]!);
    lw.step(node, `requantizing activations: identity conv2d '${acc.path.layer.name}' first`, true);
  } else acc = data;
  lw.set(node, requantize(lw, node, acc, spec));
}

function quantizeHost(lw: Lowering, node: OnnxNode, host: HostSym, spec: QuantizerSpec): void {
  if (lw.inputBits !== undefined)
    lw.fail(node, 'the graph input is quantized a second time: nibble has one input transform');
  const c = host.layout.canon.c;
  const q = Array.from({ length: c }, (_, ch) =>
    Int32Array.from({ length: 256 }, (_, r) => spec.code(host.value(r, ch), ch)),
  );
  let lo = Infinity;
  let hi = -Infinity;
  for (const t of q) for (const v of t) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  const o = lo >= 0 ? 0 : lo;
  if (hi - o > 255) lw.fail(node, `the input codes span ${lo}..${hi}: more than the 8-bit network input holds`);
  const bits: 4 | 8 = hi - o <= 15 ? 4 : 8;
  const tables = q.map((t) => t.map((v) => v - o));
  const same = tables.every((t) => t.every((v, i) => v === tables[0]![i]));
  lw.inputBits = bits;
  lw.inputTables = same ? [tables[0]!] : tables;
  lw.inputDescription = `${[...host.steps, `${spec.op} ${spec.describe}`].join(', ')}${o !== 0 ? `, code offset ${-o}` : ''}`;
  const exact = o === 0 || !lw.feedsPadding(node.outputs[0]!);
  if (!exact) lw.approximate(node, 'the input codes carry an offset and the first convolution pads with zeros');
  const act: ActSym = {
    kind: 'act',
    layout: host.layout,
    path: null,
    signed: false,
    bits,
    lo: 0,
    hi: 2 ** bits - 1,
    scale: spec.vscale,
    kappa: spec.vkappa,
    offset: spec.voffset.map((v) => spec.vkappa * o + v),
  };
  lw.set(node, act);
  lw.step(
    node,
    `host-side input transform: a table from the raw 8-bit input to ${bits}-bit codes ${lo - o}..${hi - o} (${lw.inputDescription})`,
    exact,
  );
}

interface Representation {
  signed: boolean;
  bits: number;
  /** code offset: stored u = q - offset */
  offset: number;
}

function unsignedBits(n: number): number {
  return Math.max(1, Math.ceil(Math.log2(n + 1)));
}

function signedBits(n: number): number {
  return Math.max(2, Math.ceil(Math.log2(n + 1)) + 1);
}

/** The representation the quantizer declares (its own bit width), if nibble has one. */
function declared(spec: QuantizerSpec): Representation | undefined {
  const { lo, hi } = spec;
  if (lo === 0 && (hi === 2 ** unsignedBits(hi) - 1 || hi === 2 ** unsignedBits(hi) - 2)) {
    return { signed: false, bits: unsignedBits(hi), offset: 0 };
  }
  if (lo === -hi && hi === 2 ** (signedBits(hi) - 1) - 1) return { signed: true, bits: signedBits(hi), offset: 0 };
  if (lo === -(hi + 1) && hi + 1 === 2 ** (signedBits(hi) - 1))
    return { signed: false, bits: unsignedBits(hi - lo), offset: lo };
  return undefined;
}

function candidates(r0: number, r1: number, spec: QuantizerSpec): Representation[] {
  const out: Representation[] = [];
  const d = declared(spec);
  if (d) out.push(d);
  if (r0 >= 0) out.push({ signed: false, bits: unsignedBits(r1), offset: 0 });
  else out.push({ signed: true, bits: signedBits(Math.max(-r0, r1)), offset: 0 });
  if (r0 !== 0) out.push({ signed: false, bits: unsignedBits(r1 - r0), offset: r0 });
  return out.filter(
    (r, i) =>
      r.bits <= MAX_ACTIVATION_BITS &&
      out.findIndex((q) => q.signed === r.signed && q.bits === r.bits && q.offset === r.offset) === i,
  );
}

/**
 * The model's own requant parameters for channel ch, when its scale ratio is
 * a power of two 2^-k: biases for floor-like and half-rounding modes (the
 * feasibility check decides which, if any, is exact).
 */
function preferredFor(
  spec: QuantizerSpec,
  acc: AccSym,
  ch: number,
  offset: number,
): { m: number; shift: number; bias: number }[] {
  const a = spec.affine;
  if (!a) return [];
  const ratio = acc.alpha[ch]! / a.scale[ch]!;
  if (!(ratio > 0)) return [];
  const k = -Math.log2(ratio);
  if (!Number.isInteger(k) || Math.abs(k) > MAX_SHIFT || 2 ** -k * a.scale[ch]! !== acc.alpha[ch]) return [];
  const b = (acc.beta[ch]! / a.scale[ch]! + a.zp[ch]!) * 2 ** k;
  const out: number[] =
    k >= 0
      ? [-Math.floor(b), -Math.floor(b + 2 ** (k - 1)), -Math.floor(b + 2 ** k - 1)]
      : [-Math.floor(b) * 2 ** k, -Math.round(b) * 2 ** k];
  return out
    .map((bias) => bias + offset * 2 ** k)
    .filter((bias) => Number.isInteger(bias))
    .map((bias) => ({ m: 1, shift: k, bias }));
}

/** Per channel: sorted distinct x = acc / gcd values seen on the calibration data, with counts. */
function histograms(lw: Lowering, acc: AccSym, g: Int32Array): FitProblem['histogram'][] {
  if (acc.probe.tensor) lw.probes.add(acc.probe.tensor);
  const samples = lw.opts.calibration?.get(acc.probe.tensor);
  const c = acc.layout.canon.c;
  if (!samples || acc.rearranged) return new Array(c).fill(undefined);
  const maps = Array.from({ length: c }, () => new Map<number, number>());
  for (const t of samples) {
    for (let i = 0; i < t.data.length; i++) {
      const ch = channelOf(acc.probe.layout, i);
      const a0 = acc.probe.alpha[ch]!;
      if (a0 === 0) continue;
      let v = (t.data[i]! - acc.probe.beta[ch]!) / a0;
      if (acc.negated[ch]) v = -v;
      const x = Math.round(v / g[ch]!);
      maps[ch]!.set(x, (maps[ch]!.get(x) ?? 0) + 1);
    }
  }
  return maps.map((m) => {
    if (m.size === 0) return undefined;
    const xs = Float64Array.from(m.keys()).sort();
    return { xs, counts: Float64Array.from(xs, (x) => m.get(x)!) };
  });
}

interface Choice {
  rep: Representation;
  fits: FitResult[];
  exact: boolean;
  padSafe: boolean;
  wrongFraction: number;
}

/** Exact first (within the machine's activation width first), the quantizer's own width first, then fewer bits. */
function rank(c: Choice, activationBits: number, decl: Representation | undefined): number[] {
  const clean = c.exact && c.padSafe;
  const isDecl =
    decl && decl.signed === c.rep.signed && decl.bits === c.rep.bits && decl.offset === c.rep.offset ? 0 : 1;
  return [
    clean ? 0 : 1,
    clean ? (c.rep.bits > activationBits ? 1 : 0) : c.wrongFraction + (c.padSafe ? 0 : 1e-9),
    clean ? isDecl : 0,
    c.rep.bits,
  ];
}

function better(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}

/** The per-channel requant for a quantizer on accumulators. */
export function requantize(lw: Lowering, node: OnnxNode, acc: AccSym, spec: QuantizerSpec, name?: string): ActSym {
  if (acc.consumed)
    lw.fail(node, 'an accumulator quantized twice (it feeds two quantizers): nibble requantizes each sum once');
  acc.consumed = true;
  resolvePending(lw, acc, spec.step);
  const c = acc.layout.canon.c;
  for (let ch = 0; ch < c; ch++) {
    if (acc.alpha[ch]! >= 0) continue;
    if (acc.signFixed || acc.rearranged)
      lw.fail(node, `channel ${ch} is scaled by a negative factor after a pool or flatten: not supported`);
    negateChannel(acc, ch);
  }
  const g = acc.range.gcd.map((v) => (v === 0 ? 1 : v));
  const xLo = Float64Array.from({ length: c }, (_, ch) => Math.ceil(acc.range.lo[ch]! / g[ch]! - 1e-9));
  const xHi = Float64Array.from({ length: c }, (_, ch) => Math.floor(acc.range.hi[ch]! / g[ch]! + 1e-9));
  const target = (ch: number) => (x: number) => {
    const v = Math.min(acc.clampHi[ch]!, Math.max(acc.clampLo[ch]!, acc.alpha[ch]! * g[ch]! * x + acc.beta[ch]!));
    return spec.code(v, ch);
  };
  let r0 = Infinity;
  let r1 = -Infinity;
  for (let ch = 0; ch < c; ch++) {
    r0 = Math.min(r0, target(ch)(xLo[ch]!));
    r1 = Math.max(r1, target(ch)(xHi[ch]!));
  }
  const limit = lw.weightLimit();
  const maxMult = Float64Array.from({ length: c }, (_, ch) => {
    if (acc.rearranged) return 1;
    let m = 0;
    for (const l of acc.sources) {
      const n = l.kind === 'conv2d' ? l.outChannels : l.outFeatures;
      const row = l.weights.length / n;
      for (let i = ch * row; i < (ch + 1) * row; i++) m = Math.max(m, Math.abs(l.weights[i]!));
    }
    return m === 0 ? 1 : Math.max(1, Math.floor(limit / m));
  });
  const hist = histograms(lw, acc, g);
  const padSafeZero = !lw.feedsPadding(node.outputs[0]!);
  let best: Choice | undefined;
  const decl = declared(spec);
  for (const rep of candidates(r0, r1, spec)) {
    const lo = rep.signed ? -(2 ** (rep.bits - 1) - 1) : 0;
    const hi = rep.signed ? 2 ** (rep.bits - 1) - 1 : 2 ** rep.bits - 1;
    const fits: FitResult[] = [];
    for (let ch = 0; ch < c; ch++) {
      const t = target(ch);
      const h = hist[ch];
      const fit = fitChannel({
        g: g[ch]!,
        xLo: xLo[ch]!,
        xHi: xHi[ch]!,
        target: (x) => t(x) - rep.offset,
        clampLo: lo,
        clampHi: hi,
        maxMultiplier: maxMult[ch]!,
        preferred: preferredFor(spec, acc, ch, rep.offset),
        ...(h ? { histogram: h } : {}),
      });
      if (!fit) break;
      fits.push(fit);
    }
    if (fits.length < c) continue;
    const wrong = fits.reduce((s, f) => s + f.wrong, 0);
    const total = fits.reduce((s, f) => s + f.total, 0);
    const choice: Choice = {
      rep,
      fits,
      exact: fits.every((f) => f.exact),
      padSafe: rep.offset === 0 || padSafeZero,
      wrongFraction: total ? wrong / total : 0,
    };
    const ab = lw.opts.activationBits;
    if (!best || better(rank(choice, ab, decl), rank(best, ab, decl))) best = choice;
  }
  if (!best) return lw.fail(node, `no requant holds codes ${r0}..${r1} (more than ${MAX_ACTIVATION_BITS} bits)`);
  return emitRequant(lw, node, acc, spec, best, name);
}

function emitRequant(
  lw: Lowering,
  node: OnnxNode,
  acc: AccSym,
  spec: QuantizerSpec,
  best: Choice,
  name?: string,
): ActSym {
  const c = acc.layout.canon.c;
  const { rep, fits } = best;
  for (let ch = 0; ch < c; ch++) {
    const m = fits[ch]!.m;
    if (m === 1) continue;
    for (const l of acc.sources) {
      const n = l.kind === 'conv2d' ? l.outChannels : l.outFeatures;
      const row = l.weights.length / n;
      for (let i = ch * row; i < (ch + 1) * row; i++) l.weights[i] = l.weights[i]! * m;
    }
  }
  for (const l of acc.sources) lw.noteWeights(l.weights);
  const layer: RequantLayer = {
    kind: 'requant',
    name: name ? lw.uniqueName(name) : lw.layerName(node),
    signed: rep.signed,
    bits: rep.bits,
    bias: Int32Array.from(fits, (f) => f.bias),
    shift: Int8Array.from(fits, (f) => Math.max(-MAX_SHIFT, Math.min(MAX_SHIFT, f.shift))),
  };
  const channels: RequantChannelReport[] = fits.map((f, ch) => {
    const modelStep = spec.step[ch]! / Math.abs(acc.alpha[ch]! || Infinity);
    return {
      channel: ch,
      exact: f.exact,
      multiplier: f.m,
      shift: f.shift,
      bias: f.bias,
      modelStep,
      step: f.step,
      stepError: modelStep > 0 && Number.isFinite(modelStep) ? f.step / modelStep - 1 : 0,
      wrong: f.wrong,
      total: f.total,
    };
  });
  const exactChannels = fits.filter((f) => f.exact).length;
  const notes: string[] = [];
  if (!best.padSafe) notes.push('codes carry an offset and a later convolution pads with zeros: border outputs differ');
  lw.requants.push({
    layer: layer.name,
    node: `${node.index}${node.name ? ` '${node.name}'` : ''}`,
    signed: rep.signed,
    bits: rep.bits,
    codeOffset: rep.offset,
    exact: best.exact && best.padSafe,
    exactChannels,
    channels,
    notes,
  });
  const exact = best.exact && best.padSafe;
  if (!exact) {
    const worst = channels.reduce((a, b) => (Math.abs(b.stepError) > Math.abs(a.stepError) ? b : a));
    lw.approximate(
      node,
      `requant '${layer.name}' is not exact: channel ${worst.channel} needs a step of ${fmt(worst.modelStep)} accumulator units per code (ratio ${fmt(1 / worst.modelStep)}), the closest shift/multiplier gives ${fmt(worst.step)}`,
    );
  }
  const kind = `${rep.signed ? 'signed' : 'unsigned'} ${rep.bits}-bit${rep.offset ? `, code offset ${-rep.offset}` : ''}`;
  const mults = fits.some((f) => f.m > 1) ? `, weight multipliers up to ${Math.max(...fits.map((f) => f.m))}` : '';
  lw.step(
    node,
    `requant '${layer.name}' (${kind}, ${spec.describe}): ${exactChannels}/${c} channels exact${mults}${best.exact ? '' : `, ${(100 * best.wrongFraction).toFixed(3)} % of ${lw.opts.calibration?.has(acc.probe.tensor) ? 'calibration accumulators' : 'reachable accumulator values'} land on another code`}`,
    exact,
  );
  return {
    kind: 'act',
    layout: acc.layout,
    path: extend(acc.path, layer),
    signed: rep.signed,
    bits: rep.bits,
    lo: rep.signed ? -(2 ** (rep.bits - 1) - 1) : 0,
    hi: rep.signed ? 2 ** (rep.bits - 1) - 1 : 2 ** rep.bits - 1,
    scale: spec.vscale,
    kappa: spec.vkappa,
    offset: spec.voffset.map((v) => spec.vkappa * rep.offset + v),
    requant: { layer, exact },
  };
}

function fmt(v: number): string {
  return Number.isFinite(v) ? (Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4)) : String(v);
}
