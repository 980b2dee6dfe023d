/**
 * THE instruction table: the registry of the opcode modules in isa/ops/.
 * Encoder, decoder, assembler, disassembler, range checks and docs/isa.md are
 * all generated from it; field widths come from the ArchConfig via
 * DerivedArch, so a bigger scratchpad widens its address fields everywhere at
 * once. The word's fixed parts (header, enums, codecs) are in isa/word.ts.
 *
 * Word layout (128 bits, little-endian bytes): bits [3:0] opcode, [7:4] the
 * dependency flags (DEP_FLAG_BIT), then each field of the opcode's list
 * packed upward from bit 8 in table order. Unused high bits must be zero.
 *
 * Adding an opcode: write isa/ops/<op>.ts and list it here; the type checker
 * then asks for its engine behaviour in sim/ops/index.ts (docs/extending.md).
 */
import { GEMM } from './ops/gemm.js';
import { HALT } from './ops/halt.js';
import { LOAD } from './ops/load.js';
import { NOP } from './ops/nop.js';
import { POOL } from './ops/pool.js';
import { REQUANT } from './ops/requant.js';
import { STORE } from './ops/store.js';
import type { FieldValues, InstructionFor, OpDef, OpRules, OpUnit } from './ops/define.js';
import { UNITS, type Unit } from './word.js';

export type { Access, FieldDef, Machine, OpDef, OpUnit, Reject, Space } from './ops/define.js';

export const OPS = { NOP, LOAD, STORE, GEMM, REQUANT, POOL, HALT } as const;

export type Mnemonic = keyof typeof OPS;
/** The opcodes whose words go to queue `U` (rtl-gen's units list theirs with `satisfies Record<MnemonicOn<U>, ...>`). */
export type MnemonicOn<U extends OpUnit> = { [M in Mnemonic]: (typeof OPS)[M]['unit'] extends U ? M : never }[Mnemonic];
export const MNEMONICS = Object.keys(OPS) as Mnemonic[];

// Every key is its module's mnemonic (a mistyped key or mnemonic is a compile error).
type Check<T extends true> = T;
export type MnemonicsMatch = Check<
  { [M in Mnemonic]: (typeof OPS)[M]['mnemonic'] } extends { [M in Mnemonic]: M } ? true : false
>;

/** A decoded instruction: flat object, field names as in the table and the assembly text. */
export type InstructionOf<M extends Mnemonic> = InstructionFor<(typeof OPS)[M]>;
export type FieldsOf<M extends Mnemonic> = FieldValues<(typeof OPS)[M]>;

export type Instruction = { [M in Mnemonic]: InstructionOf<M> }[Mnemonic];

export type NopInst = InstructionOf<'NOP'>;
export type LoadInst = InstructionOf<'LOAD'>;
export type StoreInst = InstructionOf<'STORE'>;
export type GemmInst = InstructionOf<'GEMM'>;
export type RequantInst = InstructionOf<'REQUANT'>;
export type PoolInst = InstructionOf<'POOL'>;
export type HaltInst = InstructionOf<'HALT'>;

/** An opcode's table entry and rules, seen through the common interface. */
export type AnyOp = OpDef & { mnemonic: Mnemonic } & OpRules<Instruction>;

/** The module of an instruction's opcode (the rules then accept the instruction as it is). */
export function opOf(inst: Instruction): AnyOp {
  return OPS[inst.op] as unknown as AnyOp;
}

export const OP_BY_OPCODE: ReadonlyMap<number, AnyOp> = new Map(
  MNEMONICS.map((m) => [OPS[m].opcode, OPS[m] as unknown as AnyOp]),
);

/** The unit that executes an instruction (its `unit` field when the opcode names one there); undefined for HALT. */
export function unitOf(inst: Instruction): Unit | undefined {
  const u = opOf(inst).unit;
  if (u === 'field') return UNITS[(inst as { unit?: number }).unit ?? -1];
  return u === 'halt' ? undefined : u;
}

/** The instruction stops fetch (HALT). */
export function stopsFetch(inst: Instruction): boolean {
  return opOf(inst).unit === 'halt';
}
