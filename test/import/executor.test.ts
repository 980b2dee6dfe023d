/**
 * The float executor of the ONNX / QONNX semantics against values from the
 * specifications (the qonnx rounding table, operator definitions) and the
 * reference output shipped with the ONNX model zoo's MNIST model.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runGraph, readOnnxGraph } from '../../models/onnx/index.js';
import { onnxSchema, DATA_TYPE } from '../../models/onnx/schema.js';
import { decodeTensor } from '../../models/onnx/tensor.js';
import { SHARED_ONNX } from '../reference-data.js';
import { GraphBuilder, QONNX } from './builder.js';

function run(b: GraphBuilder, dims: number[], x: number[]): number[] {
  const g = b.graph(b.nodes.at(-1)!.outputs[0]!);
  const out = runGraph(
    g,
    new Map([[g.inputs[0]!.name, { dims, data: Float64Array.from(x), dataType: DATA_TYPE.FLOAT }]]),
  );
  return Array.from(out.values().next().value!.data);
}

describe('QONNX quantizers', () => {
  // docs/qonnx-custom-ops/quant_op.md (fastmachinelearning/qonnx): the rounding-mode table
  const inputs = [5.5, 2.5, 1.6, 1.1, 1.0, -1.0, -1.1, -1.6, -2.5, -5.5];
  const table: Record<string, number[]> = {
    ROUND: [6, 2, 2, 1, 1, -1, -1, -2, -2, -6],
    CEIL: [6, 3, 2, 2, 1, -1, -1, -1, -2, -5],
    FLOOR: [5, 2, 1, 1, 1, -1, -2, -2, -3, -6],
    UP: [6, 3, 2, 2, 1, -1, -2, -2, -3, -6],
    DOWN: [5, 2, 1, 1, 1, -1, -1, -1, -2, -5],
    HALF_UP: [6, 3, 2, 1, 1, -1, -1, -2, -3, -6],
    HALF_DOWN: [5, 2, 2, 1, 1, -1, -1, -2, -2, -5],
  };
  for (const [mode, expected] of Object.entries(table)) {
    test(`Quant rounding_mode ${mode} follows the qonnx table`, () => {
      const b = new GraphBuilder();
      b.quant(b.input([1, 10]), { scale: 1, bits: 8, signed: true, rounding: mode.toLowerCase() });
      expect(run(b, [1, 10], inputs)).toEqual(expected);
    });
  }

  test('Quant clips to the signed, narrow and unsigned ranges and rescales', () => {
    const cases: [boolean, boolean, number[]][] = [
      [true, false, [-8, -8, 7, 7]],
      [true, true, [-7, -7, 7, 7]],
      [false, false, [0, 0, 7, 15]],
    ];
    for (const [signed, narrow, expected] of cases) {
      const b = new GraphBuilder();
      b.quant(b.input([1, 4]), { scale: 0.5, bits: 4, signed, narrow });
      expect(run(b, [1, 4], [-100, -4, 3.5, 100])).toEqual(expected.map((q) => q * 0.5));
    }
  });

  test('BipolarQuant: +scale for x >= 0, -scale otherwise', () => {
    const b = new GraphBuilder();
    b.node('BipolarQuant', [b.input([1, 3]), b.scalar(0.25)], undefined, { domain: QONNX });
    expect(run(b, [1, 3], [0, -0.001, 3])).toEqual([0.25, -0.25, 0.25]);
  });

  test('Trunc v1: round, divide by 2^(in - out), round by mode, rescale by scale', () => {
    const b = new GraphBuilder();
    b.node(
      'Trunc',
      [b.input([1, 3]), b.scalar(1), b.scalar(0), b.scalar(8), b.scalar(4)],
      { rounding_mode: { s: 'FLOOR' } },
      { domain: QONNX },
    );
    expect(run(b, [1, 3], [31, -17, 16.4])).toEqual([1, -2, 1]);
  });
});

describe('ONNX operators', () => {
  test('QuantizeLinear saturates and rounds ties to even; DequantizeLinear undoes the zero point', () => {
    const b = new GraphBuilder();
    const q = b.node('QuantizeLinear', [b.input([1, 4]), b.scalar(2), b.constant([], [10], DATA_TYPE.UINT8)]);
    b.node('DequantizeLinear', [q, b.scalar(2), b.constant([], [10], DATA_TYPE.UINT8)]);
    expect(run(b, [1, 4], [5, 7, -100, 1000])).toEqual([4, 8, -20, 490]);
  });

  test('Conv with padding, stride and groups against a hand-computed result', () => {
    const b = new GraphBuilder();
    b.node('Conv', [b.input([1, 2, 3, 3]), b.constant([2, 1, 2, 2], [1, 0, 0, 1, 1, 1, 1, 1])], {
      kernel_shape: { ints: [2, 2] },
      pads: { ints: [1, 1, 0, 0] },
      strides: { ints: [2, 2] },
      group: { i: 2 },
    });
    const x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 30, 40, 50, 60, 70, 80, 90];
    // channel 0 (kernel diag 1,0/0,1): (0,0) -> x[0][0] = 1, (0,1) -> x[0][1]... with top/left pad 1
    expect(run(b, [1, 2, 3, 3], x)).toEqual([1, 3, 7, 14, 10, 50, 110, 280]);
  });

  test('AveragePool with count_include_pad 0 and 1', () => {
    for (const [include, expected] of [
      [0, [1, 2.5, 5.5, 7]],
      [1, [0.25, 1.25, 2.75, 7]],
    ] as const) {
      const b = new GraphBuilder();
      b.node('AveragePool', [b.input([1, 1, 3, 3])], {
        kernel_shape: { ints: [2, 2] },
        pads: { ints: [1, 1, 0, 0] },
        strides: { ints: [2, 2] },
        count_include_pad: { i: include },
      });
      const out = run(b, [1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(out.map((v) => Number(v.toFixed(6)))).toEqual(expected.map((v) => Number(v.toFixed(6))));
    }
  });

  test('opset 6 Add with legacy broadcast and axis', () => {
    const b = new GraphBuilder();
    b.opset = 6;
    b.node('Add', [b.input([1, 2, 2]), b.constant([2], [10, 20])], { broadcast: { i: 1 }, axis: { i: 1 } });
    expect(run(b, [1, 2, 2], [1, 2, 3, 4])).toEqual([11, 12, 23, 24]);
  });

  test('Softmax before opset 13 works on the input flattened from the axis', () => {
    const b = new GraphBuilder();
    b.opset = 11;
    b.node('Softmax', [b.input([1, 2, 2])], { axis: { i: 1 } });
    const out = run(b, [1, 2, 2], [0, 0, 0, 0]);
    expect(out).toEqual([0.25, 0.25, 0.25, 0.25]);
  });

  test('the ONNX model zoo MNIST model gives its reference output (float32 tolerance)', () => {
    const T = onnxSchema().lookupType('onnx.TensorProto');
    const load = (f: string) =>
      decodeTensor(T.decode(readFileSync(join(SHARED_ONNX, 'mnist-conv-test-data', f))) as never, f);
    const g = readOnnxGraph(readFileSync(join(SHARED_ONNX, 'mnist-conv-float.onnx')), 'mnist-conv-float.onnx');
    const out = runGraph(g, new Map([[g.inputs[0]!.name, load('input_0.pb')]]));
    const expected = load('output_0.pb').data;
    const got = out.get(g.outputs[0]!.name)!.data;
    for (let i = 0; i < expected.length; i++)
      expect(Math.abs(got[i]! - expected[i]!)).toBeLessThan(1e-3 * Math.max(1, Math.abs(expected[i]!)));
  });
});
