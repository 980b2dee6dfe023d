/**
 * conv2d with any padTop/padBottom/padLeft/padRight (padH/padW are the top and
 * left, padBottom/padRight optional): the reference executor against the
 * naive oracle, the JSON and binary formats (optional fields, strict
 * readers), and the located errors.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { ModelError } from '../../arch/index.js';
import type { Network } from '../../models/ir.js';
import {
  analyzeNetwork,
  loadModelBinaryFile,
  loadModelJson,
  runReference,
  saveModelBinary,
  saveModelJson,
  SeededRandom,
  type Conv2dLayer,
} from '../../models/index.js';
import { thrownMessage } from '../thrown.js';
import { naiveRun } from './naive-reference.js';

const tmp = mkdtempSync(join(tmpdir(), 'nibble-asym-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Geometry {
  c: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  pads: [number, number, number, number];
}

const geometryArb = fc
  .record({
    c: fc.integer({ min: 1, max: 3 }),
    h: fc.integer({ min: 1, max: 9 }),
    w: fc.integer({ min: 1, max: 9 }),
    kh: fc.integer({ min: 1, max: 4 }),
    kw: fc.integer({ min: 1, max: 4 }),
    sh: fc.integer({ min: 1, max: 3 }),
    sw: fc.integer({ min: 1, max: 3 }),
    p: fc.array(fc.nat({ max: 3 }), { minLength: 4, maxLength: 4 }),
    seed: fc.nat(),
  })
  .map(({ p, ...g }) => ({
    ...g,
    pads: [p[0]! % g.kh, p[1]! % g.kh, p[2]! % g.kw, p[3]! % g.kw] as Geometry['pads'],
  }))
  .filter((g) => g.h + g.pads[0] + g.pads[1] >= g.kh && g.w + g.pads[2] + g.pads[3] >= g.kw);

/** conv (asymmetric pads) -> requant -> conv 1x1: one network of the geometry. */
function convNet(g: Geometry & { seed: number }): Network {
  const rng = new SeededRandom(g.seed);
  const [top, bottom, left, right] = g.pads;
  const co = 3;
  const conv: Conv2dLayer = {
    kind: 'conv2d',
    name: 'conv',
    inChannels: g.c,
    outChannels: co,
    kernelH: g.kh,
    kernelW: g.kw,
    strideH: g.sh,
    strideW: g.sw,
    padH: top,
    padW: left,
    padBottom: bottom,
    padRight: right,
    weights: Int8Array.from({ length: co * g.c * g.kh * g.kw }, () => rng.int(-7, 7)),
  };
  return {
    name: 'asym',
    input: { channels: g.c, height: g.h, width: g.w, bits: 4, signed: false },
    weightBits: 4,
    accumulatorBits: 32,
    layers: [
      conv,
      {
        kind: 'requant',
        name: 'rq',
        signed: true,
        bits: 4,
        bias: new Int32Array(co),
        shift: new Int8Array(co).fill(3),
      },
    ],
  };
}

describe('asymmetric conv2d padding', () => {
  test('reference == naive oracle, output size (H + top + bottom - K) / S + 1', () => {
    fc.assert(
      fc.property(geometryArb, (g) => {
        const net = convNet(g);
        const a = analyzeNetwork(net);
        const [top, bottom, left, right] = g.pads;
        expect(a.layers[0]!.output.shape).toEqual({
          c: 3,
          h: Math.floor((g.h + top + bottom - g.kh) / g.sh) + 1,
          w: Math.floor((g.w + left + right - g.kw) / g.sw) + 1,
        });
        const rng = new SeededRandom(g.seed + 1);
        const batch = 2;
        const x = Uint8Array.from({ length: batch * g.c * g.h * g.w }, () => rng.int(0, 15));
        const naive = naiveRun(net, x, batch, 32);
        expect(Array.from(runReference(net, x, batch).output)).toEqual(naive.outputs.flatMap((t) => t.data));
      }),
      { numRuns: 300, seed: 20260514 },
    );
  });

  test('JSON: padBottom/padRight are written only when they differ, and read back', () => {
    const net = convNet({ c: 2, h: 6, w: 5, kh: 3, kw: 2, sh: 2, sw: 1, pads: [0, 1, 1, 1], seed: 4 });
    const text = saveModelJson(net);
    expect(text).toContain('"padBottom": 1');
    expect(text).not.toContain('padRight'); // right = left = 1: the symmetric form
    const back = loadModelJson(text, 'asym.json');
    const l = back.layers[0] as Conv2dLayer;
    expect([l.padH, l.padBottom, l.padW, l.padRight]).toEqual([0, 1, 1, undefined]);
    expect(Array.from(runReference(back, new Uint8Array(60).fill(9), 1).output)).toEqual(
      Array.from(runReference(net, new Uint8Array(60).fill(9), 1).output),
    );
    const symmetric = convNet({ c: 1, h: 4, w: 4, kh: 3, kw: 3, sh: 1, sw: 1, pads: [1, 1, 1, 1], seed: 1 });
    expect(saveModelJson(symmetric)).not.toMatch(/padBottom|padRight/);
  });

  test('JSON: a padBottom out of range is a located error', () => {
    const net = convNet({ c: 1, h: 6, w: 6, kh: 3, kw: 3, sh: 1, sw: 1, pads: [0, 2, 0, 0], seed: 2 });
    const text = saveModelJson(net).replace('"padBottom": 2', '"padBottom": 3');
    expect(thrownMessage(() => loadModelJson(text, 'bad.json'), ModelError)).toBe(
      "bad.json: layer 0 'conv': field padBottom: must be <= 2, got 3",
    );
  });

  test('binary: round trip, and a layer field this build does not know is refused', () => {
    const net = convNet({ c: 2, h: 7, w: 7, kh: 3, kw: 3, sh: 2, sw: 2, pads: [0, 1, 0, 1], seed: 5 });
    const file = join(tmp, 'asym.nbm');
    saveModelBinary(file, net);
    const back = loadModelBinaryFile(file);
    expect(back.layers[0]).toMatchObject({ padH: 0, padBottom: 1, padW: 0, padRight: 1 });
    const future = { ...net, layers: [{ ...net.layers[0]!, padFront: 1 } as unknown as Conv2dLayer, net.layers[1]!] };
    const bad = join(tmp, 'future.nbm');
    saveModelBinary(bad, future); // analysis ignores fields it does not read; the reader does not
    expect(thrownMessage(() => loadModelBinaryFile(bad), ModelError)).toMatch(
      /future\.nbm: layer 0 'conv': field padFront: unknown field for a conv2d layer \(allowed: kind, name, .*padBottom, padRight, weights\)$/,
    );
  });
});
