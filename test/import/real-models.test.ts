/**
 * The real ONNX / QONNX files in ../shared/onnx (see its README): each imports,
 * or fails with the unsupported-op message naming the node, op and domain.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ModelError } from '../../arch/index.js';
import { checkImport, loadMnist, modelOutputs, SeededRandom } from '../../models/index.js';
import { importOnnxGraph, readOnnxGraph, type OnnxGraph } from '../../models/onnx/index.js';
import { SHARED_ONNX } from '../reference-data.js';
import { thrownMessage } from '../thrown.js';

const load = (name: string): OnnxGraph => readOnnxGraph(readFileSync(join(SHARED_ONNX, name)), name);

function randomImages(count: number, size: number, seed = 5): Uint8Array {
  const rng = new SeededRandom(seed);
  return Uint8Array.from({ length: count * size }, () => rng.int(0, 255));
}

describe('QONNX exports', () => {
  test('Brevitas TFC-2W2A: converted (BatchNorm ratios), the first layer measured, close to the model on MNIST', () => {
    const g = load('tfc-2w2a.onnx');
    const lowered = importOnnxGraph(g, { name: 'tfc' });
    expect(lowered.exact).toBe(false);
    expect(lowered.network.layers.map((l) => l.kind)).toEqual([
      'flatten',
      'dense',
      'requant',
      'dense',
      'requant',
      'dense',
      'requant',
      'dense',
      'requant',
    ]);
    expect(lowered.requants.map((r) => r.exactChannels)).toEqual([45, 64, 64]);
    expect(lowered.host.output!.slices).toBe(9);
    const d = loadMnist({ set: 'test', limit: 300 });
    const c = checkImport(g, lowered, d.images, d.count, d.labels);
    expect(c.top1Agreement).toBeGreaterThanOrEqual(297);
    expect(Math.abs(c.accuracy!.model.accuracy - c.accuracy!.nibble.accuracy)).toBeLessThanOrEqual(0.01);
    expect(thrownMessage(() => importOnnxGraph(g, { exact: true }), ModelError)).toMatch(
      /^tfc-2w2a\.onnx: node 12 'Quant_25' \(Quant\): --exact: requant 'Quant_25' is not exact: channel \d+ needs a step of [\d.]+ accumulator units per code/,
    );
  });

  test('BNN one-layer (BipolarQuant, int4 bias, Gemm): exact on every output', () => {
    const g = load('bnn-fc-1layer.onnx');
    const lowered = importOnnxGraph(g, { inputOffset: -0.5 });
    expect(lowered.exact).toBe(true);
    const c = checkImport(g, lowered, randomImages(64, 3), 64);
    expect(c.equalValues).toBe(c.values);
  });

  test('eltwise channels-last test case (Conv, Mul, Add, Relu, Mul, Quant): exact on every output', () => {
    const g = load('eltwise-chanlast-testcase.onnx');
    const lowered = importOnnxGraph(g);
    expect(lowered.exact).toBe(true);
    const c = checkImport(g, lowered, randomImages(1, 3 * 224 * 224), 1);
    expect(c.equalValues).toBe(c.values);
  });

  test('separable conv (channels-last, depthwise): fails on LeakyRelu with the unsupported-op message', () => {
    expect(thrownMessage(() => importOnnxGraph(load('separable-conv-ch-last.onnx')), ModelError)).toBe(
      "separable-conv-ch-last.onnx: node 11 'LeakyRelu_0' (LeakyRelu): op LeakyRelu (domain ai.onnx) is not supported: nibble's only nonlinearity is the requant's shift-and-clamp, so only Relu and Clip fold into it; retrain with ReLU (or a clipped ReLU)",
    );
  });

  test('ESPCN super-resolution: fails on Resize with the unsupported-op message', () => {
    expect(thrownMessage(() => importOnnxGraph(load('espcn-nn-resize-quant.onnx')), ModelError)).toMatch(
      /^espcn-nn-resize-quant\.onnx: node 17 'Resize_42' \(Resize\): op Resize \(domain ai\.onnx\) is not supported: nibble has no upsampling/,
    );
  });
});

describe('float models', () => {
  test('without --quantize: the error says how to import them', () => {
    for (const f of ['mnist-conv-float.onnx', 'residual-block-float.onnx', 'three-layer-bn-float.onnx']) {
      expect(thrownMessage(() => importOnnxGraph(load(f)), ModelError)).toMatch(
        /weights are float values, not quantized .*--quantize --calibrate DATASET$/,
      );
    }
  });

  test('MNIST CNN quantized to 4 bits: within 1.5 points of the float model', () => {
    const g = load('mnist-conv-float.onnx');
    const cal = loadMnist({ set: 'train', limit: 100 });
    const lowered = importOnnxGraph(g, { inputScale: 1 }, { raw: cal.images, count: cal.count }, true);
    expect(lowered.network.weightBits).toBe(4);
    const d = loadMnist({ set: 'test', limit: 400 });
    const c = checkImport(g, lowered, d.images, d.count, d.labels);
    expect(c.accuracy!.model.accuracy).toBeGreaterThan(0.97);
    expect(c.accuracy!.nibble.accuracy).toBeGreaterThan(c.accuracy!.model.accuracy - 0.015);
  });

  test('residual block and BatchNorm MLP quantize (residual lowering, Softmax head)', () => {
    const res = load('residual-block-float.onnx');
    const r = importOnnxGraph(res, {}, { raw: randomImages(4, 200 * 200), count: 4 }, true);
    expect(r.network.layers.some((l) => l.kind === 'residual')).toBe(true);
    const x = randomImages(2, 200 * 200, 9);
    const c = checkImport(res, r, x, 2);
    const largest = Math.max(...modelOutputs(res, r, r.host, x, 2).map(Math.abs));
    // 4-bit activations of a float model: within a few quantization steps of the float values
    expect(c.maxAbsError).toBeLessThan(0.2 * largest);
    const mlp = load('three-layer-bn-float.onnx');
    const m = importOnnxGraph(mlp, {}, { raw: randomImages(64, 16), count: 64 }, true);
    expect(m.host.output!.heads).toEqual([{ kind: 'softmax' }]);
    const cm = checkImport(mlp, m, randomImages(32, 16, 11), 32);
    expect(cm.top1Agreement).toBeGreaterThan(20);
  });
});
