/**
 * Big networks through the timing engine: VGG-16 at 224x224 and ResNet on the
 * default config: compile time, timing-engine time (goal < 2 s) and cycles.
 * And program loading: every zoo network's timing-engine run on the program
 * decoded from its .nbl file against the compiler's in-process program.
 */
import { DEFAULT_CONFIG } from '../../arch/index.js';
import { Worker } from 'node:worker_threads';
import { writeProgramFile, type Program } from '../../isa/index.js';
import { simulate } from '../../sim/index.js';
import type { LoadingJob, LoadingResult } from '../loading-worker.js';
import { timeRepeated } from '../measure.js';
import { ms, si, type Goal, type Table } from '../report.js';
import type { BenchContext, Section, SectionOutput } from '../section.js';
import { usefulMacs, zooWorkload, type Workload } from '../workloads.js';

/** Every zoo network at its own input size, plus ResNet at 224 (the loading goal is 'every zoo network'). */
export const LOADING_NETWORKS: readonly { name: string; inputSize?: number }[] = [
  { name: 'mnist' },
  { name: 'cifar10' },
  { name: 'vgg16', inputSize: 224 },
  { name: 'resnet', inputSize: 32 },
  { name: 'resnet', inputSize: 224 },
];

/** Warm-up and measured runs on each side, whatever their time: enough for V8 to settle on a VGG-16 run of 100-400 ms. */
export const LOADING_MIN_RUNS = 8;

export interface LoadingRow {
  network: string;
  inProcessMs: number;
  loadedMs: number;
  ratio: number;
  /** the first run of each side (shown, not judged: the compiled side's engine code is warm before it) */
  inProcessColdMs: number;
  loadedColdMs: number;
}

function runLoadingWorker(job: LoadingJob): Promise<LoadingResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('../loading-worker.js', import.meta.url), { workerData: job });
    w.once('message', (m: LoadingResult) => resolve(m));
    w.once('error', reject);
    w.once('exit', (code) => {
      if (code !== 0) reject(new Error(`loading worker exited with code ${code}`));
    });
  });
}

/**
 * The cheapest warm timing-engine run (CPU ms) of the compiler's program and
 * of the same program read from its .nbl bytes, each in a fresh worker (so
 * the engine's code has seen one kind of object, as in a real process), twice
 * alternately, best of each.
 */
export async function measureLoading(
  label: string,
  name: string,
  inputSize: number | undefined,
  program: Program,
  quick: boolean,
): Promise<LoadingRow> {
  const nbl = writeProgramFile(program);
  const base = {
    name,
    ...(inputSize !== undefined ? { inputSize } : {}),
    minMs: quick ? 20 : 500,
    minRuns: quick ? 2 : LOADING_MIN_RUNS,
  };
  const row = {
    network: label,
    inProcessMs: Infinity,
    loadedMs: Infinity,
    inProcessColdMs: Infinity,
    loadedColdMs: Infinity,
  };
  for (let round = 0; round < (quick ? 1 : 2); round++) {
    const c = await runLoadingWorker({ ...base, mode: 'compiled' });
    const l = await runLoadingWorker({ ...base, mode: 'loaded', nbl });
    row.inProcessMs = Math.min(row.inProcessMs, c.ms);
    row.loadedMs = Math.min(row.loadedMs, l.ms);
    row.inProcessColdMs = Math.min(row.inProcessColdMs, c.coldMs);
    row.loadedColdMs = Math.min(row.loadedColdMs, l.coldMs);
  }
  return { ...row, ratio: row.loadedMs / row.inProcessMs };
}

export function loadingTable(rows: LoadingRow[]): Table {
  return {
    title: "program loading: timing engine on the program read from its .nbl file vs the compiler's own",
    columns: [
      'network',
      'in-process (CPU)',
      'loaded .nbl (CPU)',
      'loaded / in-process',
      'first run: in-process',
      'first run: loaded',
    ],
    rows: rows.map((r) => [
      r.network,
      ms(r.inProcessMs),
      ms(r.loadedMs),
      `${r.ratio.toFixed(2)}x`,
      ms(r.inProcessColdMs),
      ms(r.loadedColdMs),
    ]),
  };
}

export const TIMING_NETWORKS: readonly { name: string; inputSize: number }[] = [
  { name: 'vgg16', inputSize: 224 },
  { name: 'resnet', inputSize: 32 },
  { name: 'resnet', inputSize: 224 },
];

