/**
 * Generated Verilog: headers, Verilator -Wall lint (default and small machines),
 * Yosys synthesis and nextpnr place and route of a tiny machine, the
 * tool-output parsers, and what a missing tool does (skip, or fail under CI).
 */
import { describe, expect, it } from 'vitest';
import { canonicalConfigJson, configHash, DEFAULT_CONFIG, validateConfig, type ArchConfig } from '../../arch/config.js';
import {
  generateVerilog,
  ice40Config,
  lint,
  parseNextpnr,
  parseYosysStat,
  pnr,
  rtlOptions,
  synth,
} from '../../rtl-gen/index.js';
import { verifyProgram } from '../../cosim/index.js';
import { randomConfig } from '../../sim/index.js';
import { CFG4, CFG8, directedPrograms } from './programs.js';
import { ciIsSet, haveTools, toolVerdict } from './tools-required.js';
import { declaredWidth } from './verilog-text.js';

const FILE = 'test/rtl/tools.test.ts';
const HAVE_VERILATOR = haveTools(FILE, ['verilator']);
const HAVE_YOSYS = haveTools(FILE, ['yosys']);
const HAVE_PNR = haveTools(FILE, ['yosys', 'nextpnr-ice40']);

/** Two PEs a side, tiny buffers: synthesizes in seconds. */
const TINY: ArchConfig = validateConfig({
  ...structuredClone(DEFAULT_CONFIG),
  array: { rows: 2, cols: 2 },
  bits: { weight: 4, activation: 4, accumulator: 16 },
  scratchpad: { inputEntries: 32, weightEntries: 8, accEntries: 16, outputEntries: 32, paramEntries: 2 },
  dram: { busBytes: 1, latency: 2, sizeBytes: 1 << 16 },
  queues: { load: 1, compute: 1, store: 1 },
  requantStages: 1,
});

describe('generated Verilog', () => {
  it('one file per module, each carrying the config JSON and configHash; the top last', () => {
    const g = generateVerilog(CFG4);
    expect(g.files.map((f) => f.name).sort()).toEqual(
      [
        'array',
        'compute',
        'fetch',
        'gemm',
        'load',
        'pe',
        'perf',
        'queue',
        'requant',
        'requant_lane',
        'scratchpads',
        'sdp_ram',
        'store',
        'tokens',
        'top',
      ].map((m) => `nibble_${m}.v`),
    );
    expect(g.files.at(-1)!.name).toBe('nibble_top.v');
    for (const f of g.files) {
      expect(f.text).toContain(`configHash: ${configHash(CFG4)}`);
      expect(f.text).toContain(canonicalConfigJson(CFG4));
      expect(f.text).toContain(`module ${f.name.slice(0, -2)} `);
    }
  });

  it('is deterministic and differs between configs', () => {
    expect(generateVerilog(CFG8).files).toEqual(generateVerilog(CFG8).files);
    expect(generateVerilog(CFG8).files.at(-1)!.text).not.toEqual(generateVerilog(CFG4).files.at(-1)!.text);
  });

  it('rejects an invalid config with a ConfigError naming the field', () => {
    expect(() => generateVerilog({ ...CFG4, array: { rows: 3, cols: 3 } })).toThrow(/config\.array\.rows/);
  });
});

describe('generation parameters (index and counter widths)', () => {
  it('defaults: 16-bit instruction indices, 32-bit counters (48 for N >= 16); DRAM addresses as wide as the DRAM', () => {
    expect(rtlOptions(CFG4)).toEqual({ indexBits: 16, counterBits: 32 });
    expect(rtlOptions(DEFAULT_CONFIG)).toEqual({ indexBits: 16, counterBits: 48 });
    const top = generateVerilog(CFG4, { indexBits: 12, counterBits: 24 }).files.find(
      (f) => f.name === 'nibble_top.v',
    )!.text;
    expect(declaredWidth(top, 'insn_addr')).toBe(12);
    expect(declaredWidth(top, 'tr_cp_ret_idx')).toBe(12);
    expect(declaredWidth(top, 'perf_cycles')).toBe(24);
    expect(declaredWidth(top, 'perf_macs')).toBe(28); // 24 + log2(4 x 4)
    expect(declaredWidth(top, 'rd_req_addr')).toBe(20); // 1 MB DRAM
  });

  it('rejects widths out of range with an RtlError naming the option', () => {
    expect(() => generateVerilog(CFG4, { indexBits: 2 })).toThrow(/indexBits must be an integer in 4\.\.32/);
    expect(() => generateVerilog(CFG4, { counterBits: 61 })).toThrow(
      /counterBits must be an integer in 8\.\.60 for a 4 x 4 array/,
    );
  });

  it('co-simulation refuses a program longer than the index width or longer-running than the counters', () => {
    const prog = directedPrograms(CFG4)['load-gemm-requant-store']!;
    expect(prog.code.length).toBeGreaterThan(4);
    // both checks run before any Verilator build
    const long = { ...prog, code: [...Array.from({ length: 16 }, () => prog.code[0]!), ...prog.code] };
    expect(() => verifyProgram(long, { rtl: { indexBits: 4 } })).toThrow(
      /has 2\d instructions; the RTL's 4-bit instruction index holds at most 16/,
    );
    expect(() => verifyProgram(long, { rtl: { counterBits: 8 } })).toThrow(
      /cycles; the RTL's 8-bit performance counters hold at most 255/,
    );
  });
});

