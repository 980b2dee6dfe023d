/**
 * Seeded random IR networks and machine configs for the compiler's property
 * tests: odd sizes, channel counts that are not multiples of N, stride 1 and
 * 2, 1x1 and 3x3 kernels, residual blocks, pools, dense heads, 4- and 8-bit inputs.
 */
import { DEFAULT_CONFIG, validateConfig, type ArchConfig } from '../../arch/config.js';
import { calibrateNetwork } from '../../models/calibration.js';
import { slidingOutputSize, type Layer, type Network } from '../../models/ir.js';
import type { Conv2dLayer, RequantLayer } from '../../models/index.js';
import { rng } from './harness.js';

export function randomNetwork(seed: number, maxSide = 13): Network {
  const r = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const weights = (n: number) => {
    const w = new Int8Array(n);
    for (let i = 0; i < n; i++) w[i] = int(-7, 7);
    return w;
  };
  let names = 0;
  const name = (p: string) => `${p}${++names}`;
  const conv = (ci: number, co: number, k: number, s: number, p: number): Conv2dLayer => ({
    kind: 'conv2d',
    name: name('conv'),
    inChannels: ci,
    outChannels: co,
    kernelH: k,
    kernelW: k,
    strideH: s,
    strideW: s,
    padH: p,
    padW: p,
    weights: weights(co * ci * k * k),
  });
  const requant = (c: number, signed = r() < 0.25, bits = pick([2, 3, 4, 4, 4])): RequantLayer => ({
    kind: 'requant',
    name: name('rq'),
    signed,
    bits: signed ? Math.max(2, bits) : bits,
    bias: new Int32Array(c),
    shift: new Int8Array(c),
  });
  const bits = r() < 0.5 ? 8 : 4;
  let c = int(1, 20);
  let h = int(3, maxSide);
  let w = int(3, maxSide);
  const input = { channels: c, height: h, width: w, bits: bits as 4 | 8, signed: false as const };
  const layers: Layer[] = [];
  const blocks = int(1, 3);
  for (let b = 0; b < blocks; b++) {
    const kind = r();
    const co = pick([int(1, 8), int(9, 24), int(25, 40), 16, 32]);
    if (kind < 0.55 || h < 3 || w < 3) {
      const k = h >= 3 && w >= 3 && r() < 0.7 ? 3 : 1;
      const s = r() < 0.3 ? 2 : 1;
      const p = k === 3 ? int(0, 1) : 0;
      const l = conv(c, co, k, s, p);
      layers.push(l);
      h = slidingOutputSize(h, k, s, p);
      w = slidingOutputSize(w, k, s, p);
      const pre = r() < 0.1 && h >= 2 && w >= 2;
      if (pre) {
        layers.push({ kind: 'maxpool', name: name('pool'), kernel: 2, stride: 2 });
        h = slidingOutputSize(h, 2, 2, 0);
        w = slidingOutputSize(w, 2, 2, 0);
      }
      layers.push(requant(co));
      if (!pre && r() < 0.3 && h >= 2 && w >= 2) {
        const pk = h >= 3 && w >= 3 && r() < 0.3 ? 3 : 2;
        const ps = r() < 0.2 ? 1 : 2;
        layers.push({ kind: 'maxpool', name: name('pool'), kernel: pk, stride: ps });
        h = slidingOutputSize(h, pk, ps, 0);
        w = slidingOutputSize(w, pk, ps, 0);
      }
    } else if (kind < 0.85) {
      const s = r() < 0.5 ? 2 : 1;
      const mid = pick([co, int(1, 24)]);
      const main: Layer[] = [conv(c, mid, 3, s, 1), requant(mid, false), conv(mid, co, 3, 1, 1)];
      layers.push({ kind: 'residual', name: name('res'), main, shortcut: conv(c, co, 1, s, 0) });
      h = slidingOutputSize(h, 3, s, 1);
      w = slidingOutputSize(w, 3, s, 1);
      layers.push(requant(co));
    } else {
      // a max pool of activations that does not follow a requant (first layer, or after another pool)
      if (layers.length === 0 && bits === 8) continue;
      if (h < 2 || w < 2) continue;
      layers.push({ kind: 'maxpool', name: name('pool'), kernel: 2, stride: int(1, 2) });
      h = slidingOutputSize(
        h,
        2,
        layers[layers.length - 1]!.kind === 'maxpool' ? (layers[layers.length - 1] as { stride: number }).stride : 2,
        0,
      );
      w = slidingOutputSize(w, 2, (layers[layers.length - 1] as { stride: number }).stride, 0);
      continue;
    }
    c = co;
  }
  if (
    layers.length === 0 ||
    (layers[layers.length - 1]!.kind === 'maxpool' && layers.every((l) => l.kind === 'maxpool'))
  ) {
    const l = conv(c, 5, 1, 1, 0);
    layers.push(l, requant(5));
    c = 5;
  }
  if (r() < 0.5 && h <= 6 && w <= 6) {
    const f = c * h * w;
    if (h * w > 1 || r() < 0.5) layers.push({ kind: 'flatten', name: name('flat') });
    const o1 = int(1, 40);
    layers.push({ kind: 'dense', name: name('fc'), inFeatures: f, outFeatures: o1, weights: weights(o1 * f) });
    layers.push(requant(o1));
    if (r() < 0.5) {
      const o2 = int(1, 12);
      layers.push({ kind: 'dense', name: name('fc'), inFeatures: o1, outFeatures: o2, weights: weights(o2 * o1) });
      layers.push(requant(o2, true, 4));
    }
  }
  const net: Network = { name: `random-${seed}`, input, layers, weightBits: 4, accumulatorBits: 32 };
  calibrateNetwork(net, { method: 'samples', samples: 4, seed });
  return net;
}

const pow2 = (r: () => number, lo: number, hi: number) => 2 ** (lo + Math.floor(r() * (hi - lo + 1)));

/** A random valid config: array 4x4 .. 16x16, small and large buffers, any DRAM timing. */
export function randomConfig(seed: number): ArchConfig {
  const r = rng(seed ^ 0x5bd1e995);
  const n = pow2(r, 2, 4);
  const big = r() < 0.5;
  for (;;) {
    const cfg: ArchConfig = {
      ...structuredClone(DEFAULT_CONFIG),
      array: { rows: n, cols: n },
      scratchpad: {
        inputEntries: big ? pow2(r, 10, 12) : pow2(r, 7, 9),
        weightEntries: Math.max(big ? pow2(r, 10, 12) : pow2(r, 8, 9), 16 * n),
        accEntries: big ? pow2(r, 9, 11) : pow2(r, 6, 8),
        outputEntries: big ? pow2(r, 9, 11) : pow2(r, 6, 8),
        paramEntries: pow2(r, 0, 6),
      },
      dram: { busBytes: pow2(r, 0, 5), latency: 1 + Math.floor(r() * 40), sizeBytes: 1 << 22 },
      queues: { load: 1 + Math.floor(r() * 8), compute: 1 + Math.floor(r() * 8), store: 1 + Math.floor(r() * 8) },
      requantStages: 1 + Math.floor(r() * 4),
      bits: {
        weight: r() < 0.8 ? 4 : 8,
        activation: r() < 0.8 ? 4 : 8,
        accumulator: r() < 0.8 ? 32 : 24,
      },
    };
    try {
      return validateConfig(cfg);
    } catch {
      // an instruction field no longer fits 128 bits: draw again
    }
  }
}
