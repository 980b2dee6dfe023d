/** The results store: dedupe by key, torn-line repair, the lock, a full disk, CSV. */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DEFAULT_CONFIG } from '../../arch/index.js';
import { ResultsStore, ResultsStoreError, readRecords, type PointRecord } from '../../sweep/index.js';
import { thrownMessage } from '../thrown.js';

function record(key: string, latency = 1): PointRecord {
  return {
    key,
    sweep: 't',
    base: 'default',
    params: { 'array.size': 16, 'dram.busBytes': 8 },
    model: 'm',
    modelHash: 'mh',
    configHash: 'ch',
    config: DEFAULT_CONFIG,
    batch: 1,
    engine: 'timing',
    toolVersion: 'v',
    status: 'ok',
    metrics: { latency, energy: 2 },
    layers: [],
    seconds: 0,
    finishedAt: '2026-01-01T00:00:00Z',
    worker: 'test',
  };
}

const fresh = () => mkdtempSync(join(tmpdir(), 'nibble-store-'));

describe('results store', () => {
  test('appends one line per point, never the same key twice, and reads it back', () => {
    const dir = fresh();
    const s = ResultsStore.open(dir);
    expect(s.append(record('a'))).toBe(true);
    expect(s.append(record('b'))).toBe(true);
    expect(s.append(record('a', 99))).toBe(false);
    s.close();
    const lines = readFileSync(join(dir, 'results.jsonl'), 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as PointRecord).key)).toEqual(['a', 'b']);
    const again = ResultsStore.open(dir);
    expect(again.size).toBe(2);
    expect(again.append(record('b'))).toBe(false);
    expect(again.get('a')!.metrics.latency).toBe(1);
    again.close();
    expect(readRecords(dir).map((r) => r.key)).toEqual(['a', 'b']);
  });

  test('a line cut short by a killed writer is dropped on open, with a note', () => {
    const dir = fresh();
    const s = ResultsStore.open(dir);
    s.append(record('a'));
    s.close();
    appendFileSync(join(dir, 'results.jsonl'), JSON.stringify(record('b')).slice(0, 40));
    const t = ResultsStore.open(dir);
    expect(t.size).toBe(1);
    expect(t.notes[0]).toMatch(/dropped an incomplete last line of .*results\.jsonl/);
    expect(t.append(record('b'))).toBe(true);
    t.close();
    expect(readFileSync(join(dir, 'results.jsonl'), 'utf8').trimEnd().split('\n')).toHaveLength(2);
  });

  test('a corrupted line in the middle names the file and line', () => {
    const dir = fresh();
    writeFileSync(
      join(dir, 'results.jsonl'),
      `${JSON.stringify(record('a'))}\nnot json\n${JSON.stringify(record('b'))}\n`,
    );
    expect(thrownMessage(() => ResultsStore.open(dir), ResultsStoreError)).toMatch(
      new RegExp(`^${dir}/results\\.jsonl:2: not a valid record \\(.*\\): the file was edited or corrupted$`),
    );
    writeFileSync(join(dir, 'results.jsonl'), '{"x": 1}\n');
    expect(thrownMessage(() => ResultsStore.open(dir), ResultsStoreError)).toBe(
      `${dir}/results.jsonl:1: not a sweep record (no key or status)`,
    );
    expect(existsSync(join(dir, '.lock'))).toBe(false); // a failed open releases the lock
  });

  test('one writer at a time: a live owner is refused, a dead one is taken over', async () => {
    const dir = fresh();
    const s = ResultsStore.open(dir);
    expect(thrownMessage(() => ResultsStore.open(dir), ResultsStoreError)).toBe(
      `${dir}: in use by another nibble sweep (process ${hostname()} ${process.pid}); wait for it to finish, or delete ${dir}/.lock if that process is gone`,
    );
    s.close();
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid!;
    await new Promise((r) => child.on('exit', r));
    writeFileSync(join(dir, '.lock'), `${hostname()} ${pid}\n`);
    const t = ResultsStore.open(dir);
    t.close();
  });

  test('a results path that is not a folder, or a results file that is not a file', () => {
    const bad = join(fresh(), 'file');
    writeFileSync(bad, 'x');
    expect(thrownMessage(() => ResultsStore.open(join(bad, 'sub')), ResultsStoreError)).toMatch(
      /cannot create the results folder \(ENOTDIR\)/,
    );
    const dir = fresh();
    symlinkSync('/dev/null', join(dir, 'results.jsonl'));
    expect(thrownMessage(() => ResultsStore.open(dir), ResultsStoreError)).toBe(
      `${dir}/results.jsonl: not a regular file`,
    );
  });

  test('CSV: one row per record, the axis values as columns, quoting where needed', () => {
    const dir = fresh();
    mkdirSync(dir, { recursive: true });
    const s = ResultsStore.open(dir);
    s.append(record('a'));
    s.append({ ...record('b'), status: 'failed', metrics: {}, reason: 'layer 0 "conv1": too big, really' });
    const file = s.writeCsv();
    s.close();
    const rows = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(rows[0]).toMatch(/^key,status,model,batch,engine,base,array\.size,dram\.busBytes,cycles,latency,/);
    expect(rows[1]).toMatch(/^a,ok,m,1,timing,default,16,8,,1,/);
    expect(rows[2]).toMatch(/,"layer 0 ""conv1"": too big, really"$/);
  });
});
