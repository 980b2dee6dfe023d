/**
 * The results store: one JSON line per finished point in DIR/results.jsonl,
 * appended as points finish, and DIR/results.csv regenerated from it. One
 * process writes a store at a time (DIR/.lock), so "never stored twice" is a
 * check against the keys in memory. A line cut short by a killed process is
 * dropped when the store is opened again, and that point simply runs again.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ArchConfig } from '../arch/index.js';
import { processAlive } from '../io/index.js';
import { ResultsStoreError } from './errors.js';
import type { AxisValue } from './fields.js';
import type { PointOutcome } from './evaluate.js';
import { METRIC_NAMES } from './metrics.js';
import type { SweepPoint } from './points.js';

export interface PointRecord extends PointOutcome {
  key: string;
  sweep: string;
  base: string;
  params: Record<string, AxisValue>;
  model: string;
  modelHash: string;
  configHash: string;
  config: ArchConfig;
  batch: number;
  engine: string;
  toolVersion: string;
  finishedAt: string;
  /** host:pid of the worker that ran it */
  worker: string;
}

export function recordOf(sweep: string, p: SweepPoint, o: PointOutcome, worker: string): PointRecord {
  return {
    key: p.key,
    sweep,
    base: p.base,
    params: p.params,
    model: p.modelLabel,
    modelHash: p.modelHash,
    configHash: p.configHash,
    config: p.config,
    batch: p.batch,
    engine: p.engine,
    toolVersion: p.toolVersion,
    ...o,
    finishedAt: new Date().toISOString(),
    worker,
  };
}

export const RESULTS_FILE = 'results.jsonl';
export const CSV_FILE = 'results.csv';
const LOCK_FILE = '.lock';

function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

export class ResultsStore {
  private readonly byKey = new Map<string, PointRecord>();
  private fd: number | undefined;
  /** notes for the user: a repaired tail */
  readonly notes: string[] = [];

  private constructor(
    readonly dir: string,
    private readonly lockFile: string,
  ) {}

  get file(): string {
    return join(this.dir, RESULTS_FILE);
  }

