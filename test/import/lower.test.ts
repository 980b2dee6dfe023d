/**
 * The lowering of ONNX / QONNX graphs built in code, one op and attribute
 * combination at a time: exact imports must equal the float executor on every
 * output value; conversions must say so.
 */
import { describe, expect, test } from 'vitest';
import { ModelError } from '../../arch/index.js';
import { DATA_TYPE } from '../../models/onnx/schema.js';
import { thrownMessage } from '../thrown.js';
import { GraphBuilder, compare, expectExact, importGraph, randomInts } from './builder.js';

/** input (raw 0..255) -> unsigned 4-bit input quantizer (scale 16) -> value codes 0..15 */
function quantizedInput(b: GraphBuilder, dims: number[]): string {
  return b.quant(b.input(dims), { scale: 16, bits: 4, signed: false, rounding: 'FLOOR' });
}

function convNet(opts: {
  rounding?: string;
  signed?: boolean;
  narrow?: boolean;
  bits?: number;
  outScale?: number;
  pads?: number[];
  strides?: number[];
  group?: number;
  ci?: number;
  co?: number;
  k?: number;
  size?: number;
}): GraphBuilder {
  const b = new GraphBuilder();
  const ci = opts.ci ?? 3;
  const co = opts.co ?? 4;
  const k = opts.k ?? 3;
  const group = opts.group ?? 1;
  const size = opts.size ?? 7;
  const x = quantizedInput(b, [1, ci, size, size]);
  const w = b.weights([co, ci / group, k, k], randomInts((co * ci * k * k) / group, -7, 7), 0.5);
  const y = b.node('Conv', [x, w], {
    kernel_shape: { ints: [k, k] },
    strides: { ints: opts.strides ?? [1, 1] },
    pads: { ints: opts.pads ?? [1, 1, 1, 1] },
    group: { i: group },
  });
  // acc value = 16 * 0.5 * sum; a power-of-two output scale keeps the ratio a power of two
  b.quant(y, {
    scale: opts.outScale ?? 64,
    bits: opts.bits ?? 4,
    signed: opts.signed ?? true,
    narrow: opts.narrow ?? false,
    rounding: opts.rounding ?? 'ROUND',
  });
  return b;
}

function lastOut(b: GraphBuilder): string {
  return b.nodes[b.nodes.length - 1]!.outputs[0]!;
}

