/**
 * The sweep's HTML report: one self-contained file (inline CSS, SVG and
 * script, the points as embedded JSON). An interactive scatter (choose the
 * axes; hover shows a point's config, click shows its per-layer table), the
 * Pareto front over the spec's objectives, and a table of every point,
 * failures included with their reasons.
 */
import { canonicalConfigJson } from '../arch/index.js';
import type { SweepAnalysis } from './analysis.js';
import type { AxisValue } from './fields.js';
import { staticFigures } from './evaluate.js';
import { METRIC_NAMES, METRICS } from './metrics.js';
import type { SweepRun } from './run.js';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The embedded data: compact rows the script reads (also what the report test inspects). */
export interface SweepReportData {
  name: string;
  objectives: string[];
  constraints: string[];
  metrics: { name: string; unit: string; better: string }[];
  params: string[];
  points: {
    key: string;
    base: string;
    params: Record<string, AxisValue>;
    model: string;
    batch: number;
    /** excluded: broke a constraint on a config-only figure, so it never ran */
    status: 'ok' | 'failed' | 'excluded';
    feasible: boolean;
    front: boolean;
    reason?: string;
    metrics: Record<string, number>;
    config: Record<string, unknown>;
    layers: { name: string; kind: string; cycles: number; macs: number; utilization: number; energyPj: number }[];
  }[];
}

export function sweepReportData(run: SweepRun, a: SweepAnalysis): SweepReportData {
  const infeasible = new Map(a.infeasible.map((i) => [i.record.key, i.reason]));
  const present = new Set(run.records.flatMap((r) => Object.keys(r.metrics)));
  return {
    name: run.spec.name,
    objectives: a.objectives,
    constraints: run.spec.constraints.map((c) => c.text),
    metrics: METRIC_NAMES.filter((m) => present.has(m)).map((m) => ({
      name: m,
      unit: METRICS[m].unit,
      better: METRICS[m].better,
    })),
    params: run.spec.axes.map((x) => x.field),
    points: [
      ...run.records.map((r) => ({
        key: r.key,
        base: r.base,
        params: r.params,
        model: r.model,
        batch: r.batch,
        status: r.status,
        feasible: r.status === 'ok' && !infeasible.has(r.key),
        front: a.front.has(r.key),
        ...(r.reason || infeasible.has(r.key) ? { reason: r.reason ?? `breaks ${infeasible.get(r.key)}` } : {}),
        metrics: r.metrics as Record<string, number>,
        config: JSON.parse(canonicalConfigJson(r.config)) as Record<string, unknown>,
        layers: r.layers,
      })),
      ...excludedRows(run),
    ],
  };
}

/** Points excluded before running, as report rows (their config-only figures, no layers). */
function excludedRows(run: SweepRun): SweepReportData['points'] {
  return run.excluded.map(({ point: p, reason }) => ({
    key: p.key,
    base: p.base,
    params: p.params,
    model: p.modelLabel,
    batch: p.batch,
    status: 'excluded' as const,
    feasible: false,
    front: false,
    reason: `excluded before running: breaks ${reason}`,
    metrics: staticFigures(p.config, p.fpga, undefined).metrics as Record<string, number>,
    config: JSON.parse(canonicalConfigJson(p.config)) as Record<string, unknown>,
    layers: [],
  }));
}

const CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
.meta{color:#555}.controls{display:flex;gap:16px;align-items:center;margin:12px 0}
#scatter{border:1px solid #ccc;background:#fff}
#scatter circle{fill:#7aa6d6;fill-opacity:.75;stroke:#345;stroke-width:.5;cursor:pointer}
#scatter circle.front{fill:#d9480f;stroke:#611;stroke-width:1}
#scatter circle.infeasible{fill:#bbb;fill-opacity:.5}
#scatter circle.selected{stroke:#000;stroke-width:2.5}
#scatter .front2d{fill:none;stroke:#d9480f;stroke-dasharray:4 3}
#scatter text{font-size:11px;fill:#444}#scatter line{stroke:#999}
#tooltip{position:fixed;pointer-events:none;background:#fffbe6;border:1px solid #c9a;padding:6px 8px;font-size:12px;display:none;white-space:pre;z-index:2}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}
td:first-child,th:first-child,td.l{text-align:left}tr.front td{background:#fff0e6}tr.failed td{color:#a00}tr.excluded td{color:#888}
#points tbody tr{cursor:pointer}#detail{margin-top:12px}
.legend span{margin-right:12px}.sw{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:4px}
`;

/** Runs in the browser: draws the scatter for the chosen axes, tooltips, detail on click. */
const SCRIPT = `
(function(){
var D=JSON.parse(document.getElementById('sweep-data').textContent);
var $=function(id){return document.getElementById(id)};
var axes=D.metrics.map(function(m){return {id:'m:'+m.name,label:m.name+(m.unit?' ('+m.unit+')':''),get:function(p){return p.metrics[m.name]}}})
 .concat(D.params.map(function(f){return {id:'p:'+f,label:f,get:function(p){var v=p.params[f];return typeof v==='boolean'?+v:v}}}))
 .concat([{id:'batch',label:'batch',get:function(p){return p.batch}}]);
function opt(sel,def){axes.forEach(function(a){var o=document.createElement('option');o.value=a.id;o.textContent=a.label;sel.appendChild(o)});sel.value=def}
var o=D.objectives;opt($('x-axis'),'m:'+o[0]);opt($('y-axis'),'m:'+(o[1]||o[0]));
function axis(id){return axes.filter(function(a){return a.id===id})[0]}
function fmt(v){if(v===undefined||v===null)return '-';var a=Math.abs(v);return Number.isInteger(v)?v.toLocaleString('en-US'):a>=100?v.toFixed(1):a>=1?v.toFixed(3):v.toPrecision(3)}
function pointText(p){var s=[p.base+'  '+p.model+'  batch '+p.batch];for(var k in p.params)s.push(k+'='+p.params[k]);
 s.push('');D.metrics.forEach(function(m){var v=p.metrics[m.name];if(v===undefined)return;
  s.push(m.name+' '+(m.name==='utilization'?(100*v).toFixed(1)+' %':fmt(v)+(m.unit&&m.unit!=='cycles'?' '+m.unit:'')))});
 if(p.reason)s.push(p.reason);return s.join('\\n')}
var selected=null;
function detail(p){selected=p.key;draw();var h='<h2>'+esc(p.base+' '+Object.keys(p.params).map(function(k){return k+'='+p.params[k]}).join(' '))+' &middot; '+esc(p.model)+' &middot; batch '+p.batch+'</h2>';
 if(p.reason)h+='<p class="meta">'+esc(p.reason)+'</p>';
 h+='<table id="layer-table"><thead><tr><th>layer</th><th>kind</th><th>cycles</th><th>MACs</th><th>utilization</th><th>energy (nJ)</th></tr></thead><tbody>';
 p.layers.forEach(function(l){h+='<tr><td>'+esc(l.name)+'</td><td class="l">'+esc(l.kind)+'</td><td>'+fmt(l.cycles)+'</td><td>'+fmt(l.macs)+'</td><td>'+(100*l.utilization).toFixed(1)+' %</td><td>'+fmt(l.energyPj/1000)+'</td></tr>'});
 h+='</tbody></table><h2>config</h2><pre id="detail-config">'+esc(JSON.stringify(p.config,null,1))+'</pre>';$('detail').innerHTML=h}
function esc(s){return String(s).replace(/[&<>"']/g,function(c){return '&#'+c.charCodeAt(0)+';'})}
function scale(vals,lo,hi,log){var a=Math.min.apply(null,vals),b=Math.max.apply(null,vals);if(log){a=Math.log10(a);b=Math.log10(b)}if(a===b){a-=1;b+=1}
 return {f:function(v){var x=log?Math.log10(v):v;return lo+(x-a)/(b-a)*(hi-lo)},a:a,b:b,log:log}}
function draw(){var X=axis($('x-axis').value),Y=axis($('y-axis').value),lx=$('x-log').checked,ly=$('y-log').checked;
 var pts=D.points.filter(function(p){var x=X.get(p),y=Y.get(p);return p.status==='ok'&&x!==undefined&&y!==undefined&&(!lx||x>0)&&(!ly||y>0)});
 var W=860,H=480,L=70,R=20,T=20,B=50,svg=$('scatter');
 var sx=scale(pts.map(X.get),L,W-R,lx),sy=scale(pts.map(Y.get),H-B,T,ly);
 var s='<line x1="'+L+'" y1="'+(H-B)+'" x2="'+(W-R)+'" y2="'+(H-B)+'"/><line x1="'+L+'" y1="'+T+'" x2="'+L+'" y2="'+(H-B)+'"/>';
 for(var i=0;i<=4;i++){var fx=sx.a+(sx.b-sx.a)*i/4,fy=sy.a+(sy.b-sy.a)*i/4;var vx=sx.log?Math.pow(10,fx):fx,vy=sy.log?Math.pow(10,fy):fy;
  s+='<text x="'+(L+(W-R-L)*i/4)+'" y="'+(H-B+16)+'" text-anchor="middle">'+fmt(vx)+'</text><text x="'+(L-6)+'" y="'+(H-B-(H-B-T)*i/4+4)+'" text-anchor="end">'+fmt(vy)+'</text>'}
 s+='<text x="'+((L+W-R)/2)+'" y="'+(H-8)+'" text-anchor="middle">'+esc(X.label)+'</text><text transform="translate(14,'+((T+H-B)/2)+') rotate(-90)" text-anchor="middle">'+esc(Y.label)+'</text>';
 var bx=X.id.slice(2),by=Y.id.slice(2),mx=D.metrics.filter(function(m){return m.name===bx})[0],my=D.metrics.filter(function(m){return m.name===by})[0];
 if(mx&&my){var f=pts.filter(function(p){return p.feasible}).map(function(p){return [mx.better==='max'?-X.get(p):X.get(p),my.better==='max'?-Y.get(p):Y.get(p),p]}).sort(function(a,b){return a[0]-b[0]||a[1]-b[1]});
  var best=Infinity,line=[];f.forEach(function(q){if(q[1]<best){best=q[1];line.push(q[2])}});
  if(line.length>1)s+='<polyline class="front2d" points="'+line.map(function(p){return sx.f(X.get(p))+','+sy.f(Y.get(p))}).join(' ')+'"/>'}
 var layer=function(p){return p.key===selected?3:p.front?2:p.feasible?1:0};
 pts.slice().sort(function(a,b){return layer(a)-layer(b)}).forEach(function(p){var c=p.front?'front':p.feasible?'':'infeasible';if(p.key===selected)c+=' selected';
  s+='<circle data-key="'+p.key+'" class="'+c+'" cx="'+sx.f(X.get(p)).toFixed(1)+'" cy="'+sy.f(Y.get(p)).toFixed(1)+'" r="'+(p.front?5:3.5)+'"/>'});
 svg.innerHTML=s;$('shown').textContent=pts.length+' of '+D.points.length+' points shown'}
var byKey={};D.points.forEach(function(p){byKey[p.key]=p});
$('scatter').addEventListener('mousemove',function(e){var k=e.target.getAttribute&&e.target.getAttribute('data-key');var t=$('tooltip');
 if(!k){t.style.display='none';return}t.textContent=pointText(byKey[k]);t.style.display='block';t.style.left=(e.clientX+14)+'px';t.style.top=(e.clientY+10)+'px'});
$('scatter').addEventListener('mouseleave',function(){$('tooltip').style.display='none'});
$('scatter').addEventListener('click',function(e){var k=e.target.getAttribute&&e.target.getAttribute('data-key');if(k)detail(byKey[k])});
$('points').addEventListener('click',function(e){var tr=e.target.closest('tr[data-key]');if(tr)detail(byKey[tr.getAttribute('data-key')])});
['x-axis','y-axis','x-log','y-log'].forEach(function(id){$(id).addEventListener('change',draw)});
draw();document.body.setAttribute('data-ready','1');
})();`;

function pointsTable(d: SweepReportData): string {
  const ms = d.metrics.map((m) => m.name);
  const head = [
    'point',
    'model',
    'batch',
    'status',
    ...ms.map(
      (m) => `${m}${METRICS[m as keyof typeof METRICS].unit ? ` (${METRICS[m as keyof typeof METRICS].unit})` : ''}`,
    ),
  ];
  const fmt = (v: number | undefined) =>
    v === undefined
      ? '-'
      : Number.isInteger(v)
        ? v.toLocaleString('en-US')
        : Math.abs(v) >= 100
          ? v.toFixed(1)
          : Math.abs(v) >= 1
            ? v.toFixed(3)
            : v.toPrecision(3);
  const rows = d.points.map((p) => {
    const label = [p.base, ...Object.entries(p.params).map(([k, v]) => `${k}=${v}`)].join(' ');
    const status =
      p.status === 'ok'
        ? p.front
          ? 'Pareto'
          : p.feasible
            ? 'ok'
            : (p.reason ?? 'infeasible')
        : p.status === 'failed'
          ? `failed: ${p.reason ?? ''}`
          : (p.reason ?? 'excluded');
    const cls = p.status === 'ok' ? (p.front ? 'front' : '') : p.status;
    return `<tr data-key="${p.key}" class="${cls}"><td>${esc(label)}</td><td class="l">${esc(p.model)}</td><td>${p.batch}</td><td class="l">${esc(status)}</td>${ms.map((m) => `<td>${fmt(p.metrics[m])}</td>`).join('')}</tr>`;
  });
  return `<table id="points"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

export function renderSweepHtml(run: SweepRun, a: SweepAnalysis): string {
  const d = sweepReportData(run, a);
  const json = JSON.stringify(d).replace(/</g, '\\u003c');
  const front = d.points.filter((p) => p.front).length;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>nibble sweep ${esc(d.name)}</title><style>${CSS}</style></head>
<body>
<h1>nibble sweep: ${esc(d.name)}</h1>
<p class="meta">${d.points.length} points: ${a.ok.length} ok, ${a.failed.length} failed, ${a.infeasible.length} break a constraint; ${front} on the Pareto front of ${esc(d.objectives.join(', '))}${d.constraints.length ? `; constraints: ${esc(d.constraints.join(', '))}` : ''}. Spec ${esc(run.spec.file)}, ${esc(run.points[0]?.toolVersion ?? '')}.</p>
<div class="controls"><label>x <select id="x-axis"></select></label><label><input type="checkbox" id="x-log"> log</label>
<label>y <select id="y-axis"></select></label><label><input type="checkbox" id="y-log"> log</label><span id="shown" class="meta"></span></div>
<p class="legend meta"><span><i class="sw" style="background:#d9480f"></i>Pareto front (spec objectives)</span><span><i class="sw" style="background:#7aa6d6"></i>feasible</span><span><i class="sw" style="background:#bbb"></i>breaks a constraint</span><span>dashed: front of the two shown axes</span></p>
<svg id="scatter" xmlns="http://www.w3.org/2000/svg" width="860" height="480" viewBox="0 0 860 480"></svg>
<div id="tooltip"></div>
<div id="detail"><p class="meta">Click a point (or a row below) for its per-layer table and config.</p></div>
<h2>every point</h2>
${pointsTable(d)}
<script type="application/json" id="sweep-data">${json}</script>
<script>${SCRIPT}</script>
</body></html>
`;
}
