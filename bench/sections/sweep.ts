/**
 * Issue #14: a 1,000-point co-design sweep of CIFAR10NET_INT on the timing
 * engine (4 array sizes x 5 DRAM buses x 5 DRAM latencies x 5 ACC depths x 2
 * batch sizes), every point compiled and simulated, on a worker pool over all
 * cores; goal < 60 s. Also reports points per second per worker, and the
 * same rate with one worker on a 120-point corner of the space (the scaling).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyze, defaultWorkers, LocalExecutor, parseSpec, runSweep, type SweepRun } from '../../sweep/index.js';
import type { Goal } from '../report.js';
import type { BenchContext, Section, SectionOutput } from '../section.js';

export const SWEEP_BENCH_SPEC = `name: cifar10-1000
models: [cifar10]
axes:
  array.size: [8, 16, 32, 64]
  dram.busBytes: {pow2: [4, 64]}
  dram.latency: [8, 24, 64, 128, 256]
  scratchpad.accEntries: {pow2: [256, 4096]}
batch: [1, 4]
engine: timing
`;

/** A 120-point corner of the same space (the one-worker scaling run, and --quick). */
const SMALL_SPEC = `name: cifar10-120
models: [cifar10]
axes:
  array.size: [8, 16]
  dram.busBytes: {pow2: [4, 64]}
  dram.latency: [8, 64]
  scratchpad.accEntries: [512, 1024]
batch: [1, 2, 4]
engine: timing
`;

async function timedSweep(
  ctx: BenchContext,
  text: string,
  workers: number,
  label: string,
): Promise<{ run: SweepRun; seconds: number; cpuSeconds: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'nibble-bench-sweep-'));
  try {
    const file = join(dir, 'spec.yaml');
    writeFileSync(file, text);
    const spec = parseSpec(text, file);
    ctx.log(`sweep: ${label} on ${workers} worker${workers === 1 ? '' : 's'}`);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const run = await runSweep(spec, { outDir: join(dir, 'out'), executor: (o) => new LocalExecutor(workers, o) });
    const c = process.cpuUsage(c0);
    // process CPU time covers the worker threads: on a shared machine it shows what the wall time cannot
    return { run, seconds: (performance.now() - t0) / 1000, cpuSeconds: (c.user + c.system) / 1e6 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const sweepSection: Section = {
  name: 'sweep',
  title: 'co-design sweep: 1,000 CIFAR10NET_INT points on the timing engine, all cores',
  async run(ctx: BenchContext): Promise<SectionOutput> {
    const workers = defaultWorkers();
    const big = ctx.options.quick ? SMALL_SPEC : SWEEP_BENCH_SPEC;
    const all = await timedSweep(ctx, big, workers, ctx.options.quick ? 'the 120-point subset' : '1,000 points');
    const one = ctx.options.quick ? undefined : await timedSweep(ctx, SMALL_SPEC, 1, 'the 120-point subset');
    const rows: (string | number)[][] = [];
    const row = (what: string, r: { run: SweepRun; seconds: number; cpuSeconds: number }) => {
      const a = analyze(r.run.records, r.run.spec.constraints, r.run.spec.objectives);
      const w = Math.max(1, r.run.workers);
      rows.push([
        what,
        w,
        r.run.points.length,
        `${a.ok.length} / ${a.failed.length}`,
        `${r.seconds.toFixed(1)} s`,
        (r.run.ran / r.seconds).toFixed(1),
        (r.run.ran / r.seconds / w).toFixed(1),
        `${r.cpuSeconds.toFixed(1)} s`,
        (r.run.ran / r.cpuSeconds).toFixed(1),
        a.front.size,
      ]);
    };
    row(ctx.options.quick ? '120-point subset' : '1,000 points', all);
    if (one) row('120-point subset', one);
    const goals: Goal[] = [
      {
        name: '1,000-point CIFAR10NET_INT sweep (timing engine)',
        target: '< 60 s',
        actual: `${all.seconds.toFixed(1)} s on ${workers} workers`,
        met: ctx.options.quick ? undefined : all.seconds < 60,
      },
    ];
    return {
      tables: [
        {
          title: 'sweep throughput (each point: compile + timing engine + energy + area)',
          columns: [
            'space',
            'workers',
            'points',
            'ok / failed',
            'wall',
            'points/s',
            'points/s per worker',
            'CPU (all threads)',
            'points per CPU-s',
            'Pareto front',
          ],
          rows,
        },
      ],
      goals,
      notes: [
        'space: array.size 8..64 x dram.busBytes 4..64 x dram.latency 8..256 x scratchpad.accEntries 256..4096 x batch 1, 4 (bench/sections/sweep.ts); results go to a temporary results store as they finish',
        'each worker thread builds CIFAR10NET_INT once (seeded weights and calibration, about a second), included in the wall time',
        "CPU is this process's user + system time, worker threads included: wall well above CPU / workers means other work shared the cores",
      ],
      data: {
        workers,
        points: all.run.points.length,
        seconds: all.seconds,
        cpuSeconds: all.cpuSeconds,
        pointsPerSecond: all.run.ran / all.seconds,
        pointsPerSecondPerWorker: all.run.ran / all.seconds / Math.max(1, all.run.workers),
        ...(one
          ? {
              oneWorker: {
                points: one.run.points.length,
                seconds: one.seconds,
                pointsPerSecond: one.run.ran / one.seconds,
              },
            }
          : {}),
      },
    };
  },
};