describe('Quant on accumulators: every rounding mode, signedness and narrow range', () => {
  // With a power-of-two ratio (here 1/8) and an integer bias, FLOOR and CEIL are a shift;
  // the sign-dependent modes are a shift when the output is unsigned (negative values clamp to 0);
  // ROUND (ties to even) is exact only where no tie is reachable (see the fractional-bias test).
  const exactWhen: Record<string, (signed: boolean) => boolean> = {
    FLOOR: () => true,
    CEIL: () => true,
    UP: (signed) => !signed,
    DOWN: (signed) => !signed,
    HALF_UP: (signed) => !signed,
    HALF_DOWN: (signed) => !signed,
    ROUND: () => false,
  };
  for (const rounding of Object.keys(exactWhen)) {
    for (const [signed, narrow] of [
      [true, true],
      [true, false],
      [false, false],
    ] as const) {
      test(`${rounding}, ${signed ? 'signed' : 'unsigned'}${narrow ? ' narrow' : ''}`, () => {
        const b = convNet({ rounding, signed, narrow, pads: [0, 0, 0, 0] });
        const { lowered, check } = compare(b.graph(lastOut(b)), {}, 6);
        const exact = exactWhen[rounding]!(signed);
        expect(lowered.exact).toBe(exact);
        if (exact) expect(check.equalValues).toBe(check.values);
        else {
          expect(lowered.steps.find((s) => s.exact === false)!.action).toMatch(
            /channels exact, [\d.]+ % of reachable accumulator values land on another code/,
          );
          expect(check.equalValues / check.values).toBeGreaterThan(0.9);
        }
      });
    }
  }

  test('ROUND with no reachable tie (a fractional bias) is exact', () => {
    const b = new GraphBuilder();
    const x = quantizedInput(b, [1, 3, 5, 5]);
    const w = b.weights([4, 3, 3, 3], randomInts(108, -7, 7), 0.5);
    const y = b.node('Add', [
      b.node('Conv', [x, w], { kernel_shape: { ints: [3, 3] } }),
      b.constant([1, 4, 1, 1], [1, 2, 3, 5]),
    ]);
    b.quant(y, { scale: 64, signed: true, rounding: 'ROUND' });
    expectExact(b.graph(lastOut(b)));
  });

  test('FLOOR with a power-of-two ratio is exact with the model bias and shift', () => {
    const b = convNet({ rounding: 'FLOOR', signed: false, pads: [0, 0, 0, 0] });
    const lowered = expectExact(b.graph(lastOut(b)));
    const rq = lowered.network.layers.find((l) => l.kind === 'requant')!;
    expect(rq.kind === 'requant' && Array.from(rq.shift)).toEqual([3, 3, 3, 3]); // 64 / (16 * 0.5) = 2^3
  });

  test('all three QONNX domain spellings read the same', () => {
    for (const domain of ['onnx.brevitas', 'finn.custom_op.general', 'qonnx.custom_op.general']) {
      const b = new GraphBuilder();
      b.extraOpsets = [{ domain, version: 1 }];
      const x = b.quant(b.input([1, 2, 4, 4]), { scale: 16, signed: false, rounding: 'FLOOR', domain });
      const w = b.constant([2, 2, 1, 1], [1, -2, 3, 1]);
      const y = b.node('Conv', [x, b.quant(w, { signed: true, narrow: true, domain })], {
        kernel_shape: { ints: [1, 1] },
      });
      b.quant(y, { scale: 32, bits: 4, domain, rounding: 'FLOOR' });
      expectExact(b.graph(lastOut(b)));
    }
  });

  test('an 8-bit activation quantizer keeps 8 bits (a config with bits.activation 8 runs it)', () => {
    const b = convNet({ bits: 8, signed: false, outScale: 1, rounding: 'FLOOR', pads: [0, 0, 0, 0] });
    const lowered = expectExact(b.graph(lastOut(b)));
    const rq = lowered.network.layers.find((l) => l.kind === 'requant');
    expect(rq && rq.kind === 'requant' && rq.bits).toBeGreaterThan(4);
  });
});

