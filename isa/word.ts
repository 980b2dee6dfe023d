/**
 * The fixed parts of the instruction word and of the data it moves, defined
 * once for the compiler, the simulator, the RTL generator and the reference
 * executor (docs/isa.md "Word layout", docs/architecture.md section 1):
 *
 *  - the 8-bit header: opcode [3:0] and the four dependency-token flags [7:4];
 *  - the enums that fields encode (units, LOAD buffers) and the token channels
 *    the flags address;
 *  - the lane codecs of scratchpad entries and the PARAM lane layout;
 *  - the requant arithmetic y = clamp(floor((m - bias) / 2^shift), lo, hi).
 *
 * Everything that varies per opcode (its fields) is in isa/ops/.
 */
import { PARAM_LANE_BYTES } from '../arch/index.js';

// ---------------------------------------------------------------- the word and its header

export const INSTRUCTION_BITS = 128;
export const INSTRUCTION_BYTES = INSTRUCTION_BITS / 8;
/** bits [3:0]: the opcode */
export const OPCODE_BITS = 4;
export const OPCODE_MASK = (1 << OPCODE_BITS) - 1;
/** opcode and dependency flags; the opcode's fields follow from this bit upward */
export const HEADER_BITS = 8;

export const DEP_FLAG_NAMES = ['pop_prev', 'pop_next', 'push_prev', 'push_next'] as const;
export type DepFlagName = (typeof DEP_FLAG_NAMES)[number];
export type DepFlags = Record<DepFlagName, 0 | 1>;

/** Bit position of each dependency flag in the header. */
export const DEP_FLAG_BIT: Readonly<Record<DepFlagName, number>> = {
  pop_prev: 4,
  pop_next: 5,
  push_prev: 6,
  push_next: 7,
};

/** All four flags clear: the start of every hand-built instruction. */
export const NO_FLAGS: Readonly<DepFlags> = Object.freeze({ pop_prev: 0, pop_next: 0, push_prev: 0, push_next: 0 });

// ---------------------------------------------------------------- enums

/** The three execution units, in token-chain order; the index is the NOP `unit` field's code. */
export const UNITS = ['load', 'compute', 'store'] as const;
export type Unit = (typeof UNITS)[number];
export const UNIT_LOAD = 0;
export const UNIT_COMPUTE = 1;
export const UNIT_STORE = 2;

/** LOAD destinations; the index is the `buf` field's code. */
export const BUFFER_NAMES = ['inp', 'wgt', 'param'] as const;
export type LoadBuffer = (typeof BUFFER_NAMES)[number];
export const BUF_INP = 0;
export const BUF_WGT = 1;
export const BUF_PARAM = 2;

// Compile-time check that the codes above index their name lists.
type Check<T extends true> = T;
export type EnumCodesMatch = Check<
  (typeof UNITS)[typeof UNIT_LOAD] extends 'load'
    ? (typeof UNITS)[typeof UNIT_COMPUTE] extends 'compute'
      ? (typeof UNITS)[typeof UNIT_STORE] extends 'store'
        ? (typeof BUFFER_NAMES)[typeof BUF_INP] extends 'inp'
          ? (typeof BUFFER_NAMES)[typeof BUF_WGT] extends 'wgt'
            ? (typeof BUFFER_NAMES)[typeof BUF_PARAM] extends 'param'
              ? true
              : false
            : false
          : false
        : false
      : false
    : false
>;

// ---------------------------------------------------------------- token channels

/** Token neighbours: load <-> compute <-> store (as in VTA). */
export function prevUnit(u: Unit): Unit | undefined {
  return u === 'compute' ? 'load' : u === 'store' ? 'compute' : undefined;
}
export function nextUnit(u: Unit): Unit | undefined {
  return u === 'load' ? 'compute' : u === 'compute' ? 'store' : undefined;
}

/** The four token counters; the index is the channel code the engines and the RTL use. */
export const TOKEN_CHANNELS = ['load->compute', 'compute->load', 'compute->store', 'store->compute'] as const;
export type TokenChannel = (typeof TOKEN_CHANNELS)[number];

/** The hardware token counters are 16 bits wide. */
export const TOKEN_COUNTER_MAX = 0xffff;

function channelOf(unit: Unit, flag: DepFlagName): TokenChannel | undefined {
  const towards = flag.endsWith('prev') ? prevUnit(unit) : nextUnit(unit);
  if (!towards) return undefined;
  return (flag.startsWith('pop') ? `${towards}->${unit}` : `${unit}->${towards}`) as TokenChannel;
}

