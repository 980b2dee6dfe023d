/**
 * `nibble verify --random N --rtl`: co-simulate random valid programs, grouped
 * by machine so that one Verilator build serves many programs (cosim/verify.ts),
 * and say how many programs an hour that makes.
 */
import type { ArchConfig } from '../../arch/index.js';
import type { VerifyResult } from '../../cosim/index.js';
import { CliUsageError, parseNonNegativeInt, parsePositiveInt } from '../inputs.js';
import { cosimApi } from '../modules.js';
import { requireTools, VERILATOR_BUILD } from '../tools.js';
import type { Terminal } from '../terminal.js';

/** One co-simulated run as `nibble verify` prints it. */
export interface Checked {
  name: string;
  ok: boolean;
  simCycles?: number;
  rtlCycles?: number;
  mismatch?: string;
}

export function checked(name: string, v: VerifyResult): Checked {
  return {
    // a run both sides refuse alike is an agreement, but not a result: say so
    name: v.accOverflow ? `${name} (simulator and RTL both report the ${v.accOverflow})` : name,
    ok: v.ok,
    simCycles: v.simCycles,
    rtlCycles: v.rtlCycles,
    ...(v.mismatch ? { mismatch: v.mismatch } : {}),
  };
}

/** What the run cost: machines, builds and throughput (one summary line, and the JSON document's `throughput`). */
export interface RandomThroughput {
  machines: number;
  builds: number;
  buildSeconds: number;
  runSeconds: number;
  wallSeconds: number;
  programsPerHour: number;
}

export function throughputLine(t: RandomThroughput, programs: number): string {
  const s = (x: number) => `${x.toFixed(1)} s`;
  return (
    `${programs} program(s) on ${t.machines} machine(s) (${t.builds} Verilator build(s), ${s(t.buildSeconds)}; ` +
    `harness runs ${s(t.runSeconds)}) in ${s(t.wallSeconds)}: ${t.programsPerHour} programs/hour`
  );
}

/**
 * The machines of a random run: --config or --machine-seed G (randomConfig(G))
 * fixes one; otherwise --machines M random ones (default ceil(sqrt(N))).
 */
function machineChoice(
  args: Record<string, unknown>,
  count: number,
  cfg: ArchConfig | undefined,
): { config?: ArchConfig; machines?: number; machineSeed?: number } {
  const machines = parsePositiveInt(args['machines'], 'machines');
  const machineSeed = parseNonNegativeInt(args['machine-seed'], 'machine-seed');
  const fixed = [cfg && '--config', machineSeed !== undefined && '--machine-seed'].filter(Boolean);
  if (fixed.length > 1) throw new CliUsageError('--config and --machine-seed both fix the machine: give one');
  if (machines !== undefined && fixed.length > 0)
    throw new CliUsageError(`--machines spreads the programs over random machines; ${fixed[0]} fixes one`);
  if (machines !== undefined && machines > count)
    throw new CliUsageError(`--machines ${machines} is more than the ${count} program(s) of --random`);
  if (machineSeed !== undefined) return { machineSeed };
  return cfg ? { config: cfg } : machines !== undefined ? { machines } : {};
}

export async function verifyRandomCli(
  term: Terminal,
  args: Record<string, unknown>,
  count: number,
  seed: number,
  cfg: ArchConfig | undefined,
  logDir?: string,
): Promise<{ results: Checked[]; throughput: RandomThroughput }> {
  const choice = machineChoice(args, count, cfg);
  requireTools('nibble verify --rtl', VERILATOR_BUILD);
  const api = await cosimApi('nibble verify --random', ['verifyRandom']);
  const results: Checked[] = [];
  const bar = term.progress('co-simulating', count);
  const r = api.verifyRandom({
    count,
    seed,
    ...choice,
    ...(logDir ? { logDir } : {}),
    onMachine: (m, total, hash) => {
      if (process.stderr.isTTY && term.verbosity !== 'quiet')
        term.note(
          `machine ${m + 1} of ${total} (config ${hash}): building its Verilator model if not cached (minutes)`,
        );
    },
    onProgram: (_i, s, v, machineSeed) => {
      const machine = machineSeed === undefined ? '' : ` on machine seed ${machineSeed}`;
      results.push(checked(`random program seed ${s}${machine} (config ${v.configHash})`, v));
      bar.tick();
    },
  });
  bar.stop();
  return {
    results,
    throughput: {
      machines: r.machines,
      builds: r.builds,
      buildSeconds: r.buildMs / 1000,
      runSeconds: r.runMs / 1000,
      wallSeconds: r.wallMs / 1000,
      programsPerHour: r.programsPerHour,
    },
  };
}
