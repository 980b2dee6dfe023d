/**
 * Bit-level packing of scratchpad entries and DRAM tensors (docs/architecture.md
 * section 1, isa/program.ts TensorLayout). One implementation shared by the
 * compiler (laying out weights and params), the simulator (inputs/outputs,
 * DMA) and the RTL testbench (memory images).
 */
import type { ArchConfig } from '../arch/index.js';
import { IsaError } from '../arch/index.js';
import type { TensorDescriptor } from './program.js';

/** Write `lanes` values of `bits` each, lane 0 in the lowest bits, into out[offset...]. Values are masked (two's complement). */
export function packEntry(
  values: ArrayLike<number>,
  lanes: number,
  bits: number,
  out: Uint8Array,
  offset: number,
): void {
  const bytes = (lanes * bits) / 8;
  out.fill(0, offset, offset + bytes);
  const mask = (1 << bits) - 1;
  let bitPos = 0;
  for (let l = 0; l < lanes; l++) {
    let v = (values[l] ?? 0) & mask;
    let pos = bitPos;
    let remaining = bits;
    while (remaining > 0) {
      const byte = offset + (pos >> 3);
      const shift = pos & 7;
      const take = Math.min(remaining, 8 - shift);
      out[byte] = out[byte]! | ((v & ((1 << take) - 1)) << shift);
      v >>>= take;
      pos += take;
      remaining -= take;
    }
    bitPos += bits;
  }
}

/** Read `lanes` values of `bits` each from bytes[offset...] into out (sign-extended when signed). */
export function unpackEntry(
  bytes: Uint8Array,
  offset: number,
  lanes: number,
  bits: number,
  signed: boolean,
  out: Int32Array | number[],
  outOffset = 0,
): void {
  let bitPos = 0;
  const signBit = 1 << (bits - 1);
  for (let l = 0; l < lanes; l++) {
    let v = 0;
    let got = 0;
    let pos = bitPos;
    while (got < bits) {
      const shift = pos & 7;
      const take = Math.min(bits - got, 8 - shift);
      v |= ((bytes[offset + (pos >> 3)]! >> shift) & ((1 << take) - 1)) << got;
      got += take;
      pos += take;
    }
    if (signed && v & signBit) v -= 1 << bits;
    out[outOffset + l] = v;
    bitPos += bits;
  }
}

/** PARAM entry: per lane 8 bytes: int32 bias LE, int8 shift, 3 zero bytes. */
export function packParamEntry(
  bias: ArrayLike<number>,
  shift: ArrayLike<number>,
  lanes: number,
  out: Uint8Array,
  offset: number,
): void {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let l = 0; l < lanes; l++) {
    view.setInt32(offset + 8 * l, bias[l] ?? 0, true);
    view.setInt8(offset + 8 * l + 4, shift[l] ?? 0);
    out.fill(0, offset + 8 * l + 5, offset + 8 * l + 8);
  }
}

export function unpackParamEntry(
  bytes: Uint8Array,
  offset: number,
  lanes: number,
): { bias: Int32Array; shift: Int8Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bias = new Int32Array(lanes);
  const shift = new Int8Array(lanes);
  for (let l = 0; l < lanes; l++) {
    bias[l] = view.getInt32(offset + 8 * l, true);
    shift[l] = view.getInt8(offset + 8 * l + 4);
  }
  return { bias, shift };
}

/** Bytes one image of a tensor occupies in DRAM under its layout. */
export function tensorImageBytes(desc: Pick<TensorDescriptor, 'shape' | 'layout'>, cfg: ArchConfig): number {
  const n = cfg.array.rows;
  const [, c, h, w] = desc.shape;
  const blocks = Math.ceil(c / n);
  const entryBytes = (n * cfg.bits.activation) / 8;
  const planeBytes = blocks * h * w * entryBytes;
  return desc.layout === 'nibble-planes' ? 2 * planeBytes : planeBytes;
}

