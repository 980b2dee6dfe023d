/**
 * Reading figures out of a simulation result for printing and reports. Kept in
 * one place so the CLI follows the simulator's result shape in one file.
 */
import type { SimResult } from './engines.js';

export interface EnergyFigures {
  totalPj: number;
  byComponent: Record<string, number>;
  /** per program layer (index order), pJ */
  byLayer?: number[];
  /** requant energy: shift-based vs the multiplier-based counterfactual */
  requant?: { shiftPj: number; multiplierPj: number };
}

/** Energy of a run, when the simulator attached an energy estimate to its result. */
export function energyOf(r: SimResult): EnergyFigures | undefined {
  const e = (r as unknown as Record<string, unknown>)['energy'] as Record<string, unknown> | undefined;
  if (!e || typeof e !== 'object') return undefined;
  const total = e['totalPj'];
  if (typeof total !== 'number') return undefined;
  return { totalPj: total, byComponent: (e['byComponent'] as Record<string, number> | undefined) ?? {} };
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
