/**
 * Lowering of whole-graph structure: BatchNorm, Relu/Clip, pooling, residual
 * blocks, layouts (flatten chains, channels-last Transpose pairs), output
 * heads, bipolar and Trunc quantizers, opset variants, and the refusals.
 */
import { describe, expect, test } from 'vitest';
import { ModelError } from '../../arch/index.js';
import { DATA_TYPE } from '../../models/onnx/schema.js';
import { thrownMessage } from '../thrown.js';
import { GraphBuilder, QONNX, compare, expectExact, importGraph, randomInts } from './builder.js';

const last = (b: GraphBuilder) => b.nodes[b.nodes.length - 1]!.outputs[0]!;

function input4(b: GraphBuilder, dims: number[]): string {
  return b.quant(b.input(dims), { scale: 16, signed: false, rounding: 'FLOOR' });
}

function conv(
  b: GraphBuilder,
  x: string,
  ci: number,
  co: number,
  k = 3,
  pad = 1,
  scale: number | number[] = 0.5,
): string {
  const w = b.weights([co, ci, k, k], randomInts(co * ci * k * k, -7, 7, co * 31 + ci), scale);
  return b.node('Conv', [x, w], { kernel_shape: { ints: [k, k] }, pads: { ints: [pad, pad, pad, pad] } });
}

describe('BatchNormalization, Relu, Clip', () => {
  test('BatchNorm with power-of-two scale folds exactly (shift-batch-norm)', () => {
    const b = new GraphBuilder();
    const y = conv(b, input4(b, [1, 2, 6, 6]), 2, 3);
    // (x - mean) / sqrt(var + eps) * gamma + beta with sqrt(var + eps) = 2: scale gamma/2 = 0.5
    const bn = b.node(
      'BatchNormalization',
      [
        y,
        b.constant([3], [1, 1, 1]),
        b.constant([3], [4, -8, 0]),
        b.constant([3], [8, 0, -16]),
        b.constant([3], [4, 4, 4]),
      ],
      { epsilon: { f: 0 } },
    );
    b.quant(b.node('Relu', [bn]), { scale: 16, signed: false, rounding: 'FLOOR' });
    const lowered = expectExact(b.graph(last(b)));
    expect(lowered.steps.find((s) => s.op === 'BatchNormalization')!.action).toMatch(/shift-batch-norm/);
  });

  test('BatchNorm with arbitrary scales converts, with the error measured per channel', () => {
    const b = new GraphBuilder();
    const y = conv(b, input4(b, [1, 2, 6, 6]), 2, 3);
    const bn = b.node('BatchNormalization', [
      y,
      b.constant([3], [0.37, 1.9, 0.8]),
      b.constant([3], [0.1, -0.3, 2]),
      b.constant([3], [1, 2, 3]),
      b.constant([3], [3, 5, 7]),
    ]);
    b.quant(bn, { scale: 0.75, signed: true, narrow: true });
    const { lowered, check } = compare(b.graph(last(b)), {}, 6);
    expect(lowered.exact).toBe(false);
    expect(lowered.requants[0]!.channels).toHaveLength(3);
    expect(check.equalValues / check.values).toBeGreaterThan(0.8);
    const msg = thrownMessage(() => importGraph(b.graph(last(b)), { exact: true }), ModelError);
    expect(msg).toMatch(
      /test\.onnx: node \d+ 'Quant\d+' \(Quant\): --exact: requant 'Quant\d+' is not exact: channel \d+ needs a step of [\d.]+ accumulator units per code \(ratio [\d.e-]+\)/,
    );
  });

  test('Relu then a signed quantizer: the requant clamps at 0 (folded)', () => {
    const b = new GraphBuilder();
    const y = conv(b, input4(b, [1, 2, 5, 5]), 2, 2);
    b.quant(b.node('Relu', [y]), { scale: 32, signed: true, narrow: true, rounding: 'FLOOR' });
    expectExact(b.graph(last(b)));
  });

  test('a signed quantizer then Relu: the requant becomes unsigned (b-1 bits)', () => {
    const b = new GraphBuilder();
    const y = conv(b, input4(b, [1, 2, 5, 5]), 2, 2);
    const q = b.quant(y, { scale: 32, signed: true, narrow: true, rounding: 'FLOOR' });
    const z = conv(b, b.node('Relu', [q]), 2, 2, 1, 0, 1);
    b.quant(z, { scale: 8, signed: true, rounding: 'FLOOR' });
    const lowered = expectExact(b.graph(last(b)));
    const rq = lowered.network.layers.filter((l) => l.kind === 'requant')[0]!;
    expect(rq.kind === 'requant' && [rq.signed, rq.bits]).toEqual([false, 3]);
  });

  test('Clip (opset 11 inputs and opset 6 attributes) before a quantizer', () => {
    for (const opset of [6, 13]) {
      const b = new GraphBuilder();
      b.opset = opset;
      const y = conv(b, input4(b, [1, 1, 4, 4]), 1, 2, 1, 0);
      const c =
        opset >= 11
          ? b.node('Clip', [y, b.scalar(0), b.scalar(96)])
          : b.node('Clip', [y], { min: { f: 0 }, max: { f: 96 } });
      b.quant(c, { scale: 32, signed: false, rounding: 'FLOOR' });
      expectExact(b.graph(last(b)));
    }
  });
});

