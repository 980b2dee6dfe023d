/**
 * Log-log roofline with two memory roofs: DRAM (the bus) and SRAM (the
 * scratchpad ports), under the compute peak. One point per layer against
 * DRAM, and the whole network against both memories. Layers are told apart by
 * colour and a legend; in-plot labels are placed only where they overlap
 * nothing, so forty layers at the ridge stay readable.
 */
import { escapeXml, formatCount, LabelPlacer, legend, sig3, svgOpen, text, TEXT_H, textWidth } from './svg.js';

export interface RooflinePoint {
  label: string;
  colour: string;
  /** operations per byte of the roof's memory */
  intensity: number;
  /** achieved operations per cycle */
  perf: number;
}

export interface RooflineInput {
  peakOpsPerCycle: number;
  dramBytesPerCycle: number;
  sramBytesPerCycle: number;
  /** per layer, intensity against DRAM */
  layers: RooflinePoint[];
  /** the whole network: intensity against DRAM and against SRAM */
  network?: { dram: number; sram: number; perf: number };
}

const W = 720;
const M = { l: 70, r: 20, t: 16, b: 46 };
const PH = 380;

function decades(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
  return out;
}

export function roofline(id: string, title: string, r: RooflineInput): string {
  const pw = W - M.l - M.r;
  const valid = r.layers.filter((p) => p.intensity > 0 && p.perf > 0);
  const net = r.network && r.network.perf > 0 && r.network.dram > 0 ? r.network : undefined;
  const ridgeD = r.peakOpsPerCycle / r.dramBytesPerCycle;
  const ridgeS = r.peakOpsPerCycle / r.sramBytesPerCycle;
  const xs = [ridgeD, ridgeS, ...valid.map((p) => p.intensity), ...(net ? [net.dram, net.sram] : [])];
  const xMin = 10 ** Math.floor(Math.log10(Math.min(...xs) / 2));
  const xMax = 10 ** Math.ceil(Math.log10(Math.max(...xs) * 2));
  const yMax = 10 ** Math.ceil(Math.log10(r.peakOpsPerCycle * 1.5));
  const perfs = [...valid.map((p) => p.perf), ...(net ? [net.perf] : [])];
  const yMin = 10 ** Math.floor(Math.log10(Math.min(r.peakOpsPerCycle / 100, ...perfs.map((p) => p / 2))));
  const lx = (v: number) => Math.log10(v);
  const X = (v: number) => M.l + ((lx(v) - lx(xMin)) / (lx(xMax) - lx(xMin))) * pw;
  const Y = (v: number) => M.t + PH - ((lx(v) - lx(yMin)) / (lx(yMax) - lx(yMin))) * PH;
  const placer = new LabelPlacer({ x: M.l + 2, y: M.t + 2, w: pw - 4, h: PH - 4 });
  let s = `<rect x="${M.l}" y="${M.t}" width="${pw}" height="${PH}" class="plot"/>`;
  for (const v of decades(xMin, xMax)) {
    s += `<line x1="${X(v).toFixed(1)}" y1="${M.t}" x2="${X(v).toFixed(1)}" y2="${M.t + PH}" class="grid"/>`;
    s += text(X(v), M.t + PH + 19, formatCount(v), 'axis', 'middle');
  }
  for (const v of decades(yMin, yMax)) {
    s += `<line x1="${M.l}" y1="${Y(v).toFixed(1)}" x2="${M.l + pw}" y2="${Y(v).toFixed(1)}" class="grid"/>`;
    s += text(M.l - 6, Y(v) + 4, formatCount(v), 'axis', 'end');
  }
  s += text(
    M.l + pw / 2,
    M.t + PH + 38,
    'operational intensity (ops per byte of DRAM or SRAM traffic)',
    'label',
    'middle',
  );
  const yc = M.t + PH / 2;
  s += text(16, yc, 'achieved ops per cycle', 'label', 'middle', ` transform="rotate(-90 16 ${yc})"`);
  // roofs: a memory slope up to its ridge, then the compute peak
  const roof = (bpc: number, cls: string, name: string) => {
    const y0 = Math.max(yMin, bpc * xMin);
    const ridge = r.peakOpsPerCycle / bpc;
    const pts = `${X(y0 / bpc).toFixed(1)},${Y(y0).toFixed(1)} ${X(ridge).toFixed(1)},${Y(r.peakOpsPerCycle).toFixed(1)} ${X(xMax).toFixed(1)},${Y(r.peakOpsPerCycle).toFixed(1)}`;
    return `<polyline class="${cls}" points="${pts}"><title>${escapeXml(`${name} roof: ${sig3(bpc)} bytes/cycle; ridge at ${sig3(ridge)} ops/byte`)}</title></polyline>`;
  };
  s += roof(r.dramBytesPerCycle, 'roof', 'DRAM') + roof(r.sramBytesPerCycle, 'roof roof-sram', 'SRAM');
  // roof names where the slopes are, then the peak: placed first, so markers' labels avoid them
  const slopeLabel = (bpc: number, name: string) => {
    const xv = Math.max(xMin * 1.5, Math.min((r.peakOpsPerCycle / bpc) * 0.2, xMax));
    const at = { x: X(xv) + 4, y: Y(Math.max(yMin, bpc * xv)) - 6 };
    const p = placer.place(name, [at, { x: at.x, y: at.y + 24 }, { x: at.x + 30, y: at.y + 34 }]);
    return p ? text(p.x, p.y, name, 'axis') : '';
  };
  const peakName = `peak ${formatCount(r.peakOpsPerCycle)} ops/cycle`;
  const pk = placer.place(peakName, [
    { x: M.l + 6, y: Y(r.peakOpsPerCycle) - 6 },
    { x: M.l + 6, y: Y(r.peakOpsPerCycle) + 16 },
  ]);
  if (pk) s += text(pk.x, pk.y, peakName, 'axis');
  s += slopeLabel(r.dramBytesPerCycle, `DRAM ${sig3(r.dramBytesPerCycle)} B/cycle`);
  s += slopeLabel(r.sramBytesPerCycle, `SRAM ${sig3(r.sramBytesPerCycle)} B/cycle`);
  // markers first (all reserved), then their labels where free
  const marks = valid.map((p) => ({ ...p, x: X(p.intensity), y: Y(p.perf) }));
  const netMarks = net
    ? [
        { label: 'network vs DRAM', x: X(net.dram), y: Y(net.perf), intensity: net.dram, shape: 'diamond' },
        { label: 'network vs SRAM', x: X(net.sram), y: Y(net.perf), intensity: net.sram, shape: 'square' },
      ]
    : [];
  for (const m of [...marks, ...netMarks]) placer.block({ x: m.x - 6, y: m.y - 6, w: 12, h: 12 });
  for (const m of netMarks) {
    const tip = `${m.label}: ${sig3(m.intensity)} ops/byte, ${sig3(net!.perf)} ops/cycle (${((100 * net!.perf) / r.peakOpsPerCycle).toFixed(1)} % of peak)`;
    const shape =
      m.shape === 'diamond'
        ? `<polygon points="${m.x},${m.y - 7} ${m.x + 7},${m.y} ${m.x},${m.y + 7} ${m.x - 7},${m.y}" class="mark net"/>`
        : `<rect x="${m.x - 5.5}" y="${m.y - 5.5}" width="11" height="11" class="mark net"/>`;
    s += `<g><title>${escapeXml(tip)}</title>${shape}</g>`;
  }
  for (const m of marks) {
    const tip = `${m.label}: ${sig3(m.intensity)} ops/DRAM byte, ${sig3(m.perf)} ops/cycle (${((100 * m.perf) / r.peakOpsPerCycle).toFixed(1)} % of peak)`;
    s += `<g><title>${escapeXml(tip)}</title><circle cx="${m.x.toFixed(1)}" cy="${m.y.toFixed(1)}" r="5" fill="${m.colour}" class="mark point"/></g>`;
  }
  for (const m of [...netMarks, ...marks]) {
    const w = textWidth(m.label);
    const c = [
      { x: m.x + 8, y: m.y + 4 },
      { x: m.x - 8 - w, y: m.y + 4 },
      { x: m.x - w / 2, y: m.y - 9 },
      { x: m.x - w / 2, y: m.y + 8 + TEXT_H - 2 },
      { x: m.x + 8, y: m.y - 8 },
      { x: m.x + 8, y: m.y + 16 },
    ];
    const p = placer.place(m.label, c);
    if (p) s += text(p.x, p.y, m.label, 'value');
  }
  if (marks.length === 0 && netMarks.length === 0)
    s += text(
      M.l + pw / 2,
      M.t + PH / 2,
      'no MAC work in this program: only the roofs are shown',
      'label empty-note',
      'middle',
    );
  const lg = legend(
    [
      ...valid.map((p) => ({ label: p.label, colour: p.colour, shape: 'circle' as const })),
      ...(net ? [{ label: 'whole network (◆ DRAM, ■ SRAM)', colour: '#222' }] : []),
    ],
    M.l,
    M.t + PH + 50,
    pw,
  );
  const h = M.t + PH + 50 + lg.height + 6;
  return `${svgOpen(id, W, h, title)}${s}${lg.svg}</svg>`;
}
