/**
 * The native ceiling: bench/native/gemm.c, compiled here with the system's C
 * compiler (`cc -O3 -march=native`, cached by source hash in .cache/bench/)
 * and run as a child process that times itself. When there is no compiler,
 * or it fails, the caller falls back to the WebAssembly kernel as the ceiling
 * and says why.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../arch/index.js';

export interface NativeGemm {
  /** path of the compiled binary */
  binary: string;
  /** the compiler's name and version (first line of `cc --version`) */
  compiler: string;
}

export interface NativeRun {
  /** which vector path the compiler targeted (avx512-vnni, avx-vnni, avx2, scalar) */
  kernel: string;
  runs: number;
  wallNs: number;
  cpuNs: number;
}

const CC = process.env.CC ?? 'cc';
const FLAGS = ['-O3', '-march=native'];

/** Compile the C ceiling (or reuse the cached binary); a string says why it is unavailable. */
export function buildNativeGemm(root = packageRoot()): NativeGemm | string {
  const source = join(root, 'bench', 'native', 'gemm.c');
  if (!existsSync(source)) return `${source} is missing`;
  const version = spawnSync(CC, ['--version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) return `no C compiler ('${CC} --version' failed)`;
  const compiler = (version.stdout.split('\n')[0] ?? CC).trim();
  const hash = createHash('sha256')
    .update(readFileSync(source))
    .update(`${compiler} ${FLAGS.join(' ')}`)
    .digest('hex')
    .slice(0, 16);
  const dir = join(root, '.cache', 'bench');
  const binary = join(dir, `gemm-${hash}`);
  if (!existsSync(binary)) {
    mkdirSync(dir, { recursive: true });
    const r = spawnSync(CC, [...FLAGS, '-o', binary, source], { encoding: 'utf8' });
    if (r.error || r.status !== 0) {
      const why = (r.stderr || r.error?.message || '').trim().split('\n')[0];
      return `${CC} ${FLAGS.join(' ')} bench/native/gemm.c failed: ${why}`;
    }
  }
  return { binary, compiler };
}

/** Time the C GEMM on one shape (it checks its own result against a scalar reference first). */
export function runNativeGemm(g: NativeGemm, pixels: number, k: number, n: number, minMs: number): NativeRun {
  const r = spawnSync(g.binary, [String(pixels), String(k), String(n), String(minMs)], { encoding: 'utf8' });
  const out = /^(\S+) (\d+) ([\d.]+) ([\d.]+) -?\d+\s*$/.exec(r.stdout ?? '');
  if (r.status !== 0 || !out) {
    throw new Error(`native GEMM ${pixels}x${k}x${n} failed: ${(r.stderr || r.stdout || String(r.error)).trim()}`);
  }
  return { kernel: out[1]!, runs: Number(out[2]), wallNs: Number(out[3]), cpuNs: Number(out[4]) };
}
