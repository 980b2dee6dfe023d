/**
 * A build directory keyed by the hash of its sources, made atomically: the
 * sources are written to a temporary directory, built there, and renamed into
 * place, so parallel test files share one build and an interrupted build
 * leaves nothing behind that looks finished.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../arch/index.js';
import { withLogMoved } from '../tool-run.js';

export interface CachedBuild {
  dir: string;
  built: boolean;
  buildMs: number;
}

/**
 * `<root>/<name>-<hash of sources>`, built by `build(tmpDir)` unless `done(dir)` already holds.
 * root defaults to <repo>/.cache/rtl.
 */
export function cachedBuild(
  name: string,
  sources: { name: string; text: string }[],
  done: (dir: string) => boolean,
  build: (tmp: string) => void,
  root = join(packageRoot(), '.cache', 'rtl'),
): CachedBuild {
  const stamp = createHash('sha256')
    .update(sources.map((f) => `${f.name}\n${f.text}`).join('\n'))
    .digest('hex')
    .slice(0, 16);
  const dir = join(root, `${name}-${stamp}`);
  if (existsSync(dir) && done(dir)) return { dir, built: false, buildMs: 0 };
  const t0 = Date.now();
  mkdirSync(root, { recursive: true });
  const tmp = mkdtempSync(join(root, `${name}.tmp-`));
  try {
    for (const f of sources) writeFileSync(join(tmp, f.name), f.text);
    build(tmp);
    rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(tmp, dir);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // a parallel build finished first: use it
    }
  } catch (e) {
    throw keepFailedLogs(e, tmp, join(root, `${name}-${stamp}.failed`));
  }
  return { dir, built: true, buildMs: Date.now() - t0 };
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
