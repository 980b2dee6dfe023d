/**
 * The HTML report: self-contained, and readable as a person sees it in
 * Chromium at the scale of VGG-16 at 224x224 (53,583 instructions, 16
 * layers): every chart present and non-empty, no overlapping labels, units
 * that scale, distinct layer colours, layer bands on the timeline.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { resolveConfig } from '../../arch/index.js';
import { buildReportData } from '../../cli/report/data.js';
import { CHART_IDS, renderReportHtml } from '../../cli/report/html.js';
import { formatCount, formatEnergy, formatTime, palette } from '../../cli/report/svg.js';
import { busyColumns } from '../../cli/report/timeline.js';
import { compileNetwork } from '../../compiler/index.js';
import { zooNetwork } from '../../models/index.js';
import { rooflineOf, simulate } from '../../sim/index.js';
import { requireChromium } from './chromium.js';
import { checkReportPage } from './report-check.js';

const chromium = requireChromium('test/cli/report.test.ts');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nibble-report-'));
});

function zooReport(name: string, inputSize?: number) {
  const net = zooNetwork(name, { seed: 1, ...(inputSize ? { inputSize } : {}) });
  const program = compileNetwork(net, resolveConfig({}), { batch: 1 });
  const result = simulate(program, { engine: 'timing', collect: { perInstruction: true } });
  const roofline = rooflineOf(program, result.counters);
  return {
    program,
    data: buildReportData({ title: `nibble report: ${net.name}`, source: name, program, result, roofline }),
  };
}

describe('report building blocks', () => {
  test('units scale: mJ, not "4.6M nJ"; ms, not millions of us', () => {
    expect(formatEnergy(4.6e9)).toBe('4.6 mJ');
    expect(formatEnergy(1094)).toBe('1.09 nJ');
    expect(formatEnergy(0.5)).toBe('0.5 pJ');
    expect(formatTime(72_524_255, 500)).toBe('145 ms');
    expect(formatTime(20_954, 500)).toBe('41.9 µs');
    expect(formatCount(72_524_255)).toBe('72.5M');
  });

  test('layer colours never repeat', () => {
    for (const n of [5, 12, 16, 40, 100]) expect(new Set(palette(n)).size).toBe(n);
  });

  test('timeline columns are busy fractions, overlapping spans counted once', () => {
    const cols = busyColumns(
      [
        { start: 0, end: 50 },
        { start: 25, end: 50 },
        { start: 75, end: 100 },
      ],
      100,
      4,
    );
    expect([...cols]).toEqual([1, 1, 0, 1]);
  });
});

describe('the report of VGG-16 at 224x224', () => {
  let html: string;
  let layers: number;
  beforeAll(() => {
    const { program, data } = zooReport('vgg16');
    // 53,402 without GEMMs beside REQUANTs (config gemmBeside): band steps alternate ACC halves
    expect(program.code.length).toBe(52_837);
    layers = data.layers.length;
    expect(layers).toBe(16);
    html = join(dir, 'vgg16.html');
    writeFileSync(html, renderReportHtml(data));
  }, 120_000);

  test('is self-contained: no external URLs, every chart present', () => {
    const text = renderReportHtml(zooReport('mnist').data);
    expect(text).not.toMatch(/(src|href)\s*=\s*["']?(https?:|\/\/)/i);
    expect(text).not.toMatch(/<link\b/i);
    for (const id of CHART_IDS) expect(text).toContain(`<svg id="${id}"`);
    // the roofline bounds (sim/roofline.ts): a row per layer and the whole program
    expect(text).toContain('<h2>Roofline bounds</h2>');
    expect(text).toMatch(/<td>whole program<\/td><td class="num">[\d,]+<\/td>/);
  });

  test('reads as a person sees it in Chromium', { timeout: 120_000 }, async (ctx) => {
    if (!chromium) return ctx.skip();
    const shots = join(dir, 'vgg16-shots');
    mkdirSync(shots);
    const problems = await checkReportPage(chromium, html, { charts: CHART_IDS, layers }, shots);
    expect(problems).toEqual([]);
    console.log(`[test/cli/report] screenshots of the VGG-16 report: ${shots}`);
  });
});

describe('the checks are not vacuous', () => {
  test('overlapping labels, an empty chart, unscaled units and a script error are all caught', async (ctx) => {
    if (!chromium) return ctx.skip();
    const { data } = zooReport('mnist');
    const broken = renderReportHtml(data)
      .replace(
        /(<svg id="chart-energy-layers"[^>]*>)/,
        '$1<text x="10" y="14">overlap one</text><text x="12" y="15">overlap two</text><text x="10" y="40">4,600,000 nJ</text>',
      )
      .replace(
        /<svg id="chart-utilization"([^>]*)>[\s\S]*?<\/svg>/,
        '<svg id="chart-utilization"$1><text x="5" y="20">nothing</text></svg>',
      )
      .replace('</body>', '<script>null.boom()</script></body>');
    const file = join(dir, 'broken.html');
    writeFileSync(file, broken);
    const problems = await checkReportPage(chromium, file, { charts: CHART_IDS, layers: data.layers.length });
    expect(problems.join('\n')).toMatch(/page reports errors/);
    expect(problems.join('\n')).toMatch(/chart-energy-layers: labels 'overlap one' and 'overlap two' overlap/);
    expect(problems.join('\n')).toMatch(/'4,600,000 nJ' is not in a unit that scales/);
    expect(problems.join('\n')).toMatch(/chart-utilization: empty/);
  });
});
