/**
 * Progress of the external tools (Verilator build, Yosys, nextpnr) on stderr.
 * The tools run synchronously (spawnSync: the simulator-side callers are
 * synchronous), so this process cannot redraw while it waits; a small helper
 * process does it instead: it follows the tool's log file, shows the phase the
 * last matching line names and the elapsed time, and is killed when the tool
 * exits. On a terminal one line is redrawn (after a second, so quick runs stay
 * silent); with --verbose every phase is a line, on any stderr; --quiet shows
 * nothing.
 */
import { spawn } from 'node:child_process';
import { writeSync } from 'node:fs';
import type { ToolRunInfo, ToolWatcher } from '../rtl-gen/index.js';
import { rtlApi } from './modules.js';
import { colour, seconds, type Terminal, type Verbosity } from './terminal.js';

/** The helper: argv = log file, label, rules (JSON [source, flags, name][]), first phase, mode, delay ms, interval ms. */
const FOLLOWER = `
const fs = require('fs');
const [file, label, rulesJson, first, mode, delayText, everyText] = process.argv.slice(1);
const rules = JSON.parse(rulesJson).map(([src, flags, name]) => [new RegExp(src, flags), name]);
const t0 = Date.now();
let phase = first, shown = '', pos = 0, rest = '';
const seconds = (ms) => { const s = ms / 1000; return s < 60 ? s.toFixed(0) + ' s' : Math.floor(s / 60) + ' min ' + Math.round(s % 60) + ' s'; };
function scan() {
  let fd;
  try { fd = fs.openSync(file, 'r'); } catch { return; }
  const buf = Buffer.alloc(1 << 16);
  for (let n; (n = fs.readSync(fd, buf, 0, buf.length, pos)) > 0; pos += n) rest += buf.toString('latin1', 0, n);
  fs.closeSync(fd);
  const lines = rest.split('\\n');
  rest = lines.pop();
  for (const line of lines)
    for (const [re, name] of rules) {
      const m = re.exec(line);
      if (m) { phase = name.replace(/\\$(\\d)/g, (_, g) => m[Number(g)] || ''); break; }
    }
}
function draw() {
  scan();
  const text = label + (phase ? ': ' + phase : '') + ' (' + seconds(Date.now() - t0) + ')';
  if (mode === 'lines') {
    if (phase !== shown) { shown = phase; process.stderr.write(text + '\\n'); }
    return;
  }
  const width = (process.stderr.columns || 100) - 1;
  process.stderr.write('\\r\\x1b[K\\x1b[2m' + text.slice(0, width) + '\\x1b[22m');
}
setTimeout(() => { draw(); setInterval(draw, Number(everyText)); }, Number(delayText));
`;

export interface ToolProgressOptions {
  verbosity: Verbosity;
  /** stderr is a terminal */
  tty: boolean;
  /** where the lines go (a file descriptor; default 2, stderr) */
  fd?: number;
  /** on a terminal: the first redraw after this long (default 1000 ms) */
  delayMs?: number;
  /** redraw interval (default 500 ms) */
  intervalMs?: number;
}

/** The watcher for these settings, or undefined when nothing is to be shown. */
export function toolWatcher(o: ToolProgressOptions): ToolWatcher | undefined {
  if (o.verbosity === 'quiet' || (!o.tty && o.verbosity !== 'verbose')) return undefined;
  const fd = o.fd ?? 2;
  const lines = !o.tty;
  const delay = lines ? 0 : (o.delayMs ?? 1000);
  return (run: ToolRunInfo) => {
    const t0 = performance.now();
    const rules = run.phases.map((p) => [p.pattern.source, p.pattern.flags, p.name]);
    const child = spawn(
      process.execPath,
      [
        '-e',
        FOLLOWER,
        run.watchFile,
        run.label,
        JSON.stringify(rules),
        run.firstPhase ?? '',
        lines ? 'lines' : 'tty',
        String(delay),
        String(o.intervalMs ?? 500),
      ],
      { stdio: ['ignore', 'ignore', fd] },
    );
    child.on('error', () => {}); // no helper, no progress: the tool still runs
    return {
      stop(ok: boolean) {
        child.kill('SIGKILL');
        const ms = performance.now() - t0;
        const line = `${run.label}: ${ok ? 'done' : 'failed'} (${seconds(ms)})`;
        if (lines) writeSync(fd, `${line}\n`);
        // the helper has drawn once the delay is over (50 ms of slack for its start-up)
        else if (ms >= delay - 50) writeSync(fd, `\r\x1b[K${colour.dim(line)}\n`);
      },
    };
  };
}

/** Show the tools' progress for the rest of this command (`nibble verify`, `rtl`, `fpga`). */
export async function showToolProgress(term: Terminal, feature: string): Promise<void> {
  const api = await rtlApi(feature, ['setToolWatcher']);
  api.setToolWatcher(toolWatcher({ verbosity: term.verbosity, tty: process.stderr.isTTY === true }));
}
