/**
 * fast-check generator of small valid networks covering every IR feature:
 * random shapes and channel counts, kernels 1..3 (non-square too), strides 1
 * and 2, paddings, maxpool (also on accumulators), flatten + dense, residual
 * blocks (with and without downsampling), 4/8-bit inputs, signed/unsigned
 * requant of 2..8 bits, negative shifts, and sometimes a narrow accumulator
 * so that overflow paths are exercised too.
 */
import fc from 'fast-check';
import type { Layer, Network } from '../../models/ir.js';
import type { Conv2dLayer, RequantLayer } from '../../models/index.js';
import { SeededRandom } from '../../models/seeded-random.js';

export interface RandomCase {
  net: Network;
  inputs: Uint8Array;
  batch: number;
}

const opKinds = ['conv', 'conv', 'pool', 'dense', 'residual', 'flatten'] as const;

const planArb = fc.record({
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  inputBits: fc.constantFrom(4 as const, 8 as const),
  c: fc.integer({ min: 1, max: 4 }),
  h: fc.integer({ min: 1, max: 9 }),
  w: fc.integer({ min: 1, max: 9 }),
  weightBits: fc.constantFrom(2, 3, 4, 4, 8),
  accumulatorBits: fc.oneof(fc.constant(32), fc.constant(32), fc.integer({ min: 6, max: 20 })),
  batch: fc.integer({ min: 1, max: 3 }),
  ops: fc.array(
    fc.record({
      kind: fc.constantFrom(...opKinds),
      p: fc.array(fc.nat({ max: 1000 }), { minLength: 12, maxLength: 12 }),
    }),
    { minLength: 1, maxLength: 6 },
  ),
});

export type RandomPlan = typeof planArb extends fc.Arbitrary<infer T> ? T : never;

export function buildRandomCase(plan: RandomPlan): RandomCase {
  const rng = new SeededRandom(plan.seed);
  const wHi = 2 ** (plan.weightBits - 1) - 1;
  const layers: Layer[] = [];
  let c = plan.c;
  let h = plan.h;
  let w = plan.w;
  /** rough magnitude of the current activations, to pick useful shifts */
  let actHi = 2 ** plan.inputBits - 1;
  let n = 0;
  const name = (k: string) => `${k}${++n}`;
  const weights = (count: number) => Int8Array.from({ length: count }, () => rng.int(-wHi, wHi));

  const conv = (
    ci: number,
    co: number,
    kH: number,
    kW: number,
    sH: number,
    sW: number,
    pH: number,
    pW: number,
  ): Conv2dLayer => ({
    kind: 'conv2d',
    name: name('conv'),
    inChannels: ci,
    outChannels: co,
    kernelH: kH,
    kernelW: kW,
    strideH: sH,
    strideW: sW,
    padH: pH,
    padW: pW,
    weights: weights(co * ci * kH * kW),
  });
  const requant = (channels: number, fanIn: number, p: number[]): RequantLayer => {
    const signed = p[8]! % 2 === 1;
    const bits = [2, 3, 4, 8][p[9]! % 4]!;
    const mag = Math.sqrt(fanIn) * (wHi / 2) * (actHi / 2) + 1;
    const base = Math.round(Math.log2(mag)) - bits + 1;
    const shift = Int8Array.from({ length: channels }, () =>
      p[10]! % 5 === 0 ? rng.int(-3, -1) : Math.max(-31, Math.min(31, base + rng.int(-2, 2))),
    );
    const bias = Int32Array.from({ length: channels }, () => rng.int(-Math.ceil(mag), Math.ceil(mag)));
    actHi = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
    return { kind: 'requant', name: name('requant'), signed, bits, bias, shift };
  };
  const out = (size: number, k: number, s: number, p: number) => Math.floor((size + 2 * p - k) / s) + 1;

  for (const op of plan.ops) {
    const p = op.p;
    switch (op.kind) {
      case 'conv': {
        const co = 1 + (p[0]! % 6);
        let kH = [1, 2, 3][p[1]! % 3]!;
        let kW = [1, 3, 2][p[2]! % 3]!;
        const sH = 1 + (p[3]! % 2);
        const sW = 1 + (p[4]! % 2);
        let pH = p[5]! % kH;
        let pW = p[6]! % kW;
        if (out(h, kH, sH, pH) < 1) [kH, pH] = [1, 0];
        if (out(w, kW, sW, pW) < 1) [kW, pW] = [1, 0];
        layers.push(conv(c, co, kH, kW, sH, sW, pH, pW));
        const fanIn = c * kH * kW;
        c = co;
        h = out(h, kH, sH, pH);
        w = out(w, kW, sW, pW);
        if (p[7]! % 4 === 0 && h >= 2 && w >= 2) {
          // maxpool on accumulators, before the requant
          layers.push({ kind: 'maxpool', name: name('accpool'), kernel: 2, stride: 2 });
          h = out(h, 2, 2, 0);
          w = out(w, 2, 2, 0);
        }
        layers.push(requant(c, fanIn, p));
        break;
      }
      case 'pool': {
        const k = 1 + (p[0]! % 3);
        const s = 1 + (p[1]! % 3);
        if (k > h || k > w) break;
        layers.push({ kind: 'maxpool', name: name('pool'), kernel: k, stride: s });
        h = out(h, k, s, 0);
        w = out(w, k, s, 0);
        break;
      }
      case 'flatten':
        layers.push({ kind: 'flatten', name: name('flatten') });
        c = c * h * w;
        h = 1;
        w = 1;
        break;
      case 'dense': {
        if (h !== 1 || w !== 1) {
          layers.push({ kind: 'flatten', name: name('flatten') });
          c = c * h * w;
          h = 1;
          w = 1;
        }
        const o = 1 + (p[0]! % 8);
        layers.push({ kind: 'dense', name: name('dense'), inFeatures: c, outFeatures: o, weights: weights(o * c) });
        const fanIn = c;
        c = o;
        layers.push(requant(c, fanIn, p));
        break;
      }
      case 'residual': {
        const co = 1 + (p[0]! % 5);
        const s = 1 + (p[1]! % 2);
        const blockName = name('block');
        const first = conv(c, co, 3, 3, s, s, 1, 1);
        const mid = requant(co, c * 9, p);
        const second = conv(co, co, 3, 3, 1, 1, 1, 1);
        const shortcut = conv(c, co, 1, 1, s, s, 0, 0);
        layers.push({ kind: 'residual', name: blockName, main: [first, mid, second], shortcut });
        actHi = 2 ** plan.inputBits - 1;
        const fanIn = co * 9 + c;
        c = co;
        h = out(h, 3, s, 1);
        w = out(w, 3, s, 1);
        layers.push(requant(c, fanIn, p));
        break;
      }
    }
  }
  if (layers.length === 0) layers.push({ kind: 'flatten', name: name('flatten') });
  const net: Network = {
    name: `random-${plan.seed}`,
    input: { channels: plan.c, height: plan.h, width: plan.w, bits: plan.inputBits, signed: false },
    layers,
    weightBits: plan.weightBits,
    accumulatorBits: plan.accumulatorBits,
  };
  const inHi = 2 ** plan.inputBits - 1;
  const size = plan.c * plan.h * plan.w;
  // Mostly dense inputs, with runs of zeros so the zero-skipping paths are exercised.
  const inputs = Uint8Array.from({ length: plan.batch * size }, () => (rng.next() < 0.3 ? 0 : rng.int(0, inHi)));
  return { net, inputs, batch: plan.batch };
}

export const randomCaseArb: fc.Arbitrary<RandomCase> = planArb.map(buildRandomCase);
