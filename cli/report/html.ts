/**
 * The HTML report: ONE self-contained file (inline CSS and SVG, a tiny inline
 * script that only records errors) so it can be mailed, archived or opened
 * offline.
 */
import { barChart, escapeXml, roofline, stackedBar, timeline, type TimelineLane } from './charts.js';

export interface ReportLayer {
  name: string;
  kind: string;
  cycles: number;
  macs: number;
  /** useful MACs / (cycles * N * N) */
  utilization: number;
  /** DRAM bytes read + written by the layer's instructions */
  dramBytes?: number;
  energyPj?: number;
}

export interface ReportData {
  title: string;
  source: string;
  generatedBy: string;
  config: Record<string, unknown>;
  configHash: string;
  rows: number;
  cols: number;
  clockMHz: number;
  dramBytesPerCycle: number;
  totals: {
    cycles: number;
    macs: number;
    utilization: number;
    instructions: number;
    batch?: number;
    energyPj?: number;
  };
  layers: ReportLayer[];
  /** pJ per component */
  energyByComponent?: Record<string, number>;
  /** shift-based requant vs the multiplier-based counterfactual, pJ */
  requantComparison?: { shiftPj: number; multiplierPj: number };
  lanes: TimelineLane[];
  /** per-unit cycle counters (docs/simulator.md) */
  units?: {
    unit: string;
    busy: number;
    idle: number;
    stallToken: number;
    stallDram: number;
    stallQueueFull: number;
    instructions: number;
  }[];
  /** synthesis results, any flat key -> value table */
  resources?: Record<string, unknown>;
  notes: string[];
}

export const CHART_IDS = [
  'chart-layer-cycles',
  'chart-layer-utilization',
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

export function renderReportHtml(d: ReportData): string {
  const peak = d.rows * d.cols;
  const kpi = (value: string, label: string) =>
    `<div class="kpi"><b>${escapeXml(value)}</b><span>${escapeXml(label)}</span></div>`;
  const latencyUs = d.totals.cycles / d.clockMHz;
  const kpis = [
    kpi(num(d.totals.cycles), 'cycles'),
    kpi(
      `${num(latencyUs, 2)} us`,
      `latency at ${d.clockMHz} MHz${d.totals.batch && d.totals.batch > 1 ? ` (batch ${d.totals.batch})` : ''}`,
    ),
    kpi(`${(100 * d.totals.utilization).toFixed(1)} %`, `array utilization (${d.rows}x${d.cols})`),
    kpi(num(d.totals.macs), 'useful MACs'),
    kpi(num(d.totals.instructions), 'instructions'),
  ];
  if (d.totals.energyPj !== undefined) {
    kpis.push(kpi(`${num(d.totals.energyPj / 1e6, 3)} uJ`, 'energy'));
    if (d.totals.macs > 0) kpis.push(kpi(`${num(d.totals.energyPj / d.totals.macs, 3)} pJ`, 'per MAC (all in)'));
  }
  const energyComponents = Object.entries(d.energyByComponent ?? {}).filter(([, v]) => v > 0);
  const layerEnergy = d.layers.filter((l) => l.energyPj !== undefined);
  const points = d.layers
    .filter((l) => l.macs > 0 && (l.dramBytes ?? 0) > 0 && l.cycles > 0)
    .map((l) => ({ label: l.name, intensity: (2 * l.macs) / l.dramBytes!, perf: (2 * l.macs) / l.cycles }));
  const sections: string[] = [];
  sections.push(
    `<h2>Per-layer cycles</h2>${barChart(
      'chart-layer-cycles',
      'cycles per layer',
      d.layers.map((l) => ({ label: l.name, value: l.cycles, detail: l.kind })),
      'cycles',
    )}`,
  );
  sections.push(
    `<h2>Per-layer array utilization</h2><p class="note">Useful MACs / (layer cycles x ${peak} PEs). Layers without MACs (pooling) show 0.</p>${barChart(
      'chart-layer-utilization',
      'array utilization per layer',
      d.layers.map((l) => ({ label: l.name, value: l.utilization })),
      '',
      { max: 1, percent: true },
    )}`,
  );
  sections.push(
    `<h2>Energy by component</h2>${
      energyComponents.length > 0
        ? stackedBar(
            'chart-energy-components',
            'energy by component',
            energyComponents.map(([k, v]) => ({ label: k, value: v })),
            'pJ',
          )
        : `<p class="note">No energy figures in this run.</p>${stackedBar('chart-energy-components', 'energy by component (none)', [], 'pJ')}`
    }${d.requantComparison ? `<p>Requantization: shift-based (this design) <b>${num(d.requantComparison.shiftPj / 1000, 3)} nJ</b> vs a multiplier-based requant <b>${num(d.requantComparison.multiplierPj / 1000, 3)} nJ</b> (${num(d.requantComparison.multiplierPj / Math.max(1e-12, d.requantComparison.shiftPj), 1)}x).</p>` : ''}`,
  );
  sections.push(
    `<h2>Energy by layer</h2>${barChart(
      'chart-energy-layers',
      'energy per layer',
      layerEnergy.map((l) => ({ label: l.name, value: (l.energyPj ?? 0) / 1000 })),
      'nJ',
    )}${layerEnergy.length === 0 ? '<p class="note">No per-layer energy in this run.</p>' : ''}`,
  );
  sections.push(
    `<h2>Roofline</h2><p class="note">Peak ${peak} MAC/cycle = ${2 * peak} ops/cycle; DRAM ${d.dramBytesPerCycle} bytes/cycle per channel; ridge at ${num((2 * peak) / d.dramBytesPerCycle, 1)} ops/byte. One point per layer (2 ops per MAC).</p>${roofline('chart-roofline', 'roofline', points, 2 * peak, d.dramBytesPerCycle)}`,
  );
  sections.push(
    `<h2>Unit activity</h2><p class="note">Each instruction from its start S to its end E (docs/architecture.md section 2).</p>${timeline('chart-timeline', 'unit activity timeline', d.lanes, d.totals.cycles)}${
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
      ['layer', 'kind', 'cycles', 'MACs', 'utilization %', 'DRAM bytes', 'energy nJ'],
      d.layers.map((l) => [
        l.name,
        l.kind,
        l.cycles,
        l.macs,
        Number((100 * l.utilization).toFixed(1)),
        l.dramBytes ?? '-',
        l.energyPj !== undefined ? l.energyPj / 1000 : '-',
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
<div class="kpis">${kpis.join('')}</div>${notes}
${sections.join('\n')}
</body></html>
`;
}
