/**
 * Running a sweep: expand the spec, skip the points the store already holds,
 * exclude points that break a constraint on a config-only figure (area, FPGA
 * model) without running them, run the rest on an executor (local pool or
 * queue), append each result as it arrives, and rewrite the CSV.
 */
import { join } from 'node:path';
import { hostname } from 'node:os';
import { SweepSpecError } from './errors.js';
import { staticFigures, type EvaluateOptions } from './evaluate.js';
import { METRICS } from './metrics.js';
import { loadModel, type LoadedModel } from './models.js';
import { violatedConstraint } from './pareto.js';
import { expandPoints, taskOf, type PointTask, type SweepPoint } from './points.js';
import type { Executor } from './pool.js';
import type { SweepSpec } from './spec.js';
import { recordOf, ResultsStore, type PointRecord } from './store.js';

export interface SweepProgress {
  done: number;
  total: number;
}

export interface SweepRunOptions {
  /** results folder (results.jsonl, results.csv, synth-cache/) */
  outDir: string;
  /** makes the executor once the work is known (so a fully cached sweep starts no threads or connections) */
  executor: (opts: EvaluateOptions, models: LoadedModel[]) => Promise<Executor> | Executor;
  onProgress?: (p: SweepProgress) => void;
  /** once the work is known: how many points run */
  onStart?: (toRun: number, workers: number) => void;
}

export interface SweepRun {
  spec: SweepSpec;
  models: LoadedModel[];
  points: SweepPoint[];
  /** this spec's records, point order (ok and failed) */
  records: PointRecord[];
  /** points excluded before running, with the constraint they break */
  excluded: { point: SweepPoint; reason: string }[];
  /** points that could not run this time (worker crash): not stored, retried by the next run */
  crashed: { point: SweepPoint; message: string }[];
  /** points computed in this run (the rest came from the store) */
  ran: number;
  reused: number;
  workers: number;
  /** points restarted after a worker stopped mid-point (queue runs) */
  retried: number;
  seconds: number;
  storeNotes: string[];
  csvFile: string;
  resultsFile: string;
}

/** Constraints on config-only metrics can be judged before a point runs. */
function staticConstraints(spec: SweepSpec): SweepSpec['constraints'] {
  return spec.constraints.filter((c) => c.kind === 'fits' || METRICS[c.metric].static);
}

/** Load every model of the spec once (the coordinator's copy; workers rebuild and check the hash). */
export function loadSpecModels(spec: SweepSpec): LoadedModel[] {
  return spec.models.map(loadModel);
}

function emptySpaceError(spec: SweepSpec, excluded: SweepRun['excluded']): SweepSpecError {
  const counts = new Map<string, number>();
  for (const e of excluded) {
    const c = e.reason.replace(/ \(.*$/, '');
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  const worst = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]!;
  const area = excluded.map((e) => staticFigures(e.point.config, undefined, undefined).metrics.area!);
  return new SweepSpecError(
    `the design space is empty: all ${excluded.length} points break a constraint before running ('${worst[0]}' excludes ${worst[1]}; the smallest area in the space is ${Math.min(...area).toPrecision(3)} mm2)`,
    spec.file,
  );
}

export async function runSweep(spec: SweepSpec, opts: SweepRunOptions): Promise<SweepRun> {
  const t0 = performance.now();
  const models = loadSpecModels(spec);
  const points = expandPoints(spec, models);
  const evalOpts: EvaluateOptions = { synthCacheDir: join(opts.outDir, 'synth-cache') };
  const store = ResultsStore.open(opts.outDir);
  const me = `${hostname()}:${process.pid}`;
  const excluded: SweepRun['excluded'] = [];
  const crashed: SweepRun['crashed'] = [];
  let ran = 0;
  let workers = 0;
  let retried = 0;
  try {
    const pre = staticConstraints(spec);
    const todo: SweepPoint[] = [];
    let reused = 0;
    for (const p of points) {
      if (store.has(p.key)) {
        reused++;
        continue;
      }
      if (p.configError) {
        store.append(
          recordOf(
            spec.name,
            p,
            { status: 'failed', reason: p.configError, stage: 'config', metrics: {}, layers: [], seconds: 0 },
            me,
          ),
        );
        ran++;
        continue;
      }
      if (pre.length > 0 && !(spec.fpga?.synth ?? false)) {
        const why = violatedConstraint(staticFigures(p.config, spec.fpga, undefined).metrics, pre);
        if (why) {
          excluded.push({ point: p, reason: why });
          continue;
        }
      }
      todo.push(p);
    }
    if (excluded.length === points.length) throw emptySpaceError(spec, excluded);
    const byKey = new Map(todo.map((p) => [p.key, p]));
    const total = todo.length;
    let done = 0;
    if (todo.length > 0) {
      const ex = await opts.executor(evalOpts, models);
      workers = ex.workers;
      opts.onStart?.(total, workers);
      try {
        await ex.run(todo.map(taskOf), {
          onOutcome: (task: PointTask, o, worker) => {
            const p = byKey.get(task.key)!;
            if (store.append(recordOf(spec.name, p, o, worker))) ran++;
            opts.onProgress?.({ done: ++done, total });
          },
          onCrash: (task: PointTask, message) => {
            crashed.push({ point: byKey.get(task.key)!, message });
            opts.onProgress?.({ done: ++done, total });
          },
        });
      } finally {
        retried = ex.retried ?? 0;
        await ex.close();
      }
    } else opts.onStart?.(0, 0);
    const records = points.flatMap((p) => {
      const r = store.get(p.key);
      return r ? [r] : [];
    });
    const csvFile = store.writeCsv(records);
    return {
      spec,
      models,
      points,
      records,
      excluded,
      crashed,
      ran,
      reused,
      workers,
      retried,
      seconds: (performance.now() - t0) / 1000,
      storeNotes: store.notes,
      csvFile,
      resultsFile: store.file,
    };
  } finally {
    store.close();
  }
}
