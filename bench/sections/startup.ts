/**
 * Whole `nibble` processes as a user runs them (issue 17): Node's own start,
 * `nibble --version`, a small timing-engine run, and CIFAR10NET_INT compiled
 * and run on the timing engine, in CPU time (each child reports its own, see
 * bench/cpu-at-exit.ts), next to SCALE-Sim's 92 CPU seconds on that network.
 * The network is compiled from both model formats: the binary .nbm (weights as
 * bytes) and the JSON text (2.3 M weights as decimal numbers, whose parsing is
 * a third of that compile), as two processes (`nibble compile`, then `nibble
 * sim` on the program file) and as one (`nibble sim MODEL`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DEFAULT_CONFIG } from '../../arch/index.js';
import { compileNetwork } from '../../compiler/index.js';
import { writeProgramFile } from '../../isa/index.js';
import { saveModelBinary, saveModelJson, zooNetwork } from '../../models/index.js';
import { ms, type Goal } from '../report.js';
import type { BenchContext, Section, SectionOutput } from '../section.js';

/** SCALE-Sim's CPU time for CIFAR10NET_INT as quoted in issue 17 (not measured by this bench: SCALE-Sim is not installed here). */
export const SCALE_SIM_CIFAR10_CPU_SECONDS = 92;

export interface ProcessTiming {
  label: string;
  command: string;
  runs: number;
  /** CPU ms of the child (its own report): minimum and median over the runs */
  cpuMinMs: number;
  cpuMedianMs: number;
  wallMedianMs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Run `node [--import cpu-at-exit] args` `runs` times in `cwd`; fails on a non-zero exit. */
export function timeProcess(label: string, args: string[], cwd: string, runs: number): ProcessTiming {
  const preload = pathToFileURL(fileURLToPath(new URL('../cpu-at-exit.js', import.meta.url))).href;
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['--import', preload, ...args], { cwd, encoding: 'utf8' });
    wall.push(performance.now() - t0);
    const m = /NIBBLE_BENCH_CPU_US (\d+)\n$/.exec(r.stderr ?? '');
    if (r.status !== 0 || !m) {
      throw new Error(`${label}: '${args.join(' ')}' exited ${r.status}: ${(r.stderr ?? '').trim().split('\n')[0]}`);
    }
    cpu.push(Number(m[1]) / 1000);
  }
  return {
    label,
    command: args.join(' '),
    runs,
    cpuMinMs: Math.min(...cpu),
    cpuMedianMs: median(cpu),
    wallMedianMs: median(wall),
  };
}

