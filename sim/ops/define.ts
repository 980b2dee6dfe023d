/**
 * What one opcode's engine module (sim/ops/<op>.ts) defines, next to its ISA
 * module (isa/ops/<op>.ts): its timing in the shared timing model, its data
 * effect in the fast engine, its behaviour in the cycle engine, the actions
 * it counts (SRAM, DRAM, array, requant, compares: counters and energy),
 * how random programs generate it, and its naive semantics (the tests'
 * oracle). The registry sim/ops/index.ts checks
 * that every opcode of the ISA table has all of them.
 */
import type { ArchConfig } from '../../arch/index.js';
import type { InstructionOf, Machine, Mnemonic } from '../../isa/index.js';
import type { FunctionalUnit } from '../execute.js';
import type { Scratchpads } from '../memory.js';
import type { NaiveMachine } from './naive.js';
import type { RandomRound } from './random-round.js';

/**
 * How an instruction occupies the machine (docs/architecture.md sections 5-7):
 *  - 'dma': the load or store unit, in order, for `cycles`, of which
 *    `dramWait` are the DRAM latency;
 *  - 'vector': the compute unit, after all earlier compute work, for `cycles`;
 *  - 'array': `passes` passes of `pixels` pixels through the array's
 *    preload / issue pipeline (overlapping earlier GEMMs);
 *  - 'fetch': nothing but its dispatch (HALT).
 */
export type OccupancyKind = 'dma' | 'vector' | 'array' | 'fetch';

export interface Occupancy {
  kind: OccupancyKind;
  cycles: number;
  dramWait: number;
  passes: number;
  pixels: number;
  /**
   * vector: the GEMM right after it may start while it runs (a REQUANT with
   * gemm_beside = 1, docs/architecture.md 7.3)
   */
  beside: boolean;
  /** array: its passes preload two weight rows a cycle (config fastPreload, a GEMM without tap packing; 7.2) */
  pairs: boolean;
}

export const occupancy = (
  kind: OccupancyKind,
  cycles: number,
  dramWait = 0,
  passes = 0,
  pixels = 0,
  beside = false,
  pairs = false,
): Occupancy => ({
  kind,
  cycles,
  dramWait,
  passes,
  pixels,
  beside,
  pairs,
});

/** Entry accesses an instruction makes (static: they depend only on its fields). */
export interface AccessCounts {
  sram: Record<'inp' | 'wgt' | 'param' | 'acc' | 'out', { reads: number; writes: number }>;
  dram: { readBytes: number; writeBytes: number };
  array: { passes: number; issueCycles: number };
}

/** Work outside the memories and the array, for the energy model. */
export interface LaneActions {
  /** requant lane evaluations (subtract, shift, clamp) */
  requantLanes: number;
  /** max comparisons of pooling */
  compares: number;
  /** bits written into the requant pipeline registers */
  pipelineRegisterBits: number;
}
export const NO_LANE_ACTIONS: Readonly<LaneActions> = Object.freeze({
  requantLanes: 0,
  compares: 0,
  pipelineRegisterBits: 0,
});

/** What the cycle engine's REQUANT / POOL unit needs to run a windowed vector instruction. */
export interface VectorBehaviour<I> {
  /** the buffer its windows read (one entry per cycle) */
  source: 'acc' | 'out';
  /** cycles before the first window read (REQUANT reads its PARAM entry first) */
  setup: number;
  /** cycles from a window's last data to its OUT write */
  latency(inst: I, cfg: ArchConfig): number;
  /** entries read, in window order, the window size, and the OUT entry window 0 is written to (then one per window) */
  windows(inst: I): { entries: Int32Array; size: number; outFirst: number };
  /** at the start: reads what the instruction needs once (counting it) and returns the lane functions */
  start(inst: I, ctx: VectorContext): VectorLanes;
}

export interface VectorContext {
  sp: Scratchpads;
  /** lanes of ACC / OUT / PARAM entries (array.cols) */
  lanes: number;
  activationBits: number;
  counters: AccessCounts;
}

export interface VectorLanes {
  /** a read entry's raw lane as the value the window max compares */
  lane(raw: number): number;
  /** a finished window's output lanes (raw bit patterns) from the per-lane maxima */
  output(max: Float64Array, out: Uint8Array): void;
}

/** The cycle engine unit that runs an instruction, and what it needs from the instruction's module. */
export type CycleBehaviour<I> =
  | { unit: 'token' } // NOP: one cycle on its unit, tokens only
  | { unit: 'dma-read' } // LOAD: the load unit and the DRAM read channel
  | { unit: 'dma-write' } // STORE: the store unit and the DRAM write channel
  | { unit: 'array' } // GEMM: preload, issue, the PE array, de-skew, ACC read-modify-write
  | { unit: 'vector'; vector: VectorBehaviour<I> } // REQUANT / POOL pipeline
  | { unit: 'fetch' }; // HALT

/** Random program generation, called once per round in each phase (sim/random-program.ts). */
export interface RandomGenerator {
  /** before any block: choose tiles and plan instructions */
  plan?(round: RandomRound): void;
  /** emit into the round's LOAD, COMPUTE or STORE block */
  load?(round: RandomRound): void;
  compute?(round: RandomRound): void;
  store?(round: RandomRound): void;
}

export interface SimOp<M extends Mnemonic> {
  /** the shared timing model's view of the instruction (sim/timing.ts) */
  timing(inst: InstructionOf<M>, m: Machine): Occupancy;
  /** the fast engine: the instruction's whole data effect at once */
  execute(fu: FunctionalUnit, i: number, inst: InstructionOf<M>): void;
  cycle: CycleBehaviour<InstructionOf<M>>;
  /** SRAM, DRAM and array accesses, added into `c` */
  access(inst: InstructionOf<M>, m: Machine, c: AccessCounts): void;
  /** requant and pooling work for the energy model */
  laneActions(inst: InstructionOf<M>, m: Machine): LaneActions;
  random: RandomGenerator;
  /** the tests' independent oracle: the instruction's data effect in plain loops (sim/ops/naive.ts) */
  naive(inst: InstructionOf<M>, m: NaiveMachine): void;
}

/** For instructions without data effect or accesses. */
export const NOTHING = (): void => undefined;
export const noLaneActions = (): LaneActions => NO_LANE_ACTIONS;

/** Entries of pooled windows in window order: out_h x out_w windows of pool_k x pool_k, pool_s apart, from `base`. */
export function windowEntries(
  inst: { in_w: number; out_h: number; out_w: number; pool_k: number; pool_s: number },
  base: number,
): Int32Array {
  const out = new Int32Array(inst.out_h * inst.out_w * inst.pool_k * inst.pool_k);
  let k = 0;
  for (let oy = 0; oy < inst.out_h; oy++)
    for (let ox = 0; ox < inst.out_w; ox++)
      for (let ky = 0; ky < inst.pool_k; ky++)
        for (let kx = 0; kx < inst.pool_k; kx++)
          out[k++] = base + (oy * inst.pool_s + ky) * inst.in_w + ox * inst.pool_s + kx;
  return out;
}

/** 2-D DMA beats: every entry costs ceil(entry bytes / bus bytes) beats. */
export function dmaBeats(entries: number, entryBytes: number, cfg: ArchConfig): number {
  return entries * Math.ceil(entryBytes / cfg.dram.busBytes);
}
