/**
 * The weight scans (models/weight-scan.ts): the WebAssembly loops against
 * their JavaScript twins on random arrays (values at the int8 extremes,
 * lengths off the 16-byte blocks, outliers in the SIMD body and in the tail),
 * and the model checks that use them still naming the first bad weight.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ModelError } from '../../arch/index.js';
import { analyzeNetwork } from '../../models/analysis.js';
import { loadModelJson, saveModelJson } from '../../models/model-json.js';
import { firstOutside, rowSums } from '../../models/weight-scan.js';
import { zooNetwork } from '../../models/zoo.js';
import { thrownMessage } from '../thrown.js';

const weightsArb = fc
  .array(fc.integer({ min: -128, max: 127 }), { minLength: 0, maxLength: 300 })
  .map((a) => Int8Array.from(a));

describe('weight scans: WebAssembly and JavaScript agree', () => {
  it('firstOutside on random ranges', () => {
    fc.assert(
      fc.property(weightsArb, fc.integer({ min: -200, max: 130 }), fc.integer({ min: -130, max: 200 }), (w, lo, hi) => {
        const js = firstOutside(w, lo, hi, { wasm: false });
        expect(firstOutside(w, lo, hi, { wasm: true })).toBe(js);
        const first = Array.from(w).findIndex((v) => v < lo || v > hi);
        expect(js).toBe(first);
      }),
    );
  });

  it('firstOutside finds one outlier anywhere in a large array', () => {
    const w = new Int8Array(5000).fill(7);
    for (const at of [0, 15, 16, 4095, 4992, 4999]) {
      w[at] = -9;
      expect(firstOutside(w, -8, 7)).toBe(at);
      expect(firstOutside(w, -8, 7, { wasm: true })).toBe(at);
      w[at] = -8;
    }
    expect(firstOutside(w, -8, 7)).toBe(-1);
  });

  it('rowSums on random shapes, -128 included', () => {
    fc.assert(
      fc.property(weightsArb, fc.integer({ min: 1, max: 40 }), (w, rowLength) => {
        const rows = Math.floor(w.length / rowLength);
        const js = rowSums(w, rows, rowLength, { wasm: false });
        const wasm = rowSums(w, rows, rowLength, { wasm: true });
        expect(Array.from(wasm.sum)).toEqual(Array.from(js.sum));
        expect(Array.from(wasm.sumAbs)).toEqual(Array.from(js.sumAbs));
      }),
    );
    const w = new Int8Array(4096 * 3).fill(-128);
    expect(Array.from(rowSums(w, 3, 4096).sumAbs)).toEqual([128 * 4096, 128 * 4096, 128 * 4096]);
  });
});

describe('the model checks through the scans', () => {
  it('a large layer with one weight out of range is refused at that weight', () => {
    const net = zooNetwork('cifar10');
    const w = net.layers.flatMap((l) => (l.kind === 'conv2d' && l.weights.length > 4096 ? [l.weights] : []))[0]!;
    const at = w.length - 3;
    w[at] = 9; // 4-bit weights: [-7, 7]
    for (const message of [
      thrownMessage(() => loadModelJson(saveModelJson(net), 'm.json'), ModelError),
      thrownMessage(() => analyzeNetwork(net), ModelError),
    ]) {
      expect(message).toContain(`weights[${at}]`);
      expect(message).toContain('value 9 is outside [-7, 7]');
    }
  });
});