const CHANNELS = Object.fromEntries(
  UNITS.map((u) => [u, Object.fromEntries(DEP_FLAG_NAMES.map((f) => [f, channelOf(u, f)]))]),
) as Record<Unit, Record<DepFlagName, TokenChannel | undefined>>;

/** Channel an instruction on `unit` pops with pop_prev / pop_next, or pushes with push_prev / push_next; undefined: illegal. */
export function tokenChannel(unit: Unit, flag: DepFlagName): TokenChannel | undefined {
  return CHANNELS[unit][flag];
}

/** Why `flag` is illegal on `unit` (undefined when legal): a flag towards a neighbour the unit does not have. */
export function depFlagProblem(unit: Unit, flag: DepFlagName): string | undefined {
  if (tokenChannel(unit, flag)) return undefined;
  return `the ${unit} unit has no ${flag.endsWith('prev') ? 'previous' : 'next'} unit in the chain load - compute - store`;
}

/**
 * Why a set `flag` is illegal for `op` running on `unit` (undefined: legal):
 * HALT (no unit) has no flags, and a flag must point at a neighbour the unit
 * has. The one message the encoder, assembler, token checker and simulator give.
 */
export function depFlagError(op: string, unit: Unit | undefined, flag: DepFlagName): string | undefined {
  if (!unit) return `${op} cannot pop or push dependency tokens (${flag})`;
  const problem = depFlagProblem(unit, flag);
  return problem && `${flag} is illegal here: ${op} runs on ${problem.replace(' has ', ', which has ')}`;
}

// ---------------------------------------------------------------- lane codecs

/**
 * Write `lanes` values of `bits` each from values[valuesOffset...] into
 * out[offset...]: lane l in bits [l*bits + bits-1 : l*bits] of the entry,
 * little-endian bytes, values masked to two's complement. Fast paths for 4 and
 * 8 bits (the common widths).
 */
