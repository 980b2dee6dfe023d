/** The DRAM image builder's 4-bit fast packer == packTensor (isa/layout.ts), byte for byte. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type ArchConfig } from '../../arch/config.js';
import { packTensor } from '../../isa/layout.js';
import type { TensorDescriptor } from '../../isa/program.js';
import { mulberry32, packBlocked4Into } from '../../sim/memory.js';

describe('packBlocked4Into == packTensor', () => {
  it('on 300 random blocked and nibble-planes tensors (channels not a multiple of N, gaps between images, the last image cut)', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rnd = mulberry32(seed);
      const n = [2, 4, 8, 16][Math.floor(rnd() * 4)]!;
      const cfg: ArchConfig = { ...DEFAULT_CONFIG, array: { rows: n, cols: n } };
      const shape: [number, number, number, number] = [
        1 + Math.floor(rnd() * 3),
        1 + Math.floor(rnd() * 20),
        1 + Math.floor(rnd() * 6),
        1 + Math.floor(rnd() * 6),
      ];
      const signed = rnd() < 0.5;
      const planes = rnd() < 0.4;
      const bits = 1 + Math.floor(rnd() * (planes ? 8 : 4));
      const imageBytes = (planes ? 2 : 1) * Math.ceil(shape[1] / n) * shape[2] * shape[3] * (n / 2);
      const desc: TensorDescriptor = {
        name: 'x',
        shape,
        bits,
        signed,
        layout: planes ? 'nibble-planes' : 'blocked',
        dramAddr: Math.floor(rnd() * 40),
        imageStrideBytes: imageBytes + Math.floor(rnd() * 3) * 5,
      } as TensorDescriptor;
      const lo = signed ? -(2 ** (bits - 1)) : 0;
      const hi = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
      const data = Int32Array.from(
        { length: shape.reduce((a, b) => a * b, 1) },
        () => lo + Math.floor(rnd() * (hi - lo + 1)),
      );
      const size = desc.dramAddr + (shape[0] - 1) * desc.imageStrideBytes + imageBytes + Math.floor(rnd() * 4);
      const expected = new Uint8Array(size).fill(0xa5);
      const bytes = packTensor(desc, data, cfg);
      expected.set(bytes.subarray(0, Math.min(bytes.length, size - desc.dramAddr)), desc.dramAddr);
      const actual = new Uint8Array(size).fill(0xa5);
      expect(packBlocked4Into(desc, data, cfg, actual)).toBe(true);
      expect(Buffer.compare(Buffer.from(actual), Buffer.from(expected)), `seed ${seed}`).toBe(0);
    }
  });
  it('declines what packTensor would reject, writing nothing', () => {
    const cfg = DEFAULT_CONFIG;
    const desc = {
      name: 'x',
      shape: [1, 1, 2, 2],
      bits: 4,
      signed: false,
      layout: 'blocked',
      dramAddr: 0,
      imageStrideBytes: 32,
    } as unknown as TensorDescriptor;
    const dram = new Uint8Array(64).fill(7);
    expect(packBlocked4Into(desc, [1, 2, 16, 3], cfg, dram)).toBe(false);
    expect(packBlocked4Into(desc, [1, 2, 0.5, 3], cfg, dram)).toBe(false);
    expect(packBlocked4Into(desc, [1, 2, 3], cfg, dram)).toBe(false);
    expect(dram.every((b) => b === 7)).toBe(true);
  });
});
