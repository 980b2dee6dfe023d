/**
 * Compile a network once per batch size and simulate it over a whole dataset;
 * large runs are split across worker threads (one chunk of whole batches each).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ArchConfig } from '../arch/index.js';
import { SimError } from '../arch/index.js';
import type { Program } from '../isa/index.js';
import type { Network } from '../models/index.js';
import { compiler, simulator, type SimEngine } from './engines.js';
import {
  emptyEnergy,
  mergeEnergy,
  simulateChunk,
  type ChunkJob,
  type ChunkResult,
  type EnergyTotals,
} from './sim-chunk.js';
import type { Terminal } from './terminal.js';

export interface DatasetSimulation {
  /** count * classes outputs (undefined for the timing engine, which moves no data) */
  outputs: Int32Array | undefined;
  figures: Record<string, unknown>;
  /** the full-batch program */
  program: Program;
}

/** Below this many images a worker's start-up (loading the simulator) is not worth it. */
const MIN_IMAGES_PER_WORKER = 250;

function workerCount(images: number, engine: SimEngine): number {
  const env = Number(process.env['NIBBLE_WORKERS']);
  const cores = Number.isInteger(env) && env >= 1 ? env : Math.min(availableParallelism(), 8);
  if (engine === 'timing') return 1;
  return Math.max(1, Math.min(cores, Math.floor(images / MIN_IMAGES_PER_WORKER)));
}

function runWorker(job: ChunkJob, tick: (n: number) => void): Promise<ChunkResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./sim-worker.js', import.meta.url), { workerData: job });
    w.on(
      'message',
      (m: { tick?: number; done?: ChunkResult; error?: { nibble: boolean; message: string; stack: string } }) => {
        if (m.tick !== undefined) tick(m.tick);
        else if (m.done) resolve(m.done);
        else if (m.error) {
          // Typed errors do not survive the thread boundary: re-raise as a user error or an internal one.
          if (m.error.nibble) reject(new SimError(m.error.message));
          else reject(Object.assign(new Error(m.error.message), { stack: m.error.stack }));
        }
      },
    );
    w.on('error', reject);
    w.on('exit', (code) => {
      if (code !== 0) reject(new Error(`simulation worker exited with code ${code}`));
    });
  });
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
  const feature = 'simulating a model';
  const sim = await simulator(feature);
  const b = Math.min(batch, count);
  const api = await compiler(feature);
  const program = term.stepWithPhases(`compiling ${net.name} (batch ${b})`, (onPhase) =>
    api.compileNetwork(net, cfg, { batch: b, onPhase }),
  );
  const remainder = count % b;
  const tail = remainder > 0 ? api.compileNetwork(net, cfg, { batch: remainder }) : undefined;
  const inDesc = program.inputs[0];
  if (!inDesc || !program.outputs[0])
    throw new SimError('the compiled program has no input or output tensor', 'compiler');
  const imageSize = inDesc.shape[1] * inDesc.shape[2] * inDesc.shape[3];

  const t0 = performance.now();
  const bar = term.progress(`simulating (${engine})`, count);
  const workers = workerCount(count, engine);
  let parts: ChunkResult[];
  if (workers === 1) {
    parts = [simulateChunk(sim, { program, tail, engine, inputs, count }, (n) => bar.tick(n))];
  } else {
    // Chunks of whole batches; only the last chunk holds the partial batch.
    const batches = Math.ceil(count / b);
    const jobs: ChunkJob[] = [];
    let firstBatch = 0;
    for (let w = 0; w < workers; w++) {
      const nb = Math.floor(batches / workers) + (w < batches % workers ? 1 : 0);
      const first = firstBatch * b;
      const end = Math.min(count, (firstBatch + nb) * b);
      firstBatch += nb;
      if (end <= first) continue;
      jobs.push({
        program,
        tail: end === count ? tail : undefined,
        engine,
        inputs: inputs.slice(first * imageSize, end * imageSize),
        count: end - first,
      });
    }
    try {
      parts = await Promise.all(jobs.map((j) => runWorker(j, (n) => bar.tick(n))));
    } finally {
      bar.stop();
    }
  }
  bar.stop();

  const outputs = engine === 'timing' ? undefined : new Int32Array(parts.reduce((s, p) => s + p.outputs.length, 0));
  let offset = 0;
  let cycles = 0;
  let usefulMacs = 0;
  let batchCycles = 0;
  let energy: EnergyTotals | undefined = emptyEnergy();
  for (const p of parts) {
    outputs?.set(p.outputs, offset);
    offset += p.outputs.length;
    cycles += p.cycles;
    usefulMacs += p.usefulMacs;
    batchCycles = Math.max(batchCycles, p.batchCycles);
    if (p.energy && energy) mergeEnergy(energy, p.energy);
    else energy = undefined;
  }
  const peak = cfg.array.rows * cfg.array.cols;
  const figures: Record<string, unknown> = {
    engine,
    batch: b,
    clockMHz: cfg.clockMHz,
    instructions: program.code.length,
    cycles,
    batchCycles,
    cyclesPerInference: cycles / count,
    latencyUs: batchCycles / cfg.clockMHz,
    inferencesPerSecond: (count * cfg.clockMHz * 1e6) / cycles,
    macsPerInference: usefulMacs / count,
    utilization: usefulMacs / (cycles * peak),
    ...(energy ? energyFigures(energy, count, usefulMacs, cycles, cfg.clockMHz) : {}),
    seconds: (performance.now() - t0) / 1000,
    workers: parts.length,
  };
  return { outputs, figures, program };
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
