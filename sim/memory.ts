/**
 * Machine memories in the form the engines compute on: scratchpad lanes are
 * kept unpacked (one typed-array element per lane) so the inner loops never
 * touch bits; DRAM is bytes, packed exactly as in docs/architecture.md
 * section 1. The DMA converts between the two on every entry it moves.
 */
import type { ArchConfig, DerivedArch } from '../arch/index.js';
import { SimError } from '../arch/index.js';
import { packTensor } from '../isa/index.js';
import type { Program, TensorDescriptor } from '../isa/index.js';
import type { PreparedProgram } from './prepare.js';

/** Final scratchpad contents; INP and OUT hold raw lane bit patterns (unsigned), WGT signed weights. */
export interface Scratchpads {
  /** inputEntries x N raw activation bit patterns */
  inp: Uint8Array;
  /** weightEntries x N signed weights */
  wgt: Int8Array;
  /** paramEntries x N biases */
  bias: Int32Array;
  /** paramEntries x N shifts */
  shift: Int8Array;
  /** accEntries x N accumulators */
  acc: Int32Array;
  /** outputEntries x N raw activation bit patterns */
  out: Uint8Array;
}

export function newScratchpads(p: PreparedProgram): Scratchpads {
  const sp = p.cfg.scratchpad;
  const n = p.arch.n;
  return {
    inp: new Uint8Array(sp.inputEntries * n),
    wgt: new Int8Array(sp.weightEntries * n),
    bias: new Int32Array(sp.paramEntries * n),
    shift: new Int8Array(sp.paramEntries * n),
    acc: new Int32Array(sp.accEntries * n),
    out: new Uint8Array(sp.outputEntries * n),
  };
}

/** Tiny deterministic PRNG (mulberry32) for input fills and random programs. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Build the initial DRAM image: segments, then inputs (given or seeded random). */
export function buildDram(
  program: Program,
  p: PreparedProgram,
  inputs: Record<string, Int32Array | Uint8Array> | undefined,
  seed: number,
): { dram: Uint8Array; randomInputs: string[] } {
  const dram = new Uint8Array(p.dramBytes);
  for (const s of program.segments) dram.set(s.bytes, s.dramAddr);
  const randomInputs: string[] = [];
  const given = inputs ?? {};
  for (const name of Object.keys(given)) {
    if (!program.inputs.some((d) => d.name === name)) {
      throw new SimError(
        `unknown input '${name}' (program inputs: ${program.inputs.map((d) => d.name).join(', ') || 'none'})`,
        'inputs',
      );
    }
  }
  program.inputs.forEach((desc, k) => {
    let data: ArrayLike<number> | undefined = given[desc.name];
    if (!data) {
      data = randomTensor(desc, seed + 7919 * (k + 1));
      randomInputs.push(desc.name);
    }
    if (packBlocked4Into(desc, data, p.cfg, dram)) return;
    let bytes: Uint8Array;
    try {
      bytes = packTensor(desc, data, p.cfg);
    } catch (e) {
      throw new SimError((e as Error).message, `input '${desc.name}'`);
    }
    // the last image may be shorter than the stride: copy only what the tensor occupies
    dram.set(bytes.subarray(0, Math.min(bytes.length, dram.length - desc.dramAddr)), desc.dramAddr);
  });
  return { dram, randomInputs };
}

/**
 * packTensor (isa/layout.ts) for the common case, written straight into the
 * DRAM image: a 'blocked' or 'nibble-planes' tensor of 4-bit activations on an even-width array,
 * two lanes per byte, with the same bytes (the whole batch x stride region,
 * gaps zeroed, cut at the end of the image). Returns false (nothing written)
 * for anything else, or for any value packTensor would reject, so packTensor
 * runs and reports it. (The generic bit loop cost more than a small network's
 * whole simulation.)
 */
export function packBlocked4Into(
  desc: TensorDescriptor,
  data: ArrayLike<number>,
  cfg: ArchConfig,
  dram: Uint8Array,
): boolean {
  const n = cfg.array.rows;
  if ((desc.layout !== 'blocked' && desc.layout !== 'nibble-planes') || cfg.bits.activation !== 4 || n % 2 !== 0)
    return false;
  const planes = desc.layout === 'nibble-planes' ? 2 : 1;
  const [batch, c, h, w] = desc.shape;
  if (data.length !== batch * c * h * w) return false;
  const entryBytes = n / 2;
  const blocks = Math.ceil(c / n);
  const planeBytes = blocks * h * w * entryBytes;
  const stride = desc.imageStrideBytes;
  if (stride < planes * planeBytes) return false;
  const lo = desc.signed ? -(2 ** (desc.bits - 1)) : 0;
  const hi = desc.signed ? 2 ** (desc.bits - 1) - 1 : 2 ** desc.bits - 1;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isInteger(v) || v < lo || v > hi) return false;
  }
  const base = desc.dramAddr;
  const end = Math.min(dram.length, base + batch * stride);
  dram.fill(0, base, end);
  const hw = h * w;
  for (let b = 0; b < batch; b++) {
    for (let plane = 0; plane < planes; plane++) {
      // nibble planes: the low nibbles, then the high nibbles (v >> 4), each masked to 4 bits
      const down = plane * 4;
      for (let cb = 0; cb < blocks; cb++) {
        for (let l = 0; l < n && cb * n + l < c; l++) {
          const src = (b * c + cb * n + l) * hw;
          const shift = (l & 1) * 4;
          let off = base + b * stride + plane * planeBytes + cb * hw * entryBytes + (l >> 1);
          for (let px = 0; px < hw; px++, off += entryBytes) {
            if (off < end) dram[off] = dram[off]! | (((data[src + px]! >> down) & 15) << shift);
          }
        }
      }
    }
  }
  return true;
}

