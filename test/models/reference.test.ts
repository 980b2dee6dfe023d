import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArithmeticError, DatasetError, ModelError } from '../../arch/errors.js';
import type { Network } from '../../models/ir.js';
import { squareConv2d } from '../../models/index.js';
import { runReference, runReferenceLayers } from '../../models/reference.js';
import { naiveRun } from './naive-reference.js';
import { randomCaseArb } from './random-networks.js';

function catchError(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('runReference agrees with the naive implementation', () => {
  it('on random networks (final output, every layer trace, overflow reports)', () => {
    let overflowCases = 0;
    let exactCases = 0;
    fc.assert(
      fc.property(randomCaseArb, ({ net, inputs, batch }) => {
        const naive = naiveRun(net, inputs, batch, net.accumulatorBits);
        if (naive.overflows.size > 0) {
          overflowCases++;
          for (const run of [runReference, runReferenceLayers]) {
            const e = catchError(() => run(net, inputs, batch));
            expect(e).toBeInstanceOf(ArithmeticError);
            // Whatever overflow the reference hits first must be a genuine one.
            expect(naive.overflows).toContain((e as ArithmeticError).where);
            expect((e as Error).message).toMatch(/accumulator overflow/);
          }
          return;
        }
        exactCases++;
        const r = runReference(net, inputs, batch);
        const expected = naive.outputs.flatMap((t) => t.data);
        expect(Array.from(r.output)).toEqual(expected);
        const last = naive.outputs[0]!;
        expect(r.shape).toEqual({ c: last.c, h: last.h, w: last.w });

        const traced = runReferenceLayers(net, inputs, batch);
        expect(Array.from(traced.output)).toEqual(expected);
        expect(traced.layers.map((l) => l.path).sort()).toEqual([...naive.layers.keys()].sort());
        for (const trace of traced.layers) {
          const want = naive.layers.get(trace.path)!;
          expect(Array.from(trace.data), `layer ${trace.where}`).toEqual(want.flatMap((t) => t.data));
          expect(trace.value.shape).toEqual({ c: want[0]!.c, h: want[0]!.h, w: want[0]!.w });
          // the static range from shape inference must hold for the actual values
          for (const v of trace.data) {
            expect(v).toBeGreaterThanOrEqual(trace.value.lo);
            expect(v).toBeLessThanOrEqual(trace.value.hi);
          }
        }
      }),
      { numRuns: 400, seed: 20210601 },
    );
    // the generator must actually exercise both paths
    expect(overflowCases).toBeGreaterThan(10);
    expect(exactCases).toBeGreaterThan(100);
  });
});

/** conv 1->2 3x3 pad 1 with all weights 7, then requant: with 8-bit inputs each acc <= 9*7*255 = 16065. */
function wideNet(accumulatorBits: number): Network {
  return {
    name: 'wide',
    input: { channels: 1, height: 4, width: 4, bits: 8, signed: false },
    weightBits: 4,
    accumulatorBits,
    layers: [
      squareConv2d('conv1', 1, 2, 3, 1, 1, new Int8Array(18).fill(7)),
      {
        kind: 'requant',
        name: 'rq1',
        signed: false,
        bits: 4,
        bias: new Int32Array(2),
        shift: new Int8Array(2).fill(10),
      },
      { kind: 'flatten', name: 'flat' },
      { kind: 'dense', name: 'fc1', inFeatures: 32, outFeatures: 3, weights: new Int8Array(96).fill(-7) },
      {
        kind: 'requant',
        name: 'rq2',
        signed: true,
        bits: 4,
        bias: new Int32Array(3),
        shift: new Int8Array(3).fill(-2),
      },
    ],
  };
}

describe('accumulator overflow', () => {
  const inputs = new Uint8Array(16).fill(255);

  it('is an ArithmeticError naming the conv layer for a narrow accumulator', () => {
    // interior 9*7*255 = 16065, border (0,1) 6*7*255 = 10710: 14 bits hold [-8192, 8191]
    const e = catchError(() => runReference(wideNet(14), inputs, 1));
    expect(e).toBeInstanceOf(ArithmeticError);
    expect((e as Error).message).toBe(
      "layer 0 'conv1': accumulator overflow at image 0, channel 0, y 0, x 1: value 10710 is outside the signed 14-bit range [-8192, 8191]",
    );
    expect((e as ArithmeticError).where).toBe("layer 0 'conv1'");
    expect(() => runReference(wideNet(15), inputs, 1)).not.toThrow();
  });

  it('names the dense layer when only it overflows (option overrides the network width)', () => {
    // inputs of 1: conv accs <= 63 fit 12 bits; rq1 (shift -4) saturates to 15;
    // fc1 = 32 * 15 * -7 = -3360 does not fit [-2048, 2047]
    const net = wideNet(32);
    (net.layers[1] as { shift: Int8Array }).shift.fill(-4);
    const ones = new Uint8Array(16).fill(1);
    expect(() => runReference(net, ones, 1)).not.toThrow();
    const e = catchError(() => runReference(net, ones, 1, { accumulatorBits: 12 }));
    expect(e).toBeInstanceOf(ArithmeticError);
    expect((e as Error).message).toBe(
      "layer 3 'fc1': accumulator overflow at image 0, channel 0, y 0, x 0: value -3360 is outside the signed 12-bit range [-2048, 2047]",
    );
  });

  it('checks the residual sum itself, not only its parts', () => {
    const net: Network = {
      name: 'res',
      input: { channels: 1, height: 1, width: 1, bits: 8, signed: false },
      weightBits: 8,
      accumulatorBits: 16,
      layers: [
        {
          kind: 'residual',
          name: 'block1',
          main: [
            {
              kind: 'conv2d',
              name: 'a',
              inChannels: 1,
              outChannels: 1,
              kernelH: 1,
              kernelW: 1,
              strideH: 1,
              strideW: 1,
              padH: 0,
              padW: 0,
              weights: Int8Array.of(127),
            },
            { kind: 'requant', name: 'a_rq', signed: false, bits: 8, bias: Int32Array.of(0), shift: Int8Array.of(0) },
            {
              kind: 'conv2d',
              name: 'b',
              inChannels: 1,
              outChannels: 1,
              kernelH: 1,
              kernelW: 1,
              strideH: 1,
              strideW: 1,
              padH: 0,
              padW: 0,
              weights: Int8Array.of(127),
            },
          ],
          shortcut: {
            kind: 'conv2d',
            name: 'sc',
            inChannels: 1,
            outChannels: 1,
            kernelH: 1,
            kernelW: 1,
            strideH: 1,
            strideW: 1,
            padH: 0,
            padW: 0,
            weights: Int8Array.of(127),
          },
        },
        { kind: 'requant', name: 'rq', signed: false, bits: 4, bias: Int32Array.of(0), shift: Int8Array.of(12) },
      ],
    };
    // each part: 255*127 = 32385 <= 32767, the sum 64770 is not
    const e = catchError(() => runReference(net, Uint8Array.of(255), 1));
    expect(e).toBeInstanceOf(ArithmeticError);
    expect((e as Error).message).toMatch(/^layer 0 'block1': accumulator overflow .* value 64770 .* signed 16-bit/);
    const parts = catchError(() => runReference(net, Uint8Array.of(255), 1, { accumulatorBits: 15 }));
    expect((parts as Error).message).toMatch(/^layer 0 'block1' main\[0\] 'a': accumulator overflow/);
  });
});

describe('reference input checks', () => {
  const net = wideNet(32);
  it('rejects a wrong number of input values', () => {
    const e = catchError(() => runReference(net, new Uint8Array(15), 1));
    expect(e).toBeInstanceOf(DatasetError);
    expect((e as Error).message).toMatch(/expected 1 x 1x4x4 = 16 input values, got 15/);
  });
  it('rejects values outside the input range', () => {
    const e = catchError(() => runReference(net, new Int32Array(32).fill(3).fill(256, 20, 21), 2));
    expect(e).toBeInstanceOf(DatasetError);
    expect((e as Error).message).toMatch(
      /input value 256 at image 1, element 4 is outside the unsigned input range \[0, 255\]/,
    );
  });
  it('rejects an invalid network before running', () => {
    const bad = { ...net, layers: net.layers.slice(1) };
    expect(() => runReference(bad, new Uint8Array(16), 1)).toThrow(ModelError);
  });
  it('rejects an accumulatorBits option outside [2, 32]', () => {
    const e = catchError(() => runReference(net, new Uint8Array(16), 1, { accumulatorBits: 40 }));
    expect(e).toBeInstanceOf(ModelError);
    expect((e as Error).message).toBe('reference options: accumulatorBits must be an integer in [2, 32], got 40');
  });
  it('handles an empty batch', () => {
    expect(runReference(net, new Uint8Array(0), 0).output.length).toBe(0);
  });
});