describe('pooling', () => {
  test('MaxPool on activations and on accumulators (before the requant)', () => {
    const b = new GraphBuilder();
    const y = conv(b, input4(b, [1, 2, 8, 8]), 2, 3);
    const q = b.quant(b.node('MaxPool', [y], { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } }), {
      scale: 32,
      rounding: 'FLOOR',
    });
    b.node('MaxPool', [q], { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } });
    const lowered = expectExact(b.graph(last(b)));
    expect(lowered.network.layers.map((l) => l.kind)).toEqual(['conv2d', 'maxpool', 'requant', 'maxpool']);
  });

  test('a negative scale before a max pool: the channel weights are negated', () => {
    const b = new GraphBuilder();
    const y = b.node('Mul', [conv(b, input4(b, [1, 2, 6, 6]), 2, 2), b.constant([1, 2, 1, 1], [-1, 1])]);
    b.quant(b.node('MaxPool', [y], { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } }), {
      scale: 32,
      rounding: 'FLOOR',
    });
    expectExact(b.graph(last(b)));
  });

  test('AveragePool 2x2 and GlobalAveragePool: a sum whose divisor folds into the requant', () => {
    for (const global of [false, true]) {
      const b = new GraphBuilder();
      const q = b.quant(conv(b, input4(b, [1, 2, 4, 4]), 2, 3), { scale: 16, signed: false, rounding: 'FLOOR' });
      const p = global
        ? b.node('GlobalAveragePool', [q])
        : b.node('AveragePool', [q], { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } });
      b.quant(p, { scale: 4, signed: false, rounding: 'FLOOR' });
      expectExact(b.graph(last(b)));
    }
  });

  test('MaxPool with padding is refused by name', () => {
    const b = new GraphBuilder();
    const q = b.quant(conv(b, input4(b, [1, 1, 4, 4]), 1, 1), { scale: 16 });
    b.node('MaxPool', [q], { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] } });
    expect(thrownMessage(() => importGraph(b.graph(last(b))), ModelError)).toMatch(
      /\(MaxPool\): max pooling with padding is not supported/,
    );
  });
});