export function randomTensor(desc: TensorDescriptor, seed: number): Int32Array {
  const rnd = mulberry32(seed);
  const [b, c, h, w] = desc.shape;
  const lo = desc.signed ? -(2 ** (desc.bits - 1) - 1) : 0;
  const hi = desc.signed ? 2 ** (desc.bits - 1) - 1 : 2 ** desc.bits - 1;
  const out = new Int32Array(b * c * h * w);
  for (let i = 0; i < out.length; i++) out[i] = lo + Math.floor(rnd() * (hi - lo + 1));
  return out;
}

/**
 * DRAM entry <-> scratchpad lanes. `bits` per lane, lane 0 in the low bits;
 * fast paths for 4 and 8 bits, a generic bit loop otherwise.
 */
export function readLanes(
  dram: Uint8Array,
  off: number,
  n: number,
  bits: number,
  signed: boolean,
  dst: Uint8Array | Int8Array,
  dstOff: number,
): void {
  if (bits === 4) {
    for (let l = 0; l < n; l += 2) {
      const b = dram[off + (l >> 1)]!;
      let lo = b & 15;
      let hi = b >> 4;
      if (signed) {
        if (lo & 8) lo -= 16;
        if (hi & 8) hi -= 16;
      }
      dst[dstOff + l] = lo;
      dst[dstOff + l + 1] = hi;
    }
    return;
  }
  if (bits === 8) {
    for (let l = 0; l < n; l++) dst[dstOff + l] = signed ? (dram[off + l]! << 24) >> 24 : dram[off + l]!;
    return;
  }
  const mask = (1 << bits) - 1;
  for (let l = 0; l < n; l++) {
    const bit = l * bits;
    const byte = off + (bit >> 3);
    const word = dram[byte]! | ((dram[byte + 1] ?? 0) << 8);
    let v = (word >> (bit & 7)) & mask;
    if (signed && v >> (bits - 1)) v -= 1 << bits;
    dst[dstOff + l] = v;
  }
}

export function writeLanes(
  src: Uint8Array,
  srcOff: number,
  n: number,
  bits: number,
  dram: Uint8Array,
  off: number,
): void {
  if (bits === 4) {
    for (let l = 0; l < n; l += 2) dram[off + (l >> 1)] = (src[srcOff + l]! & 15) | ((src[srcOff + l + 1]! & 15) << 4);
    return;
  }
  if (bits === 8) {
    for (let l = 0; l < n; l++) dram[off + l] = src[srcOff + l]!;
    return;
  }
  const bytes = (n * bits) >> 3;
  dram.fill(0, off, off + bytes);
  const mask = (1 << bits) - 1;
  for (let l = 0; l < n; l++) {
    const bit = l * bits;
    const byte = off + (bit >> 3);
    const v = (src[srcOff + l]! & mask) << (bit & 7);
    dram[byte] = dram[byte]! | (v & 255);
    if (v > 255) dram[byte + 1] = dram[byte + 1]! | (v >> 8);
  }
}

/** Move one DRAM entry into a LOAD destination buffer entry. */
export function loadEntry(
  sp: Scratchpads,
  a: DerivedArch,
  buf: number,
  dram: Uint8Array,
  off: number,
  entry: number,
): void {
  const n = a.n;
  if (buf === 0) readLanes(dram, off, n, a.activationBits, false, sp.inp, entry * n);
  else if (buf === 1) readLanes(dram, off, n, a.weightBits, true, sp.wgt, entry * n);
  else {
    const base = entry * n;
    for (let l = 0; l < n; l++) {
      const o = off + 8 * l;
      sp.bias[base + l] = dram[o]! | (dram[o + 1]! << 8) | (dram[o + 2]! << 16) | (dram[o + 3]! << 24);
      sp.shift[base + l] = (dram[o + 4]! << 24) >> 24;
    }
  }
}

/** Requant of one lane value (docs/architecture.md 7.3): exact floor shift, saturating left shift, clamp. */
export function requantValue(m: number, bias: number, shift: number, lo: number, hi: number): number {
  const v = m - bias;
  const q = shift >= 0 ? Math.floor(v / 2 ** shift) : v * 2 ** -shift;
  return q < lo ? lo : q > hi ? hi : q;
}

export function clampRange(signed: boolean, bits: number): { lo: number; hi: number } {
  return signed ? { lo: -(2 ** (bits - 1) - 1), hi: 2 ** (bits - 1) - 1 } : { lo: 0, hi: 2 ** bits - 1 };
}

export function overflowError(i: number, lane: number, entry: number, value: number, a: DerivedArch): SimError {
  return new SimError(
    `accumulator overflow: ACC entry ${entry} lane ${lane} would become ${value}, outside the ${a.accBits}-bit range [${a.accMin}, ${a.accMax}]`,
    `instruction ${i}`,
  );
}
