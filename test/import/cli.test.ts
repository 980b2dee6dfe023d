/**
 * `nibble import` and `nibble export`, and .onnx / .nbm files everywhere a
 * model is accepted, through the built binary.
 */
import { copyFileSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { ensureBuilt, expectUserError, nibble } from '../cli/nibble.js';
import { SHARED_ONNX } from '../reference-data.js';
import { GraphBuilder, randomInts } from './builder.js';

let dir: string;
beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'nibble-import-'));
});

/** A small exact MNIST-shaped QONNX model: input quantizer, conv, pool, dense. */
function mnistModel(): Uint8Array {
  const b = new GraphBuilder();
  // power-of-two scales throughout: every requant ratio is a power of two
  const x = b.quant(b.input([1, 1, 28, 28]), { scale: 1 / 16, signed: false, bits: 4, rounding: 'FLOOR' });
  const w = b.weights([4, 1, 3, 3], randomInts(36, -7, 7));
  const c = b.node('Conv', [x, w], { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } });
  const p = b.node('MaxPool', [c], { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } });
  const q = b.quant(b.node('Relu', [p]), { scale: 1 / 32, signed: false, rounding: 'FLOOR' });
  const f = b.node('Flatten', [q], { axis: { i: 1 } });
  const y = b.node('MatMul', [f, b.weights([784, 10], randomInts(7840, -3, 3))]);
  b.quant(y, { scale: 1 / 4, bits: 4, rounding: 'FLOOR' });
  return b.encode(b.nodes.at(-1)!.outputs[0]!);
}

