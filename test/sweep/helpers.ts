/** Test support for the sweep's end-to-end tests: spec folders, long-running nibble processes, results files. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { expect } from 'vitest';
import { join } from 'node:path';
import { BIN, REPO } from '../cli/nibble.js';
import type { PointRecord } from '../../sweep/index.js';

export function specDir(spec: string, name = 'space.yaml'): { dir: string; file: string; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'nibble-sweep-'));
  const file = join(dir, name);
  writeFileSync(file, spec);
  return { dir, file, out: join(dir, 'out') };
}

export interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Start `nibble ARGS` without waiting for it (stdout and stderr collected). */
export function startNibble(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Running {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

export function resultLines(out: string): PointRecord[] {
  const f = join(out, 'results.jsonl');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l.endsWith('}'))
    .map((l) => JSON.parse(l) as PointRecord);
}

/** Wait (bounded) until `cond` holds; throws with `what` on timeout. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The results folder holds `points` records, every key exactly once; returns the keys with their counts. */
export function expectEachPointOnce(out: string, points: number): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of resultLines(out)) m.set(r.key, (m.get(r.key) ?? 0) + 1);
  expect(m.size).toBe(points);
  expect([...m.entries()].filter(([, c]) => c !== 1)).toEqual([]);
  return m;
}
