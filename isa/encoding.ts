/**
 * Table-driven encoder and decoder for the 128-bit instruction word (layout in
 * isa/table.ts). Every field is range-checked against the config on encode and
 * on decode, so a word the hardware would misread never gets through.
 */
import { ConfigError, deriveArch, type ArchConfig, type DerivedArch, IsaError } from '../arch/index.js';
import { OP_BY_OPCODE, OPS, unitOf, type FieldDef, type Instruction, type Mnemonic, type OpDef } from './table.js';
import {
  DEP_FLAG_BIT,
  DEP_FLAG_NAMES,
  HEADER_BITS,
  INSTRUCTION_BITS,
  INSTRUCTION_BYTES,
  OPCODE_MASK,
  depFlagError,
} from './word.js';

export interface FieldLayout {
  name: string;
  lsb: number;
  width: number;
  min: number;
  max: number;
  enumNames?: readonly string[];
  doc: string;
}

export interface OpLayout {
  mnemonic: Mnemonic;
  opcode: number;
  fields: FieldLayout[];
  usedBits: number;
}

/**
 * Bit positions of every field of every opcode for one config. Throws
 * ConfigError if an opcode no longer fits the word: address and dimension
 * widths grow with the scratchpad depths and dram.sizeBytes.
 */
export function isaLayout(cfgOrDerived: ArchConfig | DerivedArch): Map<Mnemonic, OpLayout> {
  const a = 'gemmDepth' in cfgOrDerived ? cfgOrDerived : deriveArch(cfgOrDerived);
  const out = new Map<Mnemonic, OpLayout>();
  for (const [mn, def] of Object.entries(OPS) as [Mnemonic, OpDef][]) {
    let lsb = HEADER_BITS;
    const fields: FieldLayout[] = [];
    for (const f of def.fields as readonly FieldDef[]) {
      const width = f.width(a);
      const widthMax = 2 ** width - 1;
      const max = f.enumNames ? f.enumNames.length - 1 : Math.min(widthMax, f.max ? f.max(a) : widthMax);
      fields.push({
        name: f.name,
        lsb,
        width,
        min: f.min ?? 0,
        max,
        ...(f.enumNames ? { enumNames: f.enumNames } : {}),
        doc: f.doc,
      });
      lsb += width;
    }
    if (lsb > INSTRUCTION_BITS) {
      const wide = fields
        .filter((f) => f.width > 8)
        .map((f) => `${f.name} ${f.width}`)
        .join(', ');
      throw new ConfigError(
        `${mn} needs ${lsb} bits but the instruction word has ${INSTRUCTION_BITS} (wide fields: ${wide}): ` +
          'shrink the scratchpad depths (they set the address and tile-dimension widths) or dram.sizeBytes',
        'config.scratchpad',
      );
    }
    out.set(mn, { mnemonic: mn, opcode: def.opcode, fields, usedBits: lsb });
  }
  return out;
}

const layoutCache = new WeakMap<object, Map<Mnemonic, OpLayout>>();
function cachedLayout(cfg: ArchConfig): Map<Mnemonic, OpLayout> {
  let l = layoutCache.get(cfg);
  if (!l) {
    l = isaLayout(cfg);
    layoutCache.set(cfg, l);
  }
  return l;
}

/** The keys an instruction of a layout may have, built once per layout. */
const knownKeys = new WeakMap<OpLayout, Set<string>>();

function knownKeysOf(layout: OpLayout): Set<string> {
  let known = knownKeys.get(layout);
  if (!known) {
    known = new Set<string>(['op', ...DEP_FLAG_NAMES, ...layout.fields.map((f) => f.name)]);
    knownKeys.set(layout, known);
  }
  return known;
}

/** Check an instruction's fields against the table and config; throws IsaError naming `where` and the field. */
export function checkInstruction(inst: Instruction, cfg: ArchConfig, where = 'instruction'): void {
  const layout = cachedLayout(cfg).get(inst.op as Mnemonic);
  if (!layout) throw new IsaError(`unknown operation '${String((inst as { op: unknown }).op)}'`, where);
  const rec = inst as unknown as Record<string, unknown>;
  for (const flag of DEP_FLAG_NAMES) {
    const v = rec[flag];
    if (v !== 0 && v !== 1) throw new IsaError(`${inst.op}: ${flag} must be 0 or 1, got ${JSON.stringify(v)}`, where);
  }
  const known = knownKeysOf(layout);
  for (const k of Object.keys(rec)) {
    if (!known.has(k)) throw new IsaError(`${inst.op} has no field '${k}'`, where);
  }
  for (const f of layout.fields) {
    const v = rec[f.name];
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw new IsaError(`${inst.op}.${f.name} must be an integer, got ${JSON.stringify(v)}`, where);
    }
    if (v < f.min || v > f.max) {
      throw new IsaError(
        `${inst.op}.${f.name} = ${v} is out of range [${f.min}, ${f.max}] (${f.width}-bit field)`,
        where,
      );
    }
  }
  const unit = unitOf(inst);
  for (const flag of DEP_FLAG_NAMES) {
    const problem = inst[flag] ? depFlagError(inst.op, unit, flag) : undefined;
    if (problem) throw new IsaError(problem, where);
  }
}