describe('residual Add', () => {
  test('identity shortcut and a conv shortcut, both exact', () => {
    for (const shortcut of ['identity', 'conv']) {
      const b = new GraphBuilder();
      const x = b.quant(conv(b, input4(b, [1, 2, 6, 6]), 2, 4), { scale: 16, signed: false, rounding: 'FLOOR' });
      const m = b.quant(b.node('Relu', [conv(b, x, 4, 4)]), { scale: 16, signed: false, rounding: 'FLOOR' });
      const main = conv(b, m, 4, 4, 3, 1, 0.5);
      const sc = shortcut === 'identity' ? x : conv(b, x, 4, 4, 1, 0, 0.5);
      b.quant(b.node('Add', [main, sc]), { scale: 32, signed: true, rounding: 'FLOOR' });
      const lowered = expectExact(b.graph(last(b)));
      expect(lowered.network.layers.map((l) => l.kind)).toEqual(['conv2d', 'requant', 'residual', 'requant']);
    }
  });

  test('a Relu between the convolution and the Add is refused with the reason', () => {
    const b = new GraphBuilder();
    const x = b.quant(conv(b, input4(b, [1, 2, 4, 4]), 2, 2), { scale: 16, signed: false });
    b.quant(b.node('Add', [b.node('Relu', [conv(b, x, 2, 2)]), x]), { scale: 16 });
    expect(thrownMessage(() => importGraph(b.graph(last(b))), ModelError)).toMatch(
      /\(Add\): a Relu\/Clip between a convolution and the residual Add/,
    );
  });
});

describe('layouts and constant subgraphs', () => {
  test('the Shape/Gather/Unsqueeze/Concat/Reshape flatten chain folds to a flatten', () => {
    const b = new GraphBuilder();
    b.opset = 9;
    const x = input4(b, [1, 2, 3, 3]);
    const shape = b.node('Shape', [x]);
    const n = b.node('Gather', [shape, b.constant([], [0], DATA_TYPE.INT64)], { axis: { i: 0 } });
    const u = b.node('Unsqueeze', [n], { axes: { ints: [0] } });
    const target = b.node('Concat', [u, b.constant([1], [-1], DATA_TYPE.INT64)], { axis: { i: 0 } });
    const flat = b.node('Reshape', [x, target]);
    const w = b.weights([3, 18], randomInts(54, -7, 7));
    const tw = b.node('Transpose', [w], { perm: { ints: [1, 0] } });
    b.quant(b.node('MatMul', [flat, tw]), { scale: 16, rounding: 'FLOOR' });
    const lowered = expectExact(b.graph(last(b)));
    expect(lowered.steps.filter((s) => s.action === 'constant-folded').length).toBe(3);
  });

  test('Identity, Squeeze / Unsqueeze (opset 11 attributes and opset 13 inputs) around BatchNorm on vectors', () => {
    for (const opset of [11, 13]) {
      const b = new GraphBuilder();
      b.opset = opset;
      const x = b.node('Identity', [b.node('Flatten', [input4(b, [1, 1, 2, 3])], { axis: { i: 1 } })]);
      const y = b.node('Gemm', [x, b.weights([4, 6], randomInts(24, -7, 7))], { transB: { i: 1 } });
      const axes = (a: number[]) => (opset >= 13 ? [b.constant([a.length], a, DATA_TYPE.INT64)] : []);
      const u = b.node('Unsqueeze', [y, ...axes([2])], opset < 13 ? { axes: { ints: [2] } } : undefined);
      const bn = b.node(
        'BatchNormalization',
        [
          u,
          b.constant([4], [2, 2, 2, 2]),
          b.constant([4], [0, 1, 2, 3]),
          b.constant([4], [0, 0, 0, 0]),
          b.constant([4], [1, 1, 1, 1]),
        ],
        { epsilon: { f: 0 } },
      );
      const s = b.node('Squeeze', [bn, ...axes([2])], opset < 13 ? { axes: { ints: [2] } } : undefined);
      b.quant(s, { scale: 8, rounding: 'FLOOR' });
      expectExact(b.graph(last(b)));
    }
  });

  test('a channels-last graph: NHWC input, Transpose pairs around a Conv', () => {
    const b = new GraphBuilder();
    const x = input4(b, [1, 5, 5, 2]);
    const nchw = b.node('Transpose', [x], { perm: { ints: [0, 3, 1, 2] } });
    const y = b.quant(conv(b, nchw, 2, 3), { scale: 32, rounding: 'FLOOR' });
    b.node('Transpose', [y], { perm: { ints: [0, 2, 3, 1] } });
    const lowered = expectExact(b.graph(last(b)));
    expect(lowered.input.order).not.toBeNull();
  });

  test('a flatten of a transposed (NHWC) feature map permutes the dense weights', () => {
    const b = new GraphBuilder();
    const y = b.quant(conv(b, input4(b, [1, 2, 3, 3]), 2, 2), { scale: 32, signed: false, rounding: 'FLOOR' });
    const nhwc = b.node('Transpose', [y], { perm: { ints: [0, 2, 3, 1] } });
    const f = b.node('Flatten', [nhwc], { axis: { i: 1 } });
    b.quant(b.node('MatMul', [f, b.weights([18, 4], randomInts(72, -7, 7))]), { scale: 16, rounding: 'FLOOR' });
    expectExact(b.graph(last(b)));
  });

  test("qonnx's channels-last Conv and MaxPool domain", () => {
    const b = new GraphBuilder();
    b.extraOpsets.push({ domain: 'qonnx.custom_op.channels_last', version: 1 });
    const x = input4(b, [1, 4, 4, 2]);
    const w = b.weights([3, 3, 3, 2], randomInts(54, -7, 7), 0.5);
    const y = b.node(
      'Conv',
      [x, w],
      { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } },
      { domain: 'qonnx.custom_op.channels_last' },
    );
    const p = b.node(
      'MaxPool',
      [y],
      { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } },
      { domain: 'qonnx.custom_op.channels_last' },
    );
    b.quant(p, { scale: 32, rounding: 'FLOOR' });
    expectExact(b.graph(last(b)));
  });

  test('a Reshape whose shape is computed from the data is refused', () => {
    const b = new GraphBuilder();
    const x = input4(b, [1, 1, 2, 2]);
    const shape = b.node('Cast', [b.node('Flatten', [x], { axis: { i: 0 } })], { to: { i: DATA_TYPE.INT64 } });
    b.node('Reshape', [x, shape]);
    expect(thrownMessage(() => importGraph(b.graph(last(b))), ModelError)).toMatch(
      /\(Reshape\): input 1 \('.*'\) must be a constant: nibble needs static shapes/,
    );
  });
});

