/**
 * A build directory keyed by the hash of its sources, made atomically: the
 * sources are written to a temporary directory, built there, and renamed into
 * place, so parallel test files share one build and an interrupted build
 * leaves nothing behind that looks finished. Every Verilator build goes
 * through here (the core's in rtl-gen/verilator.ts, the AXI shell's, the
 * board simulation's): one place keeps a failed build's logs and sweeps the
 * temporary directories that killed builds left.
 */
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
import { join } from 'node:path';
import { contentKey, packageRoot, RtlError } from '../../arch/index.js';
import { processAlive } from '../../io/index.js';
import { withLogMoved } from '../tool-run.js';

export interface CachedBuild {
  dir: string;
  built: boolean;
  buildMs: number;
}

export interface CachedBuildOptions {
  /**
   * `<root>/<name>` instead of `<root>/<name>-<hash>`: one directory per name,
   * rebuilt in place when the sources change (a `stamp` file in it holds their hash).
   */
  inPlace?: boolean;
}

/** Temporary directories of builds killed midway are removed after this long (no build takes an hour). */
const STALE_TEMP_MS = 3_600_000;

/**
 * `<root>/<name>-<hash of sources>` (or `<root>/<name>`, see `inPlace`), built
 * by `build(tmpDir)` unless `done(dir)` already holds. root defaults to
 * <repo>/.cache/rtl. A failed build's `*.log` files are kept as
 * `<root>/<dir name>.failed.<log name>` and the error names them there.
 */
export function cachedBuild(
  name: string,
  sources: { name: string; text: string }[],
  done: (dir: string) => boolean,
  build: (tmp: string) => void,
  root = join(packageRoot(), '.cache', 'rtl'),
  opts: CachedBuildOptions = {},
): CachedBuild {
  const hash = contentKey(sources.map((f) => `${f.name}\n${f.text}`).join('\n'));
  const dirName = opts.inPlace ? name : `${name}-${hash}`;
  const dir = join(root, dirName);
  const stampFile = join(dir, 'stamp');
  const stamped = () => !opts.inPlace || (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === hash);
  if (existsSync(dir) && stamped() && done(dir)) return { dir, built: false, buildMs: 0 };
  const t0 = Date.now();
  const finished = () => existsSync(dir) && stamped() && done(dir);
  mkdirSync(root, { recursive: true });
  // parallel test workers wanting the same model: one builds it, the others wait for it
  const lock = join(root, `${dirName}.lock`);
  if (takeLock(lock, finished) === 'built meanwhile') return { dir, built: false, buildMs: 0 };
  try {
    sweepStaleTemps(root);
    const tmp = mkdtempSync(join(root, `${name}.tmp-`));
    try {
      for (const f of sources) writeFileSync(join(tmp, f.name), f.text);
      build(tmp);
      if (opts.inPlace) writeFileSync(join(tmp, 'stamp'), hash);
      moveIntoPlace(tmp, dir, finished, root, name);
    } catch (e) {
      throw keepFailedLogs(e, tmp, join(root, `${dirName}.failed`));
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  return { dir, built: true, buildMs: Date.now() - t0 };
}

/** How long a build waits for another process's build of the same directory before giving up. */
const LOCK_WAIT_MS = 3_600_000;

/**
 * Takes the build lock (a directory holding the owner's pid), or waits while
 * a live process holds it; a dead owner's lock is taken over. Returns 'built
 * meanwhile' when the other process's build finished: nothing left to do.
 */
function takeLock(lock: string, finished: () => boolean): 'taken' | 'built meanwhile' {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      return 'taken';
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pidFile = join(lock, 'pid');
    const owner = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : NaN;
    // no pid yet: the owner is between its mkdir and its write, unless the lock is old
    const dead = Number.isInteger(owner) && owner > 0 ? !processAlive(owner) : lockAge(lock) > 10_000;
    if (dead) rmSync(lock, { recursive: true, force: true });
    else if (Date.now() > deadline)
      throw new RtlError(
        `another process (${owner}) has been building this for over an hour; remove ${lock} if it is gone`,
        lock,
      );
    else Atomics.wait(pause, 0, 0, 250);
    if (finished()) return 'built meanwhile';
  }
}

function lockAge(lock: string): number {
  try {
    return Date.now() - statSync(lock).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Renames the finished build `tmp` to `dir`. A parallel worker that finished
 * the same build first keeps its directory (it may be running the binary in
 * it): this one is dropped. A stale or broken `dir` is renamed aside first (a
 * `.tmp-` name, swept if this process dies), never deleted in place.
 */
function moveIntoPlace(tmp: string, dir: string, finished: () => boolean, root: string, name: string): void {
  if (finished()) {
    rmSync(tmp, { recursive: true, force: true });
    return;
  }
  const aside = existsSync(dir) ? mkdtempSync(join(root, `${name}.tmp-old-`)) : undefined;
  try {
    if (aside) renameSync(dir, join(aside, 'old'));
  } catch {
    // another worker moved it first
  }
  try {
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (!finished()) throw e; // else a parallel build landed in between: use it
  } finally {
    if (aside) rmSync(aside, { recursive: true, force: true });
  }
}

/** Removes the leftovers of interrupted builds (`*.tmp-*` in root, older than STALE_TEMP_MS). */
function sweepStaleTemps(root: string): void {
  for (const d of readdirSync(root)) {
    const p = join(root, d);
    if (d.includes('.tmp-') && Date.now() - statSync(p).mtimeMs > STALE_TEMP_MS)
      rmSync(p, { recursive: true, force: true });
  }
}

/**
 * A failed build's tool logs (`*.log` in its temporary directory) are kept as
 * `<prefix>.<tool>.log` before the directory goes, and the error names them there.
 */
function keepFailedLogs(e: unknown, tmp: string, prefix: string): unknown {
  let err = e;
  for (const f of existsSync(tmp) ? readdirSync(tmp).filter((n) => n.endsWith('.log')) : []) {
    const kept = `${prefix}.${f}`;
    renameSync(join(tmp, f), kept);
    err = withLogMoved(err, join(tmp, f), kept);
  }
  rmSync(tmp, { recursive: true, force: true });
  return err;
}
