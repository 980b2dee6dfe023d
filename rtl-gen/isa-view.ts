/**
 * Every fact about the instruction word and the memory images that the RTL
 * needs, read from the ISA's one definition (isa/index.ts) rather than retyped:
 * field positions from isaLayout, opcodes and units from OPS, enumerations
 * from the fields' enumNames, header flag positions and the PARAM lane layout
 * measured on the ISA's own encoder and packer (so they cannot drift from it).
 */
import type { ArchConfig, DerivedArch } from '../arch/index.js';
import {
  BUFFER_NAMES,
  DEP_FLAG_NAMES,
  INSTRUCTION_BITS,
  MNEMONICS,
  OPS,
  TOKEN_CHANNELS,
  TOKEN_COUNTER_MAX,
  UNITS,
  encodeInstruction,
  isaLayout,
  packParamEntry,
  tokenChannel,
  type FieldLayout,
  type Instruction,
  type LoadBuffer,
  type Mnemonic,
  type OpLayout,
  type TokenChannel,
  type Unit,
} from '../isa/index.js';
import { BitFields, type BitField } from './emit/fields.js';

export type DepFlag = (typeof DEP_FLAG_NAMES)[number];

/** A contiguous bit range. */
export interface BitRange {
  readonly lsb: number;
  readonly width: number;
}

/** Bits set in `a` xor `b` (little-endian bytes) as one contiguous range; throws if they are not contiguous. */
function differingBits(a: Uint8Array, b: Uint8Array, what: string): BitRange {
  const bits: number[] = [];
  for (let i = 0; i < a.length * 8; i++) if (((a[i >> 3]! ^ b[i >> 3]!) >> (i & 7)) & 1) bits.push(i);
  const lsb = bits[0];
  if (lsb === undefined || bits.some((x, k) => x !== lsb + k))
    throw new Error(`internal: the ${what} bits are not one contiguous range`);
  return { lsb, width: bits.length };
}

/** The PARAM lane layout, measured on packParamEntry: where bias and shift sit in one lane's bytes. */
function measureParamLane(laneBytes: number): { bias: BitRange; shift: BitRange } {
  const zero = new Uint8Array(laneBytes);
  packParamEntry([0], [0], 1, zero, 0);
  const bias = new Uint8Array(laneBytes);
  packParamEntry([-1], [0], 1, bias, 0);
  const shift = new Uint8Array(laneBytes);
  packParamEntry([0], [-1], 1, shift, 0);
  return { bias: differingBits(zero, bias, 'PARAM bias'), shift: differingBits(zero, shift, 'PARAM shift') };
}

/** Header flag positions, measured on encodeInstruction (a compute-unit NOP may carry every flag). */
function measureFlags(cfg: ArchConfig): Record<DepFlag, number> {
  const unit = (OPS.NOP.fields[0].enumNames as readonly string[]).indexOf('compute');
  const nop = (flags: Partial<Record<DepFlag, 0 | 1>>): Instruction =>
    ({ op: 'NOP', pop_prev: 0, pop_next: 0, push_prev: 0, push_next: 0, unit, ...flags }) as Instruction;
  const base = encodeInstruction(nop({}), cfg);
  const out = {} as Record<DepFlag, number>;
  for (const f of DEP_FLAG_NAMES) {
    const r = differingBits(base, encodeInstruction(nop({ [f]: 1 }), cfg), `header flag ${f}`);
    if (r.width !== 1) throw new Error(`internal: header flag ${f} is ${r.width} bits`);
    out[f] = r.lsb;
  }
  return out;
}

/** Where a dispatched instruction goes (fetch's target code = index in this list). */
export const TARGETS = [...UNITS, 'halt', 'illegal'] as const;
export type Target = (typeof TARGETS)[number];

export class IsaView {
  /** instruction word bits */
  readonly wordBits = INSTRUCTION_BITS;
  readonly opcode: BitRange;
  readonly flags: Record<DepFlag, number>;
  readonly layouts: ReadonlyMap<Mnemonic, OpLayout>;
  readonly paramLane: { bytes: number; bias: BitRange; shift: BitRange };
  /** token counters hold 0..tokenMax */
  readonly tokenMax = TOKEN_COUNTER_MAX;
  readonly channels: readonly TokenChannel[] = TOKEN_CHANNELS;

  constructor(cfg: ArchConfig, arch: DerivedArch, layouts?: ReadonlyMap<Mnemonic, OpLayout>) {
    this.layouts = layouts ?? isaLayout(arch);
    this.flags = measureFlags(cfg);
    // the opcode is the header below the lowest flag bit
    this.opcode = { lsb: 0, width: Math.min(...Object.values(this.flags)) };
    for (const m of MNEMONICS)
      if (OPS[m].opcode >= 2 ** this.opcode.width)
        throw new Error(`internal: opcode ${OPS[m].opcode} of ${m} does not fit ${this.opcode.width} bits`);
    const laneBytes = arch.paramEntryBytes / arch.n;
    this.paramLane = { bytes: laneBytes, ...measureParamLane(laneBytes) };
  }

  field(op: Mnemonic, name: string): FieldLayout {
    const f = this.layouts.get(op)!.fields.find((x) => x.name === name);
    if (!f) throw new Error(`internal: ${op} has no field '${name}'`);
    return f;
  }

  width(op: Mnemonic, name: string): number {
    return this.field(op, name).width;
  }

  opcodeOf(op: Mnemonic): number {
    return OPS[op].opcode;
  }

  /** The dispatch target of an opcode ('field': NOP names its unit in a field). */
  targetOf(op: Mnemonic): Target | 'field' {
    return OPS[op].unit;
  }

  /** The code a unit has in NOP's `unit` field. */
  nopUnitCode(u: Unit): number {
    const names = this.field('NOP', 'unit').enumNames!;
    const code = names.indexOf(u);
    if (code < 0) throw new Error(`internal: NOP.unit has no code for ${u}`);
    return code;
  }

  /** The code of a LOAD destination in the `buf` field. */
  bufferCode(b: LoadBuffer): number {
    const code = this.field('LOAD', 'buf').enumNames!.indexOf(b);
    if (code < 0) throw new Error(`internal: LOAD.buf has no code for ${b}`);
    return code;
  }

  readonly buffers: readonly LoadBuffer[] = BUFFER_NAMES;

  /** The channel a unit pops or pushes with a header flag (undefined: the unit has no such neighbour). */
  channel(u: Unit, flag: DepFlag): TokenChannel | undefined {
    return tokenChannel(u, flag);
  }

  /** The flags a unit may carry (those with a channel). */
  unitFlags(u: Unit): DepFlag[] {
    return DEP_FLAG_NAMES.filter((f) => tokenChannel(u, f) !== undefined);
  }

  /**
   * One opcode's view of a queue entry (`idxBits` of instruction index above the
   * word): the opcode, the header flags, the op's fields and the index.
   */
  entryView(op: Mnemonic, idxBits: number): BitFields<string> {
    const fields: BitField<string>[] = [
      { name: 'opcode', ...this.opcode },
      ...DEP_FLAG_NAMES.map((f) => ({ name: f, lsb: this.flags[f], width: 1 })),
      ...this.layouts.get(op)!.fields.map((f) => ({ name: f.name, lsb: f.lsb, width: f.width })),
      { name: 'idx', lsb: this.wordBits, width: idxBits },
    ];
    return BitFields.at(fields, this.wordBits + idxBits);
  }
}
