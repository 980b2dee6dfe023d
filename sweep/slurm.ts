/**
 * Heavy points (real synthesis, the cycle engine) as a Slurm job array:
 * `nibble sweep SPEC --slurm DIR` writes DIR/tasks.jsonl (one point per line)
 * and DIR/sweep.sbatch, whose array task i runs `nibble worker --task-file
 * DIR/tasks.jsonl --index i` and leaves DIR/results/KEY.json; `nibble sweep
 * SPEC --collect DIR` then merges those into the results store like any run.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot } from '../arch/index.js';
import { ResultsStoreError, SweepSpecError } from './errors.js';
import { evaluatePoint, type EvaluateOptions, type PointOutcome } from './evaluate.js';
import { ModelCache } from './models.js';
import { taskOf, type PointTask } from './points.js';
import type { Executor, ExecutorCallbacks } from './pool.js';
import { expandPoints } from './points.js';
import { loadSpecModels } from './run.js';
import type { SweepSpec } from './spec.js';
import { ResultsStore } from './store.js';

export const SLURM_TASKS = 'tasks.jsonl';
export const SLURM_SCRIPT = 'sweep.sbatch';

interface SlurmTaskLine {
  task: PointTask;
  options: EvaluateOptions;
}

export interface SlurmWriteResult {
  script: string;
  tasks: string;
  /** points in the array */
  points: number;
  /** points of the spec */
  total: number;
}

/** Write the job array for the points the store does not hold yet. */
export function writeSlurmArray(spec: SweepSpec, opts: { outDir: string; slurmDir: string }): SlurmWriteResult {
  const points = expandPoints(spec, loadSpecModels(spec));
  const store = ResultsStore.open(opts.outDir);
  let todo;
  try {
    todo = points.filter((p) => !store.has(p.key) && !p.configError);
  } finally {
    store.close();
  }
  const dir = resolve(opts.slurmDir);
  const tasksFile = join(dir, SLURM_TASKS);
  const script = join(dir, SLURM_SCRIPT);
  try {
    mkdirSync(join(dir, 'results'), { recursive: true });
    mkdirSync(join(dir, 'logs'), { recursive: true });
    const options: EvaluateOptions = { synthCacheDir: resolve(opts.outDir, 'synth-cache') };
    writeFileSync(
      tasksFile,
      todo.map((p) => `${JSON.stringify({ task: taskOf(p), options } satisfies SlurmTaskLine)}\n`).join(''),
    );
    const nibble = join(packageRoot(), 'dist', 'cli', 'main.js');
    writeFileSync(
      script,
      [
        '#!/bin/bash',
        `# nibble sweep ${spec.name}: ${todo.length} points (written by nibble sweep --slurm)`,
        `#SBATCH --job-name=nibble-${spec.name}`,
        `#SBATCH --array=0-${Math.max(0, todo.length - 1)}`,
        '#SBATCH --cpus-per-task=1',
        `#SBATCH --output=${join(dir, 'logs', '%A_%a.out')}`,
        'set -euo pipefail',
        `exec "${process.execPath}" "${nibble}" worker --task-file "${tasksFile}" --index "\${SLURM_ARRAY_TASK_ID}"`,
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
  } catch (e) {
    throw new ResultsStoreError(`cannot write the job array (${(e as NodeJS.ErrnoException).code ?? String(e)})`, dir);
  }
  return { script, tasks: tasksFile, points: todo.length, total: points.length };
}

/** One array task: evaluate line `index` of the tasks file, write results/KEY.json atomically. */
export function runSlurmTask(tasksFile: string, index: number): { key: string; outcome: PointOutcome; file: string } {
  let lines: string[];
  try {
    lines = readFileSync(tasksFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
  } catch (e) {
    throw new SweepSpecError(
      `cannot read the task file (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
      tasksFile,
    );
  }
  if (!Number.isInteger(index) || index < 0 || index >= lines.length)
    throw new SweepSpecError(
      `--index ${index} is outside the ${lines.length} tasks (0 .. ${lines.length - 1})`,
      tasksFile,
    );
  let job: SlurmTaskLine;
  try {
    job = JSON.parse(lines[index]!) as SlurmTaskLine;
  } catch (e) {
    throw new SweepSpecError(`not a task (${(e as Error).message})`, `${tasksFile}:${index + 1}`);
  }
  const outcome = evaluatePoint(job.task, new ModelCache(), job.options);
  const file = join(resolve(tasksFile, '..'), 'results', `${job.task.key}.json`);
  mkdirSync(join(file, '..'), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(outcome)}\n`);
  renameSync(tmp, file);
  return { key: job.task.key, outcome, file };
}

/** An executor that "runs" points by reading the job array's result files. */
export function slurmCollector(slurmDir: string): Executor {
  const dir = join(resolve(slurmDir), 'results');
  if (!existsSync(dir))
    throw new ResultsStoreError('no results/ folder: write the job array with --slurm first', slurmDir);
  return {
    workers: 0,
    async run(tasks: readonly PointTask[], cb: ExecutorCallbacks) {
      for (const t of tasks) {
        const f = join(dir, `${t.key}.json`);
        if (!existsSync(f)) {
          cb.onCrash(t, `no result in ${dir} (its array task failed or has not run yet)`);
          continue;
        }
        let o: PointOutcome;
        try {
          o = JSON.parse(readFileSync(f, 'utf8')) as PointOutcome;
        } catch (e) {
          cb.onCrash(t, `unreadable result ${f} (${(e as Error).message})`);
          continue;
        }
        cb.onOutcome(t, o, 'slurm');
      }
    },
    async close() {},
  };
}