/** Simulated cycles of `nibble ... --json` (run once, outside the timed runs). */
function cyclesOf(args: string[], cwd: string): number {
  const r = spawnSync(process.execPath, [...args, '--json'], { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`'${args.join(' ')} --json' exited ${r.status}: ${(r.stderr ?? '').trim()}`);
  return (JSON.parse(r.stdout) as { cycles: number }).cycles;
}

export const startupSection: Section = {
  name: 'startup',
  title: 'whole processes: start-up, a small timing-engine run, CIFAR10NET_INT compile + timing engine',
  run(ctx: BenchContext): SectionOutput {
    const runs = ctx.options.quick ? 2 : 7;
    const cli = ctx.options.cli;
    const dir = mkdtempSync(join(tmpdir(), 'nibble-bench-startup-'));
    try {
      const mnist = compileNetwork(zooNetwork('mnist'), DEFAULT_CONFIG, { batch: 1 });
      writeFileSync(join(dir, 'mnist.nbl'), writeProgramFile(mnist));
      const cifar10 = zooNetwork('cifar10');
      writeFileSync(join(dir, 'cifar10.json'), saveModelJson(cifar10));
      saveModelBinary(join(dir, 'cifar10.nbm'), cifar10);
      const timing = ['--engine', 'timing'];
      const time = ([label, args]: [string, string[]]): ProcessTiming => {
        ctx.log(`startup: ${label} (${runs} runs)`);
        return timeProcess(label, args, dir, runs);
      };
      const rows = (
        [
          ['Node itself (node -e 0)', ['-e', '0']],
          ['nibble --version', [cli, '--version']],
          ['nibble sim mnist.nbl --engine timing', [cli, 'sim', 'mnist.nbl', ...timing]],
          ['nibble compile cifar10.nbm', [cli, 'compile', 'cifar10.nbm', '-o', 'cifar10.nbl']],
          ['nibble compile cifar10.json', [cli, 'compile', 'cifar10.json', '-o', 'cifar10-json.nbl']],
          ['nibble sim cifar10.nbl --engine timing', [cli, 'sim', 'cifar10.nbl', ...timing]],
        ] as [string, string[]][]
      ).map(time);
      const cycles = cyclesOf([cli, 'sim', 'cifar10.nbl', ...timing], dir);
      // One command (nibble sim MODEL), which must be the two processes' run: the same simulated cycles. A nibble
      // without it (an older build given with --cli, for a before/after comparison) has only the two processes.
      const notes: string[] = [];
      const oneCommand = (model: string): ProcessTiming | undefined => {
        const args = [cli, 'sim', model, ...timing];
        let one: number;
        try {
          one = cyclesOf(args, dir);
        } catch (e) {
          notes.push(`nibble sim ${model} (one command) not timed: ${(e as Error).message.split('\n')[0]}`);
          return undefined;
        }
        if (one !== cycles) throw new Error(`nibble sim ${model}: ${one} cycles, but ${cycles} from cifar10.nbl`);
        const timed = time([`nibble sim ${model} --engine timing (compiles)`, args]);
        rows.push(timed);
        return timed;
      };
      const ratio = (cpuMs: number) => (SCALE_SIM_CIFAR10_CPU_SECONDS * 1000) / cpuMs;
      // Issue 17: `nibble compile` then `nibble sim --engine timing`, or one command; the better of the two counts.
      const pipeline = (compile: ProcessTiming, model: string, format: string): Goal => {
        const two = ratio(compile.cpuMedianMs + rows[5]!.cpuMedianMs);
        const one = oneCommand(model);
        const twoText = `${two.toFixed(0)}x two processes (${ms(compile.cpuMedianMs + rows[5]!.cpuMedianMs)})`;
        return {
          name: `CIFAR10NET_INT compile (${format} model) + timing engine as whole processes vs SCALE-Sim 92 CPU s`,
          target: '>= 200x',
          actual: one
            ? `${ratio(one.cpuMedianMs).toFixed(0)}x one command (${ms(one.cpuMedianMs)} CPU), ${twoText}`
            : twoText,
          met: ctx.options.quick ? undefined : Math.max(two, one ? ratio(one.cpuMedianMs) : 0) >= 200,
        };
      };
      const goals: Goal[] = [pipeline(rows[3]!, 'cifar10.nbm', '.nbm'), pipeline(rows[4]!, 'cifar10.json', '.json')];
      return {
        tables: [
          {
            title: `whole processes (${runs} runs each; CPU time as the child reports it)`,
            columns: ['process', 'CPU min', 'CPU median', 'wall median', 'over Node itself (median)'],
            rows: rows.map((r) => [
              r.label,
              ms(r.cpuMinMs),
              ms(r.cpuMedianMs),
              ms(r.wallMedianMs),
              ms(r.cpuMedianMs - rows[0]!.cpuMedianMs),
            ]),
          },
        ],
        goals,
        notes: [
          ...notes,
          `nibble = ${cli}; each child loads bench/cpu-at-exit.js (--import) to report its CPU time (all threads), which adds about a millisecond`,
          rows.length > 6
            ? `one command: nibble sim MODEL compiles the model and simulates it in one process, no program file (the same ${cycles.toLocaleString('en-US')} cycles as cifar10.nbl, checked in this run); two processes: nibble compile, then nibble sim cifar10.nbl`
            : `two processes: nibble compile, then nibble sim cifar10.nbl (${cycles.toLocaleString('en-US')} cycles)`,
          `SCALE-Sim's ${SCALE_SIM_CIFAR10_CPU_SECONDS} CPU seconds on CIFAR10NET_INT is the figure quoted in issue 17; SCALE-Sim is not run here`,
        ],
        data: { rows, goals, cycles },
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
