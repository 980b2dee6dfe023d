/**
 * Simulate a contiguous run of dataset images, batch by batch. Runs in the
 * main thread or in a worker (cli/sim-worker.ts); everything it returns is
 * plain data so it crosses the thread boundary.
 */
import { SimError } from '../arch/index.js';
import type { Program } from '../isa/index.js';
import type { SimApi, SimEngine, SimResult } from './engines.js';

export interface ChunkJob {
  program: Program;
  /** program for the last, partial batch (if the chunk ends with one) */
  tail: Program | undefined;
  engine: SimEngine;
  /** the chunk's images, count * imageSize values */
  inputs: Uint8Array;
  count: number;
}

export interface EnergyTotals {
  totalPj: number;
  byComponent: Record<string, number>;
  requantShiftPj: number;
  requantMultiplierPj: number;
}

export interface ChunkResult {
  /** count * outSize values (empty for the timing engine) */
  outputs: Int32Array;
  cycles: number;
  usefulMacs: number;
  /** cycles of one full batch (0 if the chunk has none) */
  batchCycles: number;
  /** undefined if any run had no energy estimate */
  energy: EnergyTotals | undefined;
}

function addEnergy(t: EnergyTotals, r: NonNullable<SimResult['energy']>): void {
  t.totalPj += r.totalPj;
  for (const [k, v] of Object.entries(r.byComponent)) t.byComponent[k] = (t.byComponent[k] ?? 0) + v;
  t.requantShiftPj += r.requant.shiftPj;
  t.requantMultiplierPj += r.requant.multiplierPj;
}

export function emptyEnergy(): EnergyTotals {
  return { totalPj: 0, byComponent: {}, requantShiftPj: 0, requantMultiplierPj: 0 };
}

export function mergeEnergy(into: EnergyTotals, e: EnergyTotals): void {
  into.totalPj += e.totalPj;
  for (const [k, v] of Object.entries(e.byComponent)) into.byComponent[k] = (into.byComponent[k] ?? 0) + v;
  into.requantShiftPj += e.requantShiftPj;
  into.requantMultiplierPj += e.requantMultiplierPj;
}

export function simulateChunk(
  sim: Pick<SimApi, 'simulate'>,
  job: ChunkJob,
  tick: (images: number) => void,
): ChunkResult {
  const { program, tail, engine, inputs, count } = job;
  const b = program.inputs[0]!.shape[0];
  const inDesc = program.inputs[0]!;
  const outDesc = program.outputs[0];
  if (!outDesc) throw new SimError('the compiled program has no output tensor', 'compiler');
  const imageSize = inDesc.shape[1] * inDesc.shape[2] * inDesc.shape[3];
  const outSize = outDesc.shape[1] * outDesc.shape[2] * outDesc.shape[3];
  const outputs = new Int32Array(engine === 'timing' ? 0 : count * outSize);
  const energy = emptyEnergy();
  let haveEnergy = true;
  let cycles = 0;
  let usefulMacs = 0;
  let batchCycles = 0;
  // A program's timing does not depend on its data: the timing engine runs each program once.
  const timingCache = new Map<Program, SimResult>();
  for (let first = 0; first < count; first += b) {
    const n = Math.min(b, count - first);
    const p = n === b ? program : tail;
    if (!p) throw new SimError(`internal: no program for a batch of ${n}`, 'simulator');
    let r: SimResult;
    if (engine === 'timing') {
      r = timingCache.get(p) ?? sim.simulate(p, { engine });
      timingCache.set(p, r);
    } else {
      r = sim.simulate(p, {
        engine,
        inputs: { [inDesc.name]: inputs.subarray(first * imageSize, (first + n) * imageSize) },
      });
      const out = r.outputs[outDesc.name];
      if (!out) throw new SimError(`the simulator returned no output '${outDesc.name}'`, 'simulator');
      outputs.set(out.subarray(0, n * outSize), first * outSize);
    }
    if (p === program) batchCycles = r.cycles;
    cycles += r.cycles;
    if (r.energy) addEnergy(energy, r.energy);
    else haveEnergy = false;
    usefulMacs += p.layers.reduce((s, l) => s + l.macs, 0);
    tick(n);
  }
  return { outputs, cycles, usefulMacs, batchCycles, energy: haveEnergy ? energy : undefined };
}
