/**
 * Reading ONNX files: every tensor storage the specification allows, and
 * every malformed file as a one-line located error.
 */
import { describe, expect, test } from 'vitest';
import { ModelError } from '../../arch/index.js';
import { encodeModel, readOnnxGraph } from '../../models/onnx/index.js';
import { DATA_TYPE, modelProtoType } from '../../models/onnx/schema.js';
import { decodeTensor, encodeTensor, type TensorProtoFields } from '../../models/onnx/tensor.js';
import { thrownMessage } from '../thrown.js';
import { GraphBuilder, importGraph } from './builder.js';

const read = (bytes: Uint8Array) => readOnnxGraph(bytes, 'm.onnx');
const fail = (bytes: Uint8Array) => thrownMessage(() => read(bytes), ModelError);

function identityModel(extra: Partial<Parameters<typeof encodeModel>[0]> = {}): Uint8Array {
  return encodeModel({
    nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'], name: 'id' }],
    inputs: [{ name: 'x', dims: [1, 4] }],
    outputs: [{ name: 'y' }],
    ...extra,
  });
}

describe('tensor storage', () => {
  const at = 'm.onnx: initializer w';
  test('raw_data of every numeric type, float_data, int32_data, int64_data, double_data', () => {
    const cases: [number, number[]][] = [
      [DATA_TYPE.FLOAT, [1.5, -2, 0]],
      [DATA_TYPE.DOUBLE, [1e-300, 3]],
      [DATA_TYPE.INT8, [-128, 127, 0]],
      [DATA_TYPE.UINT8, [0, 255]],
      [DATA_TYPE.INT32, [-(2 ** 31), 2 ** 31 - 1]],
      [DATA_TYPE.INT64, [-5, 2 ** 40]],
      [DATA_TYPE.INT4, [-8, 7, 1]],
      [DATA_TYPE.UINT4, [0, 15, 3, 9, 4]],
    ];
    for (const [type, values] of cases) {
      expect(Array.from(decodeTensor(encodeTensor('w', [values.length], values, type), at).data)).toEqual(values);
    }
    expect(Array.from(decodeTensor({ dims: [2], data_type: DATA_TYPE.FLOAT, float_data: [0.5, 2] }, at).data)).toEqual([
      0.5, 2,
    ]);
    expect(Array.from(decodeTensor({ dims: [2], data_type: DATA_TYPE.INT64, int64_data: [3, -4] }, at).data)).toEqual([
      3, -4,
    ]);
    expect(Array.from(decodeTensor({ dims: [1], data_type: DATA_TYPE.DOUBLE, double_data: [0.25] }, at).data)).toEqual([
      0.25,
    ]);
    expect(Array.from(decodeTensor({ dims: [2], data_type: DATA_TYPE.INT8, int32_data: [-3, 5] }, at).data)).toEqual([
      -3, 5,
    ]);
  });

  test('packed 4-bit values in int32_data (two per entry, the first in the low nibble)', () => {
    const t: TensorProtoFields = { dims: [3], data_type: DATA_TYPE.INT4, int32_data: [0x8f, 0x07] };
    expect(Array.from(decodeTensor(t, at).data)).toEqual([-1, -8, 7]);
    expect(Array.from(decodeTensor({ ...t, data_type: DATA_TYPE.UINT4 }, at).data)).toEqual([15, 8, 7]);
  });

  test('float16 and bfloat16 bit patterns', () => {
    expect(
      Array.from(decodeTensor({ dims: [2], data_type: DATA_TYPE.FLOAT16, int32_data: [0x3c00, 0xc000] }, at).data),
    ).toEqual([1, -2]);
    expect(
      Array.from(decodeTensor({ dims: [1], data_type: DATA_TYPE.BFLOAT16, int32_data: [0x3f80] }, at).data),
    ).toEqual([1]);
  });

  test('bad tensors: length mismatch, no data, absurd size, external data, strings', () => {
    expect(
      thrownMessage(() => decodeTensor({ dims: [3], data_type: 1, raw_data: new Uint8Array(8) }, at), ModelError),
    ).toBe('m.onnx: initializer w: raw_data holds 8 bytes but 3 FLOAT values need 12');
    expect(thrownMessage(() => decodeTensor({ dims: [2], data_type: 1 }, at), ModelError)).toBe(
      'm.onnx: initializer w: holds no data for its 2 elements',
    );
    expect(thrownMessage(() => decodeTensor({ dims: [1 << 20, 1 << 20], data_type: 1 }, at), ModelError)).toMatch(
      /tensor of shape 1048576x1048576 has more than \d+ elements: too large to import/,
    );
    expect(
      thrownMessage(
        () =>
          decodeTensor(
            { dims: [4], data_type: 1, data_location: 1, external_data: [{ key: 'location', value: 'w.bin' }] },
            at,
          ),
        ModelError,
      ),
    ).toBe(
      "m.onnx: initializer w: its data is stored in an external file ('w.bin'): nibble reads self-contained models; save the model with its weights inside (onnx.save_model(model, path, save_as_external_data=False))",
    );
    expect(thrownMessage(() => decodeTensor({ dims: [1], data_type: DATA_TYPE.STRING }, at), ModelError)).toMatch(
      /data type STRING is not supported/,
    );
  });

  test('int64 overflow in dims', () => {
    const T = modelProtoType();
    const bytes = T.encode(
      T.fromObject({
        ir_version: 8,
        opset_import: [{ domain: '', version: 13 }],
        graph: {
          node: [{ op_type: 'Identity', input: ['x'], output: ['y'] }],
          initializer: [{ name: 'w', dims: ['9223372036854775807'], data_type: 1 }],
          input: [{ name: 'x' }],
          output: [{ name: 'y' }],
        },
      }),
    ).finish();
    expect(fail(bytes)).toBe("m.onnx: initializer 'w': dims[0] is 9223372036854775807, beyond 2^53 (int64 overflow)");
  });
});

