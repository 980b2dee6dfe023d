/**
 * Zero padding of activations whose codes carry an offset (signed non-narrow
 * quantizers held as unsigned codes, bipolar codes, an input quantizer with
 * negative codes): the importer adds constant channels so the border outputs
 * are exact (models/onnx/lower/borders.ts). Every output value is compared
 * with the float executor; one network also runs compiled on the simulator.
 */
import { describe, expect, test } from 'vitest';
import { DEFAULT_CONFIG } from '../../arch/index.js';
import { compileNetwork } from '../../compiler/index.js';
import { applyInputTransform, runReference } from '../../models/index.js';
import { simulate } from '../../sim/index.js';
import { GraphBuilder, QONNX, compare, expectExact, randomInts, randomRaw } from './builder.js';

const last = (b: GraphBuilder) => b.nodes[b.nodes.length - 1]!.outputs[0]!;

function conv(b: GraphBuilder, x: string, ci: number, co: number, pads: number[], seed: number, k = 3): string {
  const w = b.weights([co, ci, k, k], randomInts(co * ci * k * k, -7, 7, seed), 0.5);
  return b.node('Conv', [x, w], { kernel_shape: { ints: [k, k] }, pads: { ints: pads } });
}

/** input -> conv (no padding) -> signed non-narrow 4-bit quantizer: codes -8..7, held as 0..15 with offset -8 */
function signedActs(b: GraphBuilder, c: number, size: number, seed: number): string {
  const x = b.quant(b.input([1, 2, size, size]), { scale: 16, signed: false, rounding: 'FLOOR' });
  return b.quant(conv(b, x, 2, c, [0, 0, 0, 0], seed), { scale: 32, signed: true, narrow: false, rounding: 'FLOOR' });
}

const convLayer = (lowered: ReturnType<typeof expectExact>, name: RegExp) =>
  lowered.network.layers.find((l) => l.kind === 'conv2d' && name.test(l.name));

