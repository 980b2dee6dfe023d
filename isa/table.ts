/**
 * THE instruction table. Encoder, decoder, assembler, disassembler, range
 * checks and docs/isa.md are all generated from this one definition; field
 * widths come from the ArchConfig via DerivedArch, so a bigger scratchpad
 * widens its address fields everywhere at once.
 *
 * Word layout (128 bits, little-endian bytes): bits [3:0] opcode, [4] pop_prev,
 * [5] pop_next, [6] push_prev, [7] push_next, then each field of the opcode's
 * list packed upward from bit 8 in table order. Unused high bits must be zero.
 */
import type { DerivedArch } from '../arch/index.js';
import { BUFFER_NAMES, UNITS, type DepFlags, type Unit } from './word.js';

export interface FieldDef {
  readonly name: string;
  /** width in bits, from the derived architecture */
  readonly width: (a: DerivedArch) => number;
  /** smallest legal value (default 0) */
  readonly min?: number;
  /** largest legal value beyond the width limit (e.g. stride <= 7) */
  readonly max?: (a: DerivedArch) => number;
  /** symbolic names for enumerated values, index = encoded value */
  readonly enumNames?: readonly string[];
  readonly doc: string;
}

export interface OpDef {
  readonly opcode: number;
  readonly mnemonic: string;
  /** unit whose queue the instruction goes to; 'halt' stops fetch; NOP names its unit in a field */
  readonly unit: Unit | 'field' | 'halt';
  readonly fields: readonly FieldDef[];
  readonly doc: string;
}

const w = (n: number) => () => n;

