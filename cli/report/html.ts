/**
 * The HTML report: ONE self-contained file (inline CSS and SVG, a tiny inline
 * script that only records errors) so it can be mailed, archived or opened
 * offline. Laid out to stay readable from a 3-layer kernel to VGG-16 and
 * beyond: distinct colours per layer, labels that never overlap, units that
 * scale, a timeline that shows density instead of solid blocks.
 */
import { barChart, heatmap, stackedBars } from './charts.js';
import type { ReportData } from './model.js';
import { roofline } from './roofline.js';
import { escapeXml, formatBytes, formatCount, formatEnergy, formatTime, palette, sig3, timeUnit } from './svg.js';
import { timeline } from './timeline.js';

export type { ReportData, ReportLayer, TimeBreakdown } from './model.js';

export const CHART_IDS = [
  'chart-layer-time',
  'chart-utilization',
  'chart-energy-components',
  'chart-energy-layers',
  'chart-roofline',
  'chart-timeline',
] as const;

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1000px;color:#222;padding:0 16px}
h1{font-size:1.5em;margin-bottom:4px}h2{font-size:1.15em;margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}
.sub{color:#666;margin-top:0}
table{border-collapse:collapse;margin:8px 0;font-size:.9em}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f4f4f4}.kpis{display:flex;flex-wrap:wrap;gap:12px}.kpi{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:140px}
.kpi b{display:block;font-size:1.3em}.kpi span{color:#666;font-size:.85em}
svg.chart{max-width:100%;height:auto;font-size:11px}svg .axis{fill:#666}svg .label{fill:#222}svg .value{fill:#444}
svg .grid{stroke:#eee}svg .plot{fill:none;stroke:#ccc}svg .roof{fill:none;stroke:#c00;stroke-width:2}
svg .roof-sram{stroke:#7a3db8;stroke-dasharray:6 3}svg .net{fill:#222}svg .on-dark{fill:#fff}
svg .lane{fill:#f6f6f6}svg .layer-rule{stroke:#fff;stroke-width:1}svg .band{stroke:#fff;stroke-width:.5}
.chart-box{overflow-x:auto}
.note{color:#555;font-size:.9em}#report-errors:empty{display:none}#report-errors{color:#c00}
`;

// Records script errors and failed chart rendering into the DOM, where a headless
// browser test (chromium --dump-dom) can see them.
const SCRIPT = `
(function(){
  var errs=[];
  function record(m){errs.push(String(m));var el=document.getElementById('report-errors');if(el)el.textContent=errs.join('\\n');}
  window.addEventListener('error',function(e){record('error: '+(e.message||e));});
  var ce=console.error;console.error=function(){record('console.error: '+Array.prototype.join.call(arguments,' '));return ce.apply(console,arguments);};
  document.addEventListener('DOMContentLoaded',function(){
    var ids=${JSON.stringify(CHART_IDS)};var missing=[];
    for(var i=0;i<ids.length;i++){var s=document.getElementById(ids[i]);if(!s||s.tagName.toLowerCase()!=='svg'||!(s.getBoundingClientRect().width>0))missing.push(ids[i]);}
    if(missing.length)record('charts not rendered: '+missing.join(', '));
    document.body.setAttribute('data-rendered',errs.length?'errors':'ok');
    document.body.setAttribute('data-charts',String(ids.length-missing.length));
  });
})();
`;

function num(x: number, digits = 0): string {
  return Number.isFinite(x)
    ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 })
    : '-';
}

function table(header: string[], rows: (string | number)[][]): string {
  const cell = (c: string | number) =>
    typeof c === 'number' ? `<td class="num">${num(c, 2)}</td>` : `<td>${escapeXml(c)}</td>`;
  return `<table><thead><tr>${header.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('')}</tbody></table>`;
}

function flatten(obj: Record<string, unknown>, prefix = ''): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (v && typeof v === 'object' && !Array.isArray(v))
      out.push(...flatten(v as Record<string, unknown>, `${prefix}${k}.`));
    else out.push([`${prefix}${k}`, Array.isArray(v) ? JSON.stringify(v) : String(v)]);
  }
  return out;
}

const TIME_PARTS = [
  { name: 'array computing', colour: '#4e79a7' },
  { name: 'loading (array idle)', colour: '#f28e2b' },
  { name: 'storing (array idle)', colour: '#59a14f' },
  { name: 'waiting (latency, dependencies)', colour: '#bab0ac' },
];

function kpis(d: ReportData): string {
  const kpi = (value: string, label: string) =>
    `<div class="kpi"><b>${escapeXml(value)}</b><span>${escapeXml(label)}</span></div>`;
  const out = [
    kpi(formatCount(d.totals.cycles), `cycles (${num(d.totals.cycles)})`),
    kpi(
      formatTime(d.totals.cycles, d.clockMHz),
      `latency at ${d.clockMHz} MHz${d.totals.batch && d.totals.batch > 1 ? ` (batch ${d.totals.batch})` : ''}`,
    ),
    kpi(`${(100 * d.totals.utilization).toFixed(1)} %`, `array utilization (${d.n}x${d.n})`),
    kpi(formatCount(d.totals.macs), 'useful MACs'),
    kpi(num(d.totals.instructions), 'instructions'),
    kpi(formatBytes(d.totals.dramBytes), 'DRAM traffic'),
  ];
  if (d.totals.energyPj !== undefined) {
    out.push(kpi(formatEnergy(d.totals.energyPj), 'energy'));
    if (d.totals.macs > 0) out.push(kpi(`${sig3(d.totals.energyPj / d.totals.macs)} pJ`, 'per MAC (all in)'));
  }
  return `<div class="kpis">${out.join('')}</div>`;
}

function chart(svg: string): string {
  return `<div class="chart-box">${svg}</div>`;
}

function layerSections(d: ReportData, colours: string[]): string[] {
  const maxCycles = Math.max(1, ...d.layers.map((l) => l.cycles));
  const sections = [
    `<h2>Where each layer's time goes</h2><p class="note">Each layer's cycles, from the first start to the last end of its instructions: the array computing, else the load unit working while the array waits (incl. DRAM latency), else only stores, else nothing of the layer running.</p>${chart(
      stackedBars(
        'chart-layer-time',
        "where each layer's time goes",
        TIME_PARTS,
        d.layers.map((l) => ({
          label: l.name,
          values: [l.time.computing, l.time.loading, l.time.storing, l.time.waiting],
        })),
        timeUnit(maxCycles, d.clockMHz),
      ),
    )}`,
    `<h2>Utilization per layer and unit</h2><p class="note">MAC array: useful MACs / (layer cycles x ${d.n * d.n} PEs). Units: the fraction of the layer's cycles each unit has an instruction running.</p>${chart(
      heatmap(
        'chart-utilization',
        'utilization per layer and unit',
        ['MAC array', 'compute unit', 'load unit', 'store unit'],
        d.layers.map((l) => ({
          label: l.name,
          values: [l.utilization, l.busy.compute, l.busy.load, l.busy.store],
        })),
      ),
    )}`,
  ];
  const withEnergy = d.layers.map((l, i) => ({ l, i })).filter(({ l }) => l.energyPj !== undefined);
  sections.push(
    `<h2>Energy by layer</h2>${
      withEnergy.length
        ? chart(
            barChart(
              'chart-energy-layers',
              'energy per layer',
              withEnergy.map(({ l, i }) => ({ label: l.name, value: l.energyPj!, colour: colours[i]! })),
              formatEnergy,
              { share: true },
            ),
          )
        : '<p class="note">No per-layer energy in this run.</p>'
    }`,
  );
  return sections;
}

function energySection(d: ReportData): string {
  const parts = Object.entries(d.energyByComponent ?? {})
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1]);
  const colours = palette(parts.length);
  const body = parts.length
    ? chart(
        barChart(
          'chart-energy-components',
          'energy by component',
          parts.map(([k, v], i) => ({ label: k, value: v, colour: colours[i]! })),
          formatEnergy,
          { share: true },
        ),
      )
    : '<p class="note">No energy figures in this run.</p>';
  const rq = d.requantComparison;
  const requant = rq
    ? `<p>Requantization: shift-based (this design) <b>${formatEnergy(rq.shiftPj)}</b> vs a multiplier-based requant <b>${formatEnergy(rq.multiplierPj)}</b> (${num(rq.multiplierPj / Math.max(1e-12, rq.shiftPj), 1)}x).</p>`
    : '';
  return `<h2>Energy by component</h2>${body}${requant}`;
}

function rooflineSection(d: ReportData, colours: string[]): string {
  const peak = 2 * d.n * d.n;
  const points = d.layers
    .map((l, i) => ({ l, colour: colours[i]! }))
    .filter(({ l }) => l.macs > 0 && l.dramBytes > 0 && l.cycles > 0)
    .map(({ l, colour }) => ({
      label: l.name,
      colour,
      intensity: (2 * l.macs) / l.dramBytes,
      perf: (2 * l.macs) / l.cycles,
    }));
  const ops = 2 * d.totals.macs;
  const network =
    ops > 0 && d.totals.cycles > 0 && d.totals.dramBytes > 0 && d.totals.sramBytes > 0
      ? { dram: ops / d.totals.dramBytes, sram: ops / d.totals.sramBytes, perf: ops / d.totals.cycles }
      : undefined;
  return `<h2>Roofline</h2><p class="note">Peak ${d.n * d.n} MAC/cycle = ${peak} ops/cycle. DRAM roof: ${d.dramBytesPerCycle} bytes/cycle per channel (ridge at ${sig3(peak / d.dramBytesPerCycle)} ops/byte). SRAM roof: ${d.sramBytesPerCycle} bytes/cycle, one port per scratchpad (ridge at ${sig3(peak / d.sramBytesPerCycle)} ops/byte). Circles: layers against DRAM; the whole network against both (2 ops per MAC).</p>${chart(
    roofline('chart-roofline', 'roofline', {
      peakOpsPerCycle: peak,
      dramBytesPerCycle: d.dramBytesPerCycle,
      sramBytesPerCycle: d.sramBytesPerCycle,
      layers: points,
      ...(network ? { network } : {}),
    }),
  )}`;
}

export function renderReportHtml(d: ReportData): string {
  const colours = palette(d.layers.length);
  const sections = layerSections(d, colours);
  sections.splice(2, 0, energySection(d));
  sections.push(rooflineSection(d, colours));
  sections.push(
    `<h2>Unit activity</h2><p class="note">Each lane is cut into one-pixel columns; a column's height is the fraction of its cycles the lane had an instruction running (docs/architecture.md section 2). The band on top shows which layer runs.</p>${chart(
      timeline(
        'chart-timeline',
        'unit activity timeline',
        d.lanes,
        d.layers.map((l, i) => ({ name: l.name, start: l.start, end: l.end, colour: colours[i]! })),
        d.totals.cycles,
        d.clockMHz,
      ),
    )}${
      d.units
        ? table(
            ['unit', 'busy', 'idle', 'token stall', 'DRAM stall', 'queue-full stall', 'instructions'],
            d.units.map((u) => [u.unit, u.busy, u.idle, u.stallToken, u.stallDram, u.stallQueueFull, u.instructions]),
          )
        : ''
    }`,
  );
  sections.push(
    `<h2>Layers</h2>${table(
      ['layer', 'kind', 'cycles', 'time', 'MACs', 'utilization %', 'DRAM', 'energy'],
      d.layers.map((l) => [
        l.name,
        l.kind,
        l.cycles,
        formatTime(l.cycles, d.clockMHz),
        l.macs,
        Number((100 * l.utilization).toFixed(1)),
        formatBytes(l.dramBytes),
        l.energyPj !== undefined ? formatEnergy(l.energyPj) : '-',
      ]),
    )}`,
  );
  sections.push(
    `<h2>Configuration</h2><p>hash <code>${escapeXml(d.configHash)}</code></p>${table(['field', 'value'], flatten(d.config))}`,
  );
  if (d.resources) sections.push(`<h2>Resources (synthesis)</h2>${table(['resource', 'value'], flatten(d.resources))}`);
  const notes =
    d.notes.length > 0 ? `<ul class="note">${d.notes.map((n) => `<li>${escapeXml(n)}</li>`).join('')}</ul>` : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${escapeXml(d.title)}</title><style>${CSS}</style><script>${SCRIPT}</script></head>
<body><h1>${escapeXml(d.title)}</h1><p class="sub">${escapeXml(d.source)} &middot; ${escapeXml(d.generatedBy)}</p>
<pre id="report-errors"></pre>
${kpis(d)}${notes}
${sections.join('\n')}
</body></html>
`;
}