describe('quantizers and output heads', () => {
  test('BipolarQuant activations and weights (an affine remap of the codes)', () => {
    const b = new GraphBuilder();
    const x = b.node('BipolarQuant', [b.node('Sub', [b.input([1, 6]), b.scalar(128)]), b.scalar(1)], undefined, {
      domain: QONNX,
    });
    const w = b.node(
      'BipolarQuant',
      [
        b.constant(
          [4, 6],
          randomInts(24, -1, 1).map((v) => v || 1),
        ),
        b.scalar(1),
      ],
      undefined,
      { domain: QONNX },
    );
    const y = b.node('Gemm', [x, w, b.constant([4], [1, 0, -2, 3])], { transB: { i: 1 } });
    b.node('BipolarQuant', [y, b.scalar(1)], undefined, { domain: QONNX });
    expectExact(b.graph(last(b)), {}, 16);
  });

  test('Trunc (versions 1 and 2) after an average pool', () => {
    for (const version of [1, 2]) {
      const b = new GraphBuilder();
      const q = b.quant(conv(b, input4(b, [1, 2, 4, 4]), 2, 2, 1, 0, 1), {
        scale: 8,
        signed: false,
        bits: 4,
        rounding: 'FLOOR',
      });
      const p = b.node('AveragePool', [q], { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } });
      const s = b.node('Mul', [p, b.scalar(4)]);
      const ins =
        version === 1
          ? [s, b.scalar(8), b.scalar(0), b.scalar(8), b.scalar(4)]
          : [s, b.scalar(8), b.scalar(0), b.scalar(8), b.scalar(32), b.scalar(4)];
      b.node(
        'Trunc',
        ins,
        { rounding_mode: { s: 'FLOOR' }, ...(version === 2 ? { signed: { i: 0 } } : {}) },
        { domain: QONNX },
      );
      expectExact(b.graph(last(b)));
    }
  });

  test('Softmax, ArgMax and TopK at the output run on the host', () => {
    for (const head of ['Softmax', 'ArgMax', 'TopK']) {
      const b = new GraphBuilder();
      const f = b.node('Flatten', [input4(b, [1, 1, 2, 2])], { axis: { i: 1 } });
      const y = b.quant(b.node('MatMul', [f, b.weights([4, 5], randomInts(20, -7, 7))]), {
        scale: 4,
        rounding: 'FLOOR',
      });
      if (head === 'TopK')
        b.node('TopK', [y, b.constant([1], [2], DATA_TYPE.INT64)], { axis: { i: -1 } }, { outputs: 2 });
      else b.node(head, [y], head === 'ArgMax' ? { axis: { i: 1 } } : { axis: { i: -1 } });
      const lowered = expectExact(b.graph(last(b)));
      expect(lowered.host.output!.heads[0]!.kind).toBe(head.toLowerCase());
      expect(lowered.steps.at(-1)!.action).toMatch(/runs on the host after the accelerator/);
    }
  });

  test('an accumulator output leaves in 4-bit slices the host adds back, exactly', () => {
    const b = new GraphBuilder();
    const f = b.node('Flatten', [input4(b, [1, 1, 2, 2])], { axis: { i: 1 } });
    // |acc| <= 4 * 15 * 2: a span of 240 = 16 slices of 15
    b.node('Add', [
      b.node('MatMul', [f, b.weights([4, 3], randomInts(12, -2, 2), 0.125)]),
      b.constant([3], [0.5, -1, 2]),
    ]);
    const lowered = expectExact(b.graph(last(b)));
    expect(lowered.host.output!.slices).toBeGreaterThan(1);
  });
});

