/**
 * Add of two computed values: the paper's residual block. Both operands
 * become accumulators (an activation through an identity 1x1 convolution);
 * their branches must fork from one activation, one branch being a single
 * convolution (the shortcut). The two accumulators are summed in the
 * hardware, so their scales must agree: a per-channel integer multiplier on
 * each branch's weights makes alpha_A / m_A = alpha_B / m_B, exactly when the
 * ratio is one of small integers.
 */
import type { Conv2dLayer } from '../../layers/conv2d.js';
import type { ResidualLayer } from '../../layers/residual.js';
import type { OnnxNode } from '../graph.js';
import type { Lowering } from './context.js';
import { negateChannel } from './ops-pool.js';
import { resolvePending } from './ptq.js';
import { extend, pathLayers, type AccSym, type PathNode, type Sym } from './state.js';
import { identityAcc } from './weights.js';

function asAcc(lw: Lowering, node: OnnxNode, s: Sym, which: string, value: string): AccSym {
  if (s.kind === 'act') return identityAcc(lw, node, s, `_${which}`, '');
  if (s.kind === 'acc' && lw.autoQuantize) {
    const fresh =
      !s.consumed &&
      !s.rearranged &&
      !s.signFixed &&
      s.path.layer.kind === 'conv2d' &&
      s.clampLo.every((v) => v === -Infinity) &&
      s.clampHi.every((v) => v === Infinity);
    if (!fresh) return identityAcc(lw, node, lw.autoQuantize(node, value, s), `_${which}`, '');
    resolvePending(lw, s);
  }
  if (s.kind === 'acc') {
    if (s.consumed) lw.fail(node, 'an accumulator used twice');
    if (s.rearranged || s.signFixed || s.path.layer.kind !== 'conv2d') {
      lw.fail(node, 'a residual Add needs each branch to end in a convolution (not a pool or flatten)');
    }
    if (s.clampLo.some((v) => v !== -Infinity) || s.clampHi.some((v) => v !== Infinity)) {
      lw.fail(
        node,
        'a Relu/Clip between a convolution and the residual Add: nibble sums raw accumulators; quantize the branch first',
      );
    }
    return s;
  }
  if (s.kind === 'host') lw.fail(node, 'an Add of the raw input: quantize it first');
  return lw.fail(node, 'Add of this value is not supported');
}

function gcd(a: number, b: number): number {
  let x = Math.abs(a);
  let y = Math.abs(b);
  while (y) [x, y] = [y, x % y];
  return x;
}

function rowMax(l: Conv2dLayer, ch: number): number {
  const row = l.weights.length / l.outChannels;
  let m = 0;
  for (let i = ch * row; i < (ch + 1) * row; i++) m = Math.max(m, Math.abs(l.weights[i]!));
  return m;
}

function scaleRow(l: Conv2dLayer, ch: number, m: number): void {
  const row = l.weights.length / l.outChannels;
  for (let i = ch * row; i < (ch + 1) * row; i++) l.weights[i] = l.weights[i]! * m;
}

/** Best integer pair with mA/mB ~ rho (rho > 0), within the weight limits. */
function ratioPair(rho: number, maxA: number, maxB: number): { mA: number; mB: number; error: number } {
  let best = { mA: 1, mB: 1, error: Math.abs(1 / rho - 1) };
  for (let mB = 1; mB <= maxB; mB++) {
    const mA = Math.round(rho * mB);
    if (mA < 1 || mA > maxA) continue;
    const error = Math.abs(mA / mB / rho - 1);
    if (error < best.error - 1e-15) best = { mA, mB, error };
  }
  return best;
}

/** Splits two paths at their last common node. */
function fork(a: PathNode | null, b: PathNode | null): { base: PathNode | null; left: PathNode[]; right: PathNode[] } {
  const onA = new Set<PathNode>();
  for (let n = a; n; n = n.prev) onA.add(n);
  let base: PathNode | null = b;
  while (base && !onA.has(base)) base = base.prev;
  const suffix = (p: PathNode | null) => {
    const out: PathNode[] = [];
    for (let n = p; n && n !== base; n = n.prev) out.push(n);
    return out.reverse();
  };
  return { base, left: suffix(a), right: suffix(b) };
}