describe('malformed files: one line naming the place and the reason', () => {
  test('empty, truncated and corrupt protobuf', () => {
    expect(fail(new Uint8Array(0))).toBe('m.onnx: empty file: not an ONNX model');
    const ok = identityModel();
    expect(fail(ok.subarray(0, ok.length - 7))).toMatch(
      /^m\.onnx: not a valid ONNX protobuf: truncated \(index out of range/,
    );
    const bad = Uint8Array.from(ok);
    bad[0] = 0x0f; // field 1 with wire type 7
    expect(fail(bad)).toMatch(/^m\.onnx: not a valid ONNX protobuf: invalid wire type 7/);
    expect(fail(new TextEncoder().encode('{"format": "nibble-model"}'))).toMatch(
      /^m\.onnx: (not a valid ONNX protobuf|the ModelProto has no graph)/,
    );
  });

  test('IR version and opsets', () => {
    expect(fail(identityModel({ irVersion: 2 }))).toBe('m.onnx: IR version 2 is older than nibble reads (3 and later)');
    expect(fail(identityModel({ opset: 5 }))).toBe(
      'm.onnx: opset 5 of the default domain is older than nibble reads (6 and later)',
    );
    for (const opset of [9, 13, 17, 21, 23]) expect(read(identityModel({ opset })).opsets.get('ai.onnx')).toBe(opset);
  });

  test('dangling inputs, values produced twice, cycles', () => {
    const dangling = encodeModel({
      nodes: [{ op: 'Add', inputs: ['x', 'ghost'], outputs: ['y'], name: 'add' }],
      inputs: [{ name: 'x', dims: [1, 2] }],
      outputs: [{ name: 'y' }],
    });
    expect(fail(dangling)).toBe(
      "m.onnx: node 0 'add' (Add): input 'ghost' is not produced by any node, graph input or initializer (dangling)",
    );
    const twice = encodeModel({
      nodes: [
        { op: 'Relu', inputs: ['x'], outputs: ['y'], name: 'a' },
        { op: 'Relu', inputs: ['x'], outputs: ['y'], name: 'b' },
      ],
      inputs: [{ name: 'x', dims: [1, 2] }],
      outputs: [{ name: 'y' }],
    });
    expect(fail(twice)).toBe("m.onnx: node 1 'b' (Relu): output 'y' is already produced by node 0");
    const cycle = encodeModel({
      nodes: [
        { op: 'Add', inputs: ['x', 'z'], outputs: ['y'], name: 'a' },
        { op: 'Relu', inputs: ['y'], outputs: ['z'], name: 'b' },
      ],
      inputs: [{ name: 'x', dims: [1, 2] }],
      outputs: [{ name: 'z' }],
    });
    expect(fail(cycle)).toBe(
      "m.onnx: node 0 'a' (Add): the graph has a cycle through this node (ONNX graphs must be acyclic)",
    );
  });

  test('nodes out of order are sorted (the file order is not trusted)', () => {
    const g = read(
      encodeModel({
        nodes: [
          { op: 'Relu', inputs: ['y'], outputs: ['z'], name: 'second' },
          { op: 'Relu', inputs: ['x'], outputs: ['y'], name: 'first' },
        ],
        inputs: [{ name: 'x', dims: [1, 2] }],
        outputs: [{ name: 'z' }],
      }),
    );
    expect(g.nodes.map((n) => n.name)).toEqual(['first', 'second']);
  });

  test('dynamic shapes: symbolic, unknown and unranked inputs; a symbolic batch is accepted', () => {
    const withInput = (dims: (number | string)[] | null) => {
      const b = new GraphBuilder();
      const x = b.node('Flatten', [b.quant(b.input(dims), { scale: 16, signed: false })], { axis: { i: 1 } });
      b.quant(b.node('MatMul', [x, b.weights([2, 2], [1, -1, 2, 3])]), { scale: 16 });
      return b.graph(b.nodes.at(-1)!.outputs[0]!);
    };
    expect(thrownMessage(() => importGraph(withInput(['N', 3, 'height', 8])), ModelError)).toBe(
      "test.onnx: graph input 'x': dimension 2 is symbolic ('height'): nibble needs static shapes (export with a fixed input size)",
    );
    expect(thrownMessage(() => importGraph(withInput(null)), ModelError)).toBe(
      "test.onnx: graph input 'x': has no shape: nibble needs static shapes",
    );
    expect(importGraph(withInput(['batch', 2])).network.input.channels).toBe(2);
  });

  test('sequence-typed inputs, sparse initializers, multiple inputs and outputs', () => {
    const T = modelProtoType();
    const seq = T.encode(
      T.fromObject({
        ir_version: 8,
        opset_import: [{ domain: '', version: 13 }],
        graph: {
          node: [{ op_type: 'Identity', input: ['x'], output: ['y'] }],
          input: [{ name: 'x', type: { sequence_type: {} } }],
          output: [{ name: 'y' }],
        },
      }),
    ).finish();
    expect(fail(seq)).toBe(
      "m.onnx: graph input 'x': is not a dense tensor (sequence, map, optional or sparse types are not supported)",
    );
    const two = encodeModel({
      nodes: [{ op: 'Add', inputs: ['a', 'b'], outputs: ['y'] }],
      inputs: [
        { name: 'a', dims: [1, 2] },
        { name: 'b', dims: [1, 2] },
      ],
      outputs: [{ name: 'y' }],
    });
    expect(thrownMessage(() => importGraph(read(two)), ModelError)).toBe(
      'm.onnx: the graph has 2 inputs (a, b): nibble networks have one',
    );
  });

  test('a malformed attribute is located', () => {
    const b = new GraphBuilder();
    const x = b.quant(b.input([1, 1, 4, 4]), { scale: 16 });
    b.node('MaxPool', [x], { kernel_shape: { f: 2 } }, { name: 'pool' });
    expect(thrownMessage(() => importGraph(b.graph(b.nodes.at(-1)!.outputs[0]!)), ModelError)).toBe(
      "test.onnx: node 1 'pool' (MaxPool): attribute 'kernel_shape' must be INTS, got FLOAT",
    );
  });

  test('a Reshape to a shape beyond 2^53 (int64 overflow) is located', () => {
    const b = new GraphBuilder();
    const x = b.quant(b.input([1, 1, 2, 2]), { scale: 16 });
    b.node('Reshape', [x, b.constant([2], [1, 2 ** 62], DATA_TYPE.INT64)], undefined, { name: 'big' });
    expect(thrownMessage(() => importGraph(b.graph(b.nodes.at(-1)!.outputs[0]!)), ModelError)).toMatch(
      /node 1 'big' \(Reshape\): shape value 4611686018427388000 is not an exact integer \(int64 overflow\?\)/,
    );
  });
});