/** Encode one instruction into 16 little-endian bytes. */
export function encodeInstruction(inst: Instruction, cfg: ArchConfig, where?: string): Uint8Array {
  checkInstruction(inst, cfg, where);
  const layout = cachedLayout(cfg).get(inst.op)!;
  let word = BigInt(layout.opcode);
  for (const flag of DEP_FLAG_NAMES) word |= BigInt(inst[flag]) << BigInt(DEP_FLAG_BIT[flag]);
  const rec = inst as unknown as Record<string, number>;
  for (const f of layout.fields) word |= BigInt(rec[f.name]!) << BigInt(f.lsb);
  const bytes = new Uint8Array(INSTRUCTION_BYTES);
  for (let i = 0; i < INSTRUCTION_BYTES; i++) {
    bytes[i] = Number(word & 0xffn);
    word >>= 8n;
  }
  return bytes;
}

/** Decode 16 bytes at `offset`. Throws IsaError (naming `where`) for an illegal opcode, out-of-range field or non-zero unused bits. */
export function decodeInstruction(
  bytes: Uint8Array,
  cfg: ArchConfig,
  offset = 0,
  where = `byte ${offset}`,
): Instruction {
  if (offset < 0 || offset + INSTRUCTION_BYTES > bytes.length) {
    throw new IsaError(
      `truncated instruction: need ${INSTRUCTION_BYTES} bytes, have ${Math.max(0, bytes.length - offset)}`,
      where,
    );
  }
  let word = 0n;
  for (let i = INSTRUCTION_BYTES - 1; i >= 0; i--) word = (word << 8n) | BigInt(bytes[offset + i]!);
  const opcode = Number(word & BigInt(OPCODE_MASK));
  const def = OP_BY_OPCODE.get(opcode);
  if (!def) throw new IsaError(`illegal opcode ${opcode}`, where);
  const layout = cachedLayout(cfg).get(def.mnemonic)!;
  const entries: [string, number | string][] = [['op', def.mnemonic]];
  for (const flag of DEP_FLAG_NAMES) entries.push([flag, Number((word >> BigInt(DEP_FLAG_BIT[flag])) & 1n)]);
  for (const f of layout.fields)
    entries.push([f.name, Number((word >> BigInt(f.lsb)) & ((1n << BigInt(f.width)) - 1n))]);
  if (word >> BigInt(layout.usedBits) !== 0n) {
    throw new IsaError(`${def.mnemonic}: unused bits [127:${layout.usedBits}] must be zero`, where);
  }
  // Built in one go, not by growing a five-property literal with ~20 keyed stores: that put V8's object in
  // dictionary mode, and every engine loop over a decoded program ran 5-10x slower than over the compiler's
  // objects (and slowed other programs in the same process). Object.fromEntries gives a fast-mode object,
  // one hidden class per opcode.
  const inst = Object.fromEntries(entries) as unknown as Instruction;
  checkInstruction(inst, cfg, where);
  return inst;
}

/** Encode a whole program's code section. */
export function encodeProgramCode(code: readonly Instruction[], cfg: ArchConfig): Uint8Array {
  const out = new Uint8Array(code.length * INSTRUCTION_BYTES);
  code.forEach((inst, i) => out.set(encodeInstruction(inst, cfg, `instruction ${i}`), i * INSTRUCTION_BYTES));
  return out;
}

export function decodeProgramCode(bytes: Uint8Array, cfg: ArchConfig): Instruction[] {
  if (bytes.length % INSTRUCTION_BYTES !== 0) {
    throw new IsaError(`code section is ${bytes.length} bytes, not a multiple of ${INSTRUCTION_BYTES}`, 'code');
  }
  const out: Instruction[] = [];
  for (let i = 0; i < bytes.length / INSTRUCTION_BYTES; i++) {
    out.push(decodeInstruction(bytes, cfg, i * INSTRUCTION_BYTES, `instruction ${i}`));
  }
  return out;
}