export function lowerResidualAdd(lw: Lowering, node: OnnxNode): void {
  let a = asAcc(lw, node, lw.sym(node, 0), 'left', node.inputs[0]!);
  let b = asAcc(lw, node, lw.sym(node, 1), 'right', node.inputs[1]!);
  a.consumed = true;
  b.consumed = true;
  const la = a.layout;
  const lb = b.layout;
  if (
    la.canon.c !== lb.canon.c ||
    la.canon.h !== lb.canon.h ||
    la.canon.w !== lb.canon.w ||
    la.dims.join() !== lb.dims.join()
  ) {
    lw.fail(
      node,
      `the two operands [${la.dims.join(',')}] and [${lb.dims.join(',')}] differ in shape: broadcasting adds are not residual blocks`,
    );
  }
  let f = fork(a.path, b.path);
  if (f.right.length !== 1 && f.left.length === 1) {
    [a, b] = [b, a];
    f = fork(a.path, b.path);
  }
  if (f.right.length !== 1) {
    lw.fail(
      node,
      `both branches of the residual Add have more than one layer (${f.left.length} and ${f.right.length}): nibble's residual block takes a single convolution as its shortcut`,
    );
  }
  const baseLayer = f.base?.layer;
  if (baseLayer && baseLayer.kind !== 'requant' && baseLayer.kind !== 'maxpool' && baseLayer.kind !== 'flatten') {
    lw.fail(node, 'the residual branches fork from accumulators: the block input must be quantized activations');
  }
  const main = pathLayers(a.path).slice(pathLayers(f.base).length);
  const shortcut = b.path.layer as Conv2dLayer;
  const lastMain = a.path.layer as Conv2dLayer;
  const c = la.canon.c;
  const limit = lw.weightLimit();
  const alpha = new Float64Array(c);
  let worst = 0;
  for (let ch = 0; ch < c; ch++) {
    if (Math.sign(a.alpha[ch]!) * Math.sign(b.alpha[ch]!) < 0) negateChannel(b, ch);
    const ra = rowMax(lastMain, ch) || 1;
    const rb = rowMax(shortcut, ch) || 1;
    const rho = b.alpha[ch] === 0 ? 1 : a.alpha[ch]! / b.alpha[ch]!;
    const { mA, mB, error } =
      rho > 0 ? ratioPair(rho, Math.floor(limit / ra), Math.floor(limit / rb)) : { mA: 1, mB: 1, error: 0 };
    worst = Math.max(worst, error);
    scaleRow(lastMain, ch, mA);
    scaleRow(shortcut, ch, mB);
    alpha[ch] = a.alpha[ch]! / mA;
    a.range.lo[ch] = a.range.lo[ch]! * mA + b.range.lo[ch]! * mB;
    a.range.hi[ch] = a.range.hi[ch]! * mA + b.range.hi[ch]! * mB;
    a.range.gcd[ch] = gcd(a.range.gcd[ch]! * mA, b.range.gcd[ch]! * mB);
  }
  lw.noteWeights(lastMain.weights);
  lw.noteWeights(shortcut.weights);
  const exact = worst < 1e-12;
  if (!exact)
    lw.approximate(
      node,
      `the two branches' scales differ by a ratio that is not one of small integers (relative error ${worst.toExponential(2)})`,
    );
  const layer: ResidualLayer = { kind: 'residual', name: lw.layerName(node), main, shortcut };
  const beta = a.beta.map((v, ch) => v + b.beta[ch]!);
  lw.set(node, {
    ...a,
    path: extend(f.base, layer),
    alpha,
    beta,
    sources: [lastMain, shortcut],
    negated: new Uint8Array(c),
    probe: { tensor: node.outputs[0]!, alpha: alpha.slice(), beta: beta.slice(), layout: la },
    consumed: false,
  });
  lw.step(
    node,
    `residual '${layer.name}': main ${main.map((l) => l.name).join(' -> ')}, shortcut '${shortcut.name}'`,
    exact,
  );
}
