/**
 * One point: compile the model for the machine once, run it on the chosen
 * engine, and reduce the result to the sweep's metrics and a per-layer table.
 * A user-level failure (the model does not fit the machine, the simulator
 * stops) is an outcome, not an exception: the sweep records it and goes on.
 */
import { isNibbleError, type ArchConfig } from '../arch/index.js';
import { compileNetwork } from '../compiler/index.js';
import { estimateArea, simulate } from '../sim/index.js';
import { estimateFpga, synthesizeFpga, type FpgaEstimate } from './fpga.js';
import type { MetricName } from './metrics.js';
import type { ModelCache } from './models.js';
import type { FpgaMode, PointTask } from './points.js';

export type PointStage = 'config' | 'model' | 'compile' | 'simulate' | 'fpga';

export interface LayerRow {
  name: string;
  kind: string;
  cycles: number;
  macs: number;
  utilization: number;
  energyPj: number;
}

export interface PointOutcome {
  status: 'ok' | 'failed';
  /** failed: the one-line reason (a NibbleError's message, or 'internal error: ...') */
  reason?: string;
  stage?: PointStage;
  metrics: Partial<Record<MetricName, number>>;
  layers: LayerRow[];
  /** mm^2 per area component */
  area?: Record<string, number>;
  fpga?: FpgaEstimate;
  instructions?: number;
  seconds: number;
}

export interface EvaluateOptions {
  /** where real synthesis results are cached (fpga.synth) */
  synthCacheDir: string;
}

class StageError extends Error {
  constructor(
    readonly stage: PointStage,
    readonly reason: string,
  ) {
    super(reason);
  }
}

function stage<T>(name: PointStage, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof StageError) throw e;
    const msg = isNibbleError(e)
      ? e.message
      : `internal error (a bug in nibble, please report it): ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
    throw new StageError(name, msg.replace(/\s*\n\s*/g, '; '));
  }
}

/** The config-only figures: area, and FPGA resources from the fitted model or synthesis. */
export function staticFigures(
  cfg: ArchConfig,
  fpgaMode: FpgaMode | undefined,
  opts: EvaluateOptions | undefined,
): { metrics: Partial<Record<MetricName, number>>; area: Record<string, number>; fpga?: FpgaEstimate } {
  const a = estimateArea(cfg);
  const metrics: Partial<Record<MetricName, number>> = { area: a.totalMm2 };
  if (!fpgaMode) return { metrics, area: a.byComponent };
  const fpga =
    fpgaMode.synth && opts
      ? synthesizeFpga(cfg, fpgaMode.target, opts.synthCacheDir)
      : estimateFpga(cfg, fpgaMode.target);
  Object.assign(metrics, { luts: fpga.luts, ffs: fpga.ffs, brams: fpga.brams, dsps: fpga.dsps });
  return { metrics, area: a.byComponent, fpga };
}

export function evaluatePoint(task: PointTask, models: ModelCache, opts: EvaluateOptions): PointOutcome {
  const t0 = performance.now();
  try {
    const net = stage('model', () => models.get(task.model, task.modelHash));
    const cfg = task.config;
    const program = stage('compile', () => compileNetwork(net, cfg, { batch: task.batch }));
    const r = stage('simulate', () => simulate(program, { engine: task.engine }));
    const s = stage('fpga', () => staticFigures(cfg, task.fpga, opts));
    const e = r.energy!;
    const latency = r.cycles / cfg.clockMHz;
    const energy = e.totalPj / task.batch / 1e6;
    const metrics: Partial<Record<MetricName, number>> = {
      cycles: r.cycles,
      latency,
      throughput: (task.batch * cfg.clockMHz * 1e6) / r.cycles,
      energy,
      edp: energy * latency,
      topsPerWatt: e.topsPerWatt,
      power: e.powerMw,
      utilization: r.counters.array.utilization,
      dramBytes: (r.counters.dram.readBytes + r.counters.dram.writeBytes) / task.batch,
      ...s.metrics,
    };
    const layers = r.counters.layers.map((l, i) => ({
      name: l.name,
      kind: l.kind,
      cycles: l.cycles,
      macs: l.macs,
      utilization: l.utilization,
      energyPj: e.byLayer[i] ?? 0,
    }));
    return {
      status: 'ok',
      metrics,
      layers,
      area: s.area,
      ...(s.fpga ? { fpga: s.fpga } : {}),
      instructions: program.code.length,
      seconds: (performance.now() - t0) / 1000,
    };
  } catch (e) {
    if (!(e instanceof StageError)) throw e;
    return {
      status: 'failed',
      reason: e.reason,
      stage: e.stage,
      metrics: {},
      layers: [],
      seconds: (performance.now() - t0) / 1000,
    };
  }
}