describe.skipIf(!HAVE_VERILATOR)('verilator --lint-only -Wall', () => {
  const cases: [string, ArchConfig][] = [
    ['default', DEFAULT_CONFIG],
    ['4x4', CFG4],
    ['8x8', CFG8],
    ['tiny', TINY],
    ['ice40Config() (4x4, 3 requant stages)', ice40Config()],
    ['ice40Config(1) (unpipelined requant)', ice40Config(1)],
    ...[1, 2, 9].map((s) => [`randomConfig(${s})`, randomConfig(s)] as [string, ArchConfig]),
    // extremes: 8-bit lanes, 256-byte bus, 4 GB DRAM, 256-deep queue, 8 requant stages, one PARAM entry, G = 66 > 64
    [
      'extreme 32x32',
      validateConfig({
        ...structuredClone(DEFAULT_CONFIG),
        array: { rows: 32, cols: 32 },
        bits: { weight: 8, activation: 8, accumulator: 32 },
        scratchpad: { inputEntries: 1024, weightEntries: 1024, accEntries: 512, outputEntries: 512, paramEntries: 1 },
        dram: { busBytes: 256, latency: 1000, sizeBytes: 2 ** 32 },
        queues: { load: 256, compute: 255, store: 1 },
        requantStages: 8,
      }),
    ],
    [
      'odd widths 8x8',
      validateConfig({
        ...structuredClone(DEFAULT_CONFIG),
        array: { rows: 8, cols: 8 },
        bits: { weight: 3, activation: 5, accumulator: 16 },
        scratchpad: { inputEntries: 2, weightEntries: 8, accEntries: 2, outputEntries: 2, paramEntries: 1 },
        dram: { busBytes: 4, latency: 1, sizeBytes: 1 << 16 },
        queues: { load: 5, compute: 7, store: 3 },
        requantStages: 6,
      }),
    ],
  ];
  for (const [name, cfg] of cases) {
    it(`${name} is clean`, () => {
      const r = lint(cfg);
      expect(r.messages).toEqual([]);
      expect(r.clean).toBe(true);
    });
  }
});

describe.skipIf(!HAVE_YOSYS)('yosys', () => {
  it('synthesizes a tiny machine (generic)', () => {
    const r = synth(TINY, 'generic');
    expect(r.cells).toBeGreaterThan(100);
    expect(r.ffs).toBeGreaterThan(50);
  });
});

describe.skipIf(!HAVE_PNR)('nextpnr-ice40', () => {
  it('places and routes a tiny machine inside fpgaWrapper on an iCE40 UP5K', { timeout: 600_000 }, () => {
    const r = pnr(TINY, 'ice40-up5k');
    expect(r.utilisation['ICESTORM_LC']![0]).toBeGreaterThan(500);
    expect(r.utilisation['ICESTORM_RAM']![0]).toBeGreaterThan(0);
    expect(r.fmaxMHz).toBeGreaterThan(1);
  });
});

describe('a missing tool', () => {
  it('skips its file with a line naming the install command, or fails under CI', () => {
    expect(toolVerdict('f', [], true)).toEqual({ action: 'run' });
    expect(toolVerdict('test/rtl/x.test.ts', ['verilator'], false)).toEqual({
      action: 'skip',
      message: 'SKIPPED test/rtl/x.test.ts: verilator is not installed (apt-get install -y verilator)',
    });
    expect(toolVerdict('test/rtl/x.test.ts', ['yosys', 'nextpnr-ice40'], true)).toEqual({
      action: 'fail',
      message:
        'test/rtl/x.test.ts: CI is set, so the RTL tests must run, but yosys, nextpnr-ice40 are not installed ' +
        '(apt-get install -y yosys; apt-get install -y nextpnr-ice40)',
    });
  });

  it('CI counts as set unless empty or an explicit no', () => {
    expect([{ CI: '1' }, { CI: 'true' }, { CI: 'yes' }].map((e) => ciIsSet(e))).toEqual([true, true, true]);
    expect([{}, { CI: '' }, { CI: '0' }, { CI: 'false' }].map((e) => ciIsSet(e))).toEqual([false, false, false, false]);
  });
});

describe('tool-output parsers', () => {
  it('reads a Yosys stat block', () => {
    const log = `
=== nibble_top ===

   Number of wires:               1000
   Number of cells:               1234
     SB_CARRY                       10
     SB_DFF                          5
     SB_DFFESR                       7
     SB_LUT4                       900
     SB_MAC16                        1
     SB_RAM40_4K                     4

`;
    const r = parseYosysStat(log, 'ice40');
    expect(r).toMatchObject({ cells: 1234, luts: 900, ffs: 12, brams: 4, dsps: 1 });
  });

  it('reads nextpnr utilisation and Fmax', () => {
    const log = `Info: Device utilisation:
Info: 	         ICESTORM_LC:  1234/ 5280    23%
Info: 	        ICESTORM_RAM:     8/   30    26%
Info: Max frequency for clock 'clk$SB_IO_IN_$glb_clk': 31.50 MHz (PASS at 12.00 MHz)
Info: Max frequency for clock 'clk$SB_IO_IN_$glb_clk': 33.25 MHz (PASS at 12.00 MHz)`;
    const r = parseNextpnr(log);
    expect(r.fmaxMHz).toBe(33.25);
    expect(r.utilisation['ICESTORM_LC']).toEqual([1234, 5280]);
    expect(r.utilisation['ICESTORM_RAM']).toEqual([8, 30]);
  });
});
