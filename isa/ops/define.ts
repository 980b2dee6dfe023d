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

/** DRAM bytes [first, end) a DMA instruction touches, and their shape for messages. */
export interface DramSpan {
  first: number;
  end: number;
  shape: () => string;
}

export interface OpRules<I> {
  /** Legality beyond the field ranges: every scratchpad range the instruction can touch, window geometry. */
  checkRanges(inst: I, m: Machine, reject: Reject): void;
  /** DMA: the DRAM bytes it reads or writes (checked against dram.sizeBytes, sizing the DRAM image); others: undefined. */
  dramSpan(inst: I, m: Machine): DramSpan | undefined;
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

/** For opcodes with nothing to check beyond their fields. */
export const NO_RANGES = (): void => undefined;
export const NO_DRAM = (): undefined => undefined;

/** `OP what range [first, last] is outside the size-entry buffer`. */
export function outside(op: string, what: string, first: number, count: number, size: number): string {
  return `${op} ${what} range [${first}, ${first + count - 1}] is outside the ${size}-entry buffer`;
}

/** Reject when [first, first + count) does not fit a buffer of `size` entries. */
export function checkRange(reject: Reject, op: string, what: string, first: number, count: number, size: number): void {
  if (first + count > size) reject(outside(op, what, first, count, size));
}

/** The DRAM bytes of a 2-D DMA: y_count rows of x_count entries of `entryBytes`, rows dram_stride apart. */
export function dmaSpan(
  inst: { dram_addr: number; dram_stride: number; x_count: number; y_count: number },
  entryBytes: number,
): DramSpan {
  return {
    first: inst.dram_addr,
    end: inst.dram_addr + (inst.y_count - 1) * inst.dram_stride + inst.x_count * entryBytes,
    shape: () => `${inst.y_count} rows of ${inst.x_count} x ${entryBytes} bytes, stride ${inst.dram_stride}`,
  };
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
