/**
 * Reading figures out of a simulation result for printing and reports. Kept in
 * one place so the CLI follows the simulator's result shape in one file.
 */
import type { SimResultLike } from './engines.js';

export interface EnergyFigures {
  totalPj: number;
  byComponent: Record<string, number>;
  /** per program layer (index order), pJ */
  byLayer?: number[];
  /** requant energy: shift-based vs the multiplier-based counterfactual */
  requant?: { shiftPj: number; multiplierPj: number };
}

function numberAt(obj: unknown, ...path: string[]): number | undefined {
  let cur: unknown = obj;
  for (const k of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return typeof cur === 'number' && Number.isFinite(cur) ? cur : undefined;
}

export function energyOf(r: SimResultLike): EnergyFigures | undefined {
  const e = r['energy'] as Record<string, unknown> | undefined;
  if (!e || typeof e !== 'object') return undefined;
  const total = numberAt(e, 'totalPj') ?? numberAt(e, 'total');
  if (total === undefined) return undefined;
  const comp = (e['byComponent'] ?? e['components']) as Record<string, number> | undefined;
  return { totalPj: total, byComponent: comp ?? {} };
}

export function utilizationOf(r: SimResultLike): number | undefined {
  return numberAt(r.counters, 'utilization') ?? numberAt(r.counters, 'array', 'utilization');
}

export interface InstructionTimes {
  start: ArrayLike<number>;
  end: ArrayLike<number>;
}

/** Per-instruction start S and end E (docs/architecture.md section 2), if the result has them. */
export function perInstructionTimes(r: SimResultLike): InstructionTimes | undefined {
  const src = (r['perInstruction'] as Record<string, unknown> | undefined) ?? r;
  const start = (src['start'] ?? src['S']) as ArrayLike<number> | undefined;
  const end = (src['end'] ?? src['E']) as ArrayLike<number> | undefined;
  if (!start || !end || typeof start.length !== 'number') return undefined;
  return { start, end };
}
