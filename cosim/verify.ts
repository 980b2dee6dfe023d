/**
 * Co-simulation: run a program on the simulator ('fast' engine) and on the
 * Verilator model of the generated RTL, and require the final DRAM bytes, the
 * total cycle count and every instruction's dispatch, start and retire cycle
 * to be identical. A mismatch names the first differing instruction.
 */
import { configHash, deriveArch, type ArchConfig, RtlError, SimError } from '../arch/index.js';
import { encodeProgramCode } from '../isa/index.js';
import type { Program } from '../isa/index.js';
import { buildVerilator, rtlOptions, runHarness, type HarnessRun, type RtlOptions } from '../rtl-gen/index.js';
import { buildDram, prepareProgram, randomConfig, randomProgram, simulate, type SimResult } from '../sim/index.js';

export interface VerifyOptions {
  /** logical input tensors by name (missing ones: the simulator's seeded random fill) */
  inputs?: Record<string, Int32Array | Uint8Array>;
  /** seed of the random input fill (default 1, as the simulator) */
  seed?: number;
  /** cycle limit of the RTL run (default: 2 x the simulator's cycles + 1000) */
  maxCycles?: number;
  /** Verilator build cache root (default <repo>/.cache/rtl) */
  cacheDir?: string;
  /** randomize the RTL's initial register state (Verilator +verilator+rand+reset+2) with this seed */
  randomInitSeed?: number;
  /** build the RTL (and its DRAM model) of this machine instead of program.config: only for testing the checker itself */
  rtlConfig?: ArchConfig;
  /** generation parameters of the RTL build (index and counter widths); unset ones: the rtlOptions defaults, widened when the program needs more */
  rtl?: RtlOptions;
  /** also dump the RTL's own waveform (a separately cached Verilator --trace build): VerifyResult.vcd */
  vcd?: boolean;
  /** copy the Verilator build log here when this call builds (it is always kept in the build cache) */
  logDir?: string;
}

export interface VerifyResult {
  ok: boolean;
  configHash: string;
  instructions: number;
  /** simulator T and RTL T */
  simCycles: number;
  rtlCycles: number;
  /** bytes of DRAM compared */
  bytesCompared: number;
  /** first mismatch, naming the instruction or byte and both values */
  mismatch?: string;
  /**
   * the simulator's accumulator-overflow message when it refused the program
   * and the RTL raised acc_ovf in the same run: they agree (timing compared,
   * DRAM not: the overflowing values are no result)
   */
  accOverflow?: string;
  /** RTL performance counters (cycles, busy_load, busy_compute, busy_store, array_active, macs) */
  perf: Record<string, number>;
  /** true when this call built the Verilator model (false: cached) */
  built: boolean;
  buildMs: number;
  runMs: number;
  /** the RTL's waveform (VCD text), when asked for */
  vcd?: Uint8Array;
}

function firstTimingMismatch(program: Program, sim: SimResult, rtl: HarnessRun): string | undefined {
  for (let i = 0; i < program.code.length; i++) {
    const inst = program.code[i]!;
    const name = `instruction ${i} (${inst.op})`;
    const d = rtl.dispatch.get(i);
    if (d !== sim.dispatch[i]) return `${name}: dispatch cycle D: simulator ${sim.dispatch[i]}, RTL ${d ?? 'never'}`;
    if (inst.op === 'HALT') break;
    const s = rtl.start.get(i);
    if (s !== sim.start[i]) return `${name}: start cycle S: simulator ${sim.start[i]}, RTL ${s ?? 'never'}`;
    const r = rtl.retire.get(i);
    if (r !== sim.retire[i]) return `${name}: retire cycle E-1: simulator ${sim.retire[i]}, RTL ${r ?? 'never'}`;
  }
  return undefined;
}

/**
 * The simulator's run of the program, or, where the data engines refuse it for
 * an accumulator overflow, the timing engine's run (the cycles do not depend on
 * the data) and the overflow message without its instruction prefix.
 */
