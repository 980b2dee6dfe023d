/**
 * The local executor: points run on a pool of worker threads (piscina), all
 * cores by default, results reported as each finishes. With one worker, or
 * when the compiled worker file is absent (running from the TypeScript
 * sources), points run in this thread, yielding between points so progress
 * bars and signals are served.
 */
import { existsSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { builtFile } from '../arch/index.js';
import { evaluatePoint, type EvaluateOptions, type PointOutcome } from './evaluate.js';
import { ModelCache } from './models.js';
import type { PointTask } from './points.js';

export interface ExecutorCallbacks {
  /** a point finished (ok or failed) */
  onOutcome(task: PointTask, outcome: PointOutcome, worker: string): void;
  /** a point could not run at all (a worker crashed): not stored, reported, retried by the next run */
  onCrash(task: PointTask, message: string): void;
}

export interface Executor {
  /** how many points run at once (0: unknown, e.g. remote workers) */
  readonly workers: number;
  /** points that had to be started again because a worker stopped in the middle of them */
  readonly retried?: number;
  run(tasks: readonly PointTask[], cb: ExecutorCallbacks): Promise<void>;
  close(): Promise<void>;
}

export function defaultWorkers(): number {
  return availableParallelism();
}

// next to this module, or in dist/sweep/ when this runs from a chunk of the bundled executable (dist/cli/)
const WORKER_FILE =
  builtFile('sweep/point-worker.js', import.meta.url) ?? fileURLToPath(new URL('./point-worker.js', import.meta.url));

export class LocalExecutor implements Executor {
  private pool: Piscina | undefined;
  private readonly models = new ModelCache();
  private stopped = false;
  readonly workers: number;

  /** `alwaysThreads`: a thread even for one worker, so this thread stays free (queue workers renew job locks from it) */
  constructor(
    workers: number,
    private readonly options: EvaluateOptions,
    alwaysThreads = false,
  ) {
    this.workers = Math.max(1, workers);
    if ((this.workers > 1 || alwaysThreads) && existsSync(WORKER_FILE)) {
      this.pool = new Piscina({
        filename: WORKER_FILE,
        minThreads: this.workers,
        maxThreads: this.workers,
        idleTimeout: 60_000,
      });
    }
  }

  /** True when the points run on worker threads. */
  get threaded(): boolean {
    return this.pool !== undefined;
  }

  /** One point, on a worker thread when there are several. Rejects only if the thread itself failed. */
  async runOne(task: PointTask): Promise<PointOutcome> {
    if (!this.pool) {
      const o = evaluatePoint(task, this.models, this.options);
      await new Promise((r) => setImmediate(r));
      return o;
    }
    return (await this.pool.run({ task, options: this.options })) as PointOutcome;
  }

  async run(tasks: readonly PointTask[], cb: ExecutorCallbacks): Promise<void> {
    const who = `${hostname()}:${process.pid}`;
    const one = async (task: PointTask) => {
      if (this.stopped) return;
      let o: PointOutcome;
      try {
        o = await this.runOne(task);
      } catch (e) {
        if (!this.stopped) cb.onCrash(task, `worker thread failed: ${(e as Error).message ?? String(e)}`);
        return;
      }
      if (!this.stopped) cb.onOutcome(task, o, who);
    };
    if (!this.pool) {
      for (const t of tasks) await one(t);
      return;
    }
    // a few points per thread in flight, not the whole space: bounded memory, and a stop is prompt
    let next = 0;
    const lane = async () => {
      while (next < tasks.length && !this.stopped) await one(tasks[next++]!);
    };
    await Promise.all(Array.from({ length: this.workers * 2 }, lane));
  }

  async close(): Promise<void> {
    this.stopped = true;
    const p = this.pool;
    this.pool = undefined;
    if (p) await p.destroy();
  }
}
