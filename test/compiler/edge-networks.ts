/**
 * Seeded networks at the edges of what the compiler accepts (issue 15):
 *  - capacityCase: one layer whose need of one scratchpad (INP band of a
 *    dense or conv row, ACC row, OUT row, WGT kernel row, PARAM co blocks,
 *    images stacked per GEMM) lies a few entries either side of the
 *    buffer's size or half of it, on a machine roomy everywhere else;
 *  - residualCase: residual blocks whose main path holds every layer kind
 *    (conv2d, requant, maxpool, flatten, dense, a nested residual), with
 *    pools and flattens around the block, and a shortcut solved to match.
 * Every network is valid IR (analyzeNetwork accepts it) and calibrated.
 */
import { DEFAULT_CONFIG, validateConfig, type ArchConfig } from '../../arch/config.js';
import { calibrateNetwork } from '../../models/calibration.js';
import { slidingOutputSize, type Layer, type Network } from '../../models/ir.js';
import type { Conv2dLayer, RequantLayer } from '../../models/index.js';
import { rng } from './harness.js';

interface Shape {
  c: number;
  h: number;
  w: number;
}

/** Builds layers with unique names and random 4-bit weights, tracking the activation shape. */
class NetBuilder {
  private names = 0;
  readonly int: (lo: number, hi: number) => number;
  constructor(readonly r: () => number) {
    this.int = (lo, hi) => lo + Math.floor(r() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.r() * xs.length)]!;
  }
  name(p: string): string {
    return `${p}${++this.names}`;
  }
  weights(n: number): Int8Array {
    const w = new Int8Array(n);
    for (let i = 0; i < n; i++) w[i] = this.int(-7, 7);
    return w;
  }
  conv(ci: number, co: number, kh: number, kw: number, sh = 1, sw = 1, ph = 0, pw = 0): Conv2dLayer {
    return {
      kind: 'conv2d',
      name: this.name('conv'),
      inChannels: ci,
      outChannels: co,
      kernelH: kh,
      kernelW: kw,
      strideH: sh,
      strideW: sw,
      padH: ph,
      padW: pw,
      weights: this.weights(co * ci * kh * kw),
    };
  }
  requant(c: number, signed = this.r() < 0.25): RequantLayer {
    return {
      kind: 'requant',
      name: this.name('rq'),
      signed,
      bits: 4,
      bias: new Int32Array(c),
      shift: new Int8Array(c),
    };
  }
  pool(kernel: number, stride: number): Layer {
    return { kind: 'maxpool', name: this.name('pool'), kernel, stride };
  }
  flatten(): Layer {
    return { kind: 'flatten', name: this.name('flat') };
  }
  dense(inFeatures: number, outFeatures: number): Layer {
    return {
      kind: 'dense',
      name: this.name('fc'),
      inFeatures,
      outFeatures,
      weights: this.weights(inFeatures * outFeatures),
    };
  }
}

export interface EdgeCase {
  net: Network;
  cfg: ArchConfig;
  batch: number;
  /** what the case probes, for failure messages */
  label: string;
  /** the probed need is at most the capacity: the compiler must accept the network */
  mustFit: boolean;
}

function network(name: string, input: Shape, bits: 4 | 8, layers: Layer[], seed: number): Network {
  const net: Network = {
    name,
    input: { channels: input.c, height: input.h, width: input.w, bits, signed: false },
    layers,
    weightBits: 4,
    accumulatorBits: 32,
  };
  calibrateNetwork(net, { method: 'samples', samples: 2, seed });
  return net;
}

/** A machine with room everywhere; the probe then shrinks one buffer. */
function roomyConfig(n: number): ArchConfig {
  return {
    ...structuredClone(DEFAULT_CONFIG),
    array: { rows: n, cols: n },
    scratchpad: { inputEntries: 1024, weightEntries: 1024, accEntries: 1024, outputEntries: 1024, paramEntries: 16 },
    dram: { ...DEFAULT_CONFIG.dram, latency: 4, sizeBytes: 1 << 22 },
  };
}

