import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelError } from '../../arch/errors.js';
import { top1Accuracy } from '../../models/accuracy.js';
import { loadIntegerNetFile, parseIntegerNet } from '../../models/integernet.js';
import type { Conv2dLayer, DenseLayer, RequantLayer } from '../../models/index.js';
import { loadMnist } from '../../models/mnist.js';
import { runReference } from '../../models/reference.js';
import { AUTHORS_MODEL } from '../reference-data.js';
import { thrownMessage } from '../thrown.js';

const modelError = (f: () => unknown): string => thrownMessage(f, ModelError);

describe("the authors' 4-bit MNIST model", () => {
  const net = loadIntegerNetFile(AUTHORS_MODEL);

  it('imports as MNISTNET_INT', () => {
    expect(net.layers.map((l) => l.name)).toEqual([
      'conv1',
      'requant1',
      'pool1',
      'conv2',
      'requant2',
      'pool2',
      'conv3',
      'requant3',
      'pool3',
      'flatten',
      'fc1',
      'requant4',
      'fc2',
      'requant5',
    ]);
    expect(net.input).toEqual({ channels: 1, height: 28, width: 28, bits: 8, signed: false });
    expect(net.weightBits).toBe(4);
    const rq = net.layers.filter((l): l is RequantLayer => l.kind === 'requant');
    expect(rq.map((l) => `${l.signed ? 's' : 'u'}${l.bits}`)).toEqual(['u4', 'u4', 'u4', 'u4', 's4']);
    expect(Array.from(rq[0]!.bias.subarray(0, 3))).toEqual([-343, -62, 0]);
    expect(Array.from(rq[4]!.shift)).toEqual(new Array(10).fill(6));
    const conv1 = net.layers[0] as Conv2dLayer;
    expect(Array.from(conv1.weights.subarray(0, 4))).toEqual([-2, -3, 3, 0]);
  });

  it('transposes FC weights from [ci][co] to [co][ci]', () => {
    const text = readFileSync(AUTHORS_MODEL, 'utf8').split('\n');
    const fileWeights = text[35]!.trim().split(/\s+/).map(Number); // FC CI 128 CO 10 payload
    const fc2 = net.layers[12] as DenseLayer;
    for (const [ci, co] of [
      [0, 0],
      [0, 1],
      [1, 0],
      [127, 9],
      [64, 3],
    ] as const) {
      expect(fc2.weights[co * 128 + ci]).toBe(fileWeights[ci * 10 + co]);
    }
  });

  it('classifies the 10,000 MNIST test images with exactly 99.39 % top-1 (ties -> lowest index)', () => {
    const data = loadMnist({ set: 'test' });
    const t0 = performance.now();
    const r = runReference(net, data.images, data.count);
    const ms = performance.now() - t0;
    const acc = top1Accuracy(r.output, 10, data.labels);
    console.log(`reference: 10,000 MNIST images in ${ms.toFixed(0)} ms`);
    expect(r.shape).toEqual({ c: 10, h: 1, w: 1 });
    expect(acc.correct).toBe(9939);
    expect(acc.total).toBe(10000);
  });
});

/** A tiny valid export: 1x4x4 input, conv 1->2, requant, pool, FC 8->3, signed requant. */
function tiny(): string[] {
  return [
    'CONV CO 2 CI 1 H 4 W 4',
    '1 0 0 0 1 0 0 0 1 -1 0 0 0 -1 0 0 0 -1',
    '',
    'UNSIGNEDQUAN C 2 H 4 W 4',
    'BIAS 0 5',
    'SHIFT 2 -1',
    '',
    'POOL C 2 H 4 W 4',
    '',
    'FC CI 8 CO 3',
    '1 2 3 1 2 3 1 2 3 1 2 3 1 2 3 1 2 3 1 2 3 1 2 3',
    '',
    'SIGNEDQUAN C 3 H 1 W 1',
    'BIAS 0 0 0',
    'SHIFT 1 1 1',
  ];
}

const parse = (lines: string[]) => parseIntegerNet(lines.join('\n'), { file: 'm.txt' });

