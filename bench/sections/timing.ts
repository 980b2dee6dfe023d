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
import type { LoadingJob } from '../loading-worker.js';
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

export interface LoadingRow {
  network: string;
  inProcessMs: number;
  loadedMs: number;
  ratio: number;
}

function runLoadingWorker(job: LoadingJob): Promise<number> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('../loading-worker.js', import.meta.url), { workerData: job });
    w.once('message', (m: { ms: number }) => resolve(m.ms));
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
  const base = { name, ...(inputSize !== undefined ? { inputSize } : {}), minMs: quick ? 20 : 500 };
  let inProcessMs = Infinity;
  let loadedMs = Infinity;
  for (let round = 0; round < (quick ? 1 : 2); round++) {
    inProcessMs = Math.min(inProcessMs, await runLoadingWorker({ ...base, mode: 'compiled' }));
    loadedMs = Math.min(loadedMs, await runLoadingWorker({ ...base, mode: 'loaded', nbl }));
  }
  return { network: label, inProcessMs, loadedMs, ratio: loadedMs / inProcessMs };
}

export function loadingTable(rows: LoadingRow[]): Table {
  return {
    title: "program loading: timing engine on the program read from its .nbl file vs the compiler's own",
    columns: ['network', 'in-process (CPU)', 'loaded .nbl (CPU)', 'loaded / in-process'],
    rows: rows.map((r) => [r.network, ms(r.inProcessMs), ms(r.loadedMs), `${r.ratio.toFixed(2)}x`]),
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
        'loading: the cheapest warm timing-engine run (CPU time: other processes on the machine do not change it) of the compiled program and of the same program written to .nbl bytes and read back (readProgramFile), each in a fresh worker thread (as in a real process, the engine sees one kind of program object), two rounds alternately, best of each; reading the file itself is not timed',
      ],
      data: { networks: data, loading },
    };
  },
};
