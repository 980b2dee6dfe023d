/**
 * Distributed sweeps on a real Redis (Debian redis-server, started here on a
 * free loopback port and stopped after): a worker killed mid-point loses and
 * duplicates nothing; Redis unreachable or lost gives one line and the sweep
 * resumes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  datasetAccuracy,
  exportQonnx,
  importOnnxGraph,
  loadDataset,
  readOnnxGraph,
  saveModelBinary,
  zooNetwork,
} from '../../models/index.js';
import { ensureBuilt, expectUserError, nibble } from '../cli/nibble.js';
import { expectEachPointOnce, resultLines, specDir, startNibble, waitFor, type Running } from './helpers.js';
import { haveTools } from '../rtl/tools-required.js';

const HAVE_REDIS = haveTools('test/sweep/queue.test.ts', ['redis-server']);

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

class RedisServer {
  private proc: ChildProcess | undefined;
  constructor(readonly port: number) {}
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    const p = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.proc = p;
    let out = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(
      () => /Ready to accept connections/.test(out) || p.exitCode !== null,
      'redis-server to start',
      20_000,
    );
    if (p.exitCode !== null) throw new Error(`redis-server exited: ${out}`);
  }
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null) return;
    const done = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await done;
  }
}

const started: Running[] = [];
function start(args: string[], cwd: string): Running {
  const r = startNibble(args, { cwd });
  started.push(r);
  return r;
}

/** SIGTERM: a worker finishes the points in hand and exits 0. */
async function stopWorker(w: Running): Promise<void> {
  w.child.kill('SIGTERM');
  expect(await w.exited).toBe(0);
  expect(w.stdout()).toMatch(/worker stopped after \d+ points\n$/);
}

const servers: RedisServer[] = [];
async function redis(): Promise<RedisServer> {
  const s = new RedisServer(await freePort());
  servers.push(s);
  await s.start();
  return s;
}

beforeAll(async () => {
  await ensureBuilt();
}, 600_000);

afterAll(async () => {
  for (const r of started) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  for (const s of servers) await s.stop();
});

const SPEC = 'name: dist\nmodels: [cifar10]\nbase: preset:edge\naxes:\n  dram.latency: {range: [8, 240], step: 8}\n';
const POINTS = 30;

