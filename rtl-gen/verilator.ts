/**
 * Verilator build (cached per config and generator output) and one harness run.
 * Builds live in <repo>/.cache/rtl/<configHash>/ (shell/build-cache.ts, the one
 * cache of every Verilator build): a stamp with the hash of the generated
 * sources rebuilds it whenever the generator changes; a failed build keeps its
 * log as <configHash>.failed.verilator.log beside it, and the error names it.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { configHash, type ArchConfig, RtlError, packageRoot } from '../arch/index.js';
import { generateHarness } from './harness.js';
import { rtlOptions, type RtlOptions } from './core-facts.js';
import { generateVerilog } from './generate.js';
import { cachedBuild, type CachedBuild } from './shell/build-cache.js';
import { runTool } from './tool-run.js';

// the shell's lint imports the runner from here
export { runTool };

export function toolAvailable(tool: string): boolean {
  const r = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  return r.status === 0;
}

export interface VerilatorBuild {
  dir: string;
  binary: string;
  /** true when this call compiled it (false: cache hit) */
  built: boolean;
  buildMs: number;
  /** built with waveform support */
  trace: boolean;
}

export interface BuildOptions {
  /** cache root (default <repo>/.cache/rtl) */
  cacheDir?: string;
  /** generation parameters (index and counter widths); non-default ones get their own cache directory */
  rtl?: RtlOptions;
  /** build with waveform support (Verilator --trace; its own cache directory): runHarness can then dump a VCD */
  trace?: boolean;
  /** also copy the build's log here (verilator-<hash>.log, also on a cache hit); it is always kept in the build directory */
  logDir?: string;
}

/** The build's log, kept in the build directory (and as `<dir>.failed.verilator.log` when it fails). */
const VERILATOR_LOG = 'verilator.log';

/** Build (or reuse) the Verilator model of `cfg`. */
export function buildVerilator(cfg: ArchConfig, opts: BuildOptions = {}): VerilatorBuild {
  const root = opts.cacheDir ?? join(packageRoot(), '.cache', 'rtl');
  const o = rtlOptions(cfg, opts.rtl);
  const d = rtlOptions(cfg);
  const hash =
    configHash(cfg) +
    (o.indexBits === d.indexBits && o.counterBits === d.counterBits ? '' : `-i${o.indexBits}-c${o.counterBits}`) +
    (opts.trace ? '-trace' : '');
  const rtl = generateVerilog(cfg, o);
  const harness = generateHarness(cfg, { trace: opts.trace === true });
  const keepLog = (from: string, name: string) => {
    if (opts.logDir && existsSync(from)) copyFileSync(from, join(opts.logDir, name));
  };
  const files = [...rtl.files, { name: 'harness.cpp', text: harness }];
  const args = [
    ...(opts.trace ? ['--trace'] : []),
    ...verilatorBuildArgs(
      'nibble_top',
      files.map((f) => f.name),
    ),
  ];
  const sources = [...files, verilatorBuildKey(args)];
  const binaryIn = (d: string) => join(d, 'obj', 'Vnibble_top');
  let b: CachedBuild;
  try {
    // one directory per config, rebuilt in place when the generator's output changes
    b = cachedBuild(
      hash,
      sources,
      (d) => existsSync(binaryIn(d)),
      (tmp) =>
        runTool('verilator', args, tmp, `verilator build of config ${hash}`, {
          log: VERILATOR_LOG,
          phases: 'verilator',
        }),
      root,
      { inPlace: true },
    );
  } catch (e) {
    keepLog(join(root, `${hash}.failed.${VERILATOR_LOG}`), `verilator-${hash}.failed.log`);
    throw e;
  }
  keepLog(join(b.dir, VERILATOR_LOG), `verilator-${hash}.log`);
  return { dir: b.dir, binary: binaryIn(b.dir), built: b.built, buildMs: b.buildMs, trace: opts.trace === true };
}

export interface HarnessRun {
  finished: boolean;
  cycles: number;
  err: boolean;
  /** the sticky accumulator-overflow flag */
  accOverflow: boolean;
  perf: Record<string, number>;
  /** per instruction index: dispatch, start, retire cycles (NaN when absent) */
  dispatch: Map<number, number>;
  start: Map<number, number>;
  retire: Map<number, number>;
  /** bytes of each dumped region, concatenated */
  dump: Uint8Array;
  runMs: number;
  /** the waveform, when HarnessInput.vcd asked for it */
  vcd?: Uint8Array;
}

export interface HarnessInput {
  code: Uint8Array;
  /** DRAM segments to load */
  segments: { addr: number; bytes: Uint8Array }[];
  /** regions to dump after the run */
  regions: { addr: number; length: number }[];
  maxCycles: number;
  /** randomize every register and RAM bit before reset (+verilator+rand+reset+2) with this seed: finds state that reset misses */
  randomInitSeed?: number;
  /** dump the RTL's waveform (a build with `trace`): HarnessRun.vcd holds it */
  vcd?: boolean;
}