/**
 * Pack a logical NCHW tensor (batch = shape[0]) into its DRAM bytes
 * (length batch * imageStrideBytes, relative to desc.dramAddr).
 */
export function packTensor(desc: TensorDescriptor, data: ArrayLike<number>, cfg: ArchConfig): Uint8Array {
  const n = cfg.array.rows;
  const ab = cfg.bits.activation;
  const [batch, c, h, w] = desc.shape;
  if (data.length !== batch * c * h * w) {
    throw new IsaError(
      `tensor '${desc.name}' needs ${batch * c * h * w} values (${desc.shape.join('x')}), got ${data.length}`,
    );
  }
  const lo = desc.signed ? -(2 ** (desc.bits - 1)) : 0;
  const hi = desc.signed ? 2 ** (desc.bits - 1) - 1 : 2 ** desc.bits - 1;
  const imageBytes = tensorImageBytes(desc, cfg);
  if (desc.imageStrideBytes < imageBytes) {
    throw new IsaError(`tensor '${desc.name}': image stride ${desc.imageStrideBytes} < image size ${imageBytes}`);
  }
  const out = new Uint8Array(batch * desc.imageStrideBytes);
  const blocks = Math.ceil(c / n);
  const entryBytes = (n * ab) / 8;
  const planeBytes = blocks * h * w * entryBytes;
  const lanes = new Int32Array(n);
  const planes = desc.layout === 'nibble-planes' ? 2 : 1;
  for (let b = 0; b < batch; b++) {
    for (let plane = 0; plane < planes; plane++) {
      for (let cb = 0; cb < blocks; cb++) {
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            for (let l = 0; l < n; l++) {
              const ch = cb * n + l;
              let v = 0;
              if (ch < c) {
                v = data[((b * c + ch) * h + y) * w + x]!;
                if (!Number.isInteger(v) || v < lo || v > hi) {
                  throw new IsaError(
                    `tensor '${desc.name}': value ${v} at [${b},${ch},${y},${x}] is outside [${lo}, ${hi}]`,
                  );
                }
                if (planes === 2) v = plane === 0 ? v & 15 : v >> 4;
              }
              lanes[l] = v;
            }
            const off = b * desc.imageStrideBytes + plane * planeBytes + ((cb * h + y) * w + x) * entryBytes;
            packEntry(lanes, n, ab, out, off);
          }
        }
      }
    }
  }
  return out;
}

/** Inverse of packTensor for 'blocked' tensors: read a logical NCHW tensor out of DRAM bytes (absolute addresses). */
export function unpackTensor(desc: TensorDescriptor, dram: Uint8Array, cfg: ArchConfig): Int32Array {
  if (desc.layout !== 'blocked') throw new IsaError(`tensor '${desc.name}': only 'blocked' tensors can be read back`);
  const n = cfg.array.rows;
  const ab = cfg.bits.activation;
  const [batch, c, h, w] = desc.shape;
  const blocks = Math.ceil(c / n);
  const entryBytes = (n * ab) / 8;
  const end = desc.dramAddr + (batch - 1) * desc.imageStrideBytes + tensorImageBytes(desc, cfg);
  if (end > dram.length)
    throw new IsaError(`tensor '${desc.name}' ends at byte ${end}, beyond DRAM (${dram.length} bytes)`);
  const out = new Int32Array(batch * c * h * w);
  const lanes = new Int32Array(n);
  for (let b = 0; b < batch; b++) {
    for (let cb = 0; cb < blocks; cb++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const off = desc.dramAddr + b * desc.imageStrideBytes + ((cb * h + y) * w + x) * entryBytes;
          unpackEntry(dram, off, n, ab, desc.signed, lanes);
          for (let l = 0; l < n; l++) {
            const ch = cb * n + l;
            if (ch < c) out[((b * c + ch) * h + y) * w + x] = lanes[l]!;
          }
        }
      }
    }
  }
  return out;
}