/** Split `area` into h x w with w <= maxW, preferring a random divisor (h * w may fall short of area by < w). */
function factor(b: NetBuilder, area: number, maxW: number): { h: number; w: number } {
  const divisors: number[] = [];
  for (let w = 1; w <= Math.min(area, maxW); w++) if (area % w === 0) divisors.push(w);
  const w = b.r() < 0.7 && divisors.length > 1 ? b.pick(divisors.slice(1)) : b.int(1, Math.min(area, maxW));
  return { h: Math.max(1, Math.floor(area / w)), w };
}

const PROBES = ['dense-inp', 'conv-inp', 'acc', 'out', 'wgt', 'param', 'dense-stack', 'conv-stack'] as const;

/** One network whose probed scratchpad need lies within a few entries of a capacity boundary. */
export function capacityCase(seed: number): EdgeCase {
  const b = new NetBuilder(rng(seed));
  const probe = b.pick(PROBES);
  const n = b.pick([4, 8]);
  const cfg = roomyConfig(n);
  const sp = cfg.scratchpad;
  const delta = b.int(-3, 2);
  const half = b.r() < 0.4;
  let input: Shape;
  let bits: 4 | 8 = b.r() < 0.5 ? 8 : 4;
  const planes = bits === 8 ? 2 : 1;
  let batch = 1;
  const layers: Layer[] = [];
  let need = 0;
  let cap = 0;
  switch (probe) {
    case 'dense-inp': {
      // one channel block of one image: planes x H x W INP entries
      sp.inputEntries = b.pick([64, 128, 256, 512]);
      cap = half ? sp.inputEntries / 2 : sp.inputEntries;
      const { h, w } = factor(b, Math.max(1, Math.floor((cap + delta) / planes)), 64);
      input = { c: b.int(1, 2 * n), h, w };
      need = planes * h * w;
      batch = b.pick([1, 1, 2, 4]);
      const f = input.c * h * w;
      const o = b.int(1, 12);
      layers.push(b.flatten(), b.dense(f, o), b.requant(o));
      break;
    }
    case 'conv-inp': {
      // one output row of one channel block with its halo: planes x k x W entries
      sp.inputEntries = b.pick([64, 128, 256]);
      cap = half ? sp.inputEntries / 2 : sp.inputEntries;
      const k = b.pick([1, 3, 3, 5]);
      const w = Math.max(k, Math.floor((cap + delta) / (planes * k)));
      input = { c: b.int(1, n + 2), h: k + b.int(0, 3), w };
      need = planes * k * w;
      const co = b.int(1, 2 * n);
      layers.push(b.conv(input.c, co, k, k, 1, 1, Math.floor(k / 2), Math.floor(k / 2)), b.requant(co));
      break;
    }
    case 'acc': {
      // one pooled output row: pool_k conv rows x the conv columns a window reads
      sp.accEntries = b.pick([16, 32, 64, 128]);
      cap = sp.accEntries;
      const pooled = b.r() < 0.6;
      const pk = pooled ? 2 : 1;
      const owc = Math.max(1, Math.floor((cap + delta) / pk));
      input = { c: b.int(1, n), h: pk + b.int(0, 3), w: owc };
      bits = 4;
      const co = b.int(1, n + 1);
      layers.push(b.conv(input.c, co, 1, 1), b.requant(co));
      if (pooled) layers.push(b.pool(2, 2));
      // a 2x2/2 pool reads the conv columns of whole windows only
      need = pk * (pooled ? 2 * Math.floor(owc / 2) : owc);
      break;
    }
    case 'out': {
      sp.outputEntries = b.pick([16, 32, 64]);
      cap = half ? sp.outputEntries / 2 : sp.outputEntries;
      const w = Math.max(1, cap + delta);
      input = { c: b.int(1, n), h: b.int(1, 4), w };
      need = w;
      bits = 4;
      const co = b.int(1, 2 * n);
      layers.push(b.conv(input.c, co, 1, 1), b.requant(co));
      break;
    }
    case 'wgt': {
      // one kernel row of one channel block: kw x N entries (dense: one tap per entry row)
      sp.weightEntries = n * b.pick([4, 8, 16]);
      cap = half ? sp.weightEntries / 2 : sp.weightEntries;
      const k = Math.min(15, Math.max(1, Math.floor(cap / n) + (delta > 0 ? 1 : delta < -1 ? -1 : 0)));
      input = { c: b.int(1, n + 2), h: k + b.int(0, 2), w: k + b.int(0, 2) };
      need = k * n;
      const co = b.int(1, n + 1);
      layers.push(b.conv(input.c, co, k, k, 1, 1, b.int(0, Math.min(2, k - 1)), 0), b.requant(co));
      break;
    }
    case 'param': {
      // co blocks of one layer against PARAM (items of half of it)
      sp.paramEntries = b.pick([1, 2, 4]);
      cap = sp.paramEntries;
      const blocks = Math.max(1, cap + delta);
      const co = blocks * n - b.int(0, n - 1);
      input = { c: b.int(1, n), h: b.int(1, 5), w: b.int(1, 5) };
      need = Math.ceil(co / n);
      layers.push(b.conv(input.c, co, 1, 1), b.requant(co));
      break;
    }
    case 'dense-stack': {
      // images stacked per GEMM: at most ACC entries and half of OUT
      sp.accEntries = b.pick([2, 4, 8]);
      cap = sp.accEntries;
      batch = Math.max(1, cap + delta);
      input = { c: b.int(1, 2 * n), h: b.int(1, 7), w: b.int(1, 6) };
      need = batch;
      const o = b.int(1, 2 * n);
      layers.push(b.flatten(), b.dense(input.c * input.h * input.w, o), b.requant(o, true));
      break;
    }
    case 'conv-stack': {
      // small maps stacked per GEMM: (nb-1) x pitch / stride + conv rows, times the columns, within ACC
      sp.accEntries = b.pick([16, 32, 64]);
      cap = sp.accEntries;
      const hw = b.int(2, 4);
      input = { c: b.int(1, n), h: hw, w: hw };
      batch = Math.max(2, Math.floor((cap + delta) / ((hw + 1) * hw)) + 1);
      need = ((batch - 1) * (hw + 1) + hw) * hw;
      const co = b.int(1, n + 1);
      layers.push(b.conv(input.c, co, 3, 3, 1, 1, 1, 1), b.requant(co));
      break;
    }
  }
  const net = network(`capacity-${probe}-${seed}`, input!, bits, layers, seed);
  const label = `${probe}: needs ${need} of ${cap}${half ? ' (half)' : ''} (seed ${seed}, N=${n}, batch ${batch})`;
  // only the hard limits must be accepted: a need below a half-buffer preference is not a limit
  const hard = probe === 'dense-inp' || probe === 'conv-inp' || probe === 'acc' || probe === 'out' || probe === 'wgt';
  return { net, cfg: validateConfig(cfg), batch, label, mustFit: hard && !half && need <= cap };
}

