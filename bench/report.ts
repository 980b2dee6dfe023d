/**
 * What a benchmark section reports, and how it is printed: aligned text tables
 * for the terminal, Markdown for docs/performance.md, plain data for --json.
 */

export type Cell = string | number;

export interface Table {
  title: string;
  columns: string[];
  rows: Cell[][];
}

/** A performance goal from the project brief and whether this run met it. */
export interface Goal {
  name: string;
  target: string;
  actual: string;
  /** undefined: could not be measured in this run */
  met: boolean | undefined;
}

export type SectionStatus = 'ok' | 'skipped' | 'unavailable' | 'failed';

export interface SectionReport {
  name: string;
  title: string;
  status: SectionStatus;
  /** why a section was skipped, unavailable or failed */
  message?: string;
  tables: Table[];
  goals: Goal[];
  notes: string[];
  seconds: number;
  /** CPU seconds of this process in the section: well below `seconds` means other work shared the CPUs */
  cpuSeconds?: number;
  /** largest process RSS sampled while the section ran (MiB) */
  peakRssMiB: number;
  /** 1-minute load average when the section ended (2 = both cores of this machine busy) */
  loadAverage?: number;
  /** raw figures for --json */
  data: Record<string, unknown>;
}

/** Numbers for humans: 3 significant digits with k/M/G suffixes for big rates. */
export function si(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return String(x);
  const abs = Math.abs(x);
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [scale, suffix] of units) {
    if (abs >= scale) return `${(x / scale).toPrecision(digits)}${suffix}`;
  }
  return abs >= 1 || x === 0 ? `${Number(x.toPrecision(digits))}` : x.toPrecision(digits);
}

export function pct(x: number, digits = 1): string {
  return Number.isFinite(x) ? `${(100 * x).toFixed(digits)} %` : '-';
}

export function ms(x: number): string {
  return x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(1)} ms`;
}

function cellText(c: Cell): string {
  return typeof c === 'number' ? (Number.isInteger(c) ? String(c) : si(c)) : c;
}

/** Right-align anything that looks numeric, left-align the rest. */
function numeric(s: string): boolean {
  return /^[-+]?[\d.]+\s?([kMGT]|%|x|ms|s)?$/.test(s);
}

export function renderTable(t: Table): string {
  const cells = t.rows.map((r) => r.map(cellText));
  const widths = t.columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((s, i) => (numeric(s) ? s.padStart(widths[i]!) : s.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [t.title, line(t.columns), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of cells) out.push(line(r));
  return out.join('\n');
}

function loadText(s: SectionReport): string {
  const cpu = s.cpuSeconds === undefined ? '' : ` (CPU ${s.cpuSeconds.toFixed(1)} s)`;
  return `${cpu}${s.loadAverage === undefined ? '' : `, load average ${s.loadAverage.toFixed(2)} at its end`}`;
}

function goalMark(g: Goal): string {
  return g.met === undefined ? 'n/a' : g.met ? 'PASS' : 'MISS';
}

export function renderSection(s: SectionReport): string {
  const head = `== ${s.name}: ${s.title} ==`;
  if (s.status !== 'ok') return `${head}\n${s.status}: ${s.message ?? ''}\n`;
  const parts = [head];
  for (const t of s.tables) parts.push(renderTable(t));
  if (s.goals.length > 0) {
    parts.push(
      renderTable({
        title: 'goals',
        columns: ['goal', 'target', 'actual', 'result'],
        rows: s.goals.map((g) => [g.name, g.target, g.actual, goalMark(g)]),
      }),
    );
  }
  for (const n of s.notes) parts.push(`note: ${n}`);
  parts.push(`section time ${s.seconds.toFixed(1)} s${loadText(s)}, peak RSS ${s.peakRssMiB.toFixed(0)} MiB`);
  return parts.join('\n\n') + '\n';
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|');
}

export function markdownTable(t: Table): string {
  const rows = [t.columns, ...t.rows.map((r) => r.map(cellText))];
  const out = [`**${mdEscape(t.title)}**`, ''];
  out.push(`| ${rows[0]!.map(mdEscape).join(' | ')} |`);
  const right = rows[0]!.map((_, i) =>
    rows.slice(1).every((r) => (r[i] ?? '') === '' || r[i] === '-' || numeric(r[i]!)),
  );
  out.push(`|${right.map((r) => (r ? '---:' : '---')).join('|')}|`);
  for (const r of rows.slice(1)) out.push(`| ${r.map(mdEscape).join(' | ')} |`);
  return out.join('\n');
}

export function markdownSection(s: SectionReport): string {
  const parts = [`### ${s.name}: ${s.title}`];
  if (s.status !== 'ok') {
    parts.push(`*${s.status}*: ${s.message ?? ''}`);
    return parts.join('\n\n') + '\n';
  }
  for (const t of s.tables) parts.push(markdownTable(t));
  if (s.goals.length > 0) {
    parts.push(
      markdownTable({
        title: 'goals',
        columns: ['goal', 'target', 'actual', 'result'],
        rows: s.goals.map((g) => [g.name, g.target, g.actual, goalMark(g)]),
      }),
    );
  }
  for (const n of s.notes) parts.push(`- ${n}`);
  parts.push(`Section time ${s.seconds.toFixed(1)} s${loadText(s)}, peak RSS ${s.peakRssMiB.toFixed(0)} MiB.`);
  return parts.join('\n\n') + '\n';
}

/** Every goal of every section in one table (the end of a run, the top of docs/performance.md). */
export function goalSummary(reports: readonly SectionReport[]): Table {
  const rows: Cell[][] = [];
  for (const r of reports) {
    if (r.status !== 'ok') {
      rows.push([r.name, `(section ${r.status})`, '', '', 'n/a']);
      continue;
    }
    for (const g of r.goals) rows.push([r.name, g.name, g.target, g.actual, goalMark(g)]);
  }
  return { title: 'goal summary', columns: ['section', 'goal', 'target', 'actual', 'result'], rows };
}
