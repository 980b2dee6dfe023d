/**
 * Running the external tools (Verilator, its C++ build, Yosys, nextpnr): the
 * output goes to a log file as the tool writes it, so the log survives the run
 * and a watcher (the CLI's progress line) can read the phase the tool is in
 * while this process waits. Without a watcher nothing is printed: library
 * callers and tests stay quiet.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { RtlError } from '../arch/index.js';

/** A line of a tool's log that starts a phase: `name` with $1.. replaced by the groups. */
export interface PhaseRule {
  pattern: RegExp;
  name: string;
}

/**
 * The phases worth showing, read from each tool's log. Verilator --build:
 * verilation, then make's compiler lines, then the link. Yosys: the top-level
 * "N. Executing X pass" lines. nextpnr: its "Info: Packing/Placing/Routing" steps.
 */
export const TOOL_PHASES = {
  verilator: [
    { pattern: /^make(?:\[\d+\])?: Entering directory/, name: 'compiling the C++ model' },
    { pattern: /^(?:g\+\+|c\+\+|clang\+\+|ccache).* -c .*?([\w.]+\.cpp)\s*$/, name: 'compiling $1' },
    { pattern: /^(?:g\+\+|c\+\+|clang\+\+|ccache).* -o (\w+)\s*$/, name: 'linking $1' },
  ],
  yosys: [{ pattern: /^\d+\. Executing (.+?)\.?$/, name: '$1' }],
  lint: [],
  nextpnr: [{ pattern: /^Info: ((?:Packing|Placing|Running|Routing|Promoting|Constraining)\b.*?)[.:]*$/, name: '$1' }],
} satisfies Record<string, PhaseRule[]>;

export type PhaseSet = keyof typeof TOOL_PHASES;

/** The phase a tool is in before its log says anything. */
export const FIRST_PHASE: Partial<Record<PhaseSet, string>> = { verilator: 'verilating', lint: 'linting' };

/** The phase the last matching line of `text` starts, or undefined. */
export function lastPhase(text: string, rules: readonly PhaseRule[]): string | undefined {
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    for (const r of rules) {
      const m = r.pattern.exec(lines[i]!);
      if (m) return r.name.replace(/\$(\d)/g, (_, g: string) => m[Number(g)] ?? '');
    }
  }
  return undefined;
}

/** What a watcher is told about one tool run. */
export interface ToolRunInfo {
  /** what the run is for, as the progress line says it */
  label: string;
  /** the file the tool's phases appear in (its log) */
  watchFile: string;
  phases: readonly PhaseRule[];
  /** the phase before the log names one */
  firstPhase?: string;
}

/** Shows a running tool; `stop` is called when it exits. */
export type ToolWatcher = (run: ToolRunInfo) => { stop(ok: boolean): void };

let watcher: ToolWatcher | undefined;

/** Install (or remove) the process-wide watcher: the CLI's progress line on a terminal. */
export function setToolWatcher(w: ToolWatcher | undefined): void {
  watcher = w;
}

/** The watcher's view of a run: its label, the file its phases appear in, and which phases. */
export function toolRunInfo(label: string, watchFile: string, phases?: PhaseSet): ToolRunInfo {
  const first = phases && FIRST_PHASE[phases];
  return { label, watchFile, phases: phases ? TOOL_PHASES[phases] : [], ...(first ? { firstPhase: first } : {}) };
}

/** Tell the watcher (if any) that a tool starts; for runners with their own error reporting (fpga/). */
export function watchTool(run: ToolRunInfo): { stop(ok: boolean): void } {
  return watcher?.(run) ?? { stop() {} };
}

export interface ToolRunOptions {
  /** the log file (kept); default <cwd>/<tool>.log */
  log?: string;
  /** a file the tool writes its own log to (yosys -l, nextpnr -l): read for phases instead of `log` */
  watchFile?: string;
  /** the phases to show while it runs (runs without are not shown) */
  phases?: PhaseSet;
  timeoutMs?: number;
  /** false: the log goes with a temporary directory, so errors do not name it (default true) */
  logKept?: boolean;
}

/**
 * Run `cmd` in `cwd`, its stdout and stderr written to the log file as they
 * come. Returns the log text; throws RtlError naming `what` (and the log) when
 * the tool is missing, times out or fails.
 */
export function runTool(cmd: string, args: string[], cwd: string, what: string, opts: ToolRunOptions = {}): string {
  const log = resolve(cwd, opts.log ?? `${basename(cmd)}.log`);
  const fd = openSync(log, 'w');
  // only the long runs (those with phases) are shown: a harness run takes milliseconds
  const shown = opts.phases
    ? watchTool(toolRunInfo(what, opts.watchFile ? resolve(cwd, opts.watchFile) : log, opts.phases))
    : { stop() {} };
  const timeoutMs = opts.timeoutMs ?? 900_000;
  let r: ReturnType<typeof spawnSync>;
  try {
    r = spawnSync(cmd, args, { cwd, stdio: ['ignore', fd, fd], timeout: timeoutMs });
  } finally {
    closeSync(fd);
  }
  const text = readFileSync(log, 'utf8');
  shown.stop(!r.error && r.status === 0);
  const code = (r.error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') throw new RtlError(`${cmd} is not installed (needed for ${what})`, what);
  if (r.error || r.status !== 0) {
    const why =
      code === 'ETIMEDOUT'
        ? `timed out after ${Math.round(timeoutMs / 1000)} s`
        : r.error
          ? `failed: ${r.error.message}`
          : `exited with ${r.status ?? r.signal}`;
    const tail = text.trim().split('\n').slice(-30).join('\n');
    const where = opts.logKept === false ? '' : ` (log: ${log})`;
    throw new RtlError(`${cmd} ${why}${where}${tail ? `:\n${tail}` : ''}`, what);
  }
  return text;
}

/** `e` with every mention of the log path `from` changed to `to` (the log moved where it is kept). */
export function withLogMoved(e: unknown, from: string, to: string): unknown {
  if (!(e instanceof RtlError)) return e;
  const bare = e.where !== undefined ? e.message.slice(e.where.length + 2) : e.message;
  return new RtlError(bare.replaceAll(from, to), e.where);
}
