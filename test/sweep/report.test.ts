/**
 * The sweep's HTML report in real Chromium (Debian's, driven by playwright-core):
 * choose axes, hover shows the config, click shows the per-layer table; the
 * Pareto front is marked; failed points are listed with their reasons.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  analyze,
  LocalExecutor,
  parseSpec,
  renderSweepHtml,
  runSweep,
  type SweepReportData,
} from '../../sweep/index.js';
import { requireChromium } from '../cli/chromium.js';
import { writeFileSync } from 'node:fs';

const exe = requireChromium('test/sweep/report.test.ts');

const dir = mkdtempSync(join(tmpdir(), 'nibble-sweep-report-'));
const html = join(dir, 'report.html');
let browser: Browser | undefined;
let data: SweepReportData;

beforeAll(async () => {
  const file = join(dir, 'space.yaml');
  // 1.55 mm2: the 16 x 16 machines with 64 INP entries (1.532 mm2, two ACC RAMs with gemmBeside) run and fail
  // on mnist, those with 2048 (1.667 mm2) are excluded before running
  const text =
    'name: rep\nmodels: [mnist]\naxes:\n  array.size: [4, 8, 16]\n  dram.busBytes: [4, 16]\n  scratchpad.inputEntries: [64, 2048]\nconstraints: ["area <= 1.55"]\n';
  writeFileSync(file, text);
  const spec = parseSpec(text, file);
  const run = await runSweep(spec, { outDir: join(dir, 'out'), executor: (o) => new LocalExecutor(1, o) });
  const a = analyze(run.records, spec.constraints, spec.objectives);
  writeFileSync(html, renderSweepHtml(run, a));
  const m = /<script type="application\/json" id="sweep-data">(.*?)<\/script>/s.exec(readFileSync(html, 'utf8'))!;
  data = JSON.parse(m[1]!) as SweepReportData;
  if (exe)
    browser = await chromium.launch({
      executablePath: exe,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

describe('sweep HTML report', () => {
  test('is self-contained and embeds every point, failures with reasons', () => {
    const text = readFileSync(html, 'utf8');
    expect(text).not.toMatch(/(src|href)\s*=\s*["']?(https?:|\/\/)/i);
    expect(data.points).toHaveLength(12);
    expect(data.points.filter((p) => p.status === 'failed')).toHaveLength(6);
    const excluded = data.points.filter((p) => p.status === 'excluded');
    expect(excluded.length).toBeGreaterThan(0);
    expect(
      excluded.every((p) => p.reason === 'excluded before running: breaks area <= 1.55' && p.metrics['area']! > 1.55),
    ).toBe(true);
    expect(
      data.points
        .filter((p) => p.status === 'failed')
        .every((p) => /raise scratchpad\.inputEntries/.test(p.reason ?? '')),
    ).toBe(true);
    expect(
      data.points.filter((p) => p.status === 'ok' && !p.feasible).every((p) => p.reason === 'breaks area <= 1.55'),
    ).toBe(true);
    expect(data.points.some((p) => p.front)).toBe(true);
  });

  test('in Chromium: axes, hover, click, table rows', { timeout: 120_000 }, async (ctx) => {
    if (!browser) return ctx.skip();
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.setViewportSize({ width: 1200, height: 900 });
    await page.goto(pathToFileURL(html).href);
    await page.waitForSelector('body[data-ready="1"]');
    const ok = data.points.filter((p) => p.status === 'ok');
    expect(await page.locator('#scatter circle').count()).toBe(ok.length);
    expect(await page.locator('#scatter circle.front').count()).toBe(data.points.filter((p) => p.front).length);
    expect(await page.locator('#scatter circle.infeasible').count()).toBe(ok.filter((p) => !p.feasible).length);
    const options = await page.locator('#x-axis option').allTextContents();
    expect(options).toEqual(
      expect.arrayContaining(['latency (us)', 'energy (uJ)', 'area (mm2)', 'array.size', 'dram.busBytes', 'batch']),
    );

    // choose axes: x = array size, y = throughput; every circle moves to its array size's column
    await page.selectOption('#x-axis', 'p:array.size');
    await page.selectOption('#y-axis', 'm:throughput');
    await page.check('#y-log');
    const xs = await page.locator('#scatter circle').evaluateAll((cs) => cs.map((c) => c.getAttribute('cx')));
    expect(new Set(xs).size).toBe(new Set(ok.map((p) => p.params['array.size'])).size);
    expect(await page.locator('#scatter').textContent()).toContain('throughput (inf/s)');

    // hover: the tooltip shows the point's config and figures
    const first = page.locator('#scatter circle').last(); // drawn last: on top of any circle at the same place
    const key = (await first.getAttribute('data-key'))!;
    const point = data.points.find((p) => p.key === key)!;
    await first.hover();
    const tip = page.locator('#tooltip');
    await expect.poll(() => tip.isVisible()).toBe(true);
    const tipText = (await tip.textContent())!;
    expect(tipText).toContain(`array.size=${point.params['array.size']}`);
    expect(tipText).toContain(`dram.busBytes=${point.params['dram.busBytes']}`);
    expect(tipText).toMatch(/latency [\d.,]+ us/);

    // click: the per-layer table of that point
    await first.click();
    const rows = page.locator('#layer-table tbody tr');
    expect(await rows.count()).toBe(point.layers.length);
    expect(await rows.first().locator('td').first().textContent()).toBe(point.layers[0]!.name);
    expect(await page.locator('#detail-config').textContent()).toContain(`"rows": ${point.params['array.size']}`);
    expect(await page.locator(`#scatter circle.selected`).getAttribute('data-key')).toBe(key);

    // a failed point's row: its reason, and clicking it shows it (no layers)
    const failedRow = page.locator('#points tr.failed').first();
    expect(await failedRow.textContent()).toMatch(/failed: layer 0 'conv1'/);
    await failedRow.click();
    expect(await page.locator('#layer-table tbody tr').count()).toBe(0);
    expect(await page.locator('#detail').textContent()).toMatch(/raise scratchpad\.inputEntries/);
    await page.screenshot({ path: join(dir, 'report.png'), fullPage: false });
    expect(errors).toEqual([]);
    await page.close();
  });
});
