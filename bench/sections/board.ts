/**
 * The AXI shell and the board flow: co-simulation speed of the shell under
 * Verilator (the C driver over AXI-Lite, nibble's AXI slave model and protocol
 * checker) against the bare core's testbench on the same programs, on the
 * deterministic and on a random bus; and the HX8K breakout board design's
 * resources and Fmax from Yosys + nextpnr-ice40 (cached in .cache/fpga/).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG, type ArchConfig } from '../../arch/index.js';
import { si, ms, type Goal, type Table } from '../report.js';
import { SectionUnavailable, type BenchContext, type Section, type SectionOutput } from '../section.js';
import { loadRtlGen } from './verilator.js';

type ShellApi = typeof import('../../cosim/index.js');
type FpgaApi = typeof import('../../fpga/index.js');

async function load<T>(path: string, what: string): Promise<T> {
  try {
    return (await import(new URL(path, import.meta.url).href)) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND')
      throw new SectionUnavailable(`${what} is not in this build`);
    throw e;
  }
}

interface Row {
  config: string;
  bus: string;
  programs: number;
  cycles: number;
  match: number;
  shellMs: number;
  coreMs: number;
}

function speedTable(rows: Row[]): Table {
  return {
    title: 'AXI shell co-simulation (Verilator, C driver over AXI-Lite, AXI slave model + protocol checker)',
    columns: [
      'config',
      'bus',
      'programs',
      'core cycles',
      'match',
      'shell run',
      'shell cycles/s',
      'bare core run',
      'core cycles/s',
    ],
    rows: rows.map((r) => [
      r.config,
      r.bus,
      r.programs,
      r.cycles,
      `${r.match}/${r.programs}`,
      ms(r.shellMs),
      si(r.cycles / (r.shellMs / 1000)),
      ms(r.coreMs),
      si(r.cycles / (r.coreMs / 1000)),
    ]),
  };
}

export const boardSection: Section = {
  name: 'board',
  title: 'AXI shell co-simulation and the iCE40 board design',
  async run(ctx: BenchContext): Promise<SectionOutput> {
    const rtl = await loadRtlGen();
    if (!rtl.toolAvailable('verilator')) throw new SectionUnavailable('verilator is not installed');
    const shell = await load<ShellApi>('../../cosim/index.js', 'cosim/');
    const fpga = await load<FpgaApi>('../../fpga/index.js', 'fpga/');
    const count = ctx.options.quick ? 3 : 12;
    const rows: Row[] = [];
    const configs: [string, ArchConfig][] = [
      ['4x4 8-byte bus', { ...DEFAULT_CONFIG, ...fourByFour() }],
      ['8x8 2-byte bus', { ...DEFAULT_CONFIG, ...eightByEight() }],
    ];
    for (const [label, cfg] of configs) {
      for (const bus of ['deterministic', 'random'] as const) {
        ctx.log(`board: ${label}, ${bus} bus, ${count} programs`);
        const row: Row = { config: label, bus, programs: count, cycles: 0, match: 0, shellMs: 0, coreMs: 0 };
        for (let i = 0; i < count; i++) {
          const prog = shell.shellRandomProgram(900 + i, cfg);
          const r = shell.verifyShellProgram(prog, { bus: bus === 'deterministic' ? 'deterministic' : 50 + i });
          const c = rtl.verifyProgram(prog);
          row.cycles += r.rtlCycles;
          row.match += r.ok ? 1 : 0;
          row.shellMs += r.run.runMs;
          row.coreMs += c.runMs;
        }
        rows.push(row);
      }
    }
    const goals: Goal[] = [
      {
        name: 'shell co-simulation: deterministic bus cycle-exact, random bus bit-exact',
        target: 'all match',
        actual: `${rows.reduce((s, r) => s + r.match, 0)}/${rows.reduce((s, r) => s + r.programs, 0)}`,
        met: rows.every((r) => r.match === r.programs),
      },
    ];
    const tables = [speedTable(rows)];
    const notes = [
      'run = the testbench process wall time (startup, the driver loading code and data, the program fetch, the run, reading back): the shell row includes the AXI-Lite traffic of the driver polling CTRL',
    ];
    const data: Record<string, unknown> = { rows };
    const tools = ['yosys', 'nextpnr-ice40', 'icepack'] as const;
    if (tools.every((t) => fpga.locateTool(t))) {
      ctx.log('board: hx8k-breakout through yosys + nextpnr-ice40 (cached after the first run)');
      const out = mkdtempSync(join(tmpdir(), 'nibble-bench-board-'));
      const b = fpga.buildBoard({ board: 'hx8k-breakout', out });
      rmSync(out, { recursive: true, force: true });
      const [lc, lcCap] = b.utilisation['ICESTORM_LC']!;
      const [ram, ramCap] = b.utilisation['ICESTORM_RAM']!;
      tables.push({
        title: 'iCE40 board design (nibble fpga build --board hx8k-breakout)',
        columns: ['board', 'machine', 'logic cells', 'block RAMs', 'Fmax', 'board clock', 'build'],
        rows: [
          [
            b.board,
            '2x2, 16-bit acc, 1-byte bus',
            `${lc} / ${lcCap}`,
            `${ram} / ${ramCap}`,
            `${b.fmaxMHz.toFixed(2)} MHz`,
            `${b.boardClockMHz} MHz`,
            b.cached ? 'cached' : `${b.seconds.toFixed(0)} s`,
          ],
        ],
      });
      goals.push({
        name: 'board design fits the HX8K and closes above its 12 MHz clock',
        target: 'fits, Fmax > 12 MHz',
        actual: `${lc}/${lcCap} LCs, ${b.fmaxMHz.toFixed(1)} MHz`,
        met: lc <= lcCap && b.fmaxMHz > b.boardClockMHz,
      });
      data['board'] = b;
    } else notes.push('the iCE40 tools are not installed: no board figures');
    return { tables, goals, notes, data };
  },
};

function fourByFour(): Partial<ArchConfig> {
  return {
    array: { rows: 4, cols: 4 },
    bits: { weight: 4, activation: 4, accumulator: 32 },
    scratchpad: { inputEntries: 256, weightEntries: 256, accEntries: 128, outputEntries: 256, paramEntries: 16 },
    dram: { busBytes: 8, latency: 5, sizeBytes: 1 << 20 },
    queues: { load: 2, compute: 3, store: 1 },
    requantStages: 3,
  };
}

function eightByEight(): Partial<ArchConfig> {
  return {
    array: { rows: 8, cols: 8 },
    bits: { weight: 4, activation: 4, accumulator: 24 },
    scratchpad: { inputEntries: 512, weightEntries: 512, accEntries: 256, outputEntries: 256, paramEntries: 8 },
    dram: { busBytes: 2, latency: 11, sizeBytes: 1 << 16 },
    queues: { load: 4, compute: 4, store: 4 },
    requantStages: 5,
  };
}