/** The fast simulator's result, or the timing engine's with the overflow text when the program overflows an accumulator. */
export function simulateOrOverflow(
  program: Program,
  seed: number,
  inputs: VerifyOptions['inputs'],
): { sim: SimResult; overflow?: string } {
  try {
    return { sim: simulate(program, { engine: 'fast', seed, ...(inputs ? { inputs } : {}) }) };
  } catch (e) {
    const at = e instanceof SimError ? e.message.indexOf('accumulator overflow') : -1;
    if (at < 0) throw e;
    return { sim: simulate(program, { engine: 'timing' }), overflow: (e as SimError).message.slice(at) };
  }
}

/**
 * The RTL's bookkeeping widths are generation parameters: unless given, the
 * defaults widened to what programs of `instructions` instructions running
 * `cycles` cycles need (a separately cached build). verifyProgram refuses a
 * program that explicit widths cannot represent.
 */
function rtlWidthsFor(
  cfg: ArchConfig,
  instructions: number,
  cycles: number,
  given?: RtlOptions,
): ReturnType<typeof rtlOptions> {
  const defaults = rtlOptions(cfg);
  return rtlOptions(cfg, {
    indexBits: given?.indexBits ?? Math.max(defaults.indexBits, Math.ceil(Math.log2(instructions))),
    counterBits: given?.counterBits ?? Math.max(defaults.counterBits, Math.ceil(Math.log2(cycles + 1))),
  });
}

/** Co-simulate one program. Throws RtlError only when a tool fails; a mismatch is reported in the result. */
export function verifyProgram(program: Program, opts: VerifyOptions = {}): VerifyResult {
  const cfg = program.config;
  const seed = opts.seed ?? 1;
  const { sim, overflow } = simulateOrOverflow(program, seed, opts.inputs);
  const { dram } = buildDram(program, prepareProgram(program), opts.inputs, seed);
  const rtlCfg = opts.rtlConfig ?? cfg;
  const widths = rtlWidthsFor(rtlCfg, program.code.length, sim.cycles, opts.rtl);
  if (program.code.length > 2 ** widths.indexBits) {
    throw new RtlError(
      `the program has ${program.code.length} instructions; the RTL's ${widths.indexBits}-bit instruction index holds at most ${2 ** widths.indexBits} (build with a larger rtl.indexBits)`,
      'verifyProgram',
    );
  }
  if (sim.cycles >= 2 ** widths.counterBits) {
    throw new RtlError(
      `the program runs ${sim.cycles} cycles; the RTL's ${widths.counterBits}-bit performance counters hold at most ${2 ** widths.counterBits - 1} (build with a larger rtl.counterBits)`,
      'verifyProgram',
    );
  }
  const build = buildVerilator(rtlCfg, {
    ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}),
    ...(opts.logDir ? { logDir: opts.logDir } : {}),
    rtl: widths,
    trace: opts.vcd === true,
  });
  const rtl = runHarness(build, {
    code: encodeProgramCode(program.code, rtlCfg),
    segments: [{ addr: 0, bytes: dram }],
    regions: [{ addr: 0, length: dram.length }],
    maxCycles: opts.maxCycles ?? sim.cycles * 2 + 1000,
    ...(opts.randomInitSeed !== undefined ? { randomInitSeed: opts.randomInitSeed } : {}),
    vcd: opts.vcd === true,
  });
  const base = {
    configHash: configHash(cfg),
    instructions: program.code.length,
    simCycles: sim.cycles,
    rtlCycles: rtl.cycles,
    bytesCompared: dram.length,
    perf: rtl.perf,
    built: build.built,
    buildMs: build.buildMs,
    runMs: rtl.runMs,
    ...(rtl.vcd ? { vcd: rtl.vcd } : {}),
  };
  const fail = (mismatch: string): VerifyResult => ({ ok: false, ...base, mismatch });
  if (rtl.err) return fail('the RTL flagged an illegal instruction (err output)');
  const timing = firstTimingMismatch(program, sim, rtl);
  if (timing) return fail(timing);
  // an accumulator overflow is the one defined outcome of both: the simulator refuses, the RTL raises acc_ovf
  if (overflow !== undefined && !rtl.accOverflow)
    return fail(`the simulator reports an ${overflow}; the RTL did not raise acc_ovf`);
  if (overflow === undefined && rtl.accOverflow)
    return fail('the RTL raised acc_ovf (accumulator overflow); the simulator reports none');
  if (overflow !== undefined)
    return rtl.finished && rtl.cycles === sim.cycles
      ? { ok: true, ...base, accOverflow: overflow }
      : fail(`total cycles T: simulator ${sim.cycles}, RTL ${rtl.finished ? rtl.cycles : 'never finished'}`);
  if (!rtl.finished)
    return fail(
      `RTL did not finish within ${opts.maxCycles ?? sim.cycles * 2 + 1000} cycles (simulator: ${sim.cycles})`,
    );
  if (rtl.cycles !== sim.cycles) return fail(`total cycles T: simulator ${sim.cycles}, RTL ${rtl.cycles}`);
  const simDram = sim.dram!; // a data engine's result: only an overflowing run has none
  for (let i = 0; i < dram.length; i++) {
    const a = simDram[i] ?? 0;
    const b = rtl.dump[i] ?? 0;
    if (a !== b) {
      const eb = deriveArch(cfg).outEntryBytes;
      const writer = program.code.findIndex(
        (x) =>
          x.op === 'STORE' && i >= x.dram_addr && i < x.dram_addr + x.dram_stride * (x.y_count - 1) + x.x_count * eb,
      );
      return fail(
        `DRAM byte ${i} (0x${i.toString(16)}): simulator 0x${a.toString(16)}, RTL 0x${b.toString(16)}` +
          (writer >= 0 ? ` (first STORE that may write it: instruction ${writer})` : ''),
      );
    }
  }
  return { ok: true, ...base };
}

