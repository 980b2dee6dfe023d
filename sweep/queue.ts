/**
 * Distributed sweeps on BullMQ. The coordinator (`nibble sweep --queue`) adds
 * one job per point with the point key as job id (BullMQ never adds a job id
 * twice), polls for finished jobs, appends each result to its store and only
 * then removes the job: a coordinator killed in between finds the job again
 * and the store refuses the duplicate. Workers (`nibble worker --queue`) run
 * jobs on their local thread pool, so the event loop keeps renewing job locks;
 * a worker killed mid-job loses its lock and BullMQ's stalled-job check gives
 * the job to another worker. Losing Redis for longer than the timeout stops
 * either side with one line; the store keeps every finished point.
 */
import { mkdirSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { saveModelJson } from '../models/index.js';
import { QueueError } from './errors.js';
import type { PointOutcome } from './evaluate.js';
import type { LoadedModel } from './models.js';
import { toolVersion, type PointTask } from './points.js';
import { LocalExecutor, type Executor, type ExecutorCallbacks } from './pool.js';
import type { SweepSpec } from './spec.js';

export const QUEUE_NAME = 'nibble-sweep';
const MODEL_KEY = (hash: string) => `nibble:model:${hash}`;
const JOB_NAME = 'point';

interface JobData {
  task: PointTask;
  toolVersion: string;
}

export interface RedisTarget {
  url: string;
  host: string;
  port: number;
  db: number;
}

/** redis://HOST:PORT[/DB] */
export function parseRedisUrl(url: string): RedisTarget {
  const m = /^redis:\/\/([^:/@\s]+)(?::(\d{1,5}))?(?:\/(\d{1,2}))?\/?$/.exec(url);
  if (!m) throw new QueueError(`expected redis://HOST:PORT[/DB], got '${url}'`, '--queue');
  const port = m[2] ? Number(m[2]) : 6379;
  if (port < 1 || port > 65535) throw new QueueError(`port ${port} is outside 1..65535`, '--queue');
  return { url, host: m[1]!, port, db: m[3] ? Number(m[3]) : 0 };
}

function connection(t: RedisTarget) {
  return {
    host: t.host,
    port: t.port,
    db: t.db,
    maxRetriesPerRequest: null,
    // keep reconnecting quietly; RedisMonitor decides when the loss is final
    retryStrategy: (times: number) => Math.min(100 * times, 1000),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

/**
 * Watches the connection with its own client (no offline queue, so a ping
 * fails at once while Redis is away). `check()` throws once Redis has been
 * unreachable for longer than the timeout.
 */
export class RedisMonitor {
  private lastOk = Date.now();
  private lastError = '';
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly client: Redis,
    readonly target: RedisTarget,
    private readonly timeoutMs: number,
  ) {}

  /** Connect and ping once; a clear QueueError if Redis is not there. */
  static async open(target: RedisTarget, timeoutMs: number): Promise<RedisMonitor> {
    const client = new Redis({
      host: target.host,
      port: target.port,
      db: target.db,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: Math.min(timeoutMs, 5000),
      // fail the first connect at once; reconnect quietly once connected
      retryStrategy: () => null,
    });
    const m = new RedisMonitor(client, target, timeoutMs);
    client.on('error', (e: NodeJS.ErrnoException) => (m.lastError = e.code ?? e.message));
    client.on('close', () => (m.lastError ||= 'connection closed'));
    client.on('ready', () => (m.lastError = ''));
    try {
      await client.connect();
      await client.ping();
      client.options.retryStrategy = (times: number) => Math.min(100 * times, 1000);
    } catch (e) {
      client.disconnect();
      const code = (e as NodeJS.ErrnoException).code ?? m.lastError ?? (e as Error).message;
      throw new QueueError(
        `cannot reach Redis at ${target.url} (${code || (e as Error).message}): start redis-server there, or fix the address`,
        '--queue',
      );
    }
    m.timer = setInterval(() => {
      // a failed ping only says "not connected": the reason comes from the client's error event
      client.ping().then(
        () => (m.lastOk = Date.now()),
        () => undefined,
      );
    }, 250);
    return m;
  }

  get redis(): Redis {
    return this.client;
  }

  /** Throws QueueError when Redis has been gone longer than the timeout. */
  check(what: string): void {
    const gone = Date.now() - this.lastOk;
    if (gone > this.timeoutMs)
      throw new QueueError(
        `lost the connection to Redis at ${this.target.url} (${this.lastError || 'no answer'} for ${Math.round(gone / 1000)} s): ${what}`,
        '--queue',
      );
  }

  close(): void {
    clearInterval(this.timer);
    this.client.disconnect();
  }
}

async function closeQuietly(x: { close(): Promise<void>; disconnect(): Promise<void> }): Promise<void> {
  await withTimeout(
    x.close().catch(() => undefined),
    1500,
  );
  await withTimeout(
    x.disconnect().catch(() => undefined),
    500,
  );
}

export interface QueueExecutorOptions {
  redisTimeoutMs: number;
  log: (line: string) => void;
  pollMs?: number;
  queueName?: string;
}

/** The coordinator's side: jobs in, results out. */
export class QueueExecutor implements Executor {
  readonly workers = 0;
  /** points that were taken again after a worker stopped in the middle of them */
  retried = 0;

  private constructor(
    private readonly monitor: RedisMonitor,
    private readonly redis: Redis,
    private readonly queue: Queue,
    private readonly opts: QueueExecutorOptions,
    private readonly models: LoadedModel[],
  ) {}

  static async connect(
    url: string,
    _spec: SweepSpec,
    models: LoadedModel[],
    opts: QueueExecutorOptions,
  ): Promise<QueueExecutor> {
    const target = parseRedisUrl(url);
    const monitor = await RedisMonitor.open(target, opts.redisTimeoutMs);
    // our own client, so close() can end its reconnect attempts even while Redis is away
    const redis = new Redis(connection(target));
    redis.on('error', () => {}); // RedisMonitor reports connection errors
    const queue = new Queue(opts.queueName ?? QUEUE_NAME, { connection: redis });
    queue.on('error', () => {});
    return new QueueExecutor(monitor, redis, queue, opts, models);
  }

  private open = 0;
  private total = 0;

  private resumeHint(): string {
    return `the points finished so far are saved: run the same command again to resume (${this.open} of ${this.total} points still open)`;
  }

  /** Run a Redis call, giving up with a QueueError when Redis stays away. */
  private async call<T>(f: () => Promise<T>): Promise<T> {
    for (;;) {
      const r = await withTimeout(
        f().then(
          (v) => ({ v }),
          (e: Error) => ({ e }),
        ),
        1000,
      );
      if (r && 'v' in r) return r.v;
      this.monitor.check(this.resumeHint());
      await sleep(200);
    }
  }

  async run(tasks: readonly PointTask[], cb: ExecutorCallbacks): Promise<void> {
    this.open = this.total = tasks.length;
    // file models travel through Redis, so workers need no shared file system
    for (const m of this.models) {
      if (m.ref.kind !== 'file' || !tasks.some((t) => t.modelHash === m.hash)) continue;
      const text = saveModelJson(m.network);
      await this.call(() => this.monitor.redis.set(MODEL_KEY(m.hash), text, 'EX', 7 * 86400));
    }
    const version = toolVersion();
    const open = new Map(tasks.map((t) => [t.key, t]));
    for (let i = 0; i < tasks.length; i += 500) {
      const chunk = tasks.slice(i, i + 500).map((task) => ({
        name: JOB_NAME,
        data: { task, toolVersion: version } satisfies JobData,
        opts: { jobId: task.key, removeOnComplete: false, removeOnFail: false, attempts: 1 },
      }));
      await this.call(() => this.queue.addBulk(chunk));
    }
    this.opts.log(
      `queued ${tasks.length} points on ${this.monitor.target.url} (queue ${this.queue.name}); waiting for nibble worker`,
    );
    const poll = this.opts.pollMs ?? 200;
    while (open.size > 0) {
      this.open = open.size;
      this.monitor.check(this.resumeHint());
      const done = await this.call(() => this.queue.getJobs(['completed'], 0, 999));
      const failed = await this.call(() => this.queue.getJobs(['failed'], 0, 999));
      let mine = 0;
      for (const job of [...done, ...failed] as Job[]) {
        const task = job.id ? open.get(job.id) : undefined;
        if (!task) continue;
        mine++;
        if ((job.attemptsStarted ?? 0) > 1 || (job.stalledCounter ?? 0) > 0) this.retried++;
        if (failed.includes(job)) cb.onCrash(task, `a worker could not run it: ${job.failedReason}`);
        else cb.onOutcome(task, job.returnvalue as PointOutcome, (job.processedBy as string | undefined) ?? 'queue');
        open.delete(task.key);
        await this.call(() => job.remove());
      }
      if (mine === 0) await sleep(poll);
    }
  }

  async close(): Promise<void> {
    await closeQuietly(this.queue);
    this.redis.disconnect();
    this.monitor.close();
  }
}

export interface QueueWorkerOptions {
  url: string;
  workers: number;
  /** job lock; a killed worker's job is retried after about this long */
  lockMs: number;
  redisTimeoutMs: number;
  /** stop after this long without a job (undefined: run until stopped) */
  idleExitMs?: number;
  queueName?: string;
  /** real-synthesis cache on this machine (default: the temp folder) */
  synthCacheDir?: string;
  log: (line: string) => void;
  /** resolves to stop gracefully (finish the jobs in hand) */
  stop?: Promise<void>;
}

/** A file model's JSON, fetched from Redis once per worker process into a local file. */
async function localModel(monitor: RedisMonitor, hash: string): Promise<string> {
  const dir = join(tmpdir(), 'nibble-sweep-models');
  const file = join(dir, `${hash}.json`);
  if (existsSync(file)) return file;
  const text = await monitor.redis.get(MODEL_KEY(hash));
  if (text === null)
    throw new Error(`model ${hash} is not in Redis (the coordinator stores it when it queues the points)`);
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
  return file;
}

/** `nibble worker --queue`: take points until stopped, idle or Redis is lost. Returns the points processed. */
export async function runQueueWorker(opts: QueueWorkerOptions): Promise<number> {
  const target = parseRedisUrl(opts.url);
  const monitor = await RedisMonitor.open(target, opts.redisTimeoutMs);
  const pool = new LocalExecutor(
    opts.workers,
    { synthCacheDir: opts.synthCacheDir ?? join(tmpdir(), 'nibble-synth-cache') },
    true,
  );
  const version = toolVersion();
  // our own client (BullMQ duplicates it for its blocking reads), so stopping ends every reconnect loop
  const redis = new Redis(connection(target));
  redis.on('error', () => {});
  let processed = 0;
  let active = 0;
  let lastBusy = Date.now();
  const worker = new Worker(
    opts.queueName ?? QUEUE_NAME,
    async (job: Job<JobData>) => {
      active++;
      lastBusy = Date.now();
      const { task } = job.data;
      opts.log(`started ${task.key}`);
      try {
        if (job.data.toolVersion !== version)
          throw new Error(
            `this worker runs ${version} but the sweep was queued by ${job.data.toolVersion}: update the worker`,
          );
        const t =
          task.model.kind === 'file'
            ? {
                ...task,
                model: {
                  kind: 'file' as const,
                  path: await localModel(monitor, task.modelHash),
                  format: 'json' as const,
                },
              }
            : task;
        const o = await pool.runOne(t);
        processed++;
        opts.log(
          `done ${task.key} ${o.status}${o.reason ? ` (${o.stage}: ${o.reason})` : ''} ${Math.round(o.seconds * 1000)} ms`,
        );
        return o;
      } finally {
        active--;
        lastBusy = Date.now();
      }
    },
    {
      connection: redis,
      concurrency: pool.workers,
      lockDuration: opts.lockMs,
      stalledInterval: Math.max(500, Math.floor(opts.lockMs / 2)),
      maxStalledCount: 5,
      drainDelay: 1,
      name: `${hostname()}:${process.pid}`,
    },
  );
  worker.on('error', () => {}); // connection errors: RedisMonitor reports them
  opts.log(`worker ${hostname()}:${process.pid} on ${target.url} (queue ${worker.name}), ${pool.workers} threads`);
  let stopping = false;
  opts.stop?.then(() => (stopping = true));
  try {
    for (;;) {
      await sleep(250);
      if (stopping) break;
      monitor.check(`${processed} points done here; the jobs in hand go back to the queue when their locks expire`);
      if (opts.idleExitMs !== undefined && active === 0 && Date.now() - lastBusy > opts.idleExitMs) break;
    }
  } finally {
    await withTimeout(
      worker.close(stopping ? false : true).catch(() => undefined),
      stopping ? 60_000 : 1500,
    );
    await withTimeout(
      worker.disconnect().catch(() => undefined),
      500,
    );
    redis.disconnect();
    await pool.close();
    monitor.close();
  }
  return processed;
}
