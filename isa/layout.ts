/**
 * Bit-level packing of scratchpad entries and DRAM tensors (docs/architecture.md
 * section 1, isa/program.ts TensorLayout). One implementation shared by the
 * compiler (laying out weights and params), the simulator (inputs/outputs,
 * DMA) and the RTL testbench (memory images).
 */
import { deriveArch, type ArchConfig, type DerivedArch } from '../arch/index.js';
import { IsaError } from '../arch/index.js';
import type { TensorDescriptor } from './program.js';
import { packLanes, unpackEntry } from './word.js';

// The entry codecs live with the word's other fixed parts; re-exported for existing importers.
export { packEntry, packParamEntry, unpackEntry, unpackParamEntry } from './word.js';

/** Bytes one image of a tensor occupies in DRAM under its layout. */
export function tensorImageBytes(
  desc: Pick<TensorDescriptor, 'shape' | 'layout'>,
  cfg: ArchConfig,
  arch: Pick<DerivedArch, 'dramLanes' | 'dramEntryBytes'> = deriveArch(cfg),
): number {
  const { dramLanes: n, dramEntryBytes: entryBytes } = arch;
  const [, c, h, w] = desc.shape;
  const blocks = Math.ceil(laneCount(desc.layout, c) / n);
  const planeBytes = blocks * h * w * entryBytes;
  return desc.layout === 'nibble-planes' ? 2 * planeBytes : planeBytes;
}

/** Lanes a tensor of `c` channels fills per pixel: two per channel for 'nibble-lanes'. */
function laneCount(layout: TensorDescriptor['layout'], c: number): number {
  return layout === 'nibble-lanes' ? 2 * c : c;
}

/**
 * Pack a logical NCHW tensor (batch = shape[0]) into its DRAM bytes
 * (length batch * imageStrideBytes, relative to desc.dramAddr).
 */
export function packTensor(desc: TensorDescriptor, data: ArrayLike<number>, cfg: ArchConfig): Uint8Array {
  const out = new Uint8Array(desc.shape[0] * desc.imageStrideBytes);
  packTensorInto(desc, data, cfg, out, 0);
  return out;
}

/**
 * packTensor written straight into `out` from `offset` on (a DRAM image):
 * the batch x stride region is zeroed first (gaps between images included),
 * and whatever lies beyond the end of `out` is cut. Throws IsaError for a
 * wrong value count, a value outside the tensor's range or a short stride,
 * before writing anything.
 */
export function packTensorInto(
  desc: TensorDescriptor,
  data: ArrayLike<number>,
  cfg: ArchConfig,
  out: Uint8Array,
  offset: number,
  arch: Pick<DerivedArch, 'dramLanes' | 'dramEntryBytes'> = deriveArch(cfg),
): void {
  const { dramLanes: n, dramEntryBytes: entryBytes } = arch;
  const ab = cfg.bits.activation;
  const [batch, c, h, w] = desc.shape;
  if (data.length !== batch * c * h * w) {
    throw new IsaError(
      `tensor '${desc.name}' needs ${batch * c * h * w} values (${desc.shape.join('x')}), got ${data.length}`,
    );
  }
  const imageBytes = tensorImageBytes(desc, cfg, arch);
  if (desc.imageStrideBytes < imageBytes) {
    throw new IsaError(`tensor '${desc.name}': image stride ${desc.imageStrideBytes} < image size ${imageBytes}`);
  }
  checkTensorValues(desc, data);
  out.fill(0, offset, Math.min(out.length, offset + batch * desc.imageStrideBytes));
  const split = desc.layout === 'nibble-lanes';
  const lanesUsed = laneCount(desc.layout, c);
  const blocks = Math.ceil(lanesUsed / n);
  const planeBytes = blocks * h * w * entryBytes;
  const lanes = new Int32Array(n);
  const planes = desc.layout === 'nibble-planes' ? 2 : 1;
  const hw = h * w;
  for (let b = 0; b < batch; b++) {
    for (let plane = 0; plane < planes; plane++) {
      // nibble planes: the low nibbles, then the high nibbles
      const down = planes === 2 ? plane * 4 : 0;
      const mask = planes === 2 ? 15 : -1;
      for (let cb = 0; cb < blocks; cb++) {
        const used = Math.min(n, lanesUsed - cb * n);
        lanes.fill(0);
        const ch0 = b * c + (split ? (cb * n) >> 1 : cb * n);
        for (let px = 0; px < hw; px++) {
          const off = offset + b * desc.imageStrideBytes + plane * planeBytes + (cb * hw + px) * entryBytes;
          if (ab === 4 && n % 2 === 0) {
            // 4-bit lanes, two per byte, straight from the data: the lane pair of a nibble-lanes channel is its byte
            if (off + entryBytes <= out.length) packPixel4(data, ch0, hw, px, used, split, down, out, off);
            continue;
          }
          if (split) {
            // nibble lanes: lane 2c the low nibble of channel c, lane 2c+1 the high one
            for (let l = 0; l < used; l++)
              lanes[l] = (data[(b * c + ((cb * n + l) >> 1)) * hw + px]! >> (4 * (l & 1))) & 15;
          } else {
            for (let l = 0; l < used; l++) lanes[l] = (data[(b * c + cb * n + l) * hw + px]! >> down) & mask;
          }
          // the region is zeroed: only the bytes of the used lanes need writing
          if (off + entryBytes <= out.length) packLanes(lanes, 0, used, ab, out, off);
        }
      }
    }
  }
}

