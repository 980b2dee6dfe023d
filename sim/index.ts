/**
 * The nibble simulator: one timing model (docs/architecture.md), three engines.
 * Counters are documented in docs/simulator.md.
 */
export {
  simulate,
  estimateEnergy,
  scheduleProgram,
  DEFAULT_MAX_CYCLES,
  DEFAULT_MAX_CYCLES_CYCLE_ENGINE,
} from './simulate.js';
export type { Schedule } from './schedule.js';
export { UnitTimeline } from './timing.js';
export { SIM_OPS, instructionTiming } from './ops/index.js';
export type { Occupancy, OccupancyKind, SimOp } from './ops/index.js';
export type { Engine, SimOptions, SimResult } from './simulate.js';
export type { Counters, UnitCounters, SramCounters, LayerCounters } from './counters.js';
export { rooflineOf } from './roofline.js';
export type { Roofline, RooflineRow } from './roofline.js';
export type { CycleSnapshot, UnitState } from './cycle/index.js';
export type { Scratchpads } from './memory.js';
export { randomConfig, randomProgram } from './random-program.js';
export type { RandomProgramOptions } from './random-program.js';
export { REFUSAL_KINDS, fuzzEngines, fuzzPrograms, refusalKind } from './engine-fuzz.js';
export type { Disagreement, FuzzOptions, FuzzReport, RefusalKind } from './engine-fuzz.js';
export { loadEnergyTable, validateEnergyTable, sramPjPerBit, DEFAULT_ENERGY_TABLE } from './energy.js';
export type { EnergyTable, EnergyReport, EnergyOptions } from './energy.js';
export { writeChromeTrace, writeVcd, vcdFromSnapshots } from './trace.js';
// the initial DRAM image exactly as the simulator builds it (co-simulation loads the same bytes into the RTL)
export { buildDram } from './memory.js';
export { prepareProgram } from './prepare.js';
export {
  estimateArea,
  loadAreaTable,
  validateAreaTable,
  sramBanking,
  scratchpadRams,
  SCRATCHPADS,
  logLogInterpolate,
  AREA_COMPONENTS,
  DEFAULT_AREA_TABLE,
} from './area.js';
export type { AreaTable, AreaReport, AreaComponent, Scratchpad, ScratchpadRams, SramBanking } from './area.js';
// the fast engine's WebAssembly GEMM kernel alone (the bench's ceiling section measures it)
export { newGemmKernel, type GemmKernel } from './kernels/gemm-kernel.js';