export interface VerifyRandomOptions {
  count: number;
  seed: number;
  /** fixed machine; default: random machines (see `machines`) */
  config?: ArchConfig;
  /**
   * without `config`: how many random machines the programs share (default
   * defaultMachineCount(count)). Programs run in contiguous groups, one
   * Verilator build per group; a group's machine is randomConfig of its first
   * program's seed, so `machines = count` gives every program its own machine.
   */
  machines?: number;
  /** every program on randomConfig(machineSeed) (reproduces one machine of a grouped run); not with `config` */
  machineSeed?: number;
  cacheDir?: string;
  /** randomize the RTL's initial state per program (seed = the program's seed) */
  randomInit?: boolean;
  /** copy the Verilator build logs here */
  logDir?: string;
  /** called after each program, with the seed of its machine's randomConfig (undefined: the given config) */
  onProgram?: (index: number, programSeed: number, result: VerifyResult, machineSeed?: number) => void;
  /** called before each machine's programs run (before its Verilator build, if not cached) */
  onMachine?: (index: number, machines: number, configHash: string) => void;
}

export interface RandomFailure {
  seed: number;
  /** seed of the machine's randomConfig (undefined: the given config) */
  machineSeed?: number;
  configHash: string;
  mismatch: string;
}

export interface VerifyRandomResult {
  /** true when every program matched */
  ok: boolean;
  count: number;
  passed: number;
  /** failing programs with their seeds (reproduce: randomProgram(seed, config ?? randomConfig(machineSeed))) */
  failures: RandomFailure[];
  /** the failures again, under the name the CLI counts */
  mismatches: RandomFailure[];
  totalSimCycles: number;
  /** machines the programs ran on, and how many of them this call had to build (the rest were cached) */
  machines: number;
  builds: number;
  /** wall time of Verilator builds, harness runs, and the whole call */
  buildMs: number;
  runMs: number;
  wallMs: number;
  /** count per hour of the whole call's wall time (builds included) */
  programsPerHour: number;
}

