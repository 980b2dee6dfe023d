/**
 * Reading figures out of a simulation result for printing and reports. Kept in
 * one place so the CLI follows the simulator's result shape in one file.
 */
import type { SimResult } from './engines.js';

export type EnergyReport = import('../sim/index.js').EnergyReport;

/** The energy estimate the simulator attaches to its result (sim/energy.ts). */
export function energyOf(r: SimResult): EnergyReport | undefined {
  return r.energy;
}

export function utilizationOf(r: SimResult): number {
  return r.counters.array.utilization;
}

export interface InstructionTimes {
  start: ArrayLike<number>;
  end: ArrayLike<number>;
}

/** Per-instruction start S and end E (docs/architecture.md section 2). */
export function perInstructionTimes(r: SimResult): InstructionTimes {
  return { start: r.start, end: r.end };
}
