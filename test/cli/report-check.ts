/// <reference lib="dom" />
/**
 * What a person would notice in a rendered report, measured in Chromium:
 * a chart that is missing or empty, labels that overlap or stick out of their
 * chart, numbers in units that do not scale (4,600,000 nJ), colours that
 * repeat between layers, a timeline without its layer bands, script errors.
 * Returns the problems found (none is a pass); optionally saves a screenshot
 * of every chart for a person to look at.
 */
import { join } from 'node:path';
import { withPage } from './chromium.js';

interface TextBox {
  s: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

interface ChartFacts {
  id: string;
  box: { x: number; y: number; w: number; h: number } | undefined;
  marks: number;
  texts: TextBox[];
  layerColours: string[];
  bands: number;
  /** the chart says in words why it has nothing to show */
  emptyNote: boolean;
}

function intersection(a: TextBox, b: TextBox): number {
  const w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

/** Energy or time written with a number of 1000 or more, or an exponent, in the unit it is shown in. */
const UNSCALED = /(^|[^\d.,])(\d{1,3}(,\d{3})+|\d{4,})(\.\d+)?\s*(pJ|nJ|µJ|uJ|mJ|ns|µs|us|ms)\b/;
const BROKEN = /NaN|Infinity|undefined|\d[eE][+-]?\d/;

export async function checkReportPage(
  chromium: string,
  htmlFile: string,
  expect: { charts: readonly string[]; layers: number },
  shotsDir?: string,
): Promise<string[]> {
  return withPage(chromium, htmlFile, async (page) => {
    const problems: string[] = [];
    const rendered = await page.getAttribute('body', 'data-rendered');
    const errors = await page.textContent('#report-errors');
    if (rendered !== 'ok' || errors) problems.push(`page reports errors: ${rendered} ${errors}`);
    const facts: ChartFacts[] = await page.evaluate((ids: readonly string[]) => {
      const rect = (e: Element) => {
        const r = e.getBoundingClientRect();
        return { x: r.x, y: r.y, w: r.width, h: r.height };
      };
      return ids.map((id) => {
        const svg = document.getElementById(id);
        if (!svg) return { id, box: undefined, marks: 0, texts: [], layerColours: [], bands: 0, emptyNote: false };
        const marks = Array.from(svg.querySelectorAll('.mark')).filter((m) => {
          const r = m.getBoundingClientRect();
          return r.width > 0 && r.height > 0;
        }).length;
        const texts = Array.from(svg.querySelectorAll('text'))
          .filter((t) => (t.textContent ?? '').trim() !== '')
          .map((t) => ({ s: t.textContent ?? '', ...rect(t) }));
        const layerColours = Array.from(svg.querySelectorAll('circle.point')).map((c) => c.getAttribute('fill') ?? '');
        const emptyNote = svg.querySelector('.empty-note') !== null;
        return {
          id,
          box: rect(svg),
          marks,
          texts,
          layerColours,
          bands: svg.querySelectorAll('.band').length,
          emptyNote,
        };
      });
    }, expect.charts);
    for (const f of facts) {
      if (!f.box || !(f.box.w > 0 && f.box.h > 0)) {
        problems.push(`${f.id}: not rendered`);
        continue;
      }
      if (f.marks === 0 && !f.emptyNote)
        problems.push(`${f.id}: empty (no bars, points or cells, and no note saying why)`);
      for (let i = 0; i < f.texts.length; i++) {
        const a = f.texts[i]!;
        const b0 = f.box;
        if (a.x < b0.x - 1 || a.y < b0.y - 1 || a.x + a.w > b0.x + b0.w + 1 || a.y + a.h > b0.y + b0.h + 1)
          problems.push(`${f.id}: label '${a.s}' sticks out of the chart`);
        for (let j = i + 1; j < f.texts.length; j++) {
          const b = f.texts[j]!;
          if (intersection(a, b) > 2) problems.push(`${f.id}: labels '${a.s}' and '${b.s}' overlap`);
        }
        if (UNSCALED.test(a.s)) problems.push(`${f.id}: '${a.s}' is not in a unit that scales`);
        if (BROKEN.test(a.s)) problems.push(`${f.id}: '${a.s}' shows a broken number`);
      }
      if (f.id === 'chart-roofline' && new Set(f.layerColours).size !== f.layerColours.length)
        problems.push(`chart-roofline: ${f.layerColours.length} layers share ${new Set(f.layerColours).size} colours`);
      if (f.id === 'chart-timeline' && f.bands !== expect.layers)
        problems.push(`chart-timeline: ${f.bands} layer bands for ${expect.layers} layers`);
    }
    if (shotsDir) {
      await page.screenshot({ path: join(shotsDir, 'page.png'), fullPage: true });
      for (const id of expect.charts) await page.locator(`#${id}`).screenshot({ path: join(shotsDir, `${id}.png`) });
    }
    return problems;
  });
}