describe('nibble import', () => {
  test('writes a .nbm model and prints a node-by-node report; --check on MNIST images is exact', async () => {
    const src = join(dir, 'small.onnx');
    writeFileSync(src, mnistModel());
    const out = join(dir, 'small.nbm');
    const r = await nibble(['import', src, '-o', out, '--report', '--check', '--check-data', 'mnist-test:50']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/imported small: exact/);
    expect(r.stdout).toMatch(/node\s+op\s+exact\s+what the importer did/);
    expect(r.stdout).toMatch(/host-side input transform: a table from the raw 8-bit input/);
    expect(r.stdout).toMatch(/equal outputs\s+500 \/ 500 values, 50 \/ 50 images \(exact import: all equal\)/);
    expect(existsSync(out)).toBe(true);
    // the model then compiles and runs like any other, its host stages applied
    const run = await nibble(['run', '--model', out, '--limit', '20', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).images).toBe(20);
    const c = await nibble(['compile', src, '-o', join(dir, 'small.nbl'), '--json']);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toBe('');
  });

  test('--json prints one document with the steps, requants and check', async () => {
    const src = join(dir, 'j.onnx');
    writeFileSync(src, mnistModel());
    const r = await nibble(['import', src, '--no-write', '--json', '--check', '--check-data', 'mnist-test:10']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.exact).toBe(true);
    expect(doc.steps.length).toBeGreaterThan(5);
    expect(doc.check.equalValues).toBe(doc.check.values);
    expect(doc.output).toBeUndefined();
  });

  test('TFC-2W2A: converted, reported per layer; --exact refuses and writes nothing', async () => {
    const src = join(SHARED_ONNX, 'tfc-2w2a.onnx');
    const out = join(dir, 'tfc.nbm');
    const r = await nibble(['import', src, '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/converted \(1 inexact step\)/);
    expect(r.stdout).toMatch(/Quant_25\s+s2\s+45\/64/);
    const strict = join(dir, 'tfc-exact.nbm');
    const e = await nibble(['import', src, '--exact', '-o', strict]);
    expectUserError(e, /tfc-2w2a\.onnx: node 12 'Quant_25' \(Quant\): --exact: requant 'Quant_25' is not exact/);
    expect(existsSync(strict)).toBe(false);
  });

  test('bad input: corrupt file, float model without --quantize, bad options; nothing written', async () => {
    const bad = join(dir, 'bad.onnx');
    writeFileSync(bad, mnistModel().subarray(0, 300));
    const out = join(dir, 'bad.nbm');
    expectUserError(await nibble(['import', bad, '-o', out]), /bad\.onnx: not a valid ONNX protobuf: truncated/);
    expectUserError(
      await nibble(['import', join(SHARED_ONNX, 'mnist-conv-float.onnx'), '-o', out]),
      /node 1 'Convolution28' \(Conv\): weights are float values, not quantized/,
    );
    expectUserError(
      await nibble(['import', bad, '--quantize']),
      /--quantize needs calibration images: --calibrate mnist-train\[:N\]/,
    );
    expectUserError(
      await nibble(['import', bad, '--calibrate', 'imagenet:5']),
      /--calibrate must be DATASET or DATASET:N/,
    );
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  test('--quantize --calibrate: a float model to 4-bit shift-BN, accuracy next to the float model', async () => {
    const r = await nibble([
      'import',
      join(SHARED_ONNX, 'mnist-conv-float.onnx'),
      '--quantize',
      '--calibrate',
      'mnist-train:50',
      '--input-scale',
      '1',
      '--check',
      '--check-data',
      'mnist-test:100',
      '-o',
      join(dir, 'mnist-conv.nbm'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/model accuracy\s+\d+\.\d+ % \(the ONNX semantics, float executor\)/);
    expect(r.stdout).toMatch(/nibble accuracy\s+\d+\.\d+ %/);
  });

  test('--calibrate random:N: a float model whose input no dataset has (seeded raw inputs of its shape)', async () => {
    const b = new GraphBuilder();
    const x = b.input([1, 3, 8, 8]);
    const w = b.constant(
      [4, 3, 3, 3],
      randomInts(108, -20, 20).map((v) => v / 37),
    );
    const c = b.node('Relu', [b.node('Conv', [x, w], { kernel_shape: { ints: [3, 3] } })]);
    const f = b.node('Flatten', [c], { axis: { i: 1 } });
    b.node('MatMul', [
      f,
      b.constant(
        [144, 5],
        randomInts(720, -9, 9).map((v) => v / 50),
      ),
    ]);
    const src = join(dir, 'float-rgb.onnx');
    writeFileSync(src, b.encode(b.nodes.at(-1)!.outputs[0]!));
    const r = await nibble(['import', src, '--quantize', '--calibrate', 'random:32', '--no-write', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.check.source).toBe('16 seeded random inputs');
    expect(doc.layers.map((l: { kind: string }) => l.kind)).toContain('conv2d');
    expectUserError(
      await nibble(['import', src, '--quantize', '--calibrate', 'mnist-train:8']),
      /^nibble: error\[NB-D000\]: --calibrate: mnist-train images are 1x28x28 but the model input is 3x8x8 \(random:N gives seeded inputs of any shape\)$/,
    );
  });
});

describe('model files everywhere', () => {
  test('the format comes from the content: an ONNX file named .bin compiles', async () => {
    const src = join(dir, 'model.bin');
    writeFileSync(src, mnistModel());
    const r = await nibble(['compile', src, '-o', join(dir, 'model.nbl')]);
    expect(r.code, r.stderr).toBe(0);
    const text = join(dir, 'plain.dat');
    writeFileSync(text, 'hello');
    expectUserError(
      await nibble(['compile', text, '-o', join(dir, 'x.nbl')]),
      /cannot tell the model format from the content or the extension '\.dat': pass --format integernet\|json\|nbm\|onnx/,
    );
  });

  test('export --format qonnx, then import: the identical network', async () => {
    const json = join(dir, 'zoo.json');
    expect((await nibble(['zoo', 'export', 'mnist', '-o', json])).code).toBe(0);
    const onnx = join(dir, 'zoo.onnx');
    const e = await nibble(['export', json, '--format', 'qonnx', '-o', onnx]);
    expect(e.code, e.stderr).toBe(0);
    const back = join(dir, 'zoo-back.nbm');
    const i = await nibble(['import', onnx, '--exact', '-o', back]);
    expect(i.code, i.stderr).toBe(0);
    // compare through the JSON form of both
    const again = join(dir, 'zoo-again.onnx');
    expect((await nibble(['export', back, '-o', again])).code).toBe(0);
    const { readFileSync } = await import('node:fs');
    expect(Buffer.compare(readFileSync(onnx), readFileSync(again))).toBe(0);
    expectUserError(await nibble(['export', json, '-o', join(dir, 'x.json')]), /a QONNX model is an \.onnx file/);
  });

  test('the real TFC file runs straight from .onnx (with a note that it was converted)', async () => {
    const copy = join(dir, 'tfc.onnx');
    copyFileSync(join(SHARED_ONNX, 'tfc-2w2a.onnx'), copy);
    const r = await nibble(['run', '--model', copy, '--limit', '200', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^nibble: warning\[NB-M101\]: .*tfc\.onnx was imported with converted \(inexact\) steps/m);
    expect(JSON.parse(r.stdout).accuracy).toBeGreaterThan(0.9);
    const quiet = await nibble(['run', '--model', copy, '--limit', '10', '--json', '--suppress', 'NB-M101']);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).toBe('');
  });

  test("a .onnx given to compile is imported for the --config's widths (8-bit weights: TFC-2W2A is exact)", async () => {
    const cfg = join(dir, 'w8.json');
    writeFileSync(cfg, JSON.stringify({ bits: { weight: 8, activation: 8 } }));
    const onnx = join(SHARED_ONNX, 'tfc-2w2a.onnx');
    const r = await nibble(['compile', onnx, '--config', cfg, '-o', join(dir, 'tfc8.nbl')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/converted/); // multipliers up to 127 make every requant channel exact
    const d = await nibble(['compile', onnx, '-o', join(dir, 'tfc4.nbl')]);
    expect(d.stderr).toMatch(/was imported with converted \(inexact\) steps/);
  });
});
