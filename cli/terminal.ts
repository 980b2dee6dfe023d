/**
 * Everything the CLI writes goes through here, so `--json` can guarantee one
 * JSON document on stdout and colours/progress bars appear only on terminals.
 */
import { createRequire } from 'node:module';
import { Chalk, type ChalkInstance } from 'chalk';
import type { Note, SuppressibleCode, Warning } from '../arch/index.js';

/** cli-progress, loaded on the first progress bar: most commands never draw one (start-up time). */
function progressBars(): typeof import('cli-progress') {
  return createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress');
}

function colourLevel(): 0 | 1 | 2 | 3 {
  if (process.env['NO_COLOR'] !== undefined && process.env['NO_COLOR'] !== '') return 0;
  if (process.env['FORCE_COLOR'] !== undefined && process.env['FORCE_COLOR'] !== '0') return 1;
  return process.stdout.isTTY ? 1 : 0;
}

/** Colours for stdout text: plain when stdout is not a terminal or NO_COLOR is set. */
export const colour: ChalkInstance = new Chalk({ level: colourLevel() });

/** --quiet: results and errors only; --verbose: also the time of every step, on any stderr. */
export type Verbosity = 'quiet' | 'normal' | 'verbose';
let verbosity: Verbosity = 'normal';

/** Set once per run from the global --quiet / --verbose flags (cli/nibble.ts). */
export function setVerbosity(v: Verbosity): void {
  verbosity = v;
}

