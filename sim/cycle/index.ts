/** The cycle engine (sim/cycle/engine.ts) and the signals it shows. */
export { runCycleEngine } from './engine.js';
export type { CycleRunOptions, CycleRunResult, CycleSnapshot, UnitState } from './engine.js';
