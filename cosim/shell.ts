/**
 * Co-simulation of the AXI shell: the program runs on the simulator and on the
 * Verilator model of nibble_axi_top, driven by the generated C driver over
 * AXI-Lite, against nibble's AXI slave memory model with protocol checks.
 *  - deterministic bus (`bus: 'deterministic'`): the slave answers reads
 *    dram.latency - SHELL_READ_OVERHEAD cycles after AR and writes
 *    dram.latency - SHELL_WRITE_OVERHEAD cycles after the last W beat, so
 *    the core sees the simulator's memory timing: every instruction's
 *    dispatch, start and retire cycle (from the core's cycle 0), T and the
 *    counters must match, and every DRAM byte;
 *  - random bus (`bus: seed`): seeded READY/VALID timing and latencies: every
 *    DRAM byte must match and the run must finish.
 * Either way a protocol violation is a mismatch naming the rule and cycle.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { configHash, deriveArch, RtlError, type ArchConfig } from '../arch/index.js';
import type { Program } from '../isa/index.js';
import {
  cachedBuild,
  driverFiles,
  generateShell,
  generateShellHarness,
  ERROR_BITS,
  runTool,
  SHELL_TOP,
  verilatorBuildArgs,
} from '../rtl-gen/index.js';
import { randomConfig, randomProgram, simulate } from '../sim/index.js';
import { alignProgram, shellBusBytes, shellImage } from './shell-image.js';
import { simulateOrOverflow } from './verify.js';
import {
  SHELL_READ_OVERHEAD,
  SHELL_WRITE_OVERHEAD,
  shellParams,
  type ShellOptions,
  type ShellParams,
} from '../rtl-gen/index.js';

export interface ShellBuild {
  dir: string;
  binary: string;
  built: boolean;
  buildMs: number;
  params: ShellParams;
}

/** Build (or reuse) the Verilator model of the shell with trace ports, its testbench and the C driver. */
export function buildShellVerilator(cfg: ArchConfig, opts: ShellOptions = {}, cacheDir?: string): ShellBuild {
  const g = generateShell(cfg, { ...opts, trace: true });
  const p = g.params;
  const harness = generateShellHarness(p.cfg, p);
  const driver = driverFiles(p.cfg, { ...opts, trace: true }).filter((f) => /^nibble_(regs|driver)\./.test(f.name));
  const sources = [...g.files, { name: 'harness.cpp', text: harness }, ...driver];
  const binary = (dir: string) => join(dir, 'obj', `V${SHELL_TOP}`);
  const b = cachedBuild(
    `shell-${configHash(p.cfg)}`,
    sources,
    (dir) => existsSync(binary(dir)),
    (tmp) =>
      runTool(
        'verilator',
        verilatorBuildArgs(SHELL_TOP, [...g.files.map((f) => f.name), 'harness.cpp'], ['-CFLAGS', '-I..']),
        tmp,
        `verilator build of the AXI shell for config ${configHash(p.cfg)}`,
        { phases: 'verilator' },
      ),
    ...(cacheDir ? [cacheDir] : []),
  );
  return { ...b, binary: binary(b.dir), params: p };
}

/** A bus address range that answers SLVERR (2) or DECERR (3). */
export interface BusFault {
  lo: number;
  hi: number;
  resp: 2 | 3;
}

export interface ShellRunInput {
  code: Uint8Array;
  data: Uint8Array;
  /** DRAM regions (core addresses) to read back through the driver */
  regions: { addr: number; length: number }[];
  maxCycles: number;
  /** 'deterministic' or the seed of the random bus */
  bus: 'deterministic' | number;
  memBase: number;
  memSize: number;
  programBase: number;
  dataBase: number;
  /** wait for the interrupt instead of polling CTRL */
  irq?: boolean;
  faults?: BusFault[];
}

export interface ShellRun {
  /** the driver's status (0 ok, NIBBLE_E_* otherwise) and its text */
  driverStatus: number;
  driverMessage: string;
  errorBits: number;
  errorResp: number;
  errorAddr: number;
  /** counters read through the driver, by lower-case register name */
  counters: Record<string, number>;
  coreStarted: boolean;
  dispatch: Map<number, number>;
  start: Map<number, number>;
  retire: Map<number, number>;
  bus: Record<string, number>;
  busMode: string;
  /** testbench cycles from reset to the end of the driver's last access */
  simCycles: number;
  dump: Uint8Array;
  /** the protocol checker's one line, when it stopped the run */
  violation?: string;
  runMs: number;
}

const hex = (x: number) => `0x${x.toString(16)}`;

