/**
 * What every chart of the HTML report shares: escaping, the <svg> frame,
 * colours that stay distinct for any number of layers, units that scale
 * (mJ, not "4.6M nJ"), and label placement that never lets two labels overlap.
 */

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Opening tag of a chart: an id the tests look for, a title for screen readers and tooltips. */
export function svgOpen(id: string, w: number, h: number, title: string): string {
  return `<svg id="${escapeXml(id)}" class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${escapeXml(title)}"><title>${escapeXml(title)}</title>`;
}

/** Tableau 10: distinct and colour-blind friendly, for up to ten series. */
const TABLEAU10 = [
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
];

/**
 * `count` distinct colours: Tableau 10 up to ten, else hues spread by the
 * golden angle with alternating lightness, so neighbours never look alike and
 * no colour repeats (VGG-16 has 16 layers, ResNets many more).
 */
export function palette(count: number): string[] {
  if (count <= TABLEAU10.length) return TABLEAU10.slice(0, count);
  return Array.from({ length: count }, (_, i) => {
    const hue = (i * 137.508) % 360;
    const light = [42, 58, 50][i % 3];
    return `hsl(${hue.toFixed(1)},62%,${light}%)`;
  });
}

/** A number with three significant digits, thousands separated (no exponent). */
export function sig3(x: number): string {
  if (!Number.isFinite(x)) return '-';
  if (x === 0) return '0';
  const a = Math.abs(x);
  const digits = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : Math.min(6, 2 - Math.floor(Math.log10(a)));
  return x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export interface Unit {
  /** value in base units -> value in this unit */
  scale: number;
  name: string;
}

function pick(max: number, units: readonly Unit[]): Unit {
  let best = units[0]!;
  for (const u of units) if (Math.abs(max) * u.scale >= 1) best = u;
  return best;
}

/** Units a factor of 1000 apart, from the base unit up. */
function thousands(names: readonly string[]): Unit[] {
  return names.map((name, i) => ({ scale: 1000 ** -i, name }));
}

const ENERGY_UNITS = thousands(['pJ', 'nJ', 'µJ', 'mJ', 'J']);

/** The energy unit for values up to `maxPj` picojoules. */
export function energyUnit(maxPj: number): Unit {
  return pick(maxPj, ENERGY_UNITS);
}

export function formatEnergy(pj: number): string {
  const u = energyUnit(pj);
  return `${sig3(pj * u.scale)} ${u.name}`;
}

/** Time units for a span given in cycles at `clockMHz` (base: microseconds). */
export function timeUnit(maxCycles: number, clockMHz: number): Unit {
  const us = 1 / clockMHz;
  const units = [
    { scale: us * 1e3, name: 'ns' },
    { scale: us, name: 'µs' },
    { scale: us * 1e-3, name: 'ms' },
    { scale: us * 1e-6, name: 's' },
  ];
  return pick(maxCycles, units);
}

export function formatTime(cycles: number, clockMHz: number): string {
  const u = timeUnit(cycles, clockMHz);
  return `${sig3(cycles * u.scale)} ${u.name}`;
}

const COUNT_UNITS = thousands(['', 'k', 'M', 'G', 'T']);

/** A count with an SI suffix: 72.5M, 3.50k, 812. */
export function formatCount(x: number): string {
  if (Math.abs(x) < 10_000) return sig3(x);
  const u = pick(x, COUNT_UNITS);
  return `${sig3(x * u.scale)}${u.name}`;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${sig3(v)} ${units[i]}`;
}

/** Average glyph width of the charts' 11 px sans-serif, rounded up (the browser test measures the real text). */
export const CHAR_W = 6.6;
export const TEXT_H = 13;

export function textWidth(s: string, charW = CHAR_W): number {
  return s.length * charW;
}

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/**
 * Greedy label placement: a label goes to the first candidate position that
 * stays inside the bounds and clear of every label and mark placed before;
 * if none is free it is left out (the legend names every series).
 */
export class LabelPlacer {
  private readonly taken: Box[] = [];
  constructor(private readonly bounds: Box) {}

  /** Reserve an area (a marker, an axis label) so labels avoid it. */
  block(b: Box): void {
    this.taken.push(b);
  }

  /** Candidates are text anchor points (x of the left edge, y of the baseline). */
  place(text: string, candidates: readonly { x: number; y: number }[]): { x: number; y: number } | undefined {
    const w = textWidth(text);
    for (const c of candidates) {
      const box = { x: c.x - 1, y: c.y - TEXT_H + 2, w: w + 2, h: TEXT_H };
      const inside =
        box.x >= this.bounds.x &&
        box.y >= this.bounds.y &&
        box.x + box.w <= this.bounds.x + this.bounds.w &&
        box.y + box.h <= this.bounds.y + this.bounds.h;
      if (inside && !this.taken.some((t) => overlaps(t, box))) {
        this.taken.push(box);
        return c;
      }
    }
    return undefined;
  }
}

/** Text element; `anchor` start|middle|end. */
export function text(x: number, y: number, s: string, cls: string, anchor = 'start', extra = ''): string {
  const a = anchor === 'start' ? '' : ` text-anchor="${anchor}"`;
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}"${a} class="${cls}"${extra}>${escapeXml(s)}</text>`;
}

/**
 * A legend of coloured swatches in a grid whose columns fit the widest entry,
 * starting at (x, y) within `width`; returns the SVG and the height used.
 */
export function legend(
  entries: readonly { label: string; colour: string; shape?: 'square' | 'circle' }[],
  x: number,
  y: number,
  width: number,
): { svg: string; height: number } {
  if (entries.length === 0) return { svg: '', height: 0 };
  const colW = Math.max(...entries.map((e) => textWidth(e.label))) + 28;
  const cols = Math.max(1, Math.floor(width / colW));
  let s = '';
  entries.forEach((e, i) => {
    const lx = x + (i % cols) * colW;
    const ly = y + Math.floor(i / cols) * 18;
    s +=
      e.shape === 'circle'
        ? `<circle cx="${lx + 6}" cy="${ly + 6}" r="5" fill="${e.colour}" class="mark"/>`
        : `<rect x="${lx}" y="${ly}" width="12" height="12" fill="${e.colour}" class="mark"/>`;
    s += text(lx + 18, ly + 11, e.label, 'label');
  });
  return { svg: s, height: Math.ceil(entries.length / cols) * 18 };
}