/**
 * One pixel's `used` 4-bit lanes of a channel block into bytes from `off`
 * (lane 2j the low nibble of byte j), as packLanes packs them: nibble lanes
 * take channel ch0 + j's low 8 bits as byte j, other layouts lane l from
 * channel ch0 + l (shifted down by `down` for the high nibble plane).
 */
function packPixel4(
  data: ArrayLike<number>,
  ch0: number,
  hw: number,
  px: number,
  used: number,
  split: boolean,
  down: number,
  out: Uint8Array,
  off: number,
): void {
  if (split) {
    for (let j = 0; j < used >> 1; j++) out[off + j] = data[(ch0 + j) * hw + px]! & 255;
    return;
  }
  for (let l = 0; l < used; l += 2) {
    const lo = (data[(ch0 + l) * hw + px]! >> down) & 15;
    const hi = l + 1 < used ? (data[(ch0 + l + 1) * hw + px]! >> down) & 15 : 0;
    out[off + (l >> 1)] = lo | (hi << 4);
  }
}

function checkTensorValues(desc: TensorDescriptor, data: ArrayLike<number>): void {
  const lo = desc.signed ? -(2 ** (desc.bits - 1)) : 0;
  const hi = desc.signed ? 2 ** (desc.bits - 1) - 1 : 2 ** desc.bits - 1;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isInteger(v) || v < lo || v > hi) {
      const [, c, h, w] = desc.shape;
      const at = [Math.floor(i / (c * h * w)), Math.floor(i / (h * w)) % c, Math.floor(i / w) % h, i % w];
      throw new IsaError(`tensor '${desc.name}': value ${v} at [${at.join(',')}] is outside [${lo}, ${hi}]`);
    }
  }
}

/** Inverse of packTensor for 'blocked' tensors: read a logical NCHW tensor out of DRAM bytes (absolute addresses). */
export function unpackTensor(
  desc: TensorDescriptor,
  dram: Uint8Array,
  cfg: ArchConfig,
  arch: Pick<DerivedArch, 'dramLanes' | 'dramEntryBytes'> = deriveArch(cfg),
): Int32Array {
  if (desc.layout !== 'blocked') throw new IsaError(`tensor '${desc.name}': only 'blocked' tensors can be read back`);
  const { dramLanes: n, dramEntryBytes: entryBytes } = arch;
  const ab = cfg.bits.activation;
  const [batch, c, h, w] = desc.shape;
  const blocks = Math.ceil(c / n);
  const end = desc.dramAddr + (batch - 1) * desc.imageStrideBytes + tensorImageBytes(desc, cfg, arch);
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