export function packLanes(
  values: ArrayLike<number>,
  valuesOffset: number,
  lanes: number,
  bits: number,
  out: Uint8Array,
  offset: number,
): void {
  if (bits === 4 && lanes % 2 === 0) {
    for (let l = 0; l < lanes; l += 2)
      out[offset + (l >> 1)] =
        ((values[valuesOffset + l] ?? 0) & 15) | (((values[valuesOffset + l + 1] ?? 0) & 15) << 4);
    return;
  }
  if (bits === 8) {
    for (let l = 0; l < lanes; l++) out[offset + l] = (values[valuesOffset + l] ?? 0) & 255;
    return;
  }
  const bytes = Math.ceil((lanes * bits) / 8);
  out.fill(0, offset, offset + bytes);
  const mask = bits >= 32 ? -1 : (1 << bits) - 1;
  let bitPos = 0;
  for (let l = 0; l < lanes; l++) {
    let v = (values[valuesOffset + l] ?? 0) & mask;
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

/** Read `lanes` values of `bits` each from bytes[offset...] into out[outOffset...] (sign-extended when signed). */
export function unpackLanes(
  bytes: Uint8Array,
  offset: number,
  lanes: number,
  bits: number,
  signed: boolean,
  out: { [i: number]: number; readonly length: number },
  outOffset = 0,
): void {
  if (bits === 4 && lanes % 2 === 0) {
    for (let l = 0; l < lanes; l += 2) {
      const b = bytes[offset + (l >> 1)]!;
      out[outOffset + l] = signed ? (b << 28) >> 28 : b & 15;
      out[outOffset + l + 1] = signed ? (b << 24) >> 28 : b >> 4;
    }
    return;
  }
  if (bits === 8) {
    for (let l = 0; l < lanes; l++) out[outOffset + l] = signed ? (bytes[offset + l]! << 24) >> 24 : bytes[offset + l]!;
    return;
  }
  const signBit = 2 ** (bits - 1);
  let bitPos = 0;
  for (let l = 0; l < lanes; l++) {
    let v = 0;
    let got = 0;
    let pos = bitPos;
    while (got < bits) {
      const shift = pos & 7;
      const take = Math.min(bits - got, 8 - shift);
      v += ((bytes[offset + (pos >> 3)]! >> shift) & ((1 << take) - 1)) * 2 ** got;
      got += take;
      pos += take;
    }
    if (signed && v >= signBit) v -= 2 * signBit;
    out[outOffset + l] = v;
    bitPos += bits;
  }
}

/** Write one entry of `lanes` values of `bits` each (lane 0 in the lowest bits) at out[offset...]. */
export function packEntry(
  values: ArrayLike<number>,
  lanes: number,
  bits: number,
  out: Uint8Array,
  offset: number,
): void {
  packLanes(values, 0, lanes, bits, out, offset);
}

/** Read one entry of `lanes` values of `bits` each from bytes[offset...] (sign-extended when signed). */
export function unpackEntry(
  bytes: Uint8Array,
  offset: number,
  lanes: number,
  bits: number,
  signed: boolean,
  out: Int32Array | number[],
  outOffset = 0,
): void {
  unpackLanes(bytes, offset, lanes, bits, signed, out, outOffset);
}

// ---------------------------------------------------------------- PARAM lanes

/**
 * One PARAM lane is PARAM_LANE_BYTES (8) bytes: the int32 bias little-endian
 * in bytes 0-3, the int8 shift (negative: left shift) in byte 4, bytes 5-7
 * zero. Only the low PARAM_LANE_USED_BITS bits carry information, so the RTL
 * stores just those.
 */
export { PARAM_LANE_BYTES };
export const PARAM_BIAS_BYTE = 0;
export const PARAM_BIAS_BITS = 32;
export const PARAM_SHIFT_BYTE = 4;
export const PARAM_SHIFT_BITS = 8;
export const PARAM_LANE_USED_BITS = PARAM_BIAS_BITS + PARAM_SHIFT_BITS;

/** Write a PARAM entry: `lanes` (bias, shift) pairs at out[offset...]. */
export function packParamEntry(
  bias: ArrayLike<number>,
  shift: ArrayLike<number>,
  lanes: number,
  out: Uint8Array,
  offset: number,
): void {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let l = 0; l < lanes; l++) {
    const base = offset + PARAM_LANE_BYTES * l;
    view.setInt32(base + PARAM_BIAS_BYTE, bias[l] ?? 0, true);
    view.setInt8(base + PARAM_SHIFT_BYTE, shift[l] ?? 0);
    out.fill(0, base + PARAM_SHIFT_BYTE + 1, base + PARAM_LANE_BYTES);
  }
}

/** Read a PARAM entry's `lanes` biases and shifts into bias[outOffset...] and shift[outOffset...]. */
export function unpackParamLanes(
  bytes: Uint8Array,
  offset: number,
  lanes: number,
  bias: Int32Array,
  shift: Int8Array,
  outOffset = 0,
): void {
  for (let l = 0; l < lanes; l++) {
    const o = offset + PARAM_LANE_BYTES * l;
    const b = o + PARAM_BIAS_BYTE;
    bias[outOffset + l] = bytes[b]! | (bytes[b + 1]! << 8) | (bytes[b + 2]! << 16) | (bytes[b + 3]! << 24);
    shift[outOffset + l] = (bytes[o + PARAM_SHIFT_BYTE]! << 24) >> 24;
  }
}

/** Read a PARAM entry: `lanes` biases and shifts. */
export function unpackParamEntry(
  bytes: Uint8Array,
  offset: number,
  lanes: number,
): { bias: Int32Array; shift: Int8Array } {
  const bias = new Int32Array(lanes);
  const shift = new Int8Array(lanes);
  unpackParamLanes(bytes, offset, lanes, bias, shift);
  return { bias, shift };
}

// ---------------------------------------------------------------- requant arithmetic

/**
 * Clamp bounds of a requant output of `bits` bits: unsigned [0, 2^b - 1],
 * signed symmetric [-(2^(b-1) - 1), 2^(b-1) - 1] (the most negative code is
 * never produced, so negation never overflows).
 */
export function requantClampRange(signed: boolean, bits: number): { lo: number; hi: number } {
  if (!signed) return { lo: 0, hi: 2 ** bits - 1 };
  const hi = 2 ** (bits - 1) - 1;
  return { lo: -hi, hi };
}

/**
 * The factor 2^-shift the requant multiplies by. A power of two changes only
 * a double's exponent, so (m - bias) * requantScale(shift) is exact: floor of
 * it is floor((m - bias) / 2^shift) for shift >= 0, and for shift < 0 it is
 * the left shift (m - bias) * 2^-shift, which the clamp then saturates.
 */
export function requantScale(shift: number): number {
  return 2 ** -shift;
}

/** clamp(floor((m - bias) * scale), lo, hi), with scale = requantScale(shift): the per-lane requant for precomputed lanes. */
export function requantScaled(m: number, bias: number, scale: number, lo: number, hi: number): number {
  const q = Math.floor((m - bias) * scale);
  return q < lo ? lo : q > hi ? hi : q;
}

/**
 * One requant lane: y = clamp(floor((m - bias) / 2^shift), lo, hi); a
 * negative shift is a left shift that saturates at the clamp bounds.
 */
export function requantValue(m: number, bias: number, shift: number, lo: number, hi: number): number {
  return requantScaled(m, bias, requantScale(shift), lo, hi);
}
