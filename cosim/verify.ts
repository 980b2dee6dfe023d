/**
 * Co-simulation: run a program on the simulator ('fast' engine) and on the
 * Verilator model of the generated RTL, and require the final DRAM bytes, the
 * total cycle count and every instruction's dispatch, start and retire cycle
 * to be identical. A mismatch names the first differing instruction.
 */
import { configHash, deriveArch, type ArchConfig, RtlError } from '../arch/index.js';
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
  /** RTL performance counters (cycles, busy_load, busy_compute, busy_store, array_active, macs) */
  perf: Record<string, number>;
  buildMs: number;
  runMs: number;
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

/** Co-simulate one program. Throws RtlError only when a tool fails; a mismatch is reported in the result. */
export function verifyProgram(program: Program, opts: VerifyOptions = {}): VerifyResult {
  const cfg = program.config;
  const seed = opts.seed ?? 1;
  const sim = simulate(program, { engine: 'fast', seed, ...(opts.inputs ? { inputs: opts.inputs } : {}) });
  const { dram } = buildDram(program, prepareProgram(program), opts.inputs, seed);
  const rtlCfg = opts.rtlConfig ?? cfg;
  // the RTL's bookkeeping widths are generation parameters: unless given, widen the defaults to what the
  // program needs (a separately cached build); refuse a program that explicit widths cannot represent
  const defaults = rtlOptions(rtlCfg);
  const widths = rtlOptions(rtlCfg, {
    indexBits: opts.rtl?.indexBits ?? Math.max(defaults.indexBits, Math.ceil(Math.log2(program.code.length))),
    counterBits: opts.rtl?.counterBits ?? Math.max(defaults.counterBits, Math.ceil(Math.log2(sim.cycles + 1))),
  });
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
  const build = buildVerilator(rtlCfg, { ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}), rtl: widths });
  const rtl = runHarness(build, {
    code: encodeProgramCode(program.code, rtlCfg),
    segments: [{ addr: 0, bytes: dram }],
    regions: [{ addr: 0, length: dram.length }],
    maxCycles: opts.maxCycles ?? sim.cycles * 2 + 1000,
    ...(opts.randomInitSeed !== undefined ? { randomInitSeed: opts.randomInitSeed } : {}),
  });
  const base = {
    configHash: configHash(cfg),
    instructions: program.code.length,
    simCycles: sim.cycles,
    rtlCycles: rtl.cycles,
    bytesCompared: dram.length,
    perf: rtl.perf,
    buildMs: build.buildMs,
    runMs: rtl.runMs,
  };
  const fail = (mismatch: string): VerifyResult => ({ ok: false, ...base, mismatch });
  if (rtl.err) return fail('the RTL flagged an illegal instruction (err output)');
  const timing = firstTimingMismatch(program, sim, rtl);
  if (timing) return fail(timing);
  if (!rtl.finished)
    return fail(
      `RTL did not finish within ${opts.maxCycles ?? sim.cycles * 2 + 1000} cycles (simulator: ${sim.cycles})`,
    );
  if (rtl.cycles !== sim.cycles) return fail(`total cycles T: simulator ${sim.cycles}, RTL ${rtl.cycles}`);
  const simDram = sim.dram!;
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
  /** fixed machine; default: randomConfig(seed + i) per program */
  config?: ArchConfig;
  cacheDir?: string;
  /** randomize the RTL's initial state per program (seed = the program's seed) */
  randomInit?: boolean;
  /** called after each program */
  onProgram?: (index: number, programSeed: number, result: VerifyResult) => void;
}

export interface VerifyRandomResult {
  /** true when every program matched */
  ok: boolean;
  count: number;
  passed: number;
  /** failing programs with their seeds (reproduce: randomProgram(seed, config)) */
  failures: { seed: number; configHash: string; mismatch: string }[];
  /** the failures again, under the name the CLI counts */
  mismatches: { seed: number; configHash: string; mismatch: string }[];
  totalSimCycles: number;
}

/** Co-simulate `count` random valid programs (sim/random-program.ts), seeds seed, seed+1, ... */
export function verifyRandom(opts: VerifyRandomOptions): VerifyRandomResult {
  if (!Number.isInteger(opts.count) || opts.count < 1)
    throw new RtlError(`count must be a positive integer, got ${opts.count}`, 'verifyRandom');
  const failures: VerifyRandomResult['failures'] = [];
  const out: VerifyRandomResult = {
    ok: true,
    count: opts.count,
    passed: 0,
    failures,
    mismatches: failures,
    totalSimCycles: 0,
  };
  for (let i = 0; i < opts.count; i++) {
    const s = opts.seed + i;
    const cfg = opts.config ?? randomConfig(s);
    const program = randomProgram(s, cfg);
    const r = verifyProgram(program, {
      ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}),
      ...(opts.randomInit ? { randomInitSeed: s } : {}),
    });
    out.totalSimCycles += r.simCycles;
    if (r.ok) out.passed++;
    else out.failures.push({ seed: s, configHash: r.configHash, mismatch: r.mismatch! });
    opts.onProgram?.(i, s, r);
  }
  out.ok = failures.length === 0;
  return out;
}
