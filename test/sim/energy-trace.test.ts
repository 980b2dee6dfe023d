import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../arch/errors.js';
import {
  DEFAULT_ENERGY_TABLE,
  estimateEnergy,
  loadEnergyTable,
  randomConfig,
  randomProgram,
  simulate,
  sramPjPerBit,
  writeChromeTrace,
  writeVcd,
} from '../../sim/index.js';
import { HALT, ins, makeProgram } from './helpers.js';
import { thrownMessage } from '../thrown.js';
import { FileError } from '../../io/index.js';

const gemmProgram = (config?: unknown) =>
  makeProgram(
    [
      ins('GEMM', {
        wgt_addr: 0,
        inp_addr: 0,
        acc_addr: 0,
        in_h: 3,
        in_w: 3,
        out_h: 3,
        out_w: 3,
        kernel_h: 3,
        kernel_w: 3,
        stride_h: 1,
        stride_w: 1,
        pad_top: 1,
        pad_left: 1,
        ci_blocks: 1,
        accumulate: 0,
        act_signed: 0,
        pshift: 0,
      }),
      ins('REQUANT', {
        acc_addr: 0,
        out_addr: 0,
        param_addr: 0,
        in_h: 3,
        in_w: 3,
        out_h: 3,
        out_w: 3,
        pool_k: 1,
        pool_s: 1,
        out_signed: 0,
        clamp_bits: 4,
      }),
      HALT,
    ],
    {
      ...(config ? { config } : {}),
      layers: [{ name: 'conv', kind: 'conv2d', macs: 9 * 9 * 256, firstInstruction: 0, lastInstruction: 1 }],
    },
  );

describe('energy', () => {
  it('reports components, classes, layers, pJ/MAC, TOPS/W and the requant counterfactual', () => {
    const r = simulate(gemmProgram(), { engine: 'fast' });
    const e = r.energy!;
    // 81 issued pixels x 256 MACs x 0.10 pJ at 45 nm
    expect(e.byComponent['mac']).toBeCloseTo(81 * 256 * 0.1, 6);
    // 9 outputs x 16 lanes x 0.26 pJ vs 3.5 pJ
    expect(e.requant.shiftPj).toBeCloseTo(144 * 0.26, 6);
    expect(e.requant.multiplierPj).toBeCloseTo(144 * 3.5, 6);
    expect(e.requant.ratio).toBeCloseTo(3.5 / 0.26, 6);
    const sum = Object.values(e.byComponent).reduce((a, b) => a + b, 0);
    expect(e.totalPj).toBeCloseTo(sum, 6);
    expect(Object.values(e.byClass).reduce((a, b) => a + b, 0)).toBeCloseTo(sum, 6);
    expect(e.byLayer[0]).toBeGreaterThan(0);
    expect(e.pjPerMac).toBeCloseTo(e.totalPj / (81 * 256), 9);
    expect(e.topsPerWatt).toBeCloseTo((2 * 81 * 256) / e.totalPj, 9);
    // node scaling: everything but DRAM x0.51 at 28 nm
    const e28 = simulate(gemmProgram({ techNodeNm: 28 }), { engine: 'timing' }).energy!;
    expect(e28.byComponent['mac']).toBeCloseTo(e.byComponent['mac']! * 0.51, 6);
    expect(e28.byComponent['fetch']).toBeCloseTo(e.byComponent['fetch']!, 6);
    // DRAM kind is selectable
    expect(estimateEnergy(r, { dram: 'ddr3' }).byComponent['fetch']).toBeCloseTo((e.byComponent['fetch']! * 20) / 8, 6);
  });

  it('a scratchpad built as two RAMs (OUT; ACC with gemmBeside) pays each write twice, each read once', () => {
    const on = simulate(gemmProgram(), { engine: 'timing' });
    const off = simulate(gemmProgram({ gemmBeside: false }), { engine: 'timing' });
    const { acc, out } = on.counters.sram;
    expect(acc.writes).toBeGreaterThan(0);
    expect(off.counters.sram.acc).toEqual(acc);
    const bit = on.energy!.sramPjPerBit;
    // ACC entries are 16 lanes x 32 bits, OUT entries 16 x 4 bits
    expect(on.energy!.byComponent['sram.acc']).toBeCloseTo((acc.reads + 2 * acc.writes) * 512 * bit['acc']!, 6);
    expect(off.energy!.byComponent['sram.acc']).toBeCloseTo((acc.reads + acc.writes) * 512 * bit['acc']!, 6);
    expect(on.energy!.byComponent['sram.out']).toBeCloseTo((out.reads + 2 * out.writes) * 64 * bit['out']!, 6);
  });

  it('SRAM energy per bit interpolates in log-log space', () => {
    expect(sramPjPerBit(DEFAULT_ENERGY_TABLE, 1024)).toBeCloseTo(0.035, 9);
    expect(sramPjPerBit(DEFAULT_ENERGY_TABLE, 64)).toBeCloseTo(0.021, 9);
    // 2 KB: geometric mean of 1 KB and 4 KB points... at the log midpoint
    expect(sramPjPerBit(DEFAULT_ENERGY_TABLE, 2048)).toBeCloseTo(Math.sqrt(0.035 * 0.107), 9);
    expect(sramPjPerBit(DEFAULT_ENERGY_TABLE, 1 << 24)).toBeCloseTo(1.56, 9);
  });

  it('loadEnergyTable validates with clear errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nibble-energy-'));
    const good = join(dir, 'good.json');
    writeFileSync(
      good,
      JSON.stringify({
        ...DEFAULT_ENERGY_TABLE,
        actions: { ...DEFAULT_ENERGY_TABLE.actions, 'mac.int4': { pJ: 0.2 } },
      }),
    );
    const t = loadEnergyTable(good);
    const r = simulate(gemmProgram(), { engine: 'timing', energy: { table: t } });
    expect(r.energy!.byComponent['mac']).toBeCloseTo(81 * 256 * 0.2, 6);
    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({ ...DEFAULT_ENERGY_TABLE, actions: { ...DEFAULT_ENERGY_TABLE.actions, reg: { pJ: -1 } } }),
    );
    expect(() => loadEnergyTable(bad)).toThrow(ConfigError);
    expect(() => loadEnergyTable(bad)).toThrow(/bad\.json\.actions\.reg\.pJ: must be a non-negative number, got -1/);
    writeFileSync(bad, '{"nodeNm": 45,');
    expect(() => loadEnergyTable(bad)).toThrow(/not valid JSON/);
    expect(() => loadEnergyTable(join(dir, 'missing.json'))).toThrow(/missing\.json: energy table not found/);
    writeFileSync(
      bad,
      JSON.stringify({ ...DEFAULT_ENERGY_TABLE, dram: { default: 'sdram', kinds: { lpddr4: { pJ: 8 } } } }),
    );
    expect(() => loadEnergyTable(bad)).toThrow(/dram\.default: must name one of lpddr4, got "sdram"/);
  });

  it('loadEnergyTable reads strictly: duplicate keys and ignored fields are errors at the place', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nibble-energy-'));
    const f = join(dir, 'e.json');
    const text = JSON.stringify(DEFAULT_ENERGY_TABLE, null, 2).replace(
      '"nodeNm": 45,',
      '"nodeNm": 45,\n  "nodeNm": 28,',
    );
    writeFileSync(f, text);
    expect(thrownMessage(() => loadEnergyTable(f), ConfigError)).toMatch(
      new RegExp(`^${f}:4:3: not valid JSON: duplicate key "nodeNm"`),
    );
    const typo = structuredClone(DEFAULT_ENERGY_TABLE) as unknown as { actions: Record<string, object> };
    typo.actions['mac.int4'] = { pj: 0.2, pJ: 0.1 };
    writeFileSync(f, JSON.stringify(typo));
    expect(thrownMessage(() => loadEnergyTable(f), ConfigError)).toMatch(
      new RegExp(
        `^${f}: actions\\.mac\\.int4\\.pj: unknown field 'pj' \\(did you mean pJ\\?\\) .*: it would be ignored$`,
      ),
    );
    // a new node and a new DRAM kind are the user's to name
    const open = structuredClone(DEFAULT_ENERGY_TABLE);
    open.nodeScaling['16'] = 0.2;
    open.dram.kinds['hbm2'] = { pJ: 4 };
    writeFileSync(f, JSON.stringify(open));
    expect(loadEnergyTable(f).dram.kinds['hbm2']!.pJ).toBe(4);
    expect(thrownMessage(() => loadEnergyTable('/dev/zero'), FileError)).toMatch(
      /^\/dev\/zero: cannot read energy table: a character device/,
    );
  });
});