/** The default number of random machines for `count` programs: ceil(sqrt(count)), so builds and runs grow alike. */
export function defaultMachineCount(count: number): number {
  return Math.ceil(Math.sqrt(count));
}

/** One machine's share of a random run: the seeds of its programs and the seed of its randomConfig. */
export interface MachineGroup {
  machineSeed: number;
  seeds: number[];
}

/** Split seeds seed .. seed+count-1 into `machines` contiguous groups (sizes differ by at most one). */
export function machineGroups(count: number, seed: number, machines: number): MachineGroup[] {
  if (!Number.isInteger(machines) || machines < 1 || machines > count)
    throw new RtlError(
      `machines must be an integer in 1..${count} (the program count), got ${machines}`,
      'verifyRandom',
    );
  const groups: MachineGroup[] = [];
  for (let m = 0, first = 0; m < machines; m++) {
    const size = Math.floor(count / machines) + (m < count % machines ? 1 : 0);
    const seeds = Array.from({ length: size }, (_, k) => seed + first + k);
    groups.push({ machineSeed: seeds[0]!, seeds });
    first += size;
  }
  return groups;
}

/**
 * Co-simulate `count` random valid programs (sim/random-program.ts), seeds
 * seed, seed+1, ..., grouped by machine so that one Verilator build serves a
 * whole group: the group's RTL widths are chosen for its largest program first.
 */
export function verifyRandom(opts: VerifyRandomOptions): VerifyRandomResult {
  if (!Number.isInteger(opts.count) || opts.count < 1)
    throw new RtlError(`count must be a positive integer, got ${opts.count}`, 'verifyRandom');
  const t0 = Date.now();
  const failures: RandomFailure[] = [];
  const out: VerifyRandomResult = {
    ok: true,
    count: opts.count,
    passed: 0,
    failures,
    mismatches: failures,
    totalSimCycles: 0,
    machines: 0,
    builds: 0,
    buildMs: 0,
    runMs: 0,
    wallMs: 0,
    programsPerHour: 0,
  };
  if (opts.config && opts.machineSeed !== undefined)
    throw new RtlError('config and machineSeed both fix the machine: give one', 'verifyRandom');
  const fixed = opts.config !== undefined || opts.machineSeed !== undefined;
  const groups = machineGroups(opts.count, opts.seed, fixed ? 1 : (opts.machines ?? defaultMachineCount(opts.count)));
  out.machines = groups.length;
  let index = 0;
  for (const [m, group] of groups.entries()) {
    const machineSeed = opts.config ? undefined : (opts.machineSeed ?? group.machineSeed);
    const cfg = opts.config ?? randomConfig(machineSeed!);
    const programs = group.seeds.map((s) => randomProgram(s, cfg));
    // one build for the group: widths for its longest program and its longest run (the timing engine's cycles)
    const longest = Math.max(...programs.map((p) => simulate(p, { engine: 'timing' }).cycles));
    const rtl = rtlWidthsFor(cfg, Math.max(...programs.map((p) => p.code.length)), longest);
    opts.onMachine?.(m, groups.length, configHash(cfg));
    for (const [k, program] of programs.entries()) {
      const s = group.seeds[k]!;
      const r = verifyProgram(program, {
        rtl,
        ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}),
        ...(opts.randomInit ? { randomInitSeed: s } : {}),
        ...(opts.logDir ? { logDir: opts.logDir } : {}),
      });
      out.totalSimCycles += r.simCycles;
      out.buildMs += r.buildMs;
      out.runMs += r.runMs;
      if (r.built) out.builds++;
      if (r.ok) out.passed++;
      else
        failures.push({
          seed: s,
          ...(machineSeed !== undefined ? { machineSeed } : {}),
          configHash: r.configHash,
          mismatch: r.mismatch!,
        });
      opts.onProgram?.(index++, s, r, machineSeed);
    }
  }
  out.ok = failures.length === 0;
  out.wallMs = Date.now() - t0;
  out.programsPerHour = Math.round((opts.count * 3_600_000) / Math.max(1, out.wallMs));
  return out;
}