describe('Conv', () => {
  test('strides and symmetric pads', () => {
    const b = convNet({ strides: [2, 2], pads: [1, 1, 1, 1], rounding: 'FLOOR' });
    expectExact(b.graph(lastOut(b)));
  });

  test('asymmetric pads with more at the start and the same output size are exact', () => {
    // 8 + 1 + 0 - 3 = 6 and 8 + 2 - 3 = 7, stride 2: 4 outputs either way
    const b = convNet({ strides: [2, 2], pads: [1, 1, 0, 0], rounding: 'FLOOR', size: 8 });
    expectExact(b.graph(lastOut(b)));
  });

  test('asymmetric pads with more at the end: a located error', () => {
    const b = convNet({ strides: [2, 2], pads: [0, 0, 1, 1] });
    const msg = thrownMessage(() => importGraph(b.graph(lastOut(b))), ModelError);
    expect(msg).toMatch(
      /test\.onnx: node \d+ 'Conv\d+' \(Conv\): asymmetric vertical padding \(0 before, 1 after\) has no nibble form/,
    );
  });

  test('depthwise (group = channels) and grouped convolutions as block-diagonal weights', () => {
    for (const [ci, co, group] of [
      [4, 4, 4],
      [4, 6, 2],
    ] as const) {
      const b = convNet({ ci, co, group, rounding: 'FLOOR' });
      const lowered = expectExact(b.graph(lastOut(b)));
      expect(lowered.steps.some((s) => /group \d+ as block-diagonal/.test(s.action))).toBe(true);
    }
  });

  test('dilations other than 1 are refused by name', () => {
    const b = new GraphBuilder();
    const x = quantizedInput(b, [1, 1, 8, 8]);
    const y = b.node('Conv', [x, b.weights([1, 1, 3, 3], randomInts(9, -3, 3))], {
      kernel_shape: { ints: [3, 3] },
      dilations: { ints: [2, 2] },
    });
    b.quant(y, { scale: 16 });
    expect(thrownMessage(() => importGraph(b.graph(lastOut(b))), ModelError)).toMatch(
      /dilations 2,2: only dilation 1 is supported/,
    );
  });

  test('auto_pad SAME_UPPER with an odd kernel', () => {
    const b = new GraphBuilder();
    const x = quantizedInput(b, [1, 2, 6, 6]);
    const y = b.node('Conv', [x, b.weights([3, 2, 3, 3], randomInts(54, -7, 7))], {
      kernel_shape: { ints: [3, 3] },
      auto_pad: { s: 'SAME_UPPER' },
    });
    b.quant(y, { scale: 16, signed: true, rounding: 'FLOOR' });
    expectExact(b.graph(lastOut(b)));
  });

  test('a bias and per-channel weight scales fold into the requant', () => {
    const b = new GraphBuilder();
    const x = quantizedInput(b, [1, 2, 5, 5]);
    const w = b.weights([3, 2, 3, 3], randomInts(54, -7, 7), [0.5, 0.25, 1]);
    const y = b.node('Conv', [x, w, b.constant([3], [8, -16, 24])], { kernel_shape: { ints: [3, 3] } });
    b.quant(y, { scale: 32, rounding: 'FLOOR' });
    expectExact(b.graph(lastOut(b)));
  });

  test('1-D convolution', () => {
    const b = new GraphBuilder();
    const x = quantizedInput(b, [1, 2, 9]);
    const y = b.node('Conv', [x, b.weights([3, 2, 3], randomInts(18, -7, 7))], {
      kernel_shape: { ints: [3] },
      pads: { ints: [1, 1] },
    });
    b.quant(y, { scale: 16, rounding: 'FLOOR' });
    expectExact(b.graph(lastOut(b)));
  });

  test('float weights without --quantize: the error says what to do', () => {
    const b = new GraphBuilder();
    const x = quantizedInput(b, [1, 1, 4, 4]);
    const y = b.node('Conv', [x, b.constant([1, 1, 1, 1], [0.3])], { kernel_shape: { ints: [1, 1] } });
    b.quant(y, { scale: 16 });
    expect(thrownMessage(() => importGraph(b.graph(lastOut(b))), ModelError)).toMatch(
      /weights are float values, not quantized .*--quantize --calibrate DATASET/,
    );
  });
});

