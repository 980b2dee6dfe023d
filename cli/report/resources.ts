/**
 * `nibble report --resources FILE`: the JSON document of `nibble rtl --synth
 * TARGET --json` (and/or `--pnr DEVICE`). Checked field by field, and against
 * the report's machine: a synthesis of another config must not be shown as
 * this one's area.
 */
import { DatasetError, didYouMean } from '../../arch/index.js';

export interface ReportResources {
  synth?: { target: string; luts: number; ffs: number; brams: number; dsps: number; cells: number };
  pnr?: { device: string; fmaxMHz: number; utilisation: Record<string, [number, number]> };
}

/** Top-level keys of `nibble rtl --json`; only synth and pnr are shown, the rest is allowed and ignored. */
const RTL_DOC_KEYS = ['configHash', 'output', 'lint', 'synth', 'pnr', 'compareRequant'] as const;
const SYNTH_KEYS = ['target', 'cells', 'cellTypes', 'luts', 'ffs', 'brams', 'dsps', 'seconds'] as const;
const PNR_KEYS = ['configHash', 'config', 'device', 'utilisation', 'fmaxMHz', 'seconds'] as const;

function fail(file: string, field: string, reason: string): never {
  throw new DatasetError(`${field}: ${reason}`, file);
}

function object(v: unknown, file: string, field: string, keys: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    fail(file, field, `must be an object, as written by nibble rtl --synth TARGET --json`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!keys.includes(k))
      fail(file, `${field}.${k}`, `unknown field${didYouMean(k, keys)} (known: ${keys.join(', ')})`);
  return o;
}

function count(o: Record<string, unknown>, file: string, field: string, key: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    fail(file, `${field}.${key}`, `must be a non-negative number, got ${JSON.stringify(v) ?? 'nothing'}`);
  return v;
}

function text(o: Record<string, unknown>, file: string, field: string, key: string): string {
  const v = o[key];
  if (typeof v !== 'string') fail(file, `${field}.${key}`, `must be a string, got ${JSON.stringify(v) ?? 'nothing'}`);
  return v;
}

function checkHash(actual: string, expected: string, file: string, field: string): void {
  if (actual !== expected)
    fail(
      file,
      field,
      `these results are for config ${actual}, the report's machine is config ${expected}: synthesize the same config (nibble rtl --config ... --synth TARGET --json)`,
    );
}

/** Validate a parsed resources document for a report on config `configHash`. */
export function parseResources(doc: unknown, file: string, configHash: string): ReportResources {
  const top = object(doc, file, '(top level)', RTL_DOC_KEYS);
  checkHash(text(top, file, '(top level)', 'configHash'), configHash, file, 'configHash');
  const out: ReportResources = {};
  if (top['synth'] !== undefined) {
    const s = object(top['synth'], file, 'synth', SYNTH_KEYS);
    out.synth = {
      target: text(s, file, 'synth', 'target'),
      luts: count(s, file, 'synth', 'luts'),
      ffs: count(s, file, 'synth', 'ffs'),
      brams: count(s, file, 'synth', 'brams'),
      dsps: count(s, file, 'synth', 'dsps'),
      cells: count(s, file, 'synth', 'cells'),
    };
  }
  if (top['pnr'] !== undefined) {
    const p = object(top['pnr'], file, 'pnr', PNR_KEYS);
    // --pnr without --config places rtl-gen's iCE40-sized machine, whose hash is its own.
    checkHash(text(p, file, 'pnr', 'configHash'), configHash, file, 'pnr.configHash');
    const u = p['utilisation'];
    if (typeof u !== 'object' || u === null || Array.isArray(u))
      fail(file, 'pnr.utilisation', 'must be an object of resource: [used, available]');
    const utilisation: Record<string, [number, number]> = {};
    for (const [k, v] of Object.entries(u as Record<string, unknown>)) {
      if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'number' && x >= 0))
        fail(file, `pnr.utilisation.${k}`, 'must be [used, available]');
      utilisation[k] = [v[0] as number, v[1] as number];
    }
    out.pnr = { device: text(p, file, 'pnr', 'device'), fmaxMHz: count(p, file, 'pnr', 'fmaxMHz'), utilisation };
  }
  if (!out.synth && !out.pnr)
    fail(file, '(top level)', 'has neither synth nor pnr results: write it with nibble rtl --synth TARGET --json');
  return out;
}

/** The resources as table rows. */
export function resourceRows(r: ReportResources): [string, string][] {
  const rows: [string, string][] = [];
  if (r.synth) {
    const s = r.synth;
    rows.push(
      ['synthesis target', s.target],
      ['LUTs', String(s.luts)],
      ['flip-flops', String(s.ffs)],
      ['block RAMs', String(s.brams)],
      ['DSPs', String(s.dsps)],
      ['cells', String(s.cells)],
    );
  }
  if (r.pnr) {
    rows.push(['place and route device', r.pnr.device], ['Fmax', `${r.pnr.fmaxMHz.toFixed(1)} MHz`]);
    for (const [k, [used, avail]] of Object.entries(r.pnr.utilisation))
      rows.push([k, `${used} / ${avail} (${avail > 0 ? ((100 * used) / avail).toFixed(0) : '-'} %)`]);
  }
  return rows;
}