describe('traces', () => {
  it('Chrome trace parses, has a track per unit and a complete event per instruction', () => {
    const cfg = randomConfig(3);
    const p = randomProgram(3, cfg);
    const r = simulate(p, { engine: 'fast' });
    const doc = JSON.parse(writeChromeTrace(r)) as {
      traceEvents: { ph: string; name: string; cat?: string; args?: Record<string, unknown> }[];
    };
    const complete = doc.traceEvents.filter((e) => e.ph === 'X' && e.cat !== 'layer');
    expect(complete.length).toBe(p.code.length - 1);
    const threads = doc.traceEvents.filter((e) => e.name === 'thread_name').map((e) => e.args!['name']);
    expect(threads).toEqual(expect.arrayContaining(['fetch', 'load', 'compute', 'store']));
    expect(doc.traceEvents.some((e) => e.ph === 'C' && e.name === 'tokens')).toBe(true);
  });

  it('VCD of the cycle engine has a header and value changes', () => {
    const p = randomProgram(5, randomConfig(5));
    const r = simulate(p, { engine: 'cycle', collect: { trace: true } });
    expect(r.trace!.length).toBe(r.cycles);
    const vcd = writeVcd(r);
    expect(vcd).toMatch(/^\$date/);
    expect(vcd).toContain('$enddefinitions $end');
    expect(vcd).toContain('$var wire 16 ');
    const changes = vcd.split('\n').filter((l) => /^b[01]+ \S+$/.test(l));
    expect(changes.length).toBeGreaterThan(10);
    expect(r.trace!.some((s) => s.arrayOccupancy > 0)).toBe(true);
    expect(() => writeVcd(simulate(p, { engine: 'fast' }))).toThrow(/cycle engine/);
  });

  it('onCycle sees every cycle', () => {
    const p = randomProgram(6, randomConfig(6));
    let n = 0;
    const r = simulate(p, { engine: 'cycle', onCycle: () => n++ });
    expect(n).toBe(r.cycles);
  });
});