/** A duration as a step line says it: `4.2 s`, `3 min 5 s`. */
export function seconds(ms: number): string {
  const s = ms / 1000;
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

let suppressed: ReadonlySet<SuppressibleCode> = new Set();

/** Set once per run from --suppress and NIBBLE_SUPPRESS (cli/nibble.ts, parsed by cli/diagnostics.ts). */
export function setSuppressed(codes: ReadonlySet<SuppressibleCode>): void {
  suppressed = codes;
}

export class Terminal {
  constructor(readonly json: boolean) {}

  get verbosity(): Verbosity {
    return verbosity;
  }

  /**
   * Run a step that may take seconds, saying so on stderr first: on a
   * terminal `label...` then its time; with --verbose always; never with
   * --quiet. Synchronous steps cannot animate, so the line comes before the
   * wait, not after it.
   */
  step<T>(label: string, fn: () => T): T {
    const show = verbosity === 'verbose' || (verbosity === 'normal' && process.stderr.isTTY === true);
    if (!show) return fn();
    const tty = process.stderr.isTTY === true;
    process.stderr.write(tty ? `${colour.dim(`${label}...`)}` : `${label}...\n`);
    const t0 = performance.now();
    const done = (what: string) => {
      const line = `${label}: ${what} (${seconds(performance.now() - t0)})`;
      process.stderr.write(tty ? `\r\x1b[K${colour.dim(line)}\n` : `${line}\n`);
    };
    try {
      const r = fn();
      done('done');
      return r;
    } catch (e) {
      done('failed');
      throw e;
    }
  }

  /**
   * step() whose work reports its phases: on a terminal the step's line shows
   * the current one (redrawn at most every 100 ms); elsewhere only the step lines.
   */
  stepWithPhases<T>(label: string, fn: (phase: (what: string) => void) => T): T {
    const tty = process.stderr.isTTY === true && verbosity !== 'quiet';
    let last = -Infinity; // the first phase always shows
    const phase = (what: string) => {
      if (!tty) return; // before the clock: the first performance.now() loads node:perf_hooks
      const now = performance.now();
      if (now - last < 100) return;
      last = now;
      process.stderr.write(`\r\x1b[K${colour.dim(`${label}... ${what}`)}`);
    };
    return this.step(label, () => fn(phase));
  }

  /** A human-readable line on stdout; suppressed in --json mode (stdout is the JSON document then). */
  line(text = ''): void {
    if (!this.json) process.stdout.write(`${text}\n`);
  }

  /** A notice that must be seen even in --json mode: goes to stderr (not with --quiet). */
  note(text: string): void {
    if (verbosity !== 'quiet') process.stderr.write(`${text}\n`);
  }

  /** A coded warning on stderr, `nibble: warning[CODE]: ...`, unless its code is suppressed (or --quiet). */
  warn(w: Warning): void {
    if (!suppressed.has(w.code)) this.note(`nibble: warning[${w.code}]: ${w.message}`);
  }

  /** A coded note on stderr, `nibble: note[CODE]: ...`, unless its code is suppressed (or --quiet). */
  notice(n: Note): void {
    if (!suppressed.has(n.code)) this.note(`nibble: note[${n.code}]: ${n.message}`);
  }

  /** A coded note inside a report on stdout, `  note[CODE]: ...`, unless its code is suppressed. */
  reportNote(n: Note, style: (text: string) => string = (t) => t): void {
    if (!suppressed.has(n.code)) this.line(style(`  note[${n.code}]: ${n.message}`));
  }

  /** The one JSON document of a --json run. */
  document(value: unknown): void {
    process.stdout.write(`${JSON.stringify(value, jsonReplacer, 2)}\n`);
  }

  heading(text: string): void {
    this.line(colour.bold(text));
  }

  /** Aligned two-column key/value lines. */
  pairs(rows: [string, string][], indent = '  '): void {
    const width = Math.max(0, ...rows.map(([k]) => k.length));
    for (const [k, v] of rows) this.line(`${indent}${colour.dim(k.padEnd(width))}  ${v}`);
  }

  /** A plain text table; numbers right-aligned. */
  table(header: string[], rows: (string | number)[][], indent = '  '): void {
    const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)));
    const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
    const looksNumeric = (c: string | number | undefined) =>
      typeof c === 'number' || (typeof c === 'string' && /^-?[\d,]+(\.\d+)?( %)?$/.test(c));
    const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => looksNumeric(r[i])));
    const fmt = (r: string[]) =>
      r
        .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd();
    this.line(indent + colour.bold(fmt(header)));
    for (const r of cells) this.line(indent + fmt(r));
  }

  /**
   * A progress bar on stderr for work longer than about a second; only when
   * stderr is a terminal, so logs and pipes stay clean.
   */
  progress(label: string, total: number): Progress {
    if (!process.stderr.isTTY || total <= 0 || verbosity === 'quiet') return { tick() {}, stop() {} };
    const cliProgress = progressBars();
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {value}/{total} {eta_formatted}`,
        stream: process.stderr,
        clearOnComplete: true,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    let value = 0;
    return {
      tick(n = 1) {
        value += n;
        bar.update(value);
      },
      stop() {
        bar.stop();
      },
    };
  }
}

export interface Progress {
  tick(n?: number): void;
  stop(): void;
}

/** Typed arrays become plain arrays, bigints numbers, in JSON output. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView))
    return Array.from(value as unknown as ArrayLike<number>);
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Map) return Object.fromEntries(value);
  return value;
}

/** Decimal digits with en-US thousands separators ("1234567" -> "1,234,567"). */
function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+$)/g, ',');
}

/**
 * What toLocaleString('en-US') prints, in plain JavaScript below 1e15 (integers) or 1e14: the
 * first toLocaleString of a process costs about 10 ms of CPU (ICU's number
 * formatter starts), more than the rest of a small command's output. One
 * fraction digit rounds the shortest decimal form half away from zero, as
 * Intl does; larger numbers still go to Intl.
 */
function localeNumber(x: number, fractionDigits: 0 | 1): string {
  const abs = Math.abs(x);
  // beyond these integers stop being safe, or tenths stop being exact doubles (1e14 * 10 < 2^53)
  if (abs >= (fractionDigits === 0 ? 1e15 : 1e14))
    return x.toLocaleString('en-US', { maximumFractionDigits: fractionDigits, minimumFractionDigits: fractionDigits });
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  if (fractionDigits === 0) return sign + groupThousands(String(abs));
  const [int, frac = ''] = String(abs).split('.') as [string, string?];
  const tenths = Number(int) * 10 + Number(frac[0] ?? '0') + (frac[1] !== undefined && frac[1] >= '5' ? 1 : 0);
  return `${sign}${groupThousands(String(Math.floor(tenths / 10)))}.${tenths % 10}`;
}

export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x)) return localeNumber(x, 0);
  const abs = Math.abs(x);
  if (abs >= 100) return localeNumber(x, 1);
  if (abs >= 1) return x.toFixed(3);
  return x.toPrecision(3);
}

export function percent(x: number, digits = 2): string {
  return `${(100 * x).toFixed(digits)} %`;
}