  /** Open (creating DIR if needed), lock and read the store. */
  static open(dir: string): ResultsStore {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new ResultsStoreError(`cannot create the results folder (${errCode(e)})`, dir);
    }
    const lock = join(dir, LOCK_FILE);
    ResultsStore.lock(lock, dir);
    const store = new ResultsStore(dir, lock);
    try {
      store.load();
      store.fd = openSync(store.file, 'a');
    } catch (e) {
      store.close();
      if (e instanceof ResultsStoreError) throw e;
      throw new ResultsStoreError(`cannot open the results file (${errCode(e)})`, store.file);
    }
    return store;
  }

  private static lock(lock: string, dir: string): void {
    const me = `${hostname()} ${process.pid}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(lock, `${me}\n`, { flag: 'wx' });
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
          throw new ResultsStoreError(`cannot lock the results folder (${errCode(e)})`, dir);
      }
      let owner: string;
      try {
        owner = readFileSync(lock, 'utf8').trim();
      } catch {
        continue; // removed meanwhile: try again
      }
      const [host, pidText] = owner.split(' ');
      const pid = Number(pidText);
      if (host === hostname() && Number.isInteger(pid) && !processAlive(pid)) {
        rmSync(lock, { force: true }); // its owner died: take the store over
        continue;
      }
      throw new ResultsStoreError(
        `in use by another nibble sweep (process ${owner || 'unknown'}); wait for it to finish, or delete ${lock} if that process is gone`,
        dir,
      );
    }
    throw new ResultsStoreError('cannot lock the results folder (the lock keeps reappearing)', dir);
  }

  private load(): void {
    if (!existsSync(this.file)) return;
    if (!statSync(this.file).isFile()) throw new ResultsStoreError('not a regular file', this.file);
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (e) {
      throw new ResultsStoreError(`cannot read the results file (${errCode(e)})`, this.file);
    }
    const end = text.lastIndexOf('\n') + 1;
    if (end < text.length) {
      // a killed writer left half a line: drop it (that point runs again)
      try {
        const fd = openSync(this.file, 'r+');
        ftruncateSync(fd, Buffer.byteLength(text.slice(0, end)));
        closeSync(fd);
      } catch (e) {
        throw new ResultsStoreError(`cannot repair the results file (${errCode(e)})`, this.file);
      }
      this.notes.push(`dropped an incomplete last line of ${this.file} (a run was killed while writing it)`);
    }
    const lines = text.slice(0, end).split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.trim() === '') continue;
      let rec: PointRecord;
      try {
        rec = JSON.parse(line) as PointRecord;
      } catch (e) {
        throw new ResultsStoreError(
          `not a valid record (${(e as Error).message}): the file was edited or corrupted`,
          `${this.file}:${i + 1}`,
        );
      }
      if (typeof rec?.key !== 'string' || (rec.status !== 'ok' && rec.status !== 'failed'))
        throw new ResultsStoreError('not a sweep record (no key or status)', `${this.file}:${i + 1}`);
      if (!this.byKey.has(rec.key)) this.byKey.set(rec.key, rec);
    }
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  get(key: string): PointRecord | undefined {
    return this.byKey.get(key);
  }

  get size(): number {
    return this.byKey.size;
  }

  records(): PointRecord[] {
    return [...this.byKey.values()];
  }

  /**
   * Append one record (one write of one whole line). Returns false, writing
   * nothing, when the key is already stored. On a failed write the file is cut
   * back to its previous length, so it never holds half a record.
   */
  append(rec: PointRecord): boolean {
    if (this.byKey.has(rec.key)) return false;
    if (this.fd === undefined) throw new ResultsStoreError('the store is closed', this.file);
    const line = Buffer.from(`${JSON.stringify(rec)}\n`);
    const size = fstatSync(this.fd).size;
    try {
      let off = 0;
      while (off < line.length) off += writeSync(this.fd, line, off);
    } catch (e) {
      try {
        ftruncateSync(this.fd, size);
      } catch {
        // the next open drops a torn line anyway
      }
      throw new ResultsStoreError(
        `cannot append a result (${errCode(e)}); ${this.byKey.size} points are saved: fix the cause and run the same command again to resume`,
        this.file,
      );
    }
    this.byKey.set(rec.key, rec);
    return true;
  }

  /** Rewrite results.csv from `records` (default: all), atomically. */
  writeCsv(records: PointRecord[] = this.records()): string {
    const file = join(this.dir, CSV_FILE);
    const params = [...new Set(records.flatMap((r) => Object.keys(r.params)))];
    const header = [
      'key',
      'status',
      'model',
      'batch',
      'engine',
      'base',
      ...params,
      ...METRIC_NAMES,
      'configHash',
      'modelHash',
      'reason',
    ];
    const cell = (v: unknown): string => {
      if (v === undefined || v === null) return '';
      const s = String(v);
      return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    };
    const rows = records.map((r) =>
      [
        r.key,
        r.status,
        r.model,
        r.batch,
        r.engine,
        r.base,
        ...params.map((p) => r.params[p]),
        ...METRIC_NAMES.map((m) => r.metrics[m]),
        r.configHash,
        r.modelHash,
        r.reason,
      ]
        .map(cell)
        .join(','),
    );
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, `${header.join(',')}\n${rows.map((r) => `${r}\n`).join('')}`);
      renameSync(tmp, file);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw new ResultsStoreError(`cannot write (${errCode(e)}); results.jsonl is intact`, file);
    }
    return file;
  }

  close(): void {
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        // already closed
      }
      this.fd = undefined;
    }
    rmSync(this.lockFile, { force: true });
  }
}

/** Read a store's records without locking it (reports, compare). */
export function readRecords(dir: string): PointRecord[] {
  const file = join(dir, RESULTS_FILE);
  if (!existsSync(file)) throw new ResultsStoreError('no results.jsonl here (run nibble sweep first)', dir);
  const out = new Map<string, PointRecord>();
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i, all) => {
      if (line.trim() === '') return;
      try {
        const r = JSON.parse(line) as PointRecord;
        if (!out.has(r.key)) out.set(r.key, r);
      } catch (e) {
        if (i === all.length - 1) return; // a line being written right now
        throw new ResultsStoreError(`not a valid record (${(e as Error).message})`, `${file}:${i + 1}`);
      }
    });
  return [...out.values()];
}
