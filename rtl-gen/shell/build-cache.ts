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
import { contentKey, packageRoot } from '../../arch/index.js';
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
  mkdirSync(root, { recursive: true });
  sweepStaleTemps(root);
  const tmp = mkdtempSync(join(root, `${name}.tmp-`));
  try {
    for (const f of sources) writeFileSync(join(tmp, f.name), f.text);
    build(tmp);
    if (opts.inPlace) writeFileSync(join(tmp, 'stamp'), hash);
    rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(tmp, dir);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // a parallel build finished first: use it
    }
  } catch (e) {
    throw keepFailedLogs(e, tmp, join(root, `${dirName}.failed`));
  }
  return { dir, built: true, buildMs: Date.now() - t0 };
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