/** Run a built shell model once. */
export function runShellHarness(build: ShellBuild, input: ShellRunInput): ShellRun {
  const p = build.params;
  const work = mkdtempSync(join(tmpdir(), 'nibble-shell-'));
  try {
    writeFileSync(join(work, 'code.bin'), input.code);
    writeFileSync(join(work, 'data.bin'), input.data);
    writeFileSync(join(work, 'regions.txt'), input.regions.map((r) => `${r.addr} ${r.length}\n`).join(''));
    const args = [
      'code.bin',
      'data.bin',
      'regions.txt',
      '.',
      String(input.maxCycles),
      input.bus === 'deterministic' ? 'det' : String(input.bus),
      String(p.bus.readLatency),
      String(p.bus.writeLatency),
      hex(input.memBase),
      hex(input.memSize),
      hex(input.programBase),
      hex(input.dataBase),
      input.irq ? '1' : '0',
      ...(input.faults?.length ? [input.faults.map((f) => `${hex(f.lo)}:${hex(f.hi)}:${f.resp}`).join(',')] : []),
    ];
    const t0 = Date.now();
    const r = spawnSync(resolve(build.binary), args, {
      cwd: work,
      encoding: 'utf8',
      maxBuffer: 1 << 28,
      timeout: 900_000,
    });
    const runMs = Date.now() - t0;
    if (r.error) throw new RtlError(`the shell testbench failed to run: ${r.error.message}`, 'verilator run');
    const violation = r.status === 4 ? /protocol violation[^\n]*/.exec(r.stderr ?? '')?.[0] : undefined;
    if (r.status !== 0 && r.status !== 4) {
      const tail = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.trim().split('\n').slice(-20).join('\n');
      throw new RtlError(`the shell testbench exited with ${r.status ?? r.signal}:\n${tail}`, 'verilator run');
    }
    const text = existsSync(join(work, 'result.txt')) ? readFileSync(join(work, 'result.txt'), 'utf8') : '';
    const out: ShellRun = {
      driverStatus: NaN,
      driverMessage: '',
      errorBits: 0,
      errorResp: 0,
      errorAddr: 0,
      counters: {},
      coreStarted: false,
      dispatch: new Map(),
      start: new Map(),
      retire: new Map(),
      bus: {},
      busMode: '',
      simCycles: 0,
      dump: existsSync(join(work, 'dump.bin'))
        ? new Uint8Array(readFileSync(join(work, 'dump.bin')))
        : new Uint8Array(0),
      ...(violation ? { violation } : {}),
      runMs,
    };
    for (const line of text.split('\n')) {
      if (!line) continue;
      const [k, a, b] = line.split(' ');
      if (k === 'D' || k === 'S' || k === 'R') {
        const m = k === 'D' ? out.dispatch : k === 'S' ? out.start : out.retire;
        if (!m.has(Number(a))) m.set(Number(a), Number(b));
      } else if (k === 'driver_status') {
        out.driverStatus = Number(a);
        out.driverMessage = line.split(' ').slice(2).join(' ');
      } else if (k === 'error_bits') out.errorBits = Number(a);
      else if (k === 'error_resp') out.errorResp = Number(a);
      else if (k === 'error_addr') out.errorAddr = Number(a);
      else if (k === 'core_started') out.coreStarted = a === '1';
      else if (k === 'sim_cycles') out.simCycles = Number(a);
      else if (k === 'bus_mode') out.busMode = line.slice('bus_mode '.length);
      else if (k!.startsWith('counter_')) out.counters[k!.slice(8)] = Number(a);
      else if (k!.startsWith('bus_')) out.bus[k!.slice(4)] = Number(a);
    }
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export interface VerifyShellOptions {
  /** 'deterministic' (default): cycle-exact; a number: the seed of the random bus */
  bus?: 'deterministic' | number;
  inputs?: Record<string, Int32Array | Uint8Array>;
  /** seed of the random input fill (default 1) */
  seed?: number;
  shell?: ShellOptions;
  cacheDir?: string;
  /** wait for the interrupt instead of polling */
  irq?: boolean;
  /** where the data and the program go on the bus (defaults: a base above 4 GiB for 64-bit addresses, odd 4 KiB offsets) */
  dataBase?: number;
  programBase?: number;
  faults?: BusFault[];
  /** testbench cycle limit (default: 4 x the simulator's cycles + the program fetch + 20,000) */
  maxCycles?: number;
}

export interface VerifyShellResult {
  ok: boolean;
  configHash: string;
  bus: 'deterministic' | number;
  instructions: number;
  simCycles: number;
  /** the CYCLES counter read by the driver: the core's T */
  rtlCycles: number;
  bytesCompared: number;
  mismatch?: string;
  /** the simulator's accumulator-overflow refusal, when the shell also set ERROR.ACC_OVF (they agree) */
  accOverflow?: string;
  run: ShellRun;
  buildMs: number;
}

/** ERROR.ACC_OVF: the core's sticky acc_ovf as the shell reports it. */
const ACC_OVF_BIT = 1 << ERROR_BITS.findIndex(([name]) => name === 'ACC_OVF');

/** The first instruction whose D, S or E-1 differs between the simulator and a traced RTL run (the board's too). */
export function firstTimingMismatch(
  program: Program,
  words: number,
  sim: ReturnType<typeof simulate>,
  run: Pick<ShellRun, 'dispatch' | 'start' | 'retire'>,
): string | undefined {
  for (let i = 0; i < words; i++) {
    const name = `instruction ${i} (${program.code[i]!.op})`;
    const pairs: [string, number, number | undefined][] = [['dispatch cycle D', sim.dispatch[i]!, run.dispatch.get(i)]];
    if (program.code[i]!.op !== 'HALT') {
      pairs.push(
        ['start cycle S', sim.start[i]!, run.start.get(i)],
        ['retire cycle E-1', sim.retire[i]!, run.retire.get(i)],
      );
    }
    for (const [what, s, r] of pairs) if (s !== r) return `${name}: ${what}: simulator ${s}, RTL ${r ?? 'never'}`;
  }
  return undefined;
}

/**
 * The program as the simulator models the shell: a streaming shell generated for a config without a bus section
 * is the bus model of the shell's own limits with `stream` (a loading one is the core model, which the default bus
 * section equals).
 */
function modelledProgram(program: Program, p: ShellParams): Program {
  if (!p.streaming || program.config.bus) return program;
  const config: ArchConfig = { ...program.config, bus: { ...p.bus, stream: true } };
  return { ...program, config, ...(program.configHash ? { configHash: configHash(config) } : {}) };
}

/** Co-simulate one program on the AXI shell. Throws RtlError when a tool fails or the program cannot run on the shell. */
export function verifyShellProgram(program: Program, opts: VerifyShellOptions = {}): VerifyShellResult {
  const bus = opts.bus ?? 'deterministic';
  const cfg = program.config;
  const p = shellParams(cfg, opts.shell);
  const L = cfg.dram.latency;
  const minL = Math.max(SHELL_READ_OVERHEAD, SHELL_WRITE_OVERHEAD) + 1;
  if (bus === 'deterministic' && L < minL && !cfg.bus)
    throw new RtlError(
      `dram.latency ${L} is below what the AXI shell adds on its own (${minL - 1} cycles) plus one: the deterministic bus model cannot reproduce it; use dram.latency >= ${minL}, or a random bus (--bus-seed)`,
      'config.dram.latency',
    );
  const seed = opts.seed ?? 1;
  const img = shellImage(program, p, opts.inputs, seed);
  const { sim, overflow } = simulateOrOverflow(modelledProgram(program, p), seed, opts.inputs);
  const build = buildShellVerilator(cfg, opts.shell, opts.cacheDir);
  // the bus map: data at an odd 4 KiB offset (so the 4 KiB rule cuts bursts where core addresses do not), program after it
  const wide = p.addrBits > 32;
  const memBase = wide ? 0x1_0000_0000 : 0x4000_0000;
  const beat = p.programAlign;
  const dataBase = opts.dataBase ?? memBase + 0x3000 + (typeof bus === 'number' ? ((bus * 37) % 64) * p.busBytes : 0);
  const programBase = opts.programBase ?? Math.ceil((dataBase + img.data.length + 0x1100) / beat) * beat;
  const memSize = programBase + img.code.length + 0x2000 - memBase;
  const fetchBound = Math.ceil((img.words * 16) / p.busBytes) * 8 + 1000;
  const run = runShellHarness(build, {
    code: img.code,
    data: img.data,
    regions: [{ addr: 0, length: img.data.length }],
    maxCycles: opts.maxCycles ?? sim.cycles * 4 + fetchBound + 20_000,
    bus,
    memBase,
    memSize,
    programBase,
    dataBase,
    ...(opts.irq ? { irq: true } : {}),
    ...(opts.faults ? { faults: opts.faults } : {}),
  });
  const base = {
    configHash: configHash(cfg),
    bus,
    instructions: img.words,
    simCycles: sim.cycles,
    rtlCycles: run.counters['cycles'] ?? NaN,
    bytesCompared: img.data.length,
    run,
    buildMs: build.buildMs,
  };
  const fail = (mismatch: string): VerifyShellResult => ({ ok: false, ...base, mismatch });
  if (run.violation) return fail(run.violation);
  // an accumulator overflow is one outcome on both sides: the simulator refuses, the shell sets ERROR.ACC_OVF (alone)
  const ovf = (run.errorBits & ACC_OVF_BIT) !== 0;
  if (overflow !== undefined && !ovf)
    return fail(`the simulator reports an ${overflow}; the shell did not set ERROR.ACC_OVF`);
  if (overflow === undefined && ovf)
    return fail('the shell set ERROR.ACC_OVF (accumulator overflow); the simulator reports none');
  if (run.driverStatus !== 0 && !(overflow !== undefined && run.errorBits === ACC_OVF_BIT)) {
    const bits = run.errorBits ? ` (ERROR = 0x${run.errorBits.toString(16)})` : '';
    return fail(`the driver reported status ${run.driverStatus}: ${run.driverMessage}${bits}`);
  }
  if (bus === 'deterministic') {
    const t = firstTimingMismatch(program, img.words, sim, run);
    if (t) return fail(t);
    if (run.counters['cycles'] !== sim.cycles)
      return fail(`total cycles T: simulator ${sim.cycles}, RTL ${run.counters['cycles']}`);
    const c = sim.counters;
    const expect: [string, number][] = [
      // the RTL's LOAD/STORE busy counts the whole S..E-1, DRAM latency included (docs/simulator.md: busy + stallDram)
      ['busy_load', c.load.busy + c.load.stallDram],
      ['busy_compute', c.compute.busy],
      ['busy_store', c.store.busy + c.store.stallDram],
      ['array_active', c.array.issueCycles],
      ['macs', c.array.macsIssued],
    ];
    for (const [k, v] of expect)
      if (run.counters[k] !== v) return fail(`counter ${k}: simulator ${v}, RTL ${run.counters[k]}`);
  }
  if (overflow !== undefined) return { ok: true, ...base, accOverflow: overflow };
  const simDram = sim.dram!;
  for (let i = 0; i < img.data.length; i++) {
    const a = simDram[i] ?? 0;
    const b = run.dump[i] ?? 0;
    if (a !== b)
      return fail(`DRAM byte ${i} (0x${i.toString(16)}): simulator 0x${a.toString(16)}, RTL 0x${b.toString(16)}`);
  }
  return { ok: true, ...base };
}

/** A random config the shell can run: the bus narrowed until it divides every entry, the latency at least the shell's overhead + 1. */
export function shellRandomConfig(seed: number): ArchConfig {
  const cfg = randomConfig(seed);
  const a = deriveArch(cfg);
  const bus = shellBusBytes(cfg, [a.inpEntryBytes, a.wgtEntryBytes, a.paramEntryBytes, a.outEntryBytes]);
  const latency = Math.max(cfg.dram.latency, Math.max(SHELL_READ_OVERHEAD, SHELL_WRITE_OVERHEAD) + 1);
  return { ...cfg, dram: { ...cfg.dram, busBytes: bus, latency } };
}

/** A random valid program (sim/random-program.ts) with its DRAM regions on beat boundaries. */
export function shellRandomProgram(seed: number, cfg: ArchConfig): Program {
  return alignProgram(randomProgram(seed, cfg), Math.max(64, cfg.dram.busBytes));
}

export interface VerifyShellRandomOptions {
  count: number;
  seed: number;
  /** fixed machine; default shellRandomConfig(seed + i) */
  config?: ArchConfig;
  /** undefined: deterministic bus; a number: random bus seeded with busSeed + i */
  busSeed?: number;
  shell?: ShellOptions;
  cacheDir?: string;
  onProgram?: (index: number, programSeed: number, result: VerifyShellResult) => void;
}

export interface VerifyShellRandomResult {
  ok: boolean;
  count: number;
  passed: number;
  failures: { seed: number; bus: 'deterministic' | number; configHash: string; mismatch: string }[];
}

export function verifyShellRandom(opts: VerifyShellRandomOptions): VerifyShellRandomResult {
  if (!Number.isInteger(opts.count) || opts.count < 1)
    throw new RtlError(`count must be a positive integer, got ${opts.count}`, 'verifyShellRandom');
  const out: VerifyShellRandomResult = { ok: true, count: opts.count, passed: 0, failures: [] };
  for (let i = 0; i < opts.count; i++) {
    const s = opts.seed + i;
    const cfg = opts.config ?? shellRandomConfig(s);
    const program = shellRandomProgram(s, cfg);
    const bus = opts.busSeed === undefined ? 'deterministic' : opts.busSeed + i;
    const r = verifyShellProgram(program, {
      bus,
      ...(opts.shell ? { shell: opts.shell } : {}),
      ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}),
      irq: s % 2 === 1,
    });
    if (r.ok) out.passed++;
    else out.failures.push({ seed: s, bus, configHash: r.configHash, mismatch: r.mismatch! });
    opts.onProgram?.(i, s, r);
  }
  out.ok = out.failures.length === 0;
  return out;
}
