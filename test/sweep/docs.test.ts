/** docs/sweep.md against its sources: the example spec, metrics, presets, devices, fit errors, preset areas. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { presetConfig, PRESETS } from '../../arch/index.js';
import { estimateArea } from '../../sim/index.js';
import { FPGA_DEVICES, FPGA_FIT, FPGA_RESOURCES, METRIC_NAMES, METRICS, parseSpec } from '../../sweep/index.js';

const DOC = fileURLToPath(new URL('../../docs/sweep.md', import.meta.url));
const text = readFileSync(DOC, 'utf8');

/** Rows of the first Markdown table after `heading` whose header starts with `first`. */
function table(first: string): string[][] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`| ${first} |`));
  expect(start, `table '${first}'`).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  for (let i = start + 2; i < lines.length && lines[i]!.startsWith('|'); i++)
    rows.push(
      lines[i]!.slice(1, -1)
        .split('|')
        .map((c) => c.trim()),
    );
  return rows;
}

describe('docs/sweep.md', () => {
  test('the quick-start spec parses and spans the 36 points its output shows', () => {
    const yaml = /```yaml\n([\s\S]*?)```/.exec(text)![1]!;
    const s = parseSpec(yaml, 'cifar10-arrays.yaml');
    const points =
      s.bases.length * s.models.length * s.batches.length * s.axes.reduce((n, a) => n * a.values.length, 1);
    expect(points).toBe(36);
    expect(text).toContain('sweep cifar10-arrays: 36 points (3 axes, 1 model, timing engine)');
  });

  test('the metrics table is METRICS', () => {
    const rows = table('metric');
    expect(rows.map((r) => r[0]!.replace(/`/g, ''))).toEqual([...METRIC_NAMES]);
    for (const r of rows) {
      const m = METRICS[r[0]!.replace(/`/g, '') as keyof typeof METRICS];
      expect([r[1], r[2], r[3], r[4]]).toEqual([m.unit, m.better, m.static ? 'yes' : 'no', m.describe]);
    }
  });

  test('the presets table is PRESETS, and the area table is estimateArea of each', () => {
    expect(table('preset').map((r) => [r[0]!.replace(/`/g, ''), r[1]])).toEqual(
      PRESETS.map((p) => [p.name, p.description]),
    );
    const areas = text.slice(text.indexOf('| machine | node |'));
    for (const p of PRESETS) {
      const a = estimateArea(presetConfig(p.name));
      const row = areas.split('\n').find((l) => l.startsWith(`| \`${p.name}\``))!;
      expect(row).toContain(`| ${a.totalMm2.toFixed(3)} |`);
      expect(row).toContain(`| ${a.nodeNm} nm |`);
    }
  });

  test('the devices table is FPGA_DEVICES', () => {
    const rows = table('device');
    expect(rows.map((r) => r[0]!.replace(/`/g, ''))).toEqual(Object.keys(FPGA_DEVICES));
    for (const r of rows) {
      const d = FPGA_DEVICES[r[0]!.replace(/`/g, '')]!;
      expect(r.slice(1).map((c) => c.replace(/,/g, ''))).toEqual([
        d.target,
        ...FPGA_RESOURCES.map((k) => String(d[k])),
      ]);
    }
  });

  test('the fit-error table is sweep/fpga-fit.json', () => {
    const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
    for (const r of table('target').filter((row) => row[2] !== '0 (none used)')) {
      const res = ({ LUTs: 'luts', FFs: 'ffs', BRAMs: 'brams', DSPs: 'dsps' } as const)[r[1] as 'LUTs']!;
      const f = FPGA_FIT.targets[r[0] as 'ice40'].fits[res];
      expect(r[2]).toBe(`${pct(f.meanRelError)} / ${pct(f.maxRelError)}`);
      expect(r[3]).toBe(`${pct(f.looMeanRelError)} / ${pct(f.looMaxRelError)}`);
    }
  });
});
