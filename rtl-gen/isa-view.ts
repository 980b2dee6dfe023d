/**
 * Every fact about the instruction word and the memory images that the RTL
 * needs, read from the ISA's one definition rather than retyped: the word's
 * fixed parts (header flag bits, unit and buffer codes, token channels, PARAM
 * lane layout, clamp bounds) from isa/word.ts, field positions from
 * isaLayout, opcodes and units from the opcode table.
 */
import type { DerivedArch } from '../arch/index.js';
import {
  BUFFER_NAMES,
  DEP_FLAG_BIT,
  DEP_FLAG_NAMES,
  INSTRUCTION_BITS,
  MNEMONICS,
  OPCODE_BITS,
  OPS,
  PARAM_BIAS_BITS,
  PARAM_BIAS_BYTE,
  PARAM_LANE_BYTES,
  PARAM_SHIFT_BITS,
  PARAM_SHIFT_BYTE,
  TOKEN_CHANNELS,
  TOKEN_COUNTER_MAX,
  UNITS,
  isaLayout,
  requantClampRange,
  tokenChannel,
  type DepFlagName,
  type FieldLayout,
  type LoadBuffer,
  type Mnemonic,
  type OpLayout,
  type TokenChannel,
  type Unit,
} from '../isa/index.js';
import { BitFields, type BitField } from './emit/fields.js';

export type DepFlag = DepFlagName;

/** A contiguous bit range. */
export interface BitRange {
  readonly lsb: number;
  readonly width: number;
}

/** Where a dispatched instruction goes (fetch's target code = index in this list). */
export const TARGETS = [...UNITS, 'halt', 'illegal'] as const;
export type Target = (typeof TARGETS)[number];

export class IsaView {
  /** instruction word bits */
  readonly wordBits = INSTRUCTION_BITS;
  readonly opcode: BitRange;
  readonly flags: Readonly<Record<DepFlag, number>>;
  readonly layouts: ReadonlyMap<Mnemonic, OpLayout>;
  readonly paramLane: { bytes: number; bias: BitRange; shift: BitRange };
  /** token counters hold 0..tokenMax */
  readonly tokenMax = TOKEN_COUNTER_MAX;
  readonly channels: readonly TokenChannel[] = TOKEN_CHANNELS;

  constructor(arch: DerivedArch, layouts?: ReadonlyMap<Mnemonic, OpLayout>) {
    this.layouts = layouts ?? isaLayout(arch);
    this.flags = DEP_FLAG_BIT;
    this.opcode = { lsb: 0, width: OPCODE_BITS };
    for (const m of MNEMONICS)
      if (OPS[m].opcode >= 2 ** this.opcode.width)
        throw new Error(`internal: opcode ${OPS[m].opcode} of ${m} does not fit ${this.opcode.width} bits`);
    this.paramLane = {
      bytes: PARAM_LANE_BYTES,
      bias: { lsb: 8 * PARAM_BIAS_BYTE, width: PARAM_BIAS_BITS },
      shift: { lsb: 8 * PARAM_SHIFT_BYTE, width: PARAM_SHIFT_BITS },
    };
  }

  /** The widest clamp bounds REQUANT can ask for: clamp_bits up to its legal maximum, signed or not. */
  clampBounds(): { lo: number; hi: number } {
    const most = this.field('REQUANT', 'clamp_bits').max;
    return { lo: requantClampRange(true, most).lo, hi: requantClampRange(false, most).hi };
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

  /** The code a unit has in NOP's `unit` field (isa/word.ts: its index in UNITS). */
  nopUnitCode(u: Unit): number {
    return UNITS.indexOf(u);
  }

  /** The code of a LOAD destination in the `buf` field (isa/word.ts: its index in BUFFER_NAMES). */
  bufferCode(b: LoadBuffer): number {
    return BUFFER_NAMES.indexOf(b);
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
