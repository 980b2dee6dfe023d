/**
 * The engine side of every opcode: one module per opcode (sim/ops/<op>.ts),
 * listed here. The `satisfies` clause makes a missing opcode, or a module
 * missing a piece (timing, execution, cycle behaviour, counters, energy,
 * random generation), a compile error. Registry order is the order in which
 * random program generation calls the generators within a phase.
 */
import type { Instruction, Machine, Mnemonic } from '../../isa/index.js';
import type { SimOp } from './define.js';
import { GEMM_SIM } from './gemm.js';
import { HALT_SIM } from './halt.js';
import { LOAD_SIM } from './load.js';
import { NOP_SIM } from './nop.js';
import { POOL_SIM } from './pool.js';
import { REQUANT_SIM } from './requant.js';
import { STORE_SIM } from './store.js';

export const SIM_OPS = {
  NOP: NOP_SIM,
  LOAD: LOAD_SIM,
  STORE: STORE_SIM,
  GEMM: GEMM_SIM,
  REQUANT: REQUANT_SIM,
  POOL: POOL_SIM,
  HALT: HALT_SIM,
} as const satisfies { [M in Mnemonic]: SimOp<M> };

/** An opcode's engine module seen through the common interface (each module accepts its own instructions). */
export function simOpOf(inst: Instruction): SimOp<Mnemonic> {
  return SIM_OPS[inst.op] as unknown as SimOp<Mnemonic>;
}

/** The timing model's view of an instruction (sim/timing.ts). */
export function instructionTiming(inst: Instruction, m: Machine): ReturnType<SimOp<Mnemonic>['timing']> {
  return simOpOf(inst).timing(inst as never, m);
}

export type {
  AccessCounts,
  CycleBehaviour,
  LaneActions,
  Occupancy,
  OccupancyKind,
  RandomGenerator,
  SimOp,
  VectorBehaviour,
  VectorContext,
  VectorLanes,
} from './define.js';
export { gemmInpReads, pairPreloads } from './gemm.js';
