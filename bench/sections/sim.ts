/**
 * Simulator speed on the zoo networks compiled for the default config: the
 * fast and cycle engines in MAC/s and simulated cycles/s, the timing engine in
 * instructions/s, next to the JS matmul ceiling.
 */
import { DEFAULT_CONFIG, type ArchConfig } from '../../arch/index.js';
import type { Program } from '../../isa/index.js';
import { simulate, type Engine } from '../../sim/index.js';
import { timeRepeated, type RssSampler } from '../measure.js';
import { pct, si, type Goal, type Table } from '../report.js';
import type { BenchContext, Section, SectionOutput } from '../section.js';
import { usefulMacs, zooWorkload, type Workload } from '../workloads.js';
import { ensureCeiling } from './ceiling.js';

export interface EngineRun {
  workload: string;
  engine: Engine;
  instructions: number;
  cycles: number;
  usefulMacs: number;
  /** N*N MACs per issue cycle, padding and idle lanes included */
  arrayMacs: number;
  ms: number;
  /** CPU time / wall time of the measured runs (below 1: the CPU was shared) */
  cpuShare: number;
  runs: number;
  firstMs: number;
  cyclesPerSecond: number;
  instructionsPerSecond: number;
  usefulMacPerSecond: number;
  arrayMacPerSecond: number;
}

/** Time one engine on one program (inputs: the simulator's seeded random fill). */
export function measureEngine(
  label: string,
  program: Program,
  engine: Engine,
  opts: { minMs?: number; slowMs?: number; sampler?: RssSampler } = {},
): EngineRun {
  const t = timeRepeated(() => simulate(program, { engine }), {
    minMs: opts.minMs ?? 1000,
    slowMs: opts.slowMs ?? 3000,
    maxRuns: 1000, // minMs bounds the time; short programs need many runs to be measured warm
    ...(opts.sampler ? { sampler: opts.sampler } : {}),
  });
  const r = t.value;
  const sec = t.ms / 1000;
  const macs = usefulMacs(program);
  return {
    workload: label,
    engine,
    instructions: program.code.length,
    cycles: r.cycles,
    usefulMacs: macs,
    arrayMacs: r.counters.array.macsIssued,
    ms: t.ms,
    cpuShare: t.cpuMs / t.ms,
    runs: t.runs,
    firstMs: t.firstMs,
    cyclesPerSecond: r.cycles / sec,
    instructionsPerSecond: program.code.length / sec,
    usefulMacPerSecond: macs / sec,
    arrayMacPerSecond: r.counters.array.macsIssued / sec,
  };
}

function ratio(x: number | undefined, ceiling: number | undefined): string {
  if (x === undefined || !ceiling) return '-';
  const r = x / ceiling;
  return r >= 0.1 ? r.toFixed(2) : r.toFixed(3);
}

export function engineTable(runs: EngineRun[], ceiling: number | undefined): Table {
  return {
    title: `simulator engines${ceiling ? ` (ceiling ${si(ceiling)} MAC/s)` : ''}`,
    columns: [
      'network',
      'engine',
      'instr',
      'cycles',
      'ms/run',
      'runs',
      'CPU/wall',
      'cycles/s',
      'instr/s',
      'useful MAC/s',
      'array MAC/s',
      'useful/ceiling',
      'array/ceiling',
    ],
    rows: runs.map((r) => [
      r.workload,
      r.engine,
      r.instructions,
      r.cycles,
      r.ms.toFixed(1),
      r.runs,
      pct(r.cpuShare, 0),
      si(r.cyclesPerSecond),
      si(r.instructionsPerSecond),
      r.engine === 'timing' ? '-' : si(r.usefulMacPerSecond),
      r.engine === 'timing' ? '-' : si(r.arrayMacPerSecond),
      ratio(r.engine === 'timing' ? undefined : r.usefulMacPerSecond, ceiling),
      ratio(r.engine === 'timing' ? undefined : r.arrayMacPerSecond, ceiling),
    ]),
  };
}

export const SIM_NETWORKS: readonly { name: string; inputSize?: number }[] = [
  { name: 'mnist' },
  { name: 'cifar10' },
  { name: 'resnet' },
];

export const simSection: Section = {
  name: 'sim',
  title: 'simulator engine speed (zoo networks, default config, batch 1)',
  run(ctx: BenchContext): SectionOutput {
    const quick = ctx.options.quick;
    const cfg: ArchConfig = DEFAULT_CONFIG;
    const notes: string[] = [];
    let ceiling = ctx.ceilingMacPerSecond;
    if (ceiling === undefined) {
      ceiling = ensureCeiling(ctx, true).ceiling;
      notes.push('the ceiling section was not selected: the ceiling was measured here with the short loop');
    }
    const networks = quick ? [{ name: 'mnist', inputSize: 16 }] : SIM_NETWORKS;
    const workloads: Workload[] = networks.map((n) => {
      ctx.log(`sim: compiling ${n.name}`);
      return zooWorkload(n.name, cfg, {
        ...(n.inputSize !== undefined ? { inputSize: n.inputSize } : {}),
        sampler: ctx.sampler,
      });
    });
    const runs: EngineRun[] = [];
    for (const w of workloads) {
      for (const engine of ['timing', 'fast', 'cycle'] as const) {
        ctx.log(`sim: ${w.label} ${engine}`);
        runs.push(measureEngine(w.label, w.program, engine, { minMs: quick ? 50 : 1000, sampler: ctx.sampler }));
      }
    }
    const goals: Goal[] = runs
      .filter((r) => r.engine === 'fast')
      .map((r) => {
        const ratio = r.usefulMacPerSecond / ceiling;
        return {
          name: `fast engine / ceiling, ${r.workload}`,
          target: '>= 0.5',
          actual: ratio.toFixed(2),
          met: ratio >= 0.5,
        };
      });
    const mismatch = workloads.filter(
      (w) => new Set(runs.filter((r) => r.workload === w.label).map((r) => r.cycles)).size !== 1,
    );
    if (mismatch.length > 0)
      notes.push(`engines disagree on the cycle count of ${mismatch.map((w) => w.label).join(', ')}`);
    notes.push(
      "useful MAC/s counts the network's MACs (program.layers), the figure the goal uses; array MAC/s counts N x N per issued pixel (zero padding and unused lanes included); " +
        'ms/run is the mean of measured runs after one cold run and 300 ms of discarded warm-up runs (steady-state speed), or the cold run alone when it took over 3 s',
      'the cycle engine runs the same programs on the same default config as the others (fast enough here: a few seconds each); its figure is one cold run when that took over 3 s',
      `compile times: ${workloads.map((w) => `${w.label} ${w.compileMs.toFixed(0)} ms`).join(', ')}`,
    );
    return {
      tables: [engineTable(runs, ceiling)],
      goals,
      notes,
      data: {
        ceilingMacPerSecond: ceiling,
        runs,
        compileMs: Object.fromEntries(workloads.map((w) => [w.label, w.compileMs])),
      },
    };
  },
};
