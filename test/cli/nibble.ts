/**
 * Test support: build dist/ once when it is missing or older than the sources
 * (test files run in parallel processes, so the build is guarded by a lock
 * directory), then run the built `nibble` binary as a subprocess.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDiagnosticCode, type DiagnosticCode } from '../../arch/index.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = join(REPO, 'dist/cli/main.js');
export { AUTHORS_MODEL } from '../reference-data.js';
const SOURCE_DIRS = ['arch', 'io', 'isa', 'sim', 'compiler', 'rtl-gen', 'cosim', 'fpga', 'models', 'cli', 'sweep'];
const LOCK = join(REPO, 'dist/.cli-test-build.lock');

function newestSource(dir: string): number {
  let newest = 0;
  if (!existsSync(dir)) return 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function isFresh(): boolean {
  if (!existsSync(BIN)) return false;
  const built = statSync(BIN).mtimeMs;
  return SOURCE_DIRS.every((d) => newestSource(join(REPO, d)) <= built);
}

/**
 * Build as `npm run build` does (tsc, the WebAssembly kernel, the bundled
 * executable) unless dist/ is fresh. Type errors elsewhere do not stop the
 * emit; a failing kernel or bundle build, or a missing binary, does.
 */
export async function ensureBuilt(): Promise<void> {
  if (isFresh()) return;
  mkdirSync(join(REPO, 'dist'), { recursive: true });
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      if (existsSync(LOCK) && Date.now() - statSync(LOCK).mtimeMs > 300_000)
        rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error('timed out waiting for another test process to build dist/');
      await new Promise((r) => setTimeout(r, 500));
      if (isFresh()) return;
    }
  }
  try {
    if (isFresh()) return;
    const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: REPO, encoding: 'utf8' });
    if (r.status !== 0)
      process.stderr.write(`[test/cli] tsc reported errors (dist was emitted anyway):\n${r.stdout.slice(0, 2000)}\n`);
    for (const script of ['sim/kernels/build-wasm.mjs', 'cli/build-bundle.mjs']) {
      const s = spawnSync(process.execPath, [script], { cwd: REPO, encoding: 'utf8' });
      if (s.status !== 0) throw new Error(`build failed: node ${script}:\n${s.stderr}`);
    }
    if (!existsSync(BIN)) throw new Error(`build failed, no ${BIN}:\n${r.stdout}\n${r.stderr}`);
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function nibble(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((res) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd: opts.cwd ?? REPO,
        env: { ...process.env, NO_COLOR: '1', ...opts.env },
        timeout: opts.timeoutMs ?? 120_000,
        maxBuffer: 256 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : -1
          : 0;
        res({ code, stdout, stderr });
      },
    );
  });
}

/**
 * A user error: exit 1, exactly one line `nibble: error[NB-X000]: ...` on
 * stderr with a registered code (`code`, when given), no stack trace.
 */
export function expectUserError(r: RunResult, pattern: RegExp, code?: DiagnosticCode): void {
  const lines = r.stderr.trimEnd().split('\n');
  const m = /^nibble: error\[(NB-[A-Z]\d{3})\]: /.exec(lines[0] ?? '');
  if (
    r.code !== 1 ||
    lines.length !== 1 ||
    !m ||
    !isDiagnosticCode(m[1]!) ||
    (code !== undefined && m[1] !== code) ||
    !pattern.test(lines[0]!) ||
    /\n\s+at /.test(r.stderr)
  ) {
    throw new Error(
      `expected a one-line user error${code ? ` ${code}` : ''} matching ${pattern} with exit 1, got exit ${r.code}:\n${r.stderr}\nstdout:\n${r.stdout.slice(0, 500)}`,
    );
  }
}
