/** Compile a network once per batch size and simulate it over a whole dataset. */
import type { ArchConfig } from '../arch/config.js';
import { SimError } from '../arch/errors.js';
import type { Program } from '../isa/program.js';
import type { Network } from '../models/ir.js';
import { compileNetwork, simulator, type SimEngine, type SimResult } from './engines.js';
import { energyOf, utilizationOf, type EnergyReport } from './sim-figures.js';
import type { Terminal } from './terminal.js';

export interface DatasetSimulation {
  /** count * classes outputs (undefined for the timing engine, which moves no data) */
  outputs: Int32Array | undefined;
  figures: Record<string, unknown>;
  /** the full-batch program and one of its results, for reports */
  program: Program;
  lastResult: SimResult;
}

export async function simulateDataset(
  term: Terminal,
  net: Network,
  cfg: ArchConfig,
  inputs: Uint8Array,
  count: number,
  batch: number,
  engine: SimEngine,
): Promise<DatasetSimulation> {
  const feature = `simulating a model`;
  const sim = await simulator(feature);
  const b = Math.min(batch, count);
  const program = await compileNetwork(net, cfg, b, feature);
  const remainder = count % b;
  const tail = remainder > 0 ? await compileNetwork(net, cfg, remainder, feature) : undefined;
  const inDesc = program.inputs[0];
  const outDesc = program.outputs[0];
  if (!inDesc || !outDesc) throw new SimError('the compiled program has no input or output tensor', 'compiler');
  const imageSize = inDesc.shape[1] * inDesc.shape[2] * inDesc.shape[3];
  const outSize = outDesc.shape[1] * outDesc.shape[2] * outDesc.shape[3];

  let cycles = 0;
  const energy: EnergyTotals = { totalPj: 0, byComponent: {}, requantShiftPj: 0, requantMultiplierPj: 0 };
  let haveEnergy = true;
  let usefulMacs = 0;
  let fullBatchCycles = 0;
  let lastResult: SimResult | undefined;
  const outputs = engine === 'timing' ? undefined : new Int32Array(count * outSize);
  const bar = term.progress(`simulating (${engine})`, count);
  const t0 = performance.now();
  // The timing of a program does not depend on its data: with the timing
  // engine each distinct program is simulated once and its figures reused.
  const timingCache = new Map<Program, SimResult>();
  for (let first = 0; first < count; first += b) {
    const n = Math.min(b, count - first);
    const p = n === b ? program : tail!;
    let r: SimResult;
    if (engine === 'timing') {
      r = timingCache.get(p) ?? sim.simulate(p, { engine });
      timingCache.set(p, r);
    } else {
      const slice = inputs.subarray(first * imageSize, (first + n) * imageSize);
      r = sim.simulate(p, { engine, inputs: { [inDesc.name]: slice } });
      const out = r.outputs?.[outDesc.name];
      if (!out) throw new SimError(`the simulator returned no output '${outDesc.name}'`, 'simulator');
      outputs!.set(out.subarray(0, n * outSize), first * outSize);
    }
    if (p === program) {
      fullBatchCycles = r.cycles;
      lastResult = r;
    }
    cycles += r.cycles;
    const e = energyOf(r);
    if (e === undefined) haveEnergy = false;
    else addEnergy(energy, e);
    usefulMacs += p.layers.reduce((s, l) => s + l.macs, 0);
    bar.tick(n);
  }
  bar.stop();
  const n = cfg.array.rows;
  const figures: Record<string, unknown> = {
    engine,
    batch: b,
    clockMHz: cfg.clockMHz,
    instructions: program.code.length,
    cycles,
    batchCycles: fullBatchCycles,
    cyclesPerInference: cycles / count,
    latencyUs: fullBatchCycles / cfg.clockMHz,
    inferencesPerSecond: (count * cfg.clockMHz * 1e6) / cycles,
    macsPerInference: usefulMacs / count,
    utilization: utilizationOf(lastResult!) ?? usefulMacs / (cycles * n * n),
    ...(haveEnergy ? energyFigures(energy, count, usefulMacs, cycles, cfg.clockMHz) : {}),
    seconds: (performance.now() - t0) / 1000,
  };
  return { outputs, figures, program, lastResult: lastResult! };
}

/** Energy figures of a dataset run: totals, per inference, and the per-inference breakdown. */
function energyFigures(e: EnergyTotals, count: number, usefulMacs: number, cycles: number, clockMHz: number) {
  const per = (x: number) => x / count;
  return {
    energyUj: e.totalPj / 1e6,
    energyPerInferenceUj: e.totalPj / count / 1e6,
    pjPerMac: usefulMacs > 0 ? e.totalPj / usefulMacs : 0,
    topsPerWatt: e.totalPj > 0 ? (2 * usefulMacs) / e.totalPj : 0,
    averagePowerMw: cycles > 0 ? (e.totalPj / (cycles / clockMHz)) * 1e-3 : 0,
    energyPerInferenceByComponentPj: Object.fromEntries(Object.entries(e.byComponent).map(([k, v]) => [k, per(v)])),
    requantPerInference: { shiftPj: per(e.requantShiftPj), multiplierPj: per(e.requantMultiplierPj) },
  };
}

interface EnergyTotals {
  totalPj: number;
  byComponent: Record<string, number>;
  requantShiftPj: number;
  requantMultiplierPj: number;
}

function addEnergy(t: EnergyTotals, r: EnergyReport): void {
  t.totalPj += r.totalPj;
  for (const [k, v] of Object.entries(r.byComponent)) t.byComponent[k] = (t.byComponent[k] ?? 0) + v;
  t.requantShiftPj += r.requant.shiftPj;
  t.requantMultiplierPj += r.requant.multiplierPj;
}
