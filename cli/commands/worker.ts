/** `nibble worker`: take sweep points from a BullMQ queue, or run one task of a Slurm job array. */
import { str, type CommandSpec } from '../command.js';
import { CliUsageError, parseNonNegativeInt, parsePositiveInt } from '../inputs.js';
import { Terminal } from '../terminal.js';
import { sweepApi } from './sweep.js';

function seconds(v: unknown, option: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n))
    throw new CliUsageError(`--${option} must be a positive number of seconds, got ${String(v)}`);
  return n;
}

export const workerCommand: CommandSpec = {
  command: 'worker',
  describe: 'run sweep points for nibble sweep --queue (any number of machines), or one task of a --slurm job array',
  builder: (y) =>
    y
      .option('queue', { type: 'string', describe: 'take points from the BullMQ queue at redis://HOST:PORT' })
      .option('workers', { type: 'number', describe: 'points at once, each on its own thread (default: all cores)' })
      .option('lock-seconds', {
        type: 'number',
        default: 30,
        describe: "job lock: a killed worker's point goes to another worker after about this long",
      })
      .option('redis-timeout', { type: 'number', default: 10, describe: 'seconds without Redis before stopping' })
      .option('idle-exit', {
        type: 'number',
        describe: 'stop after this many seconds without a point (default: run until stopped)',
      })
      .option('synth-cache', {
        type: 'string',
        describe: 'cache of real synthesis results on this machine',
        normalize: true,
      })
      .option('task-file', {
        type: 'string',
        describe: 'Slurm mode: the tasks.jsonl written by nibble sweep --slurm',
        normalize: true,
      })
      .option('index', { type: 'number', describe: 'Slurm mode: the task to run (SLURM_ARRAY_TASK_ID)' })
      .example(
        '$0 worker --queue redis://10.0.0.5:6379',
        'serve sweeps queued on that Redis until stopped (Ctrl-C finishes the points in hand)',
      )
      .example('$0 worker --task-file slurm/tasks.jsonl --index 7', 'what each task of the Slurm job array runs'),
  handler: async (args) => {
    const term = new Terminal(false);
    const api = await sweepApi('nibble worker');
    const taskFile = str(args, 'task-file');
    const queue = str(args, 'queue');
    if ((taskFile === undefined) === (queue === undefined))
      throw new CliUsageError('give either --queue redis://HOST:PORT or --task-file FILE --index N');
    if (taskFile) {
      const index = parseNonNegativeInt(args['index'], 'index');
      if (index === undefined) throw new CliUsageError('--task-file needs --index N (the Slurm array task id)');
      const r = api.runSlurmTask(taskFile, index);
      term.line(
        `${r.key} ${r.outcome.status}${r.outcome.reason ? ` (${r.outcome.stage}: ${r.outcome.reason})` : ''}: wrote ${r.file}`,
      );
      return;
    }
    const stop = new Promise<void>((resolve) => {
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve());
    });
    const done = await api.runQueueWorker({
      url: queue!,
      workers: parsePositiveInt(args['workers'], 'workers') ?? api.defaultWorkers(),
      lockMs: 1000 * seconds(args['lock-seconds'], 'lock-seconds')!,
      redisTimeoutMs: 1000 * seconds(args['redis-timeout'], 'redis-timeout')!,
      ...(args['idle-exit'] !== undefined ? { idleExitMs: 1000 * seconds(args['idle-exit'], 'idle-exit')! } : {}),
      ...(str(args, 'synth-cache') ? { synthCacheDir: str(args, 'synth-cache')! } : {}),
      log: (l) => term.line(l),
      stop,
    });
    term.line(`worker stopped after ${done} points`);
  },
};
