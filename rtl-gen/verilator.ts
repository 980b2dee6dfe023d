/**
 * Verilator build (cached per config and generator output) and one harness run.
 * Builds live in <repo>/.cache/rtl/<configHash>/; a stamp with the hash of the
 * generated sources invalidates a build whenever the generator changes.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
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
}

export interface BuildOptions {
  /** cache root (default <repo>/.cache/rtl) */
  cacheDir?: string;
  /** generation parameters (index and counter widths); non-default ones get their own cache directory */
  rtl?: RtlOptions;
}

function run(cmd: string, args: string[], cwd: string, what: string, timeoutMs = 900_000): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 28, timeout: timeoutMs });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new RtlError(
      code === 'ENOENT' ? `${cmd} is not installed (needed for ${what})` : `${cmd} failed: ${r.error.message}`,
      what,
    );
  }
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
    throw new RtlError(`${cmd} exited with ${r.status ?? r.signal}:\n${tail}`, what);
  }
  return `${r.stdout ?? ''}${r.stderr ?? ''}`;
}
export { run as runTool };

/** Build (or reuse) the Verilator model of `cfg`. */
export function buildVerilator(cfg: ArchConfig, opts: BuildOptions = {}): VerilatorBuild {
  const root = opts.cacheDir ?? join(packageRoot(), '.cache', 'rtl');
  const o = rtlOptions(cfg, opts.rtl);
  const d = rtlOptions(cfg);
  const hash =
    configHash(cfg) +
    (o.indexBits === d.indexBits && o.counterBits === d.counterBits ? '' : `-i${o.indexBits}-c${o.counterBits}`);
  const rtl = generateVerilog(cfg, o);
  const harness = generateHarness(cfg);
  const stamp = createHash('sha256')
    .update(rtl.files.map((f) => f.text).join('\n'))
    .update(harness)
    .digest('hex');
  const dir = join(root, hash);
  const binary = join(dir, 'obj', 'Vnibble_top');
  if (existsSync(binary) && existsSync(join(dir, 'stamp')) && readFileSync(join(dir, 'stamp'), 'utf8') === stamp) {
    return { dir, binary, built: false, buildMs: 0 };
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
  try {
    for (const f of rtl.files) writeFileSync(join(tmp, f.name), f.text);
    writeFileSync(join(tmp, 'harness.cpp'), harness);
    run(
      'verilator',
      [
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
        'nibble_top',
        '-Mdir',
        'obj',
        '-MAKEFLAGS',
        'OPT_FAST=-O2 OPT_GLOBAL=-O2 OPT_SLOW=-O1',
        ...rtl.files.map((f) => f.name),
        'harness.cpp',
      ],
      tmp,
      `verilator build of config ${hash}`,
    );
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
    throw e;
  }
  return { dir, binary, built: true, buildMs: Date.now() - t0 };
}

export interface HarnessRun {
  finished: boolean;
  cycles: number;
  err: boolean;
  perf: Record<string, number>;
  /** per instruction index: dispatch, start, retire cycles (NaN when absent) */
  dispatch: Map<number, number>;
  start: Map<number, number>;
  retire: Map<number, number>;
  /** bytes of each dumped region, concatenated */
  dump: Uint8Array;
  runMs: number;
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
    const plus =
      input.randomInitSeed === undefined ? [] : ['+verilator+rand+reset+2', `+verilator+seed+${input.randomInitSeed}`];
    run(
      resolve(build.binary),
      ['code.bin', 'dram.bin', 'regions.txt', '.', String(input.maxCycles), ...plus],
      work,
      'verilator run',
    );
    const runMs = Date.now() - t0;
    const text = readFileSync(join(work, 'result.txt'), 'utf8');
    const res: HarnessRun = {
      finished: false,
      cycles: 0,
      err: false,
      perf: {},
      dispatch: new Map(),
      start: new Map(),
      retire: new Map(),
      dump: new Uint8Array(readFileSync(join(work, 'dump.bin'))),
      runMs,
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
      else if (k!.startsWith('perf_')) res.perf[k!.slice(5)] = Number(a);
    }
    return res;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
