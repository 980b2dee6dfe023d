/** The area model (sim/area.ts): sourced anchors, banking, node scaling, and the table's drift from ../shared/energy/README.md. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { ConfigError, DEFAULT_CONFIG, presetConfig, type ArchConfig } from '../../arch/index.js';
import {
  AREA_COMPONENTS,
  DEFAULT_AREA_TABLE,
  estimateArea,
  loadAreaTable,
  scratchpadRams,
  sramBanking,
  validateAreaTable,
  type ScratchpadRams,
} from '../../sim/index.js';
import { generateVerilog } from '../../rtl-gen/index.js';
import { thrownMessage } from '../thrown.js';
import { FileError } from '../../io/index.js';

const README = fileURLToPath(new URL('../../../shared/energy/README.md', import.meta.url));

function cfgWith(f: (c: ArchConfig) => void): ArchConfig {
  const c = structuredClone(DEFAULT_CONFIG);
  f(c);
  return c;
}

describe('area model', () => {
  test('components add up to the total and are all positive', () => {
    const r = estimateArea(DEFAULT_CONFIG);
    expect(Object.keys(r.byComponent)).toEqual([...AREA_COMPONENTS]);
    const sum = Object.values(r.byComponent).reduce((s, v) => s + v, 0);
    expect(r.totalMm2).toBeCloseTo(sum, 12);
    for (const v of Object.values(r.byComponent)) expect(v).toBeGreaterThan(0);
    expect(r.nodeNm).toBe(45);
  });

  test('the PE array is N^2 Bit Fusion int4 PEs at 45 nm', () => {
    expect(estimateArea(DEFAULT_CONFIG).byComponent.pe).toBeCloseTo(256 * 192e-6, 12);
    const c8 = cfgWith((c) => (c.bits = { weight: 8, activation: 8, accumulator: 32 }));
    expect(estimateArea(c8).byComponent.pe).toBeCloseTo(256 * 511e-6, 12);
  });

  test('a wide RAM is built from 32-bit banks; one over 16 KB per bank from more banks', () => {
    // ACC: 1024 entries x 16 lanes x 32 bits = 64 KB, 512 bits wide -> 16 banks of 4 KB, twice with gemmBeside
    const acc = estimateArea(DEFAULT_CONFIG).sram.acc;
    expect(acc).toEqual({ rams: 2, depth: 1024, widthBits: 512, bytes: 65536, banks: 16, bankBytes: 4096 });
    expect(estimateArea(DEFAULT_CONFIG).byComponent['sram.acc']).toBeCloseTo(2 * 16 * 0.03, 12);
    // 2^20 entries x 64 bits = 8 MB -> 512 banks of 16 KB
    expect(sramBanking(DEFAULT_AREA_TABLE, { rams: 1, depth: 1 << 20, widthBits: 64 }).banks).toBe(512);
  });

  test('the scratchpads are the RAMs the RTL builds: INP R lane RAMs, OUT twice, ACC twice with gemmBeside', () => {
    const r = estimateArea(DEFAULT_CONFIG).sram;
    // INP: 16 lane RAMs of 2048 x 4 bits (1 KB each), not one 64-bit 16 KB buffer
    expect(r.inp).toEqual({ rams: 16, depth: 2048, widthBits: 4, bytes: 1024, banks: 1, bankBytes: 1024 });
    expect(r.out.rams).toBe(2);
    // PARAM keeps 40 bits (bias and shift) of each 64-bit lane: 640 bits -> 20 banks of 256 B
    expect(r.param).toMatchObject({ widthBits: 640, banks: 20, bankBytes: 256 });
    const off = estimateArea({ ...DEFAULT_CONFIG, gemmBeside: false });
    expect(off.sram.acc.rams).toBe(1);
    expect(estimateArea(DEFAULT_CONFIG).totalMm2 - off.totalMm2).toBeCloseTo(16 * 0.03, 12);
  });

  test('scratchpadRams matches the nibble_sdp_ram instances of the generated nibble_scratchpads.v', () => {
    const machines: [string, ArchConfig][] = [
      ['default', DEFAULT_CONFIG],
      ['default, gemmBeside off', { ...DEFAULT_CONFIG, gemmBeside: false }],
      ['ice40-board', presetConfig('ice40-board')],
      ['8 x 4, one PARAM entry', cfgWith((c) => ((c.array = { rows: 8, cols: 4 }), (c.scratchpad.paramEntries = 1)))],
    ];
    for (const [name, cfg] of machines) {
      const text = generateVerilog(cfg).files.find((f) => f.name === 'nibble_scratchpads.v')!.text;
      const param = (k: string) => {
        const m = new RegExp(`(?:local)?param(?:eter)? ${k} = (\\d+)`).exec(text);
        expect(m, `${name}: parameter ${k}`).not.toBeNull();
        return Number(m![1]);
      };
      const lanes = /for \(gl = 0; gl < (\w+);/.exec(text)?.[1];
      const built: Record<string, ScratchpadRams> = {};
      for (const m of text.matchAll(/nibble_sdp_ram #\(\.W\((\w+)\), \.AW\((\w+)\)\) u_(\w+?)(?:_\w+)? \(/g)) {
        const buffer = m[3] === 'par' ? 'param' : m[3]!;
        const rams = buffer === 'inp' ? param(lanes!) : 1;
        const r = built[buffer] ?? { rams: 0, depth: 2 ** param(m[2]!), widthBits: param(m[1]!) };
        built[buffer] = { ...r, rams: r.rams + rams };
      }
      expect(built, name).toEqual(scratchpadRams(cfg));
    }
  });

  test('area grows with the array, the buffers and the accumulator; shrinks with the node', () => {
    const base = estimateArea(DEFAULT_CONFIG);
    const big = estimateArea(cfgWith((c) => (c.array = { rows: 32, cols: 32 })));
    expect(big.byComponent.pe).toBeCloseTo(4 * base.byComponent.pe, 12);
    const deep = estimateArea(cfgWith((c) => (c.scratchpad.inputEntries = 8192)));
    expect(deep.byComponent['sram.inp']).toBeGreaterThan(base.byComponent['sram.inp']);
    const acc16 = estimateArea(cfgWith((c) => (c.bits.accumulator = 16)));
    expect(acc16.byComponent.requant).toBeLessThan(base.byComponent.requant);
    const n28 = estimateArea(cfgWith((c) => (c.techNodeNm = 28)));
    const n22 = estimateArea(cfgWith((c) => (c.techNodeNm = 22)));
    expect(n28.totalMm2 / base.totalMm2).toBeCloseTo(0.38, 6);
    expect(n22.totalMm2 / base.totalMm2).toBeCloseTo(0.25, 6);
    expect(estimateArea(presetConfig('edge')).totalMm2).toBeLessThan(base.totalMm2);
  });

  test('the default table holds the README area anchors (drift test)', () => {
    const text = readFileSync(README, 'utf8');
    const section = text.slice(text.indexOf('## Area anchors'));
    const row = (key: string) => {
      const line = section.split('\n').find((l) => l.startsWith(`| ${key}`));
      expect(line, key).toBeDefined();
      return line!
        .split('|')[2]!
        .split('/')
        .map((s) => Number(s.trim()));
    };
    expect(row('area.pe.int2 / int4 / int8 / int16')).toEqual(DEFAULT_AREA_TABLE.pe.points.map((p) => p.um2));
    expect(row('sram 128 B')).toEqual(DEFAULT_AREA_TABLE.sram.points.map((p) => p.mm2));
    expect(row('comparator.32b')).toEqual([DEFAULT_AREA_TABLE.logic['comparator.32b'].um2]);
    expect(row('shifter.32b')).toEqual([DEFAULT_AREA_TABLE.logic['shifter.32b'].um2]);
    expect(row('register')).toEqual([DEFAULT_AREA_TABLE.logic.register.um2]);
    const [lo, hi] = section
      .split('\n')
      .find((l) => l.startsWith('| add.32b'))!
      .split('|')[2]!
      .split('-')
      .map(Number);
    expect(DEFAULT_AREA_TABLE.logic['add.32b'].um2).toBeGreaterThanOrEqual(lo!);
    expect(DEFAULT_AREA_TABLE.logic['add.32b'].um2).toBeLessThanOrEqual(hi!);
    for (const [nm, f] of [
      ['40', 0.79],
      ['32', 0.46],
      ['28', 0.38],
      ['22', 0.25],
    ] as const) {
      expect(section).toContain(`${nm} nm x${f}`);
      expect(DEFAULT_AREA_TABLE.nodeScaling[nm]).toBe(f);
    }
  });

  test('a malformed area table names the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nibble-area-'));
    const bad = structuredClone(DEFAULT_AREA_TABLE) as unknown as Record<string, Record<string, unknown>>;
    (bad['sram']!['points'] as { bytes: number }[])[2]!.bytes = 10;
    const file = join(dir, 'area.json');
    writeFileSync(file, JSON.stringify(bad));
    expect(thrownMessage(() => loadAreaTable(file), ConfigError)).toBe(
      `${file}.sram.points[2].bytes: bytes must be increasing`,
    );
    writeFileSync(file, '{');
    expect(thrownMessage(() => loadAreaTable(file), ConfigError)).toMatch(new RegExp(`^${file}:1:2: not valid JSON`));
    expect(thrownMessage(() => loadAreaTable(join(dir, 'none.json')), FileError)).toMatch(
      /none\.json: area table not found/,
    );
    const noNode = structuredClone(DEFAULT_AREA_TABLE) as unknown as { logic: Record<string, { nodeNm: number }> };
    noNode.logic['register']!.nodeNm = 65;
    expect(thrownMessage(() => validateAreaTable(noNode), ConfigError)).toBe(
      'area table.logic.register.nodeNm: node 65 nm has no factor in nodeScaling',
    );
  });
});