describe.skipIf(!HAVE_REDIS)('BullMQ queue', () => {
  test(
    'a worker killed mid-point: its point is taken by another worker; every point stored exactly once',
    { timeout: 240_000 },
    async () => {
      const r = await redis();
      const { dir, file, out } = specDir(SPEC);
      const coord = start(['sweep', file, '--out', out, '--queue', r.url, '--json'], dir);
      // no --idle-exit: a worker may start long before the coordinator has queued anything
      const worker = ['worker', '--queue', r.url, '--workers', '1', '--lock-seconds', '2'];
      const a = start(worker, dir);
      const b = start(worker, dir);
      // kill A while it holds a point it has not finished
      await waitFor(
        () => {
          const lines = a.stdout().split('\n');
          const startedKeys = lines.filter((l) => l.startsWith('started ')).map((l) => l.slice(8));
          const doneKeys = new Set(lines.filter((l) => l.startsWith('done ')).map((l) => l.split(' ')[1]));
          return doneKeys.size >= 2 && startedKeys.some((k) => !doneKeys.has(k));
        },
        'worker A to be in the middle of a point',
        120_000,
      );
      a.child.kill('SIGKILL');
      const lines = a.stdout().split('\n');
      const doneKeys = new Set(lines.filter((l) => l.startsWith('done ')).map((l) => l.split(' ')[1]));
      const inHand = lines
        .filter((l) => l.startsWith('started '))
        .map((l) => l.slice(8))
        .filter((k) => !doneKeys.has(k));
      expect(inHand.length).toBe(1);
      const code = await coord.exited;
      expect(code, coord.stderr()).toBe(0);
      const doc = JSON.parse(coord.stdout()) as { points: number; ran: number; ok: number; retried: number };
      expect(doc.points).toBe(POINTS);
      expect(doc.ran).toBe(POINTS);
      expect(doc.retried).toBeGreaterThanOrEqual(1);
      const counts = expectEachPointOnce(out, POINTS);
      expect(counts.get(inHand[0]!)).toBe(1);
      // worker B did the killed worker's point
      expect(b.stdout()).toContain(`done ${inHand[0]}`);
      await stopWorker(b);
      await r.stop();
    },
  );

  test(
    'ONNX and .nbm models with host stages travel through Redis; accuracy is measured by the worker',
    { timeout: 240_000 },
    async () => {
      const r = await redis();
      const spec = [
        'name: onnx',
        'models: [net.onnx, lowered.nbm]',
        'axes:',
        '  array.size: [8, 16]',
        'dataset: mnist-test:100',
        'objectives: [latency, accuracy]',
        '',
      ].join('\n');
      const { dir, file, out } = specDir(spec);
      const onnx = exportQonnx(zooNetwork('mnist', { seed: 5 }));
      writeFileSync(join(dir, 'net.onnx'), onnx);
      const lowered = importOnnxGraph(readOnnxGraph(onnx, 'net.onnx'));
      const net = { ...lowered.network, host: lowered.host };
      saveModelBinary(join(dir, 'lowered.nbm'), net);
      const expected = datasetAccuracy(net, loadDataset('mnist-test', 100)).accuracy;
      const coord = start(['sweep', file, '--out', out, '--queue', r.url, '--json'], dir);
      // the worker runs elsewhere: the model files are not where the spec says
      const w = start(['worker', '--queue', r.url, '--workers', '1'], tmpdir());
      const code = await coord.exited;
      expect(code, coord.stderr()).toBe(0);
      expectEachPointOnce(out, 4);
      const recs = resultLines(out);
      expect(recs.map((x) => [x.status, x.reason])).toEqual(Array(4).fill(['ok', undefined]));
      for (const x of recs) expect(x.metrics.accuracy).toBe(expected);
      await stopWorker(w);
      await r.stop();
    },
  );

  test('Redis unreachable: one line from nibble sweep and from nibble worker', async () => {
    const port = await freePort();
    const { dir, file } = specDir(SPEC);
    expectUserError(
      await nibble(['sweep', file, '--queue', `redis://127.0.0.1:${port}`], { cwd: dir }),
      new RegExp(
        `--queue: cannot reach Redis at redis://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\): start redis-server there, or fix the address`,
      ),
    );
    expectUserError(
      await nibble(['worker', '--queue', `redis://127.0.0.1:${port}`]),
      new RegExp(`--queue: cannot reach Redis at redis://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`),
    );
  });

  test(
    'Redis lost mid-sweep: one line, the finished points are kept, the same command resumes',
    { timeout: 240_000 },
    async () => {
      const r = await redis();
      const { dir, file, out } = specDir(SPEC);
      const coord = start(['sweep', file, '--out', out, '--queue', r.url, '--redis-timeout', '2'], dir);
      const w = start(['worker', '--queue', r.url, '--workers', '1', '--redis-timeout', '2'], dir);
      await waitFor(() => resultLines(out).length >= 3, 'the first results', 120_000);
      await r.stop('SIGKILL');
      const code = await coord.exited;
      expectUserError(
        { code: code ?? -1, stdout: coord.stdout(), stderr: coord.stderr() },
        new RegExp(
          `--queue: lost the connection to Redis at ${r.url.replace(/\./g, '\\.')} \\(ECONNREFUSED for \\d+ s\\): the points finished so far are saved: run the same command again to resume \\(\\d+ of ${POINTS} points still open\\)`,
        ),
      );
      const wcode = await w.exited;
      expect(wcode).toBe(1);
      expect(w.stderr().trimEnd().split('\n')).toHaveLength(1);
      expect(w.stderr()).toMatch(
        /^nibble: error\[NB-W002\]: --queue: lost the connection to Redis at .*: \d+ points done here; the jobs in hand go back to the queue/,
      );
      const saved = resultLines(out).length;
      expect(saved).toBeGreaterThanOrEqual(3);
      // Redis is back (empty: it kept nothing): the same command finishes the sweep
      await r.start();
      const w2 = start(['worker', '--queue', r.url, '--workers', '2'], dir);
      const again = await nibble(['sweep', file, '--out', out, '--queue', r.url, '--json'], {
        cwd: dir,
        timeoutMs: 200_000,
      });
      expect(again.code, again.stderr).toBe(0);
      const doc = JSON.parse(again.stdout) as { reused: number; ran: number };
      expect(doc.reused).toBe(saved);
      expect(doc.ran).toBe(POINTS - saved);
      expectEachPointOnce(out, POINTS);
      await stopWorker(w2);
      await r.stop();
    },
  );
});