describe('refusals name the node, its op and domain, and what would have to change', () => {
  test('LeakyRelu', () => {
    const b = new GraphBuilder();
    const q = b.quant(conv(b, input4(b, [1, 1, 3, 3]), 1, 1), { scale: 16 });
    b.node('LeakyRelu', [q], { alpha: { f: 0.1 } }, { name: 'act1' });
    expect(thrownMessage(() => importGraph(b.graph(last(b))), ModelError)).toBe(
      "test.onnx: node 4 'act1' (LeakyRelu): op LeakyRelu (domain ai.onnx) is not supported: nibble's only nonlinearity is the requant's shift-and-clamp, so only Relu and Clip fold into it; retrain with ReLU (or a clipped ReLU)",
    );
  });

  test('an op from an unknown domain', () => {
    const b = new GraphBuilder();
    b.extraOpsets.push({ domain: 'com.example', version: 1 });
    b.node('Frobnicate', [input4(b, [1, 1, 2, 2])], undefined, { domain: 'com.example', name: 'f' });
    expect(thrownMessage(() => importGraph(b.graph(last(b))), ModelError)).toMatch(
      /node 1 'f' \(Frobnicate\): op Frobnicate \(domain com\.example\) is not supported: nibble lowers/,
    );
  });

  test('Resize', () => {
    const b = new GraphBuilder();
    b.node(
      'Resize',
      [input4(b, [1, 1, 2, 2]), '', b.constant([4], [1, 1, 2, 2])],
      { mode: { s: 'nearest' } },
      { name: 'up' },
    );
    expect(thrownMessage(() => importGraph(b.graph(last(b))), ModelError)).toMatch(
      /'up' \(Resize\): op Resize \(domain ai\.onnx\) is not supported: nibble has no upsampling/,
    );
  });

  test('Mul of two computed tensors', () => {
    const b = new GraphBuilder();
    const x = input4(b, [1, 1, 2, 2]);
    b.node('Mul', [x, x], undefined, { name: 'sq' });
    expect(thrownMessage(() => importGraph(b.graph(last(b))), ModelError)).toMatch(
      /'sq' \(Mul\): Mul of two computed tensors is not supported/,
    );
  });
});
