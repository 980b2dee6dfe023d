/**
 * Bar charts of the HTML report: plain SVG, no scripts. Every bar and cell is
 * a `.mark` (the browser test counts them), every text a label that the
 * layout keeps clear of the others.
 */
import { escapeXml, legend, sig3, svgOpen, text, textWidth, type Unit } from './svg.js';

export interface Bar {
  label: string;
  value: number;
  colour: string;
  /** tooltip text */
  detail?: string;
}

const ROW_H = 22;
const PLOT_W = 460;

/** Left margin wide enough for the longest row label. */
function labelWidth(labels: readonly string[]): number {
  return Math.ceil(12 + textWidth(labels.reduce((a, b) => (b.length > a.length ? b : a), 'layer')));
}

/** Horizontal bars, one per row, each value written with `format` (and its share of the total). */
export function barChart(
  id: string,
  title: string,
  bars: readonly Bar[],
  format: (value: number) => string,
  opts: { max?: number; share?: boolean } = {},
): string {
  const labelW = labelWidth(bars.map((b) => b.label));
  const total = bars.reduce((s, b) => s + Math.max(0, b.value), 0);
  const share = (v: number) => {
    const pct = (100 * v) / total;
    return ` (${pct > 0 && pct < 0.1 ? '< 0.1' : pct.toFixed(1)} %)`;
  };
  const fmt = (v: number) => `${format(v)}${opts.share && total > 0 ? share(v) : ''}`;
  const valueW = Math.max(60, ...bars.map((b) => textWidth(fmt(b.value)))) + 10;
  const w = labelW + PLOT_W + valueW;
  const h = 12 + ROW_H * Math.max(1, bars.length) + 6;
  const max = opts.max ?? Math.max(1e-300, ...bars.map((b) => b.value));
  let s = svgOpen(id, w, h, title);
  bars.forEach((b, i) => {
    const y = 8 + i * ROW_H;
    const bw = Math.max(b.value > 0 ? 1 : 0, Math.min(1, Math.max(0, b.value) / max) * PLOT_W);
    const val = fmt(b.value);
    s += `<g><title>${escapeXml(`${b.label}: ${val}${b.detail ? ` (${b.detail})` : ''}`)}</title>`;
    s += text(labelW - 6, y + 14, b.label, 'label', 'end');
    s += `<rect x="${labelW}" y="${y + 2}" width="${bw.toFixed(1)}" height="${ROW_H - 6}" fill="${b.colour}" class="mark"/>`;
    s += `${text(labelW + bw + 4, y + 14, val, 'value')}</g>`;
  });
  return `${s}</svg>`;
}

export interface StackPart {
  name: string;
  colour: string;
}

/**
 * One horizontal stacked bar per row (its parts add up to the row's total),
 * a legend above; the total is written after each bar in `unit`.
 */
export function stackedBars(
  id: string,
  title: string,
  parts: readonly StackPart[],
  rows: readonly { label: string; values: readonly number[] }[],
  unit: Unit,
): string {
  const labelW = labelWidth(rows.map((r) => r.label));
  const totals = rows.map((r) => r.values.reduce((a, b) => a + b, 0));
  const fmt = (v: number) => `${sig3(v * unit.scale)} ${unit.name}`;
  const valueW = Math.max(60, ...totals.map((t) => textWidth(fmt(t)))) + 10;
  const w = labelW + PLOT_W + valueW;
  const lg = legend(
    parts.map((p) => ({ label: p.name, colour: p.colour })),
    labelW,
    6,
    PLOT_W + valueW,
  );
  const top = 12 + lg.height;
  const h = top + ROW_H * Math.max(1, rows.length) + 6;
  const max = Math.max(1e-300, ...totals);
  let s = svgOpen(id, w, h, title) + lg.svg;
  rows.forEach((r, i) => {
    const y = top + i * ROW_H;
    const tip = r.values.map((v, k) => `${parts[k]!.name} ${fmt(v)}`).join(', ');
    s += `<g><title>${escapeXml(`${r.label}: ${fmt(totals[i]!)} (${tip})`)}</title>`;
    s += text(labelW - 6, y + 14, r.label, 'label', 'end');
    let x = labelW;
    r.values.forEach((v, k) => {
      const bw = (Math.max(0, v) / max) * PLOT_W;
      if (bw > 0)
        s += `<rect x="${x.toFixed(2)}" y="${y + 2}" width="${bw.toFixed(2)}" height="${ROW_H - 6}" fill="${parts[k]!.colour}" class="mark"/>`;
      x += bw;
    });
    s += `${text(x + 4, y + 14, fmt(totals[i]!), 'value')}</g>`;
  });
  return `${s}</svg>`;
}

/** Cell colour for a fraction in [0, 1]: white to dark blue. */
function heat(v: number): string {
  const t = Math.max(0, Math.min(1, v));
  const mix = (a: number, b: number) => Math.round(a + (b - a) * t);
  return `rgb(${mix(247, 8)},${mix(251, 69)},${mix(255, 148)})`;
}

/** A table of fractions as coloured cells with the percentage inside (rows = layers, columns = units). */
export function heatmap(
  id: string,
  title: string,
  columns: readonly string[],
  rows: readonly { label: string; values: readonly number[] }[],
): string {
  const labelW = labelWidth(rows.map((r) => r.label));
  const cellW = Math.max(96, ...columns.map((c) => textWidth(c) + 12));
  const cellH = 20;
  const top = 24;
  const w = labelW + cellW * columns.length + 8;
  const h = top + cellH * Math.max(1, rows.length) + 6;
  let s = svgOpen(id, w, h, title);
  columns.forEach((c, j) => (s += text(labelW + (j + 0.5) * cellW, 16, c, 'label', 'middle')));
  rows.forEach((r, i) => {
    const y = top + i * cellH;
    s += text(labelW - 6, y + 14, r.label, 'label', 'end');
    r.values.forEach((v, j) => {
      const x = labelW + j * cellW;
      const pct = `${(100 * v).toFixed(v < 0.1 && v > 0 ? 1 : 0)} %`;
      s += `<g><title>${escapeXml(`${r.label}, ${columns[j]}: ${pct}`)}</title><rect x="${x + 1}" y="${y + 1}" width="${cellW - 2}" height="${cellH - 2}" fill="${heat(v)}" class="mark"/>`;
      s += `${text(x + cellW / 2, y + 14, pct, v > 0.55 ? 'label on-dark' : 'label', 'middle')}</g>`;
    });
  });
  return `${s}</svg>`;
}