export const timingSection: Section = {
  name: 'timing-engine',
  title: 'large networks: compile and timing-engine time (default config, batch 1)',
  async run(ctx: BenchContext): Promise<SectionOutput> {
    const cfg = DEFAULT_CONFIG;
    const nets = ctx.options.quick ? [{ name: 'vgg16', inputSize: 32 }] : TIMING_NETWORKS;
    const rows = [];
    const goals: Goal[] = [];
    const data: Record<string, unknown>[] = [];
    const built = new Map<string, Workload>();
    const build = (name: string, inputSize?: number): Workload => {
      const key = `${name}-${inputSize ?? ''}`;
      let w = built.get(key);
      if (!w) {
        ctx.log(`timing-engine: building and compiling ${name}${inputSize ? `-${inputSize}` : ''}`);
        w = zooWorkload(name, cfg, { ...(inputSize !== undefined ? { inputSize } : {}), sampler: ctx.sampler });
        built.set(key, w);
      }
      return w;
    };
    for (const n of nets) {
      const w = build(n.name, n.inputSize);
      ctx.log(`timing-engine: simulating ${w.label}`);
      const t = timeRepeated(() => simulate(w.program, { engine: 'timing' }), {
        minMs: 500,
        maxRuns: 5,
        sampler: ctx.sampler,
      });
      const cycles = t.value.cycles;
      const macs = usefulMacs(w.program);
      rows.push([
        w.label,
        w.program.code.length,
        si(macs),
        ms(w.buildMs),
        ms(w.compileMs),
        ms(t.firstMs),
        t.runs > 1 ? ms(t.ms) : '-',
        cycles,
        `${(cycles / cfg.clockMHz / 1000).toFixed(2)} ms`,
        `${((100 * macs) / (cycles * cfg.array.rows * cfg.array.cols)).toFixed(1)} %`,
      ]);
      goals.push({
        name: `timing engine, ${w.label}`,
        target: '< 2 s',
        actual: ms(t.firstMs),
        met: ctx.options.quick ? undefined : t.firstMs < 2000,
      });
      data.push({
        network: w.label,
        instructions: w.program.code.length,
        macs,
        buildMs: w.buildMs,
        compileMs: w.compileMs,
        timingColdMs: t.firstMs,
        timingWarmMs: t.runs > 1 ? t.ms : undefined,
        cycles,
      });
    }
    const loadingNets = ctx.options.quick ? [{ name: 'mnist', inputSize: 16 }] : LOADING_NETWORKS;
    const loading: LoadingRow[] = [];
    for (const n of loadingNets) {
      const w = build(n.name, n.inputSize);
      ctx.log(`timing-engine: ${w.label} in-process and loaded from .nbl (fresh workers)`);
      loading.push(await measureLoading(w.label, n.name, n.inputSize, w.program, ctx.options.quick));
    }
    for (const r of loading) {
      goals.push({
        name: `loaded .nbl / in-process, ${r.network}`,
        target: '<= 1.2x',
        actual: `${r.ratio.toFixed(2)}x`,
        met: ctx.options.quick ? undefined : r.ratio <= 1.2,
      });
    }
    return {
      tables: [
        {
          title: 'timing engine on large networks',
          columns: [
            'network',
            'instr',
            'MACs',
            'build net',
            'compile',
            'timing (cold)',
            'timing (warm)',
            'cycles',
            `latency @ ${cfg.clockMHz} MHz`,
            'array util',
          ],
          rows,
        },
        loadingTable(loading),
      ],
      goals,
      notes: [
        "'build net' is constructing the zoo network (seeded weights, calibration), not a compiler cost; the goal is judged on the cold (first) timing-engine run",
        `loading: the cheapest warm timing-engine run (CPU time: other processes on the machine do not change it) of the compiled program and of the same program written to .nbl bytes and read back (readProgramFile), each in a fresh worker thread (as in a real process, the engine sees one kind of program object), two rounds alternately, best of each, after a warm-up of at least ${LOADING_MIN_RUNS} runs on each side; reading the file itself is not timed. The first runs are shown, not judged: the in-process side's engine code is already warm then (the compiler runs the engine's scheduler for its estimate)`,
      ],
      data: { networks: data, loading },
    };
  },
};