describe('zero padding of codes with an offset is exact', () => {
  test('signed non-narrow activations into padded convolutions: constant channels from the producer', () => {
    for (const [seed, pads] of [
      [1, [1, 1, 1, 1]],
      [2, [0, 1, 2, 0]],
      [3, [2, 2, 1, 1]],
    ] as const) {
      const b = new GraphBuilder();
      const y = conv(b, signedActs(b, 5, 8, seed), 5, 3, [...pads], seed + 10);
      b.quant(y, { scale: 64, signed: true, rounding: 'FLOOR' });
      const lowered = expectExact(b.graph(last(b)));
      const first = lowered.network.layers[0]!;
      const second = lowered.network.layers[2]!;
      expect(first.kind === 'conv2d' && second.kind === 'conv2d').toBe(true);
      if (first.kind !== 'conv2d' || second.kind !== 'conv2d') return;
      expect(first.outChannels).toBeGreaterThan(5); // 5 real channels + the constant ones
      expect(second.inChannels).toBe(first.outChannels);
      expect(lowered.notes.join('\n')).toMatch(/constant channels? of code 8 \(made by requant 'Quant\d+'\)/);
      expect(lowered.steps.find((s) => s.op === 'Conv' && /constant input channels/.test(s.action))!.exact).toBe(true);
    }
  });

  test('compiled: the simulator gives the same codes as the reference', () => {
    const b = new GraphBuilder();
    b.quant(conv(b, signedActs(b, 6, 9, 4), 6, 4, [1, 1, 1, 1], 5), { scale: 64, signed: true, rounding: 'FLOOR' });
    const lowered = expectExact(b.graph(last(b)));
    const raw = randomRaw(lowered, 3);
    const x = applyInputTransform(lowered.host.input!, raw, 2, 3);
    const program = compileNetwork(lowered.network, DEFAULT_CONFIG, { batch: 3 });
    const sim = simulate(program, { engine: 'fast', inputs: { input: x } });
    expect(Array.from(sim.outputs['output']!)).toEqual(Array.from(runReference(lowered.network, x, 3).output));
  });

  test('an input quantizer with negative codes: constant channels from an identity layer', () => {
    const b = new GraphBuilder();
    const x = b.quant(b.input([1, 3, 6, 6]), { scale: 16, signed: true, narrow: false, rounding: 'FLOOR' });
    b.quant(conv(b, x, 3, 4, [1, 0, 2, 1], 6), { scale: 64, signed: true, rounding: 'FLOOR' });
    const lowered = expectExact(b.graph(last(b)), { inputOffset: -128 });
    expect(lowered.network.layers.map((l) => l.name.replace(/\d+/, 'N')).slice(0, 2)).toEqual([
      'ConvN_borders',
      'ConvN_borders_requant',
    ]);
    expect(lowered.notes.join('\n')).toMatch(/made by identity conv2d 'Conv\d+_borders'/);
  });

  test('bipolar activations (value 2u - 1): the weights doubled where the offset sums are halves', () => {
    const b = new GraphBuilder();
    const x = b.quant(b.input([1, 2, 6, 6]), { scale: 16, signed: false, rounding: 'FLOOR' });
    const q = b.node('BipolarQuant', [conv(b, x, 2, 4, [0, 0, 0, 0], 7), b.scalar(1)], {}, { domain: QONNX });
    const w = b.weights([2, 4, 3, 3], randomInts(72, -1, 1, 8), 1, 2);
    const y = b.node('Conv', [q, w], { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } });
    b.quant(y, { scale: 2, signed: true, rounding: 'FLOOR' });
    const lowered = expectExact(b.graph(last(b)));
    expect(lowered.notes.join('\n')).toMatch(
      /constant channel of code 1 .* weights x2 where the offset sums are fractional/,
    );
  });

  test('the block input of a residual (read by both branches): an identity layer in the main path', () => {
    const b = new GraphBuilder();
    const x = signedActs(b, 4, 7, 9);
    // the main path's activations have the block input's scale: the two sums add with multipliers 1
    const m = b.quant(b.node('Relu', [conv(b, x, 4, 4, [1, 1, 1, 1], 11)]), {
      scale: 32,
      signed: false,
      rounding: 'FLOOR',
    });
    const main = conv(b, m, 4, 4, [1, 1, 1, 1], 12);
    const sc = conv(b, x, 4, 4, [0, 0, 0, 0], 13, 1);
    b.quant(b.node('Add', [main, sc]), { scale: 32, signed: true, rounding: 'FLOOR' });
    const lowered = expectExact(b.graph(last(b)));
    const res = lowered.network.layers.find((l) => l.kind === 'residual');
    expect(res?.kind === 'residual' && res.main.map((l) => l.kind)).toEqual([
      'conv2d',
      'requant',
      'conv2d',
      'requant',
      'conv2d',
    ]);
  });

  test('AveragePool with padding (count_include_pad = 1) over codes with an offset', () => {
    const b = new GraphBuilder();
    const p = b.node('AveragePool', [signedActs(b, 3, 6, 14)], {
      kernel_shape: { ints: [2, 2] },
      strides: { ints: [2, 2] },
      pads: { ints: [1, 1, 1, 1] },
      count_include_pad: { i: 1 },
    });
    b.quant(p, { scale: 8, signed: true, rounding: 'FLOOR' });
    expectExact(b.graph(last(b)));
  });

  test('where no exact form exists, the convolution is reported as converted with the reason', () => {
    // the raw 8-bit input as x/255 * 2 - 1 reaches the padded conv directly: offset -127.5 codes, and
    // an identity layer for constant channels would need 8-bit activations on a 4-bit machine
    const b = new GraphBuilder();
    b.quant(conv(b, b.input([1, 1, 5, 5]), 1, 2, [1, 1, 1, 1], 15), { scale: 1, signed: true, rounding: 'FLOOR' });
    const { lowered } = compare(b.graph(last(b)), { inputScale: 2 / 255, inputOffset: -1 });
    expect(lowered.exact).toBe(false);
    expect(lowered.notes.join('\n')).toMatch(
      /node \d+: zero padding of codes with an offset: border outputs see code 0, not the value 0 \(.*(bits\.activation is 4|not an integer)/,
    );
    expect(convLayer(lowered, /^Conv/)).toBeDefined();
  });
});
