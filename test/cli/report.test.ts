import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { canonicalConfigJson, DEFAULT_CONFIG } from '../../arch/config.js';
import { CHART_IDS, renderReportHtml, type ReportData } from '../../cli/report/html.js';
import { dumpDom, findChromium } from './chromium.js';

const chromium = findChromium();
if (!chromium)
  console.warn(
    '[test/cli/report] SKIPPED the Chromium rendering checks: no chromium found (CI installs /usr/bin/chromium)',
  );

/** Synthetic figures shaped like a small CNN, including awkward cases (a layer without MACs, empty lanes). */
function sampleData(): ReportData {
  const spans = Array.from({ length: 3000 }, (_, i) => ({
    start: i * 10,
    end: i * 10 + 8 + (i % 7),
    op: i % 3 === 0 ? 'GEMM' : 'REQUANT',
    index: i,
  }));
  return {
    title: 'nibble report: <sample> & "quotes"',
    source: 'sample.txt',
    generatedBy: 'test',
    config: JSON.parse(canonicalConfigJson(DEFAULT_CONFIG)),
    configHash: '0123456789abcdef',
    rows: 16,
    cols: 16,
    clockMHz: 500,
    dramBytesPerCycle: 8,
    totals: { cycles: 30_020, macs: 4_000_000, utilization: 0.52, instructions: 3100, batch: 1, energyPj: 1.5e6 },
    layers: [
      {
        name: 'conv1',
        kind: 'conv2d',
        cycles: 10_000,
        macs: 2_000_000,
        utilization: 0.78,
        dramBytes: 20_000,
        energyPj: 7e5,
      },
      {
        name: 'conv2',
        kind: 'conv2d',
        cycles: 15_000,
        macs: 2_000_000,
        utilization: 0.52,
        dramBytes: 90_000,
        energyPj: 6e5,
      },
      { name: 'pool', kind: 'maxpool', cycles: 20, macs: 0, utilization: 0, dramBytes: 100, energyPj: 1e3 },
      { name: 'fc', kind: 'dense', cycles: 5000, macs: 1000, utilization: 0.001, dramBytes: 5000 },
    ],
    energyByComponent: { 'MAC array': 8e5, 'SRAM INP': 2e5, DRAM: 4e5, requant: 1e4, zero: 0 },
    requantComparison: { shiftPj: 1e4, multiplierPj: 1.3e5 },
    lanes: [
      { name: 'load', spans: spans.slice(0, 1000) },
      { name: 'compute', spans: spans.slice(1000) },
      { name: 'store', spans: [] },
    ],
    resources: { lut: 1234, ff: 567, bram: 8 },
    notes: ['a note'],
  };
}

describe('HTML report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nibble-report-'));

  test('is self-contained: no external URLs, every chart present, text escaped', () => {
    const html = renderReportHtml(sampleData());
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:|\/\/)/i);
    expect(html).not.toMatch(/<link\b/i);
    for (const id of CHART_IDS) expect(html).toContain(`<svg id="${id}"`);
    expect(html).toContain('&lt;sample&gt; &amp; &quot;quotes&quot;');
    expect(html).toContain('<td>lut</td><td>1234</td>'); // resource table
  });

  test('renders in headless Chromium without errors', { timeout: 90_000 }, (ctx) => {
    if (!chromium) return ctx.skip();
    const file = join(dir, 'sample.html');
    writeFileSync(file, renderReportHtml(sampleData()));
    const { dom } = dumpDom(chromium, file);
    expect(dom).toContain('data-rendered="ok"');
    expect(dom).toContain(`data-charts="${CHART_IDS.length}"`);
    expect(dom).toMatch(/<pre id="report-errors"><\/pre>/);
  });

  test('the error hook catches a broken page (the check is not vacuous)', { timeout: 90_000 }, (ctx) => {
    if (!chromium) return ctx.skip();
    const file = join(dir, 'broken.html');
    const html = renderReportHtml(sampleData())
      .replace('<svg id="chart-roofline"', '<svg id="chart-roofline-gone"')
      .replace('</body>', '<script>null.boom()</script></body>');
    writeFileSync(file, html);
    const { dom } = dumpDom(chromium, file);
    expect(dom).toContain('data-rendered="errors"');
    expect(dom).toMatch(/charts not rendered: chart-roofline/);
    expect(readFileSync(file, 'utf8')).toContain('null.boom');
  });
});