/** Kernel, stride, padding (one axis) taking `from` to `to`, or undefined. */
function solveAxis(from: number, to: number): { k: number; s: number; p: number } | undefined {
  for (const s of [1, 2, 3]) {
    for (let p = 0; p <= 3; p++) {
      for (let k = 1; k <= 15; k++) {
        if (k > from + 2 * p) break;
        if (slidingOutputSize(from, k, s, p) === to) return { k, s, p };
      }
    }
  }
  return undefined;
}

/** A random residual main path over `input` (any layer kind, a nested residual up to depth 2), ending with a conv2d. */
function mainPath(b: NetBuilder, input: Shape, depth: number): { layers: Layer[]; out: Shape } {
  const layers: Layer[] = [];
  let s = { ...input };
  const steps = b.int(1, 3);
  for (let i = 0; i < steps; i++) {
    const kind = b.pick(['conv', 'pool', 'flatten', 'dense', 'residual', 'pool2'] as const);
    if (kind === 'pool' && s.h >= 2 && s.w >= 2) {
      const k = b.pick([2, 2, 3]);
      const st = b.pick([1, 2]);
      if (k > s.h || k > s.w) continue;
      layers.push(b.pool(k, st));
      s = { c: s.c, h: slidingOutputSize(s.h, k, st, 0), w: slidingOutputSize(s.w, k, st, 0) };
      continue;
    }
    if (kind === 'flatten' && s.h * s.w === 1) {
      layers.push(b.flatten());
      continue;
    }
    if (kind === 'dense' && s.h * s.w <= 16) {
      const o = b.int(1, 12);
      if (s.h * s.w > 1 || b.r() < 0.5) layers.push(b.flatten());
      layers.push(b.dense(s.c * s.h * s.w, o), b.requant(o, false));
      s = { c: o, h: 1, w: 1 };
      continue;
    }
    if (kind === 'residual' && depth < 2) {
      const inner = residualBlock(b, s, depth + 1);
      layers.push(inner.layer, b.requant(inner.out.c, false));
      s = inner.out;
      continue;
    }
    const co = b.int(1, 20);
    const k = s.h >= 3 && s.w >= 3 ? b.pick([1, 3]) : 1;
    layers.push(b.conv(s.c, co, k, k, 1, 1, k === 3 ? 1 : 0, k === 3 ? 1 : 0));
    if (kind === 'pool2' && s.h >= 4 && s.w >= 4) {
      // two pools between the conv and its requant
      layers.push(b.pool(2, 2), b.pool(2, 1));
      const after = (v: number) => slidingOutputSize(slidingOutputSize(v, 2, 2, 0), 2, 1, 0);
      s = { c: co, h: after(s.h), w: after(s.w) };
    } else {
      s = { c: co, h: s.h, w: s.w };
    }
    layers.push(b.requant(co, false));
  }
  // the last conv: its accumulator is summed with the shortcut's
  const co = b.int(1, 20);
  const k = s.h >= 3 && s.w >= 3 && b.r() < 0.6 ? 3 : 1;
  layers.push(b.conv(s.c, co, k, k, 1, 1, k === 3 ? 1 : 0, k === 3 ? 1 : 0));
  return { layers, out: { c: co, h: s.h, w: s.w } };
}

