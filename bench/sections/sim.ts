/**
 * Simulator speed on the zoo networks compiled for the default config: the
 * fast engine (with its WebAssembly GEMM kernel, and with the JavaScript GEMM
 * alone: the figure before the kernel) and the cycle engine in MAC/s and
 * simulated cycles/s, the timing engine in instructions/s, next to the
 * machine's ceiling measured in the same run (ceiling section).
 */
import { DEFAULT_CONFIG, type ArchConfig } from '../../arch/index.js';
import type { Program } from '../../isa/index.js';
import { simulate, type Engine } from '../../sim/index.js';
import { timeRepeated, type RssSampler } from '../measure.js';
import { pct, si, type Goal, type Table } from '../report.js';
import type { BenchContext, MachineCeiling, Section, SectionOutput } from '../section.js';
import { usefulMacs, zooWorkload, type Workload } from '../workloads.js';
import { ensureCeiling } from './ceiling.js';

export interface EngineRun {
  workload: string;
  engine: Engine;
  /** the fast engine's GEMM core ('js': the JavaScript loops alone) */
  gemm: 'wasm' | 'js';
  /** the fast engine's GEMM threads (undefined: simulate()'s default) */
  threads: number | undefined;
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
  opts: { minMs?: number; slowMs?: number; sampler?: RssSampler; gemm?: 'wasm' | 'js'; threads?: number } = {},
): EngineRun {
  const gemm = opts.gemm ?? 'wasm';
  const threads = opts.threads;
  const t = timeRepeated(() => simulate(program, { engine, gemm, ...(threads ? { threads } : {}) }), {
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
    gemm,
    threads,
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

/** 'fast', 'fast, 2 threads' or 'fast, JS GEMM' */
export function engineLabel(r: EngineRun): string {
  if (r.engine !== 'fast') return r.engine;
  return r.gemm === 'js' ? 'fast, JS GEMM' : r.threads === 2 ? 'fast, 2 threads' : 'fast';
}

export function engineTable(runs: EngineRun[], ceiling: MachineCeiling): Table {
  const data = (r: EngineRun) => r.engine !== 'timing';
  return {
    title: `simulator engines (ceiling: ${ceiling.source} ${si(ceiling.macPerSecond)} MAC/s; WebAssembly kernel alone ${ceiling.wasmMacPerSecond !== undefined ? si(ceiling.wasmMacPerSecond) : '-'} MAC/s)`,
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
      'useful/kernel',
      'useful MAC per CPU s',
    ],
    rows: runs.map((r) => [
      r.workload,
      engineLabel(r),
      r.instructions,
      r.cycles,
      r.ms.toFixed(1),
      r.runs,
      pct(r.cpuShare, 0),
      si(r.cyclesPerSecond),
      si(r.instructionsPerSecond),
      data(r) ? si(r.usefulMacPerSecond) : '-',
      data(r) ? si(r.arrayMacPerSecond) : '-',
      ratio(data(r) ? r.usefulMacPerSecond : undefined, ceiling.macPerSecond),
      ratio(data(r) ? r.usefulMacPerSecond : undefined, ceiling.wasmMacPerSecond),
      data(r) ? si(r.usefulMacPerSecond / r.cpuShare) : '-',
    ]),
  };
}

/** The networks and the engines each runs (the cycle engine would take hours on VGG-16). */
export const SIM_NETWORKS: readonly { name: string; inputSize?: number; cycle: boolean }[] = [
  { name: 'mnist', cycle: true },
  { name: 'cifar10', cycle: true },
  { name: 'resnet', cycle: true },
  { name: 'vgg16', inputSize: 224, cycle: false },
];

/** The networks the goals are judged on. */
const GOAL_NETWORKS = ['cifar10-32', 'vgg16-224'];

export function simGoals(runs: EngineRun[], ceiling: MachineCeiling, quick: boolean): Goal[] {
  const goals: Goal[] = [];
  for (const r of runs) {
    if (r.engine !== 'fast' || r.gemm !== 'wasm' || r.threads !== undefined) continue;
    if (!quick && !GOAL_NETWORKS.includes(r.workload)) continue;
    // judged per CPU second: the fast engine and both ceilings each run on one thread, and on a shared machine
    // rows of one run get very different shares of a CPU (CPU/wall), which a ratio of wall-time figures mixes
    // in; the wall-time ratio is shown next to it
    const perCpu = r.usefulMacPerSecond / r.cpuShare;
    const c = perCpu / ceiling.macPerCpuSecond;
    goals.push({
      name: `fast engine / ${ceiling.source} ceiling, per CPU s, ${r.workload}`,
      target: '>= 0.05',
      actual: `${ratio(perCpu, ceiling.macPerCpuSecond)} (wall ${ratio(r.usefulMacPerSecond, ceiling.macPerSecond)})`,
      met: quick ? undefined : c >= 0.05,
    });
    const k = ceiling.wasmMacPerCpuSecond ? perCpu / ceiling.wasmMacPerCpuSecond : undefined;
    goals.push({
      name: `fast engine / WebAssembly kernel alone, per CPU s, ${r.workload}`,
      target: '>= 0.5',
      actual: `${ratio(perCpu, ceiling.wasmMacPerCpuSecond)} (wall ${ratio(r.usefulMacPerSecond, ceiling.wasmMacPerSecond)})`,
      met: quick || k === undefined ? undefined : k >= 0.5,
    });
  }
  return goals;
}

export const simSection: Section = {
  name: 'sim',
  title: 'simulator engine speed (zoo networks, default config, batch 1)',
  run(ctx: BenchContext): SectionOutput {
    const quick = ctx.options.quick;
    const cfg: ArchConfig = DEFAULT_CONFIG;
    const notes: string[] = [];
    let ceiling = ctx.ceiling;
    if (ceiling === undefined) {
      ceiling = ensureCeiling(ctx, true).ceiling;
      notes.push('the ceiling section was not selected: the ceiling was measured here with the short loop');
    }
    const networks = quick ? [{ name: 'mnist', inputSize: 16, cycle: true }] : SIM_NETWORKS;
    const workloads: { w: Workload; cycle: boolean }[] = networks.map((n) => {
      ctx.log(`sim: compiling ${n.name}`);
      const w = zooWorkload(n.name, cfg, {
        ...(n.inputSize !== undefined ? { inputSize: n.inputSize } : {}),
        sampler: ctx.sampler,
      });
      return { w, cycle: n.cycle };
    });
    const runs: EngineRun[] = [];
    for (const { w, cycle } of workloads) {
      const plan: [Engine, 'wasm' | 'js', number | undefined][] = [
        ['timing', 'wasm', undefined],
        ['fast', 'wasm', undefined],
        ['fast', 'wasm', 2],
        ['fast', 'js', undefined],
        ...(cycle ? [['cycle', 'wasm', undefined] as [Engine, 'wasm', undefined]] : []),
      ];
      for (const [engine, gemm, threads] of plan) {
        ctx.log(
          `sim: ${w.label} ${engine}${engine === 'fast' ? ` (${gemm} GEMM${threads ? `, ${threads} threads` : ''})` : ''}`,
        );
        runs.push(
          measureEngine(w.label, w.program, engine, {
            minMs: quick ? 50 : 1000,
            sampler: ctx.sampler,
            gemm,
            ...(threads ? { threads } : {}),
          }),
        );
      }
    }
    const goals = simGoals(runs, ceiling, quick);
    const mismatch = workloads.filter(
      ({ w }) => new Set(runs.filter((r) => r.workload === w.label).map((r) => r.cycles)).size !== 1,
    );
    if (mismatch.length > 0)
      notes.push(`engines disagree on the cycle count of ${mismatch.map(({ w }) => w.label).join(', ')}`);
    notes.push(
      "useful MAC/s counts the network's MACs (program.layers), the figure the goals use; array MAC/s counts N x N per issued pixel (zero padding and unused lanes included); " +
        "useful/ceiling is over the ceiling section's figure, useful/kernel over the WebAssembly kernel alone; " +
        'ms/run is the mean of measured runs after one cold run and 300 ms of discarded warm-up runs (steady-state speed), or the cold run alone when it took over 3 s',
      "'fast' is simulate()'s default (the WebAssembly kernels on the main thread), 'fast, 2 threads' with a helper thread that takes GEMMs the next instructions do not wait for (threads: 2), 'fast, JS GEMM' the JavaScript GEMM loops only (gemm: 'js'): the fallback, and the engine before the WebAssembly kernel",
      'useful MAC per CPU s = useful MAC/s over CPU/wall: what the row does per second of CPU it got (this process, all threads), the figure other work on the machine changes least',
      'the cycle engine runs the same programs on the same default config as the others (VGG-16 excepted); its figure is one cold run when that took over 3 s',
      `compile times: ${workloads.map(({ w }) => `${w.label} ${w.compileMs.toFixed(0)} ms`).join(', ')}`,
    );
    return {
      tables: [engineTable(runs, ceiling)],
      goals,
      notes,
      data: {
        ceiling,
        runs,
        compileMs: Object.fromEntries(workloads.map(({ w }) => [w.label, w.compileMs])),
      },
    };
  },
};
