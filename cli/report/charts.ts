/**
 * Small SVG chart builders for the HTML report: no dependencies, no scripts,
 * every chart a self-contained <svg> with an id the tests look for.
 */

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
  '#1b9e77',
  '#7570b3',
  '#d95f02',
  '#66a61e',
];
export function colourAt(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1e9) return `${(x / 1e9).toFixed(a >= 1e10 ? 0 : 1)}G`;
  if (a >= 1e6) return `${(x / 1e6).toFixed(a >= 1e7 ? 0 : 1)}M`;
  if (a >= 1e4) return `${(x / 1e3).toFixed(a >= 1e5 ? 0 : 1)}k`;
  if (Number.isInteger(x)) return String(x);
  if (a >= 10) return x.toFixed(1);
  if (a >= 0.01) return x.toFixed(2);
  return x.toPrecision(2);
}

function niceMax(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

function svgOpen(id: string, w: number, h: number, title: string): string {
  return `<svg id="${escapeXml(id)}" class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${escapeXml(title)}"><title>${escapeXml(title)}</title>`;
}

export interface Bar {
  label: string;
  value: number;
  /** tooltip text */
  detail?: string;
}

/** Horizontal bar chart (one bar per label), values formatted with `unit`. */
export function barChart(
  id: string,
  title: string,
  bars: Bar[],
  unit: string,
  opts: { max?: number; percent?: boolean } = {},
): string {
  const rowH = 22;
  const labelW = Math.min(220, 10 + 7 * Math.max(4, ...bars.map((b) => b.label.length)));
  const plotW = 460;
  const w = labelW + plotW + 90;
  const h = 30 + rowH * Math.max(1, bars.length) + 10;
  const max = opts.max ?? niceMax(Math.max(0, ...bars.map((b) => b.value)));
  let s = svgOpen(id, w, h, title);
  s += `<text x="${labelW}" y="16" class="axis">0</text><text x="${labelW + plotW}" y="16" class="axis" text-anchor="end">${escapeXml(opts.percent ? `${fmt(max * 100)} %` : `${fmt(max)} ${unit}`)}</text>`;
  bars.forEach((b, i) => {
    const y = 26 + i * rowH;
    const bw = max > 0 ? Math.max(0, Math.min(1, b.value / max)) * plotW : 0;
    const val = opts.percent ? `${(b.value * 100).toFixed(1)} %` : `${fmt(b.value)} ${unit}`;
    s += `<g><title>${escapeXml(`${b.label}: ${val}${b.detail ? ` (${b.detail})` : ''}`)}</title>`;
    s += `<text x="${labelW - 6}" y="${y + 14}" text-anchor="end" class="label">${escapeXml(b.label)}</text>`;
    s += `<rect x="${labelW}" y="${y + 2}" width="${bw.toFixed(1)}" height="${rowH - 6}" fill="${colourAt(i)}"/>`;
    s += `<text x="${(labelW + bw + 4).toFixed(1)}" y="${y + 14}" class="value">${escapeXml(val)}</text></g>`;
  });
  return `${s}</svg>`;
}

/** A single stacked horizontal bar with a legend (shares of a whole). */
export function stackedBar(id: string, title: string, parts: Bar[], unit: string): string {
  const total = parts.reduce((a, p) => a + Math.max(0, p.value), 0);
  const w = 760;
  const legendRows = Math.ceil(parts.length / 3);
  const h = 60 + legendRows * 20;
  let s = svgOpen(id, w, h, title);
  let x = 10;
  parts.forEach((p, i) => {
    const pw = total > 0 ? (Math.max(0, p.value) / total) * (w - 20) : 0;
    s += `<rect x="${x.toFixed(1)}" y="10" width="${pw.toFixed(1)}" height="30" fill="${colourAt(i)}"><title>${escapeXml(`${p.label}: ${fmt(p.value)} ${unit} (${total > 0 ? ((100 * p.value) / total).toFixed(1) : 0} %)`)}</title></rect>`;
    x += pw;
  });
  parts.forEach((p, i) => {
    const lx = 10 + (i % 3) * 250;
    const ly = 56 + Math.floor(i / 3) * 20;
    s += `<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${colourAt(i)}"/><text x="${lx + 18}" y="${ly}" class="label">${escapeXml(`${p.label} ${total > 0 ? ((100 * p.value) / total).toFixed(1) : '0'} %`)}</text>`;
  });
  return `${s}</svg>`;
}

export interface RooflinePoint {
  label: string;
  /** operations per DRAM byte */
  intensity: number;
  /** achieved operations per cycle */
  perf: number;
}

/** Points of neighbouring layers often coincide: stagger their labels vertically. */
const LABEL_OFFSETS = [0, 12, -12, 24, -24];

/** Log-log roofline: peak ops/cycle and DRAM bytes/cycle against each layer's achieved point. */
export function roofline(
  id: string,
  title: string,
  points: RooflinePoint[],
  peakOpsPerCycle: number,
  bytesPerCycle: number,
): string {
  const w = 640;
  const h = 380;
  const m = { l: 70, r: 20, t: 20, b: 50 };
  const pw = w - m.l - m.r;
  const ph = h - m.t - m.b;
  const valid = points.filter((p) => p.intensity > 0 && p.perf > 0);
  const ridge = peakOpsPerCycle / bytesPerCycle;
  const xs = [ridge, ...valid.map((p) => p.intensity)];
  const xMin = 10 ** Math.floor(Math.log10(Math.min(...xs) / 2));
  const xMax = 10 ** Math.ceil(Math.log10(Math.max(...xs) * 2));
  const yMax = 10 ** Math.ceil(Math.log10(peakOpsPerCycle * 1.5));
  const yMin =
    10 **
    Math.floor(Math.log10(Math.min(peakOpsPerCycle / 100, ...valid.map((p) => p.perf / 2), bytesPerCycle * xMin)));
  const X = (v: number) => m.l + ((Math.log10(v) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin))) * pw;
  const Y = (v: number) => m.t + ph - ((Math.log10(v) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * ph;
  let s = svgOpen(id, w, h, title);
  s += `<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" class="plot"/>`;
  for (let e = Math.log10(xMin); e <= Math.log10(xMax) + 1e-9; e++) {
    const v = 10 ** e;
    s += `<line x1="${X(v).toFixed(1)}" y1="${m.t}" x2="${X(v).toFixed(1)}" y2="${m.t + ph}" class="grid"/><text x="${X(v).toFixed(1)}" y="${m.t + ph + 16}" text-anchor="middle" class="axis">${fmt(v)}</text>`;
  }
  for (let e = Math.log10(yMin); e <= Math.log10(yMax) + 1e-9; e++) {
    const v = 10 ** e;
    s += `<line x1="${m.l}" y1="${Y(v).toFixed(1)}" x2="${m.l + pw}" y2="${Y(v).toFixed(1)}" class="grid"/><text x="${m.l - 6}" y="${(Y(v) + 4).toFixed(1)}" text-anchor="end" class="axis">${fmt(v)}</text>`;
  }
  s += `<text x="${m.l + pw / 2}" y="${h - 10}" text-anchor="middle" class="label">operational intensity (ops per DRAM byte)</text>`;
  s += `<text x="16" y="${m.t + ph / 2}" text-anchor="middle" class="label" transform="rotate(-90 16 ${m.t + ph / 2})">achieved ops per cycle</text>`;
  // roof: bandwidth slope up to the ridge, then the compute peak
  const x0 = xMin;
  const y0 = Math.max(yMin, bytesPerCycle * x0);
  const xs0 = y0 / bytesPerCycle;
  s += `<polyline class="roof" points="${X(xs0).toFixed(1)},${Y(y0).toFixed(1)} ${X(ridge).toFixed(1)},${Y(peakOpsPerCycle).toFixed(1)} ${X(xMax).toFixed(1)},${Y(peakOpsPerCycle).toFixed(1)}"><title>${escapeXml(`roof: min(${fmt(peakOpsPerCycle)} ops/cycle, ${fmt(bytesPerCycle)} B/cycle x intensity); ridge at ${fmt(ridge)} ops/B`)}</title></polyline>`;
  s += `<text x="${(X(xMax) - 4).toFixed(1)}" y="${(Y(peakOpsPerCycle) - 6).toFixed(1)}" text-anchor="end" class="axis">peak ${fmt(peakOpsPerCycle)} ops/cycle (N x N MACs)</text>`;
  valid.forEach((p, i) => {
    s += `<g><title>${escapeXml(`${p.label}: ${fmt(p.intensity)} ops/B, ${fmt(p.perf)} ops/cycle (${((100 * p.perf) / peakOpsPerCycle).toFixed(1)} % of peak)`)}</title><circle cx="${X(p.intensity).toFixed(1)}" cy="${Y(p.perf).toFixed(1)}" r="5" fill="${colourAt(i)}"/><text x="${(X(p.intensity) + 7).toFixed(1)}" y="${(Y(p.perf) + 4 + LABEL_OFFSETS[i % LABEL_OFFSETS.length]!).toFixed(1)}" class="value">${escapeXml(p.label)}</text></g>`;
  });
  return `${s}</svg>`;
}

export interface TimelineSpan {
  start: number;
  end: number;
  op: string;
  index: number;
}

export interface TimelineLane {
  name: string;
  spans: TimelineSpan[];
}

/**
 * Unit-activity timeline: one lane per unit, one rectangle per instruction
 * [S, E). Spans narrower than a pixel are merged so huge programs stay small.
 */
export function timeline(id: string, title: string, lanes: TimelineLane[], totalCycles: number): string {
  const w = 960;
  const labelW = 80;
  const pw = w - labelW - 20;
  const laneH = 28;
  const ops = [...new Set(lanes.flatMap((l) => l.spans.map((s) => s.op)))];
  const h = 40 + lanes.length * laneH + 30;
  const total = Math.max(1, totalCycles);
  const X = (c: number) => labelW + (c / total) * pw;
  let s = svgOpen(id, w, h, title);
  for (let i = 0; i <= 4; i++) {
    const c = Math.round((total * i) / 4);
    s += `<line x1="${X(c).toFixed(1)}" y1="20" x2="${X(c).toFixed(1)}" y2="${20 + lanes.length * laneH}" class="grid"/><text x="${X(c).toFixed(1)}" y="14" text-anchor="middle" class="axis">${fmt(c)}</text>`;
  }
  lanes.forEach((lane, li) => {
    const y = 22 + li * laneH;
    s += `<text x="${labelW - 6}" y="${y + 17}" text-anchor="end" class="label">${escapeXml(lane.name)}</text>`;
    const sorted = [...lane.spans].sort((a, b) => a.start - b.start);
    let cur: { x0: number; x1: number; op: string; first: number; last: number; n: number } | undefined;
    const flush = () => {
      if (!cur) return;
      const tip = cur.n === 1 ? `${cur.op} [${cur.first}]` : `${cur.n} instructions [${cur.first}..${cur.last}]`;
      s += `<rect x="${cur.x0.toFixed(1)}" y="${y + 2}" width="${Math.max(0.6, cur.x1 - cur.x0).toFixed(1)}" height="${laneH - 6}" fill="${colourAt(ops.indexOf(cur.op))}"><title>${escapeXml(tip)}</title></rect>`;
      cur = undefined;
    };
    for (const sp of sorted) {
      const x0 = X(sp.start);
      const x1 = X(sp.end);
      if (cur && (x1 - cur.x0 < 1 || x0 - cur.x1 < 0.5) && (cur.op === sp.op || x1 - x0 < 1)) {
        cur.x1 = Math.max(cur.x1, x1);
        cur.last = sp.index;
        cur.n++;
        continue;
      }
      flush();
      cur = { x0, x1, op: sp.op, first: sp.index, last: sp.index, n: 1 };
    }
    flush();
  });
  ops.forEach((op, i) => {
    const lx = labelW + i * 110;
    const ly = 22 + lanes.length * laneH + 20;
    s += `<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${colourAt(i)}"/><text x="${lx + 16}" y="${ly}" class="label">${escapeXml(op)}</text>`;
  });
  return `${s}</svg>`;
}
