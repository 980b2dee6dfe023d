/** packTensorInto / packTensor (isa/layout.ts) against a bit-by-bit model of docs/architecture.md section 1. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, IsaError, type ArchConfig } from '../../arch/index.js';
import { packTensor, packTensorInto, unpackTensor, type TensorDescriptor } from '../../isa/index.js';
import { mulberry32 } from '../../sim/memory.js';

/** Lane l of an entry occupies bits [l*b + b-1 : l*b], little-endian bytes, two's complement: one bit at a time. */
function naivePack(desc: TensorDescriptor, data: ArrayLike<number>, cfg: ArchConfig, out: Uint8Array): void {
  const n = cfg.array.rows;
  const ab = cfg.bits.activation;
  const [batch, c, h, w] = desc.shape;
  const split = desc.layout === 'nibble-lanes'; // lane 2c: low nibble of channel c, lane 2c+1: high nibble
  const blocks = Math.ceil((split ? 2 * c : c) / n);
  const eb = (n * ab) / 8;
  const planes = desc.layout === 'nibble-planes' ? 2 : 1;
  for (let i = desc.dramAddr; i < Math.min(out.length, desc.dramAddr + batch * desc.imageStrideBytes); i++) out[i] = 0;
  for (let b = 0; b < batch; b++)
    for (let plane = 0; plane < planes; plane++)
      for (let cb = 0; cb < blocks; cb++)
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++) {
            const entry =
              desc.dramAddr + b * desc.imageStrideBytes + (plane * blocks * h * w + (cb * h + y) * w + x) * eb;
            for (let l = 0; l < n; l++) {
              const lane = cb * n + l;
              const ch = split ? Math.floor(lane / 2) : lane;
              let v = ch < c ? data[((b * c + ch) * h + y) * w + x]! : 0;
              if (planes === 2) v = plane === 0 ? v % 16 : Math.floor(v / 16);
              if (split) v = lane % 2 === 0 ? v % 16 : Math.floor(v / 16);
              for (let k = 0; k < ab; k++) {
                const bit = l * ab + k;
                const at = entry + (bit >> 3);
                if (at < out.length && (v >> k) & 1) out[at] = out[at]! | (1 << (bit & 7));
              }
            }
          }
}

describe('packTensorInto', () => {
  it('matches the bit-by-bit model on 300 random tensors (channels not a multiple of N, gaps between images, the last image cut)', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rnd = mulberry32(seed);
      const n = [2, 4, 8, 16][Math.floor(rnd() * 4)]!;
      const ab = n === 2 ? 4 : [3, 4, 4, 8][Math.floor(rnd() * 4)]!;
      const cfg: ArchConfig = {
        ...DEFAULT_CONFIG,
        array: { rows: n, cols: n },
        bits: { ...DEFAULT_CONFIG.bits, activation: (n * ab) % 8 === 0 ? ab : 4 },
      };
      const shape: [number, number, number, number] = [
        1 + Math.floor(rnd() * 3),
        1 + Math.floor(rnd() * 20),
        1 + Math.floor(rnd() * 6),
        1 + Math.floor(rnd() * 6),
      ];
      const signed = rnd() < 0.5;
      const wide = cfg.bits.activation === 4 && rnd() < 0.4;
      const planes = wide && rnd() < 0.5;
      const split = wide && !planes;
      const bits = wide ? 1 + Math.floor(rnd() * 8) : 1 + Math.floor(rnd() * cfg.bits.activation);
      const imageBytes =
        (planes ? 2 : 1) *
        Math.ceil(((split ? 2 : 1) * shape[1]) / n) *
        shape[2] *
        shape[3] *
        ((n * cfg.bits.activation) / 8);
      const desc: TensorDescriptor = {
        name: 'x',
        shape,
        bits,
        signed: signed && !wide,
        layout: planes ? 'nibble-planes' : split ? 'nibble-lanes' : 'blocked',
        dramAddr: Math.floor(rnd() * 40),
        imageStrideBytes: imageBytes + Math.floor(rnd() * 3) * 5,
      };
      const lo = desc.signed ? -(2 ** (bits - 1)) : 0;
      const hi = desc.signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
      const data = Int32Array.from(
        { length: shape.reduce((a, b) => a * b, 1) },
        () => lo + Math.floor(rnd() * (hi - lo + 1)),
      );
      const size = desc.dramAddr + (shape[0] - 1) * desc.imageStrideBytes + imageBytes + Math.floor(rnd() * 4);
      const expected = new Uint8Array(size).fill(0xa5);
      naivePack(desc, data, cfg, expected);
      const actual = new Uint8Array(size).fill(0xa5);
      packTensorInto(desc, data, cfg, actual, desc.dramAddr);
      expect(Buffer.compare(Buffer.from(actual), Buffer.from(expected)), `seed ${seed}`).toBe(0);
      if (!wide) expect(unpackTensor(desc, actual, cfg)).toEqual(data);
      const whole = packTensor(desc, data, cfg);
      expect(whole.length).toBe(shape[0] * desc.imageStrideBytes);
      const common = Math.min(whole.length, size - desc.dramAddr);
      expect(whole.subarray(0, common)).toEqual(actual.subarray(desc.dramAddr, desc.dramAddr + common));
    }
  });

  it('rejects bad values, counts and strides with one line naming the tensor, writing nothing', () => {
    const desc: TensorDescriptor = {
      name: 'x',
      shape: [1, 1, 2, 2],
      bits: 4,
      signed: false,
      layout: 'blocked',
      dramAddr: 0,
      imageStrideBytes: 32,
    };
    const dram = new Uint8Array(64).fill(7);
    const message = (data: number[], d: TensorDescriptor = desc) => {
      try {
        packTensorInto(d, data, DEFAULT_CONFIG, dram, 0);
      } catch (e) {
        expect(e).toBeInstanceOf(IsaError);
        return (e as Error).message;
      }
      return 'accepted';
    };
    expect(message([1, 2, 16, 3])).toBe("tensor 'x': value 16 at [0,0,1,0] is outside [0, 15]");
    expect(message([1, 2, 0.5, 3])).toBe("tensor 'x': value 0.5 at [0,0,1,0] is outside [0, 15]");
    expect(message([1, 2, 3])).toBe("tensor 'x' needs 4 values (1x1x2x2), got 3");
    expect(message([1, 2, 3, 4], { ...desc, imageStrideBytes: 8 })).toBe("tensor 'x': image stride 8 < image size 32");
    expect(dram.every((b) => b === 7)).toBe(true);
  });
});