describe('dense: Gemm, MatMul + Add, MatMulInteger', () => {
  function denseNet(op: 'Gemm' | 'MatMul', transB: boolean): GraphBuilder {
    const b = new GraphBuilder();
    const x = b.node('Flatten', [quantizedInput(b, [1, 2, 3, 3])], { axis: { i: 1 } });
    const dims = transB ? [5, 18] : [18, 5];
    const w = b.weights(dims, randomInts(90, -7, 7));
    let y: string;
    if (op === 'Gemm') {
      y = b.node('Gemm', [x, w, b.constant([5], [1, 2, 3, 4, 5])], {
        transB: { i: transB ? 1 : 0 },
        alpha: { f: 0.5 },
        beta: { f: 2 },
      });
    } else {
      y = b.node('Add', [b.node('MatMul', [x, w]), b.constant([5], [16, -16, 32, 0, 8])]);
    }
    b.quant(y, { scale: 16, rounding: 'FLOOR', signed: true });
    return b;
  }

  test('Gemm with transB, alpha, beta and C', () =>
    expectExact(denseNet('Gemm', true).graph(lastOut(denseNet('Gemm', true)))));
  test('Gemm without transB', () => {
    const b = denseNet('Gemm', false);
    expectExact(b.graph(lastOut(b)));
  });
  test('MatMul + Add', () => {
    const b = denseNet('MatMul', false);
    const lowered = expectExact(b.graph(lastOut(b)));
    expect(lowered.network.layers.map((l) => l.kind)).toEqual(['flatten', 'dense', 'requant']);
  });

  test('QuantizeLinear / DequantizeLinear (QDQ) with int8, uint8, int4 and uint4, and MatMulInteger', () => {
    for (const [type, zp] of [
      [DATA_TYPE.UINT8, 0],
      [DATA_TYPE.INT8, 0],
      [DATA_TYPE.UINT4, 0],
      [DATA_TYPE.INT4, 0],
    ] as const) {
      const b = new GraphBuilder();
      const x = b.node('QuantizeLinear', [
        b.input([1, 6]),
        b.scalar(type === DATA_TYPE.UINT8 ? 1 : 32),
        b.constant([], [zp], type),
      ]);
      const xf = b.node('DequantizeLinear', [x, b.scalar(0.5), b.constant([], [zp], type)]);
      const wq = b.constant([6, 3], randomInts(18, -7, 7), DATA_TYPE.INT8);
      const wf = b.node('DequantizeLinear', [wq, b.scalar(0.25), b.constant([], [0], DATA_TYPE.INT8)]);
      const y = b.node('MatMul', [xf, wf]);
      const q = b.node('QuantizeLinear', [y, b.scalar(1), b.constant([], [0], type)]);
      b.node('DequantizeLinear', [q, b.scalar(1), b.constant([], [0], type)]);
      const { lowered, check } = compare(b.graph(lastOut(b)), {}, 8);
      if (lowered.exact) expect(check.equalValues).toBe(check.values);
      else expect(check.top1Agreement).toBeGreaterThan(0);
    }
  });

  test('QCDQ: a Clip between QuantizeLinear and DequantizeLinear tightens the codes', () => {
    const b = new GraphBuilder();
    b.opset = 13;
    const x = b.node('Flatten', [quantizedInput(b, [1, 1, 2, 2])], { axis: { i: 1 } });
    const y = b.node('MatMul', [x, b.weights([4, 3], randomInts(12, -7, 7))]);
    const q = b.node('QuantizeLinear', [y, b.scalar(4), b.constant([], [0], DATA_TYPE.INT8)]);
    const c = b.node('Clip', [q, b.constant([], [0], DATA_TYPE.INT8), b.constant([], [7], DATA_TYPE.INT8)]);
    b.node('DequantizeLinear', [c, b.scalar(4), b.constant([], [0], DATA_TYPE.INT8)]);
    const { lowered, check } = compare(b.graph(lastOut(b)), {}, 8);
    expect(check.equalValues).toBe(check.values);
    expect(lowered.network.layers.some((l) => l.kind === 'requant' && !l.signed && l.bits === 3)).toBe(true);
  });

  test('ConvInteger and MatMulInteger with zero points, then Cast and a scale', () => {
    for (const op of ['ConvInteger', 'MatMulInteger']) {
      const b = new GraphBuilder();
      const x = b.node('QuantizeLinear', [b.input([1, 2, 3, 3]), b.scalar(16), b.constant([], [3], DATA_TYPE.UINT8)]);
      const acc =
        op === 'ConvInteger'
          ? b.node(
              'ConvInteger',
              [
                x,
                b.constant([2, 2, 3, 3], randomInts(36, -7, 7), DATA_TYPE.INT8),
                b.constant([], [3], DATA_TYPE.UINT8),
              ],
              {
                kernel_shape: { ints: [3, 3] },
              },
            )
          : b.node('MatMulInteger', [
              b.node('Flatten', [x], { axis: { i: 1 } }),
              b.constant([18, 4], randomInts(72, -5, 9), DATA_TYPE.INT8),
              b.constant([], [3], DATA_TYPE.UINT8),
              b.constant([], [2], DATA_TYPE.INT8),
            ]);
      const f = b.node('Mul', [b.node('Cast', [acc], { to: { i: DATA_TYPE.FLOAT } }), b.scalar(0.5)]);
      b.node('QuantizeLinear', [f, b.scalar(8), b.constant([], [0], DATA_TYPE.INT8)]);
      const { lowered, check } = compare(b.graph(lastOut(b)), {}, 8);
      expect(check.equalValues / check.values).toBeGreaterThan(0.9);
      expect(lowered.network.layers.some((l) => l.kind === (op === 'ConvInteger' ? 'conv2d' : 'dense'))).toBe(true);
    }
  });
});
