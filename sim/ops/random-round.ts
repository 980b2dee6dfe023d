/**
 * The state random program generation shares between the opcode modules'
 * generators (sim/ops/<op>.ts `random`): the program-wide DRAM layout and
 * buffer halves, and the round being built (its LOAD, COMPUTE and STORE
 * blocks and what earlier generators of the round chose). See
 * sim/random-program.ts for the round structure.
 */
import type { ArchConfig, DerivedArch } from '../../arch/index.js';
import { NO_FLAGS, type GemmInst, type Instruction, type NopInst, type TensorDescriptor } from '../../isa/index.js';

export type Rnd = () => number;

/** Where the round's last compute instruction leaves the tile the STORE block writes out. */
export interface OutTile {
  addr: number;
  h: number;
  w: number;
  signed: boolean;
}

export class RandomRound {
  // ---- program-wide
  readonly n: number;
  readonly sp: ArchConfig['scratchpad'];
  readonly inpHalf: number;
  readonly wgtHalf: number;
  readonly paramHalf: number;
  readonly outHalf: number;
  readonly outQuarter: number;
  /** per ACC entry: a bound on |value| after the GEMMs so far (keeps accumulation in range) */
  readonly accBound: Float64Array;
  /** next free DRAM byte (output tensors go here) */
  cursor = 0;
  readonly outputs: TensorDescriptor[] = [];
  /** filled by the program set-up */
  input!: { desc: TensorDescriptor; blocks: number; h: number; w: number };
  weights!: { addr: number; tiles: number };
  params!: { addr: number; count: number };

  // ---- the round being built
  r = 0;
  half = 0;
  load: Instruction[] = [];
  compute: Instruction[] = [];
  store: Instruction[] = [];
  /** the input tile: blocks and size, INP base */
  tile = { cbs: 1, h: 1, w: 1, inpBase: 0 };
  /** the GEMMs' output tile and ACC base, their WGT base, and the GEMMs */
  gemm = { outH: 1, outW: 1, accAddr: 0, wgtBase: 0, list: [] as GemmInst[], macs: 0 };
  /** PARAM entries loaded this round */
  param = { base: 0, count: 1 };
  out: OutTile = { addr: 0, h: 1, w: 1, signed: false };

  constructor(
    readonly rnd: Rnd,
    readonly cfg: ArchConfig,
    readonly a: DerivedArch,
    readonly maxDim: number,
    readonly nopRate: number,
  ) {
    this.n = a.n;
    this.sp = cfg.scratchpad;
    this.inpHalf = this.sp.inputEntries / 2;
    this.wgtHalf = this.sp.weightEntries / 2;
    this.paramHalf = this.sp.paramEntries >= 2 ? this.sp.paramEntries / 2 : 0;
    this.outHalf = this.sp.outputEntries / 2;
    this.outQuarter = this.outHalf / 2;
    this.accBound = new Float64Array(this.sp.accEntries);
  }

  /** Start round r: empty blocks; buffers double-buffered by round parity. */
  begin(r: number): void {
    this.r = r;
    this.half = r & 1;
    this.load = [];
    this.compute = [];
    this.store = [];
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rnd() * (hi - lo + 1));
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)]!;
  }

  nop(unit: number): NopInst {
    return { op: 'NOP', ...NO_FLAGS, unit };
  }

  /** With probability nopRate, a NOP on `unit` into `block`. */
  maybeNop(block: Instruction[], unit: number): void {
    if (this.rnd() < this.nopRate) block.push(this.nop(unit));
  }

  /** A random pool window on an ih x iw tile whose output fits `cap` entries. */
  poolWindow(ih: number, iw: number, cap: number): { k: number; s: number; oh: number; ow: number } {
    let k = this.int(1, Math.min(3, ih, iw));
    let s = this.int(1, 3);
    if (this.rnd() < 0.4) {
      k = 1;
      s = 1;
    }
    let oh = Math.floor((ih - k) / s) + 1;
    let ow = Math.floor((iw - k) / s) + 1;
    oh = this.int(Math.max(1, oh - 1), oh);
    while (oh * ow > cap) {
      if (ow > 1) ow--;
      else oh--;
    }
    return { k, s, oh, ow };
  }
}