describe('parseIntegerNet', () => {
  it('parses a small export and inserts the flatten before the first FC', () => {
    const net = parse(tiny());
    expect(net.layers.map((l) => l.kind)).toEqual(['conv2d', 'requant', 'maxpool', 'flatten', 'dense', 'requant']);
    expect((net.layers[4] as DenseLayer).weights.subarray(0, 8)).toEqual(Int8Array.of(1, 1, 1, 1, 1, 1, 1, 1));
    expect(Array.from(runReference(net, new Uint8Array(16).fill(10), 1).output)).toEqual([7, 7, 7]);
  });

  it('bad count: more weights than the header declares', () => {
    const lines = tiny();
    lines[1] += ' 1';
    expect(modelError(() => parse(lines))).toBe(
      "m.txt:2: unexpected value '1' where a record keyword was expected: the CONV record at line 1 has more values than its header declares",
    );
  });

  it('bad count: header disagrees with the previous records', () => {
    const lines = tiny();
    lines[3] = 'UNSIGNEDQUAN C 2 H 5 W 4';
    expect(modelError(() => parse(lines))).toBe(
      'm.txt:4: UNSIGNEDQUAN header says C 2 H 5 W 4, but the previous records produce 2x4x4',
    );
    const fc = tiny();
    fc[9] = 'FC CI 9 CO 3';
    expect(modelError(() => parse(fc))).toBe(
      'm.txt:11: truncated FC record (line 10): declares 27 weights (CI 9 x CO 3) but only 24 follow',
    );
    const conv = tiny();
    conv[9] = 'FC CI 6 CO 4';
    expect(modelError(() => parse(conv))).toBe(
      'm.txt:10: FC header says CI 6, but the previous records produce 8 features',
    );
  });

  it('bad count: too few BIAS values', () => {
    const lines = tiny();
    lines[4] = 'BIAS 0';
    expect(modelError(() => parse(lines))).toBe(
      'm.txt:5: truncated UNSIGNEDQUAN record (line 4): declares 2 BIAS values (C 2) but only 1 follow',
    );
  });

  it('non-integer values', () => {
    const lines = tiny();
    lines[1] = lines[1]!.replace('1 0 0 0 1', '1 0 0.5 0 1');
    expect(modelError(() => parse(lines))).toBe(
      "m.txt:2: CONV record (line 1): weight 3 of 18 is not an integer: '0.5'",
    );
    const header = tiny();
    header[0] = 'CONV CO two CI 1 H 4 W 4';
    expect(modelError(() => parse(header))).toBe("m.txt:1: CONV header: CO must be a positive integer, got 'two'");
  });

  it('weight out of range', () => {
    const lines = tiny();
    lines[10] = lines[10]!.replace(/^1 2 3/, '1 2 8');
    expect(modelError(() => parse(lines))).toBe(
      'm.txt:11: FC record (line 10): weight 3 of 24 is 8, outside [-7, 7] for 4-bit weights',
    );
  });

  it('unknown record', () => {
    const lines = tiny();
    lines.splice(7, 0, 'BATCHNORM C 2 H 4 W 4');
    expect(modelError(() => parse(lines))).toBe(
      "m.txt:8: unknown record 'BATCHNORM' (expected one of CONV, UNSIGNEDQUAN, SIGNEDQUAN, POOL, FC, RELU)",
    );
  });

  it('truncated payload', () => {
    const lines = tiny().slice(0, 11);
    lines[10] = '1 2 3 1 2 3';
    expect(modelError(() => parse(lines))).toBe(
      'm.txt:11: truncated FC record (line 10): declares 24 weights (CI 8 x CO 3) but only 6 follow',
    );
  });

  it('truncated header and empty file', () => {
    expect(modelError(() => parse(['CONV CO 2 CI']))).toBe(
      'm.txt:1: truncated CONV header (line 1): missing the value of CI',
    );
    expect(modelError(() => parse(['', '  ']))).toBe('m.txt:1: no records: the file is empty');
  });

  it('wrong header key', () => {
    const lines = tiny();
    lines[7] = 'POOL C 2 W 4 H 4';
    expect(modelError(() => parse(lines))).toBe("m.txt:8: POOL header: expected 'H', got 'W'");
  });

  it('requant on activations is reported at its line', () => {
    const lines = tiny();
    lines.splice(7, 0, 'UNSIGNEDQUAN C 2 H 4 W 4', 'BIAS 0 0', 'SHIFT 0 0');
    expect(modelError(() => parse(lines))).toBe(
      'm.txt:8: UNSIGNEDQUAN applied to activations: it must follow a CONV or FC',
    );
  });

  it('missing file', () => {
    expect(modelError(() => loadIntegerNetFile('/nonexistent/model.txt'))).toBe(
      '/nonexistent/model.txt: file not found',
    );
  });
});

describe('RELU records', () => {
  it('are dropped on unsigned activations', () => {
    const lines = tiny();
    lines.splice(7, 0, 'RELU C 2 H 4 W 4', '');
    const net = parse(lines);
    expect(net.layers.map((l) => l.kind)).toEqual(parse(tiny()).layers.map((l) => l.kind));
  });

  it('turn a signed requant into an unsigned one with one bit less', () => {
    const lines = [...tiny(), '', 'RELU C 3 H 1 W 1'];
    const rq = parse(lines).layers[5] as RequantLayer;
    expect(rq).toMatchObject({ signed: false, bits: 3 });
  });

  it('are dropped on accumulators when the next requant is unsigned with non-negative biases', () => {
    const lines = tiny();
    lines.splice(2, 0, '', 'RELU C 2 H 4 W 4');
    expect(parse(lines).layers.length).toBe(6);
  });

  it('are rejected on accumulators otherwise', () => {
    const lines = tiny();
    lines[4] = 'BIAS 0 -5';
    lines.splice(2, 0, '', 'RELU C 2 H 4 W 4');
    expect(modelError(() => parse(lines))).toMatch(/^m.txt:4: unsupported: RELU on accumulators/);
  });
});