export const OPS = {
  NOP: {
    opcode: 0,
    mnemonic: 'NOP',
    unit: 'field',
    doc: 'Token-only instruction (SYNC): pops and pushes dependency tokens in the named unit, nothing else. 1 cycle.',
    fields: [{ name: 'unit', width: w(2), enumNames: UNITS, doc: 'unit that executes it' }],
  },
  LOAD: {
    opcode: 1,
    mnemonic: 'LOAD',
    unit: 'load',
    doc: '2-D strided DMA from DRAM into INP, WGT or PARAM: y_count rows of x_count consecutive entries; SRAM entries are written consecutively from sram_addr.',
    fields: [
      { name: 'buf', width: w(2), enumNames: BUFFER_NAMES, doc: 'destination scratchpad' },
      { name: 'sram_addr', width: (a) => a.sramAddrBits, doc: 'first destination entry' },
      { name: 'dram_addr', width: (a) => a.dramAddrBits, doc: 'byte address of the first row' },
      { name: 'x_count', width: (a) => a.dimBits, min: 1, doc: 'entries per row (contiguous in DRAM)' },
      { name: 'y_count', width: (a) => a.dimBits, min: 1, doc: 'rows' },
      {
        name: 'dram_stride',
        width: (a) => a.dramAddrBits,
        doc: 'bytes between the starts of consecutive rows in DRAM',
      },
    ],
  },
  STORE: {
    opcode: 2,
    mnemonic: 'STORE',
    unit: 'store',
    doc: '2-D strided DMA from OUT to DRAM: y_count rows of x_count consecutive entries read from sram_addr upward.',
    fields: [
      { name: 'sram_addr', width: (a) => a.outAddrBits, doc: 'first OUT entry' },
      { name: 'dram_addr', width: (a) => a.dramAddrBits, doc: 'byte address of the first row' },
      { name: 'x_count', width: (a) => a.dimBits, min: 1, doc: 'entries per row (contiguous in DRAM)' },
      { name: 'y_count', width: (a) => a.dimBits, min: 1, doc: 'rows' },
      {
        name: 'dram_stride',
        width: (a) => a.dramAddrBits,
        doc: 'bytes between the starts of consecutive rows in DRAM',
      },
    ],
  },
  GEMM: {
    opcode: 3,
    mnemonic: 'GEMM',
    unit: 'compute',
    doc:
      'Convolution tile on the systolic array: for cb < ci_blocks, kh < kernel_h, kw < kernel_w (one pass each, weight tile ' +
      '((cb*kernel_h+kh)*kernel_w+kw) at wgt_addr + tile*N), every output pixel (y, x) of out_h x out_w reads input ' +
      '(y*stride_h+kh-pad_top, x*stride_w+kw-pad_left) of the in_h x in_w tile of block cb (zero outside) and ' +
      'accumulates (a*w) << pshift into ACC[acc_addr + y*out_w + x]; the first pass overwrites unless accumulate=1.',
    fields: [
      { name: 'wgt_addr', width: (a) => a.wgtAddrBits, doc: 'WGT entry of the first weight tile (N entries per tile)' },
      { name: 'inp_addr', width: (a) => a.inpAddrBits, doc: 'INP entry of pixel (0,0) of input-channel block 0' },
      { name: 'acc_addr', width: (a) => a.accAddrBits, doc: 'ACC entry of output pixel (0,0)' },
      { name: 'in_h', width: (a) => a.dimBits, min: 1, doc: 'input tile height (rows in INP)' },
      { name: 'in_w', width: (a) => a.dimBits, min: 1, doc: 'input tile width (entries per INP row)' },
      { name: 'out_h', width: (a) => a.outDimBits, min: 1, doc: 'output pixels per column' },
      { name: 'out_w', width: (a) => a.outDimBits, min: 1, doc: 'output pixels per row' },
      { name: 'kernel_h', width: w(4), min: 1, doc: 'kernel height' },
      { name: 'kernel_w', width: w(4), min: 1, doc: 'kernel width' },
      { name: 'stride_h', width: w(3), min: 1, doc: 'vertical stride' },
      { name: 'stride_w', width: w(3), min: 1, doc: 'horizontal stride' },
      { name: 'pad_top', width: w(3), doc: 'zero rows above the tile' },
      { name: 'pad_left', width: w(3), doc: 'zero columns left of the tile' },
      { name: 'ci_blocks', width: w(8), min: 1, doc: 'input-channel blocks (each in_h*in_w INP entries, consecutive)' },
      { name: 'accumulate', width: w(1), doc: '1: add to ACC from the first pass; 0: first pass overwrites' },
      { name: 'act_signed', width: w(1), doc: "1: INP lanes are two's-complement signed; 0: unsigned" },
      { name: 'pshift', width: w(3), doc: 'product left shift (4 for the high-nibble pass of 8-bit inputs)' },
    ],
  },
  REQUANT: {
    opcode: 4,
    mnemonic: 'REQUANT',
    unit: 'compute',
    doc:
      'Shift-batch-norm requant with optional fused max pooling: for each output (y, x) of out_h x out_w, m = max of ' +
      'ACC over the pool_k x pool_k window at (y*pool_s, x*pool_s) of the in_h x in_w tile at acc_addr; per lane c, ' +
      'OUT[out_addr + y*out_w + x][c] = clamp(floor((m - bias[c]) / 2^shift[c]), lo, hi) with PARAM[param_addr].',
    fields: [
      { name: 'acc_addr', width: (a) => a.accAddrBits, doc: 'ACC entry of pixel (0,0) of the accumulator tile' },
      { name: 'out_addr', width: (a) => a.outAddrBits, doc: 'OUT entry of output pixel (0,0)' },
      { name: 'param_addr', width: (a) => a.paramAddrBits, doc: 'PARAM entry holding bias and shift of the N lanes' },
      { name: 'in_h', width: (a) => a.outDimBits, min: 1, doc: 'accumulator tile height' },
      { name: 'in_w', width: (a) => a.outDimBits, min: 1, doc: 'accumulator tile width' },
      { name: 'out_h', width: (a) => a.outDimBits, min: 1, doc: 'output height' },
      { name: 'out_w', width: (a) => a.outDimBits, min: 1, doc: 'output width' },
      { name: 'pool_k', width: w(2), min: 1, doc: 'pool window (1 = no pooling)' },
      { name: 'pool_s', width: w(2), min: 1, doc: 'pool stride' },
      { name: 'out_signed', width: w(1), doc: '1: clamp to [-(2^(b-1)-1), 2^(b-1)-1]; 0: [0, 2^b-1]' },
      {
        name: 'clamp_bits',
        width: w(4),
        min: 1,
        max: (a) => a.activationBits,
        doc: 'b: output width (<= activation bits)',
      },
    ],
  },
  POOL: {
    opcode: 5,
    mnemonic: 'POOL',
    unit: 'compute',
    doc: 'Max pooling of activations OUT -> OUT: dst[y*out_w+x] = max of the pool_k x pool_k window at (y*pool_s, x*pool_s) of the in_h x in_w tile at src_addr. Source and destination ranges must not overlap.',
    fields: [
      { name: 'src_addr', width: (a) => a.outAddrBits, doc: 'OUT entry of input pixel (0,0)' },
      { name: 'dst_addr', width: (a) => a.outAddrBits, doc: 'OUT entry of output pixel (0,0)' },
      { name: 'in_h', width: (a) => a.outDimBits, min: 1, doc: 'input tile height' },
      { name: 'in_w', width: (a) => a.outDimBits, min: 1, doc: 'input tile width' },
      { name: 'out_h', width: (a) => a.outDimBits, min: 1, doc: 'output height' },
      { name: 'out_w', width: (a) => a.outDimBits, min: 1, doc: 'output width' },
      { name: 'pool_k', width: w(2), min: 1, doc: 'pool window' },
      { name: 'pool_s', width: w(2), min: 1, doc: 'pool stride' },
      { name: 'act_signed', width: w(1), doc: '1: lanes are signed' },
    ],
  },
  HALT: {
    opcode: 6,
    mnemonic: 'HALT',
    unit: 'halt',
    doc: 'Stops fetch; the machine is done when every queue is empty and every unit idle.',
    fields: [],
  },
} as const satisfies Record<string, OpDef>;

export type Mnemonic = keyof typeof OPS;
export const MNEMONICS = Object.keys(OPS) as Mnemonic[];

type FieldNames<M extends Mnemonic> = (typeof OPS)[M]['fields'][number]['name'];

/** A decoded instruction: flat object, field names as in the table and the assembly text. */
export type InstructionOf<M extends Mnemonic> = { op: M } & DepFlags & { [K in FieldNames<M>]: number };

export type Instruction = { [M in Mnemonic]: InstructionOf<M> }[Mnemonic];

export type NopInst = InstructionOf<'NOP'>;
export type LoadInst = InstructionOf<'LOAD'>;
export type StoreInst = InstructionOf<'STORE'>;
export type GemmInst = InstructionOf<'GEMM'>;
export type RequantInst = InstructionOf<'REQUANT'>;
export type PoolInst = InstructionOf<'POOL'>;
export type HaltInst = InstructionOf<'HALT'>;

export const OP_BY_OPCODE: ReadonlyMap<number, OpDef & { mnemonic: Mnemonic }> = new Map(
  MNEMONICS.map((m) => [OPS[m].opcode, OPS[m] as OpDef & { mnemonic: Mnemonic }]),
);

/** The unit that executes an instruction (NOP: its `unit` field); undefined for HALT. */
export function unitOf(inst: Instruction): Unit | undefined {
  if (inst.op === 'NOP') return UNITS[inst.unit];
  const u = OPS[inst.op].unit;
  return u === 'halt' ? undefined : (u as Unit);
}
