/**
 * Unit-activity timeline that reads the same at 50 and at 500,000
 * instructions: each lane is cut into one-pixel columns and each column's
 * height is the fraction of its cycles the lane was busy, so a dense run is a
 * filled band with its gaps visible, never a solid block. Layer bands on top
 * say which layer is running; thin rules carry their boundaries down.
 */
import { escapeXml, formatTime, sig3, svgOpen, text, textWidth, timeUnit } from './svg.js';

export interface TimelineSpan {
  start: number;
  end: number;
}

export interface TimelineLane {
  name: string;
  spans: TimelineSpan[];
}

export interface TimelineLayer {
  name: string;
  start: number;
  end: number;
  colour: string;
}

const W = 960;
const LABEL_W = 150;
const PW = W - LABEL_W - 16;
const LANE_H = 30;
const BAND_H = 20;

const LANE_COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#59a14f', '#76b7b2'];

/** Busy fraction of each of `bins` equal columns of [0, total). */
export function busyColumns(spans: readonly TimelineSpan[], total: number, bins: number): Float64Array {
  const busy = new Float64Array(bins);
  const per = total / bins;
  // overlapping spans (pipelined GEMMs) must not count a cycle twice: merge first
  const sorted = [...spans].filter((s) => s.end > s.start).sort((a, b) => a.start - b.start);
  let cur: TimelineSpan | undefined;
  const add = (s: TimelineSpan) => {
    let b = Math.floor(s.start / per);
    while (b < bins && b * per < s.end) {
      const lo = Math.max(s.start, b * per);
      const hi = Math.min(s.end, (b + 1) * per);
      if (hi > lo) busy[b]! += hi - lo;
      b++;
    }
  };
  for (const s of sorted) {
    if (cur && s.start <= cur.end) cur = { start: cur.start, end: Math.max(cur.end, s.end) };
    else {
      if (cur) add(cur);
      cur = { ...s };
    }
  }
  if (cur) add(cur);
  for (let b = 0; b < bins; b++) busy[b] = Math.min(1, busy[b]! / per);
  return busy;
}

/** Nice tick step (1, 2, 5 x 10^k) for about `count` ticks over `span`. */
function tickStep(span: number, count: number): number {
  const raw = span / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

export function timeline(
  id: string,
  title: string,
  lanes: readonly TimelineLane[],
  layers: readonly TimelineLayer[],
  totalCycles: number,
  clockMHz: number,
): string {
  const total = Math.max(1, totalCycles);
  const X = (c: number) => LABEL_W + (c / total) * PW;
  const top = 22;
  const lanesTop = top + BAND_H + 6;
  const h = lanesTop + lanes.length * LANE_H + 36;
  const unit = timeUnit(total, clockMHz);
  let s = svgOpen(id, W, h, title);
  // time axis in scaling units, ticks at round times
  const step = tickStep(total * unit.scale, 6) / unit.scale;
  for (let c = 0; c <= total + 1e-9; c += step) {
    s += `<line x1="${X(c).toFixed(1)}" y1="${lanesTop}" x2="${X(c).toFixed(1)}" y2="${lanesTop + lanes.length * LANE_H}" class="grid"/>`;
    const label = `${sig3(c * unit.scale)} ${unit.name}`;
    if (X(c) + textWidth(label) / 2 <= W)
      s += text(X(c), lanesTop + lanes.length * LANE_H + 14, label, 'axis', 'middle');
  }
  s += text(
    LABEL_W + PW / 2,
    h - 6,
    `time at ${clockMHz} MHz (${formatTime(total, clockMHz)}, ${total.toLocaleString('en-US')} cycles); column height = busy fraction`,
    'label',
    'middle',
  );
  // layer bands, with the name where it fits
  s += text(LABEL_W - 8, top + 14, 'layer', 'label', 'end');
  for (const l of layers) {
    const x0 = X(l.start);
    const x1 = Math.max(x0 + 1, X(l.end));
    const tip = `${l.name}: cycles ${l.start.toLocaleString('en-US')}..${l.end.toLocaleString('en-US')} (${formatTime(l.end - l.start, clockMHz)})`;
    s += `<g><title>${escapeXml(tip)}</title><rect x="${x0.toFixed(1)}" y="${top}" width="${(x1 - x0).toFixed(1)}" height="${BAND_H}" fill="${l.colour}" class="mark band"/>`;
    if (textWidth(l.name) + 6 <= x1 - x0) s += text((x0 + x1) / 2, top + 14, l.name, 'label on-dark', 'middle');
    s += '</g>';
    s += `<line x1="${x0.toFixed(1)}" y1="${lanesTop}" x2="${x0.toFixed(1)}" y2="${lanesTop + lanes.length * LANE_H}" class="layer-rule"/>`;
  }
  lanes.forEach((lane, li) => {
    const y = lanesTop + li * LANE_H;
    const cols = busyColumns(lane.spans, total, PW);
    const busy = cols.reduce((a, c) => a + c, 0) / PW;
    s += `<g><title>${escapeXml(`${lane.name}: busy ${(100 * busy).toFixed(1)} % of the run, ${lane.spans.length.toLocaleString('en-US')} instructions`)}</title>`;
    s += text(LABEL_W - 8, y + LANE_H / 2 + 4, lane.name, 'label', 'end');
    s += `<rect x="${LABEL_W}" y="${y + 2}" width="${PW}" height="${LANE_H - 4}" class="lane"/>`;
    const colour = LANE_COLOURS[li % LANE_COLOURS.length];
    // runs of equal (quantized) height become one rect: at most one per pixel, usually far fewer
    const q = (v: number) => Math.round(v * 16) / 16;
    let b = 0;
    while (b < PW) {
      const v = q(cols[b]!);
      let e = b + 1;
      while (e < PW && q(cols[e]!) === v) e++;
      if (v > 0) {
        const hh = Math.max(1, v * (LANE_H - 4));
        s += `<rect x="${LABEL_W + b}" y="${(y + LANE_H - 2 - hh).toFixed(1)}" width="${e - b}" height="${hh.toFixed(1)}" fill="${colour}" class="mark"/>`;
      }
      b = e;
    }
    s += '</g>';
  });
  return `${s}</svg>`;
}
