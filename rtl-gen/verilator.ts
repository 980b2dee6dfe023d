/**
 * Verilator build (cached per config and generator output) and one harness run.
 * Builds live in <repo>/.cache/rtl/<configHash>/; a stamp with the hash of the
 * generated sources invalidates a build whenever the generator changes.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { configHash, type ArchConfig, RtlError, packageRoot } from '../arch/index.js';
import { generateHarness } from './harness.js';
import { rtlOptions, type RtlOptions } from './core-facts.js';
import { generateVerilog } from './generate.js';
import { runTool, withLogMoved } from './tool-run.js';

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
  const stamp = createHash('sha256')
    .update(rtl.files.map((f) => f.text).join('\n'))
    .update(harness)
    .digest('hex');
  const dir = join(root, hash);
  const binary = join(dir, 'obj', 'Vnibble_top');
  const keepLog = (from: string, name: string) => {
    if (opts.logDir && existsSync(from)) copyFileSync(from, join(opts.logDir, name));
  };
  if (existsSync(binary) && existsSync(join(dir, 'stamp')) && readFileSync(join(dir, 'stamp'), 'utf8') === stamp) {
    keepLog(join(dir, 'verilator.log'), `verilator-${hash}.log`);
    return { dir, binary, built: false, buildMs: 0, trace: opts.trace === true };
  }
  const t0 = Date.now();
  mkdirSync(root, { recursive: true });
  // leftovers of interrupted builds (an hour old: no build takes that long)
  for (const d of readdirSync(root)) {
    const p = join(root, d);
    if (d.includes('.tmp-') && Date.now() - statSync(p).mtimeMs > 3_600_000)
      rmSync(p, { recursive: true, force: true });
  }
  const tmp = mkdtempSync(join(root, `${hash}.tmp-`));
  // the log sits beside the build directory while it runs: kept in the build on success, as <hash>.failed.log otherwise
  const log = `${tmp}.log`;
  try {
    for (const f of rtl.files) writeFileSync(join(tmp, f.name), f.text);
    writeFileSync(join(tmp, 'harness.cpp'), harness);
    runTool(
      'verilator',
      [
        ...(opts.trace ? ['--trace'] : []),
        ...verilatorBuildArgs('nibble_top', [...rtl.files.map((f) => f.name), 'harness.cpp']),
      ],
      tmp,
      `verilator build of config ${hash}`,
      { log, phases: 'verilator' },
    );
    renameSync(log, join(tmp, 'verilator.log'));
    writeFileSync(join(tmp, 'stamp'), stamp);
    rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(tmp, dir);
    } catch {
      // another process finished the same build first: use theirs
      rmSync(tmp, { recursive: true, force: true });
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(log)) throw e;
    const failed = join(root, `${hash}.failed.log`);
    renameSync(log, failed);
    keepLog(failed, `verilator-${hash}.failed.log`);
    throw withLogMoved(e, log, failed);
  }
  keepLog(join(dir, 'verilator.log'), `verilator-${hash}.log`);
  return { dir, binary, built: true, buildMs: Date.now() - t0, trace: opts.trace === true };
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
    'OPT_FAST=-O2 OPT_GLOBAL=-O2 OPT_SLOW=-O1',
    ...files,
  ];
}