/** Run a built model once. */
export function runHarness(build: VerilatorBuild, input: HarnessInput): HarnessRun {
  const work = mkdtempSync(join(tmpdir(), 'nibble-rtl-'));
  try {
    writeFileSync(join(work, 'code.bin'), input.code);
    const parts: Uint8Array[] = [];
    for (const s of input.segments) {
      const h = new DataView(new ArrayBuffer(16));
      h.setBigUint64(0, BigInt(s.addr), true);
      h.setBigUint64(8, BigInt(s.bytes.length), true);
      parts.push(new Uint8Array(h.buffer), s.bytes);
    }
    writeFileSync(join(work, 'dram.bin'), Buffer.concat(parts));
    writeFileSync(join(work, 'regions.txt'), input.regions.map((r) => `${r.addr} ${r.length}\n`).join(''));
    const t0 = Date.now();
    if (input.vcd && !build.trace)
      throw new RtlError('a waveform needs a build with waveform support (buildVerilator with trace)', 'runHarness');
    const plus = [
      ...(input.randomInitSeed === undefined
        ? []
        : ['+verilator+rand+reset+2', `+verilator+seed+${input.randomInitSeed}`]),
      ...(input.vcd ? ['+vcd+wave.vcd'] : []),
    ];
    runTool(
      resolve(build.binary),
      ['code.bin', 'dram.bin', 'regions.txt', '.', String(input.maxCycles), ...plus],
      work,
      'verilator run',
      { log: 'harness.log', logKept: false },
    );
    const runMs = Date.now() - t0;
    const text = readFileSync(join(work, 'result.txt'), 'utf8');
    const res: HarnessRun = {
      finished: false,
      cycles: 0,
      err: false,
      accOverflow: false,
      perf: {},
      dispatch: new Map(),
      start: new Map(),
      retire: new Map(),
      dump: new Uint8Array(readFileSync(join(work, 'dump.bin'))),
      runMs,
      ...(input.vcd ? { vcd: new Uint8Array(readFileSync(join(work, 'wave.vcd'))) } : {}),
    };
    for (const line of text.split('\n')) {
      if (!line) continue;
      const [k, a, b] = line.split(' ');
      if (k === 'D' || k === 'S' || k === 'R') {
        const m = k === 'D' ? res.dispatch : k === 'S' ? res.start : res.retire;
        if (!m.has(Number(a))) m.set(Number(a), Number(b));
      } else if (k === 'finished') res.finished = a === '1';
      else if (k === 'cycles') res.cycles = Number(a);
      else if (k === 'err') res.err = a === '1';
      else if (k === 'acc_ovf') res.accOverflow = a === '1';
      else if (k!.startsWith('perf_')) res.perf[k!.slice(5)] = Number(a);
    }
    return res;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

let toolVersions: string | undefined;

/**
 * The part of a Verilator build's cache key that is not its sources: the
 * Verilator and C++ compiler versions and the exact command line. Kept in the
 * build directory as build-key.txt (a source file of the cache entry, not
 * given to Verilator), so a new tool or a changed flag rebuilds.
 */
export function verilatorBuildKey(args: string[], extra = ''): { name: string; text: string } {
  toolVersions ??= ['verilator', 'g++']
    .map((t) => spawnSync(t, ['--version'], { encoding: 'utf8' }).stdout?.split('\n')[0] ?? `${t}: not found`)
    .join('\n');
  return { name: 'build-key.txt', text: `${toolVersions}\nverilator ${args.join(' ')}\n${extra}` };
}

/** The verilator --build arguments every nibble testbench uses. */
export function verilatorBuildArgs(top: string, files: string[], extra: string[] = []): string[] {
  return [
    '--cc',
    '--exe',
    '--build',
    '-j',
    '2',
    '-Wno-fatal',
    '-O3',
    '--x-assign',
    'fast',
    '--x-initial',
    'unique',
    '--top-module',
    top,
    '-Mdir',
    'obj',
    ...extra,
    '-MAKEFLAGS',
    CXX_OPT[cxxOptimization()],
    ...files,
  ];
}

/**
 * How the C++ of a Verilator model is optimized. `run` (the default, what
 * users and the bench get): -O2 on the per-cycle code. `build`: -O1 on it,
 * -O0 on the once-per-run code: several times quicker to compile, a little
 * slower to run, the test suite's choice (vitest.config.ts) for its many
 * short runs. Either gives the same results; the level is part of the cache key.
 */
const CXX_OPT = {
  run: 'OPT_FAST=-O2 OPT_GLOBAL=-O2 OPT_SLOW=-O1',
  build: 'OPT_FAST=-O1 OPT_GLOBAL=-O1 OPT_SLOW=-O0',
} as const;

/** NIBBLE_VERILATOR_OPT: `run` (default) or `build` (see CXX_OPT). */
export function cxxOptimization(env: NodeJS.ProcessEnv = process.env): keyof typeof CXX_OPT {
  const v = env['NIBBLE_VERILATOR_OPT'];
  if (v === undefined || v === '') return 'run';
  if (v === 'run' || v === 'build') return v;
  throw new RtlError(`must be run or build, got '${v}'`, 'NIBBLE_VERILATOR_OPT');
}
