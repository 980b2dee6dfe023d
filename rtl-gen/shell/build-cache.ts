/**
 * A build directory keyed by the hash of its sources, made atomically: the
 * sources are written to a temporary directory, built there, and renamed into
 * place, so parallel test files share one build and an interrupted build
 * leaves nothing behind that looks finished.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../arch/index.js';

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
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return { dir, built: true, buildMs: Date.now() - t0 };
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
