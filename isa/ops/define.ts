/**
 * What one opcode module (isa/ops/<op>.ts) defines: its encoding (opcode,
 * unit, fields with widths from the derived architecture) and its legality
 * beyond each field's range (scratchpad and DRAM ranges, window geometry).
 * The registry in isa/table.ts lists every module; engine-side behaviour of
 * the same opcode lives in sim/ops/<op>.ts.
 */
import type { ArchConfig, DerivedArch } from '../../arch/index.js';
import type { DepFlags, Unit } from '../word.js';

export interface FieldDef {
  readonly name: string;
  /** width in bits, from the derived architecture */
  readonly width: (a: DerivedArch) => number;
  /** smallest legal value (default 0) */
  readonly min?: number;
  /** largest legal value beyond the width limit (e.g. clamp_bits <= activation bits) */
  readonly max?: (a: DerivedArch) => number;
  /** symbolic names for enumerated values, index = encoded value */
  readonly enumNames?: readonly string[];
  readonly doc: string;
}

/** Unit whose queue the instruction goes to; 'field': NOP names its unit in a field; 'halt': stops fetch. */
export type OpUnit = Unit | 'field' | 'halt';

export interface OpDef {
  readonly opcode: number;
  readonly mnemonic: string;
  readonly unit: OpUnit;
  readonly fields: readonly FieldDef[];
  readonly doc: string;
}

export type FieldValues<D extends OpDef> = { [K in D['fields'][number]['name']]: number };

/** A decoded instruction of one opcode: flat object, field names as in the table and the assembly text. */
export type InstructionFor<D extends OpDef> = { op: D['mnemonic'] } & DepFlags & FieldValues<D>;

/** The machine an instruction is checked against. */
export interface Machine {
  readonly cfg: ArchConfig;
  readonly arch: DerivedArch;
}

/** Throws the caller's error (which adds the place) with `message`. */
export type Reject = (message: string) => never;

/** Where an access lands: a scratchpad (in entries) or DRAM (in bytes). */
export type Space = 'inp' | 'wgt' | 'param' | 'acc' | 'out' | 'dram';

/**
 * One region an instruction reads or writes: `rows` runs of `count`
 * consecutive entries (DRAM: bytes), `stride` apart. Scratchpad regions are
 * one run. The bounds check (checkAccesses) and the race detector
 * (isa/hazards.ts) both read these, so an opcode states its footprint once.
 */
export interface Access {
  space: Space;
  write: boolean;
  /** for messages: 'INP read', 'ACC', 'DRAM write' */
  what: string;
  first: number;
  count: number;
  rows: number;
  stride: number;
  /** DRAM: bytes per entry (messages give the shape in entries) */
  entryBytes?: number;
}

/** `count` scratchpad entries from `first`. */
export function sramAccess(
  space: Exclude<Space, 'dram'>,
  write: boolean,
  what: string,
  first: number,
  count: number,
): Access {
  return { space, write, what, first, count, rows: 1, stride: 0 };
}

/** The DRAM side of a 2-D DMA: y_count rows of x_count entries of `entryBytes`, rows dram_stride apart. */
export function dmaAccess(
  inst: { dram_addr: number; dram_stride: number; x_count: number; y_count: number },
  entryBytes: number,
  write: boolean,
): Access {
  return {
    space: 'dram',
    write,
    what: write ? 'DRAM write' : 'DRAM read',
    first: inst.dram_addr,
    count: inst.x_count * entryBytes,
    rows: inst.y_count,
    stride: inst.dram_stride,
    entryBytes,
  };
}

/** One past the last entry (byte) an access touches. */
export function accessEnd(a: Access): number {
  return a.first + (a.rows - 1) * a.stride + a.count;
}

/** Entries of each scratchpad in the machine. */
export function spaceEntries(m: Machine, space: Exclude<Space, 'dram'>): number {
  const sp = m.cfg.scratchpad;
  switch (space) {
    case 'inp':
      return sp.inputEntries;
    case 'wgt':
      return sp.weightEntries;
    case 'param':
      return sp.paramEntries;
    case 'acc':
      return sp.accEntries;
    case 'out':
      return sp.outputEntries;
  }
}