/** A residual block over `input`: a random main path, the shortcut conv solved to its output shape. */
function residualBlock(b: NetBuilder, input: Shape, depth = 0): { layer: Layer; out: Shape } {
  for (;;) {
    const { layers: main, out } = mainPath(b, input, depth);
    const y = solveAxis(input.h, out.h);
    const x = solveAxis(input.w, out.w);
    if (!y || !x) continue;
    const sc = b.conv(input.c, out.c, y.k, x.k, y.s, x.s, y.p, x.p);
    return { layer: { kind: 'residual', name: b.name('res'), main, shortcut: sc }, out };
  }
}

/** Residual blocks with every layer kind inside their main paths, and pools/flattens around them. */
export function residualCase(seed: number): EdgeCase {
  const b = new NetBuilder(rng(seed ^ 0x2545f491));
  const bits: 4 | 8 = b.r() < 0.5 ? 8 : 4;
  const input: Shape = { c: b.int(1, 12), h: b.int(1, 10), w: b.int(1, 10) };
  const layers: Layer[] = [];
  let s = { ...input };
  if (bits === 8 || b.r() < 0.5) {
    // blocks read activations of at most bits.activation: an 8-bit input goes through a conv first
    const co = b.int(1, 16);
    layers.push(b.conv(s.c, co, 1, 1), b.requant(co, false));
    s = { c: co, h: s.h, w: s.w };
  }
  const blocks = b.int(1, 2);
  for (let i = 0; i < blocks; i++) {
    const block = residualBlock(b, s);
    const out = { ...block.out };
    layers.push(block.layer);
    // the IR wants the block's requant right after it; a pool may follow that
    layers.push(b.requant(out.c, i === blocks - 1 && b.r() < 0.3));
    if (b.r() < 0.3 && out.h >= 2 && out.w >= 2) {
      layers.push(b.pool(2, 1));
      out.h -= 1;
      out.w -= 1;
    }
    s = out;
  }
  if (b.r() < 0.4 && s.h * s.w <= 36) {
    const o = b.int(1, 10);
    layers.push(b.flatten(), b.dense(s.c * s.h * s.w, o), b.requant(o, true));
  } else if (b.r() < 0.3) {
    layers.push(b.flatten());
  }
  const n = b.pick([4, 8, 16]);
  const cfg = n === 16 ? structuredClone(DEFAULT_CONFIG) : roomyConfig(n);
  const net = network(`residual-${seed}`, input, bits, layers, seed);
  return {
    net,
    cfg: validateConfig(cfg),
    batch: b.int(1, 3),
    label: `residual case (seed ${seed}, N=${n})`,
    mustFit: true,
  };
}