/** Every access inside its scratchpad or the configured DRAM. */
export function checkAccesses(op: string, accesses: readonly Access[], m: Machine, reject: Reject): void {
  for (const a of accesses) {
    if (a.space !== 'dram') {
      checkRange(reject, op, a.what, a.first, a.count, spaceEntries(m, a.space));
      continue;
    }
    const end = accessEnd(a);
    const limit = m.cfg.dram.sizeBytes;
    if (end > limit) {
      const eb = a.entryBytes ?? 1;
      reject(
        `${op} DRAM range [${a.first}, ${end - 1}] (${a.rows} rows of ${a.count / eb} x ${eb} bytes, stride ${a.stride}) is outside the ${limit}-byte DRAM`,
      );
    }
  }
}

export interface OpRules<I> {
  /** Every scratchpad and DRAM region the instruction reads or writes (checked against the buffers, and for races). */
  accesses(inst: I, m: Machine): readonly Access[];
  /** Legality beyond the field ranges and the accesses' bounds: window geometry, overlaps. */
  checkRanges(inst: I, m: Machine, reject: Reject): void;
}

export type OpSpec<D extends OpDef> = D & OpRules<InstructionFor<D>>;

/** One opcode: its table entry (types inferred literally, so fields become typed instruction properties) and rules. */
export function defineOp<const D extends OpDef>(def: D, rules: OpRules<InstructionFor<D>>): OpSpec<D> {
  return { ...def, ...rules };
}

/** Fixed-width field. */
export const bits = (n: number) => (): number => n;

/**
 * The fields of a 2-D strided DMA (LOAD, STORE): y_count rows of x_count
 * consecutive entries, SRAM entries consecutive from sram_addr, DRAM rows
 * dram_stride bytes apart.
 */
export function dmaFields<const Doc extends string>(sramAddrBits: (a: DerivedArch) => number, sramDoc: Doc) {
  return [
    { name: 'sram_addr', width: sramAddrBits, doc: sramDoc },
    { name: 'dram_addr', width: (a: DerivedArch) => a.dramAddrBits, doc: 'byte address of the first row' },
    { name: 'x_count', width: (a: DerivedArch) => a.dimBits, min: 1, doc: 'entries per row (contiguous in DRAM)' },
    { name: 'y_count', width: (a: DerivedArch) => a.dimBits, min: 1, doc: 'rows' },
    {
      name: 'dram_stride',
      width: (a: DerivedArch) => a.dramAddrBits,
      doc: 'bytes between the starts of consecutive rows in DRAM',
    },
  ] as const;
}

/** For opcodes with nothing to check beyond their fields and accesses. */
export const NO_RANGES = (): void => undefined;
/** For opcodes that touch no memory. */
export const NO_ACCESSES = (): readonly Access[] => [];

/** `OP what range [first, last] is outside the size-entry buffer`. */
export function outside(op: string, what: string, first: number, count: number, size: number): string {
  return `${op} ${what} range [${first}, ${first + count - 1}] is outside the ${size}-entry buffer`;
}

/** Reject when [first, first + count) does not fit a buffer of `size` entries. */
export function checkRange(reject: Reject, op: string, what: string, first: number, count: number, size: number): void {
  if (first + count > size) reject(outside(op, what, first, count, size));
}

/** Pool windows (REQUANT, POOL): out_h x out_w windows of pool_k, pool_s apart, must lie inside the in_h x in_w tile. */
export function checkWindows(
  reject: Reject,
  inst: { op: string; in_h: number; in_w: number; out_h: number; out_w: number; pool_k: number; pool_s: number },
): void {
  const needH = (inst.out_h - 1) * inst.pool_s + inst.pool_k;
  const needW = (inst.out_w - 1) * inst.pool_s + inst.pool_k;
  if (needH > inst.in_h || needW > inst.in_w) {
    reject(
      `${inst.op} windows need a ${needH}x${needW} input (out ${inst.out_h}x${inst.out_w}, pool_k ${inst.pool_k}, pool_s ${inst.pool_s}) but the tile is ${inst.in_h}x${inst.in_w}`,
    );
  }
}
