/**
 * Board flows: the HX8K breakout design through Yosys, nextpnr-ice40 and
 * icepack for real (cached in .cache/fpga/), the iCEBreaker refusing a design
 * that does not fit, missing tools and failing tools as one located error, the
 * clock warnings, and the board design end to end in Verilator over its UART
 * with the host program a user runs (nibble_run + the C driver).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BOARDS,
  boardByName,
  buildBoard,
  buildBoardSim,
  clockWarnings,
  DEVICE_CAPACITY,
  FpgaError,
  locateTool,
  pcf,
  requireTool,
  runBoardSim,
  runLogged,
  synthXilinx,
  xilinxPart,
  type Tool,
} from '../../fpga/index.js';
import { FileError } from '../../io/index.js';
import { shellRandomProgram } from '../../cosim/index.js';
import { ensureBuilt, expectUserError, nibble } from '../cli/nibble.js';
import { thrownMessage } from '../thrown.js';
import { haveTools } from '../rtl/tools-required.js';

const HAVE_ICE40 = ['yosys', 'nextpnr-ice40', 'icepack'].every((t) => locateTool(t as 'yosys') !== undefined);
const HAVE_VERILATOR = haveTools('test/board/fpga.test.ts', ['verilator']);
const YOWASP = (['yosys', 'nextpnr-ice40', 'icepack'] as const).map((t) => locateTool(t, true));
const HAVE_YOWASP = YOWASP.every((t) => t?.via === 'yowasp');
if (!HAVE_YOWASP)
  console.warn(
    'SKIPPED the YoWASP flow in test/board/fpga.test.ts: npm install @yowasp/yosys @yowasp/nextpnr-ice40 (and npm run build) to run it',
  );
// the Debian tools or the YoWASP packages; with neither, skip with a line or, under CI, fail
if (!HAVE_ICE40) haveTools('test/board/fpga.test.ts', ['yosys', 'nextpnr-ice40', 'icepack']);

describe('boards', () => {
  it('pin constraints name every port of the board top on the board schematic pins', () => {
    expect(pcf(BOARDS['hx8k-breakout']!)).toContain('set_io clk J3\nset_io rx B10\nset_io tx B12\nset_io led[0] B5\n');
    expect(pcf(BOARDS['icebreaker']!)).toContain('set_io clk 35\nset_io rx 6\nset_io tx 9\n');
  });

  it('an unknown board, a missing tool and a failing tool are each one located error naming the fix', () => {
    expect(thrownMessage(() => boardByName('de10'), FpgaError)).toBe(
      "--board: unknown board 'de10' (known: hx8k-breakout, icebreaker)",
    );
    const path = process.env['PATH'];
    process.env['PATH'] = '/nonexistent';
    // the YoWASP packages may be installed here: allow only the (now missing) Debian tools
    process.env['NIBBLE_FPGA_TOOLS'] = 'debian';
    try {
      expect(thrownMessage(() => requireTool('nextpnr-ice40'), FpgaError)).toBe(
        'nextpnr-ice40: nextpnr-ice40 is not installed: apt-get install nextpnr-ice40 (Debian), or npm install @yowasp/nextpnr-ice40 (YoWASP, no system packages)',
      );
      process.env['NIBBLE_FPGA_TOOLS'] = 'wasm';
      expect(thrownMessage(() => requireTool('yosys'), FpgaError)).toBe(
        "NIBBLE_FPGA_TOOLS: must be debian or yowasp, got 'wasm'",
      );
    } finally {
      process.env['PATH'] = path;
      delete process.env['NIBBLE_FPGA_TOOLS'];
    }
    if (!locateTool('yosys')) return;
    const dir = mkdtempSync(join(tmpdir(), 'nibble-fpga-'));
    try {
      writeFileSync(join(dir, 'bad.v'), 'module bad(input wire a); assign b = ; endmodule\n');
      const m = thrownMessage(
        () => runLogged(requireTool('yosys'), ['-p', 'read_verilog bad.v'], dir, 'yosys.log'),
        FpgaError,
      );
      expect(m).toMatch(new RegExp(`^yosys: yosys exited with 1; from ${join(dir, 'yosys.log')}:\\n`));
      expect(m).toMatch(/ERROR/);
      expect(readFileSync(join(dir, 'yosys.log'), 'utf8')).toMatch(/ERROR/); // the log is kept
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an output that cannot become a directory is refused before any tool runs, naming the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nibble-fpga-out-'));
    try {
      const file = join(dir, 'taken');
      writeFileSync(file, 'mine');
      const m = thrownMessage(() => buildBoard({ board: 'hx8k-breakout', out: file }), FileError);
      expect(m).toBe(`${file}: cannot write the output directory: a file of this name already exists (EEXIST)`);
      expect(
        thrownMessage(() => synthXilinx(BOARDS['hx8k-breakout']!.config, 'xc7a35t', join(file, 'x')), FileError),
      ).toMatch(new RegExp(`^${join(file, 'x')}: cannot create the directory: ${file} is a file, not a directory$`));
      expect(readFileSync(file, 'utf8')).toBe('mine');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('warns when the config clock or the board clock exceeds the placed Fmax', () => {
    expect(clockWarnings(46.6, 12, 12)).toEqual([]);
    const [w] = clockWarnings(46.6, 500, 12);
    expect(w).toEqual({
      code: 'NB-P101',
      message:
        "config.clockMHz is 500 MHz but the placed design's Fmax is 46.60 MHz: the simulator's latencies assume a clock the board cannot run; use --clock-from-pnr or set clockMHz <= 46",
    });
    expect(clockWarnings(10, 12, 12).map((x) => x.code)).toEqual(['NB-P101', 'NB-P102']);
  });

  it(
    'nibble fpga boards lists the boards; nibble fpga build refuses an unknown board in one line',
    { timeout: 600_000 },
    async () => {
      await ensureBuilt();
      const list = await nibble(['fpga', 'boards']);
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(/hx8k-breakout +iCE40HX8K-CT256 +2x2/);
      expectUserError(
        await nibble(['fpga', 'build', '--board', 'de10']),
        /^nibble: error\[NB-P000\]: --board: unknown board 'de10' \(known: hx8k-breakout, icebreaker\)$/,
      );
      expectUserError(await nibble(['rtl', '--driver']), /needs -o DIR/);
      expectUserError(
        await nibble(['verify', '--rtl', '--random', '2', '--bus-seed', '3']),
        /--bus-seed and --irq go with --shell axi/,
      );
    },
  );
});

describe.skipIf(!HAVE_ICE40)('iCE40 builds (Yosys, nextpnr-ice40, icepack)', () => {
  it(
    'hx8k-breakout: bitstream, pin file, logs, timing report kept together; fits with the Fmax above the board clock',
    { timeout: 1_800_000 },
    () => {
      const out = mkdtempSync(join(tmpdir(), 'nibble-hx8k-'));
      try {
        const r = buildBoard({ board: 'hx8k-breakout', out });
        expect(readFileSync(r.bitstream).length).toBeGreaterThan(100_000);
        for (const f of [r.files.pcf, r.files.timing, r.files.report, ...r.files.logs])
          expect(existsSync(f), f).toBe(true);
        expect(readFileSync(join(out, 'nextpnr.log'), 'utf8')).toMatch(/Max frequency for clock/);
        const [lc, cap] = r.utilisation['ICESTORM_LC']!;
        expect(cap).toBe(DEVICE_CAPACITY.hx8k.lc);
        expect(lc).toBeLessThanOrEqual(cap);
        expect(r.fmaxMHz).toBeGreaterThan(r.boardClockMHz);
        expect(r.warnings).toEqual([]);
        expect(r.tools.map((t) => t.name)).toEqual(['yosys', 'nextpnr-ice40', 'icepack']);
        console.log(
          `hx8k-breakout: ${lc}/${cap} logic cells, Fmax ${r.fmaxMHz} MHz (${r.cached ? 'cached' : `${r.seconds} s`})`,
        );
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    },
  );

  it(
    'icebreaker: the design does not fit the UP5K, said in one error with the cells needed and the fix',
    { timeout: 1_800_000 },
    () => {
      const out = mkdtempSync(join(tmpdir(), 'nibble-up5k-'));
      try {
        const m = thrownMessage(() => buildBoard({ board: 'icebreaker', out }), FpgaError);
        expect(m).toMatch(
          /^nextpnr-ice40 \(icebreaker\): the design does not fit the 1BitSquared iCEBreaker .*: it needs \d+ logic cells, the device has 5280 \(log: .*nextpnr\.log\): use a smaller machine/,
        );
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    },
  );
});

describe.skipIf(!HAVE_YOWASP)('YoWASP tools (npm packages, WebAssembly, no system tools)', () => {
  it(
    'synthesizes, places, routes and packs a small design through the npm packages, logs kept',
    { timeout: 600_000 },
    () => {
      const [yosys, nextpnr, icepack] = YOWASP as [Tool, Tool, Tool];
      const dir = mkdtempSync(join(tmpdir(), 'nibble-yowasp-'));
      try {
        writeFileSync(
          join(dir, 'blink.v'),
          'module blink(input wire clk, output reg led);\n  reg [3:0] c;\n  always @(posedge clk) begin c <= c + 1; led <= c[3]; end\nendmodule\n',
        );
        runLogged(
          yosys,
          ['-q', '-l', 'yosys.log', '-p', 'read_verilog blink.v; synth_ice40 -top blink -json blink.json'],
          dir,
          'y.out',
        );
        const pnr = runLogged(
          nextpnr,
          ['--hx8k', '--package', 'ct256', '--json', 'blink.json', '--asc', 'blink.asc', '--pcf-allow-unconstrained'],
          dir,
          'nextpnr.log',
        );
        runLogged(icepack, ['blink.asc', 'blink.bin'], dir, 'icepack.log');
        expect(pnr).toMatch(/Max frequency for clock/);
        expect(readFileSync(join(dir, 'blink.bin')).length).toBeGreaterThan(100_000);
        expect(existsSync(join(dir, 'yosys.log'))).toBe(true);
        // a failing run is one error with the log's relevant lines, as for the native tools
        writeFileSync(join(dir, 'bad.v'), 'module bad(input wire a); assign b = ; endmodule\n');
        expect(thrownMessage(() => runLogged(yosys, ['-p', 'read_verilog bad.v'], dir, 'bad.log'), FpgaError)).toMatch(
          /^yosys: yosys exited with 1; from .*bad\.log:\n[\s\S]*ERROR/,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe('Xilinx parts (Yosys synth_xilinx)', () => {
  it('names the known parts when given another', () => {
    expect(thrownMessage(() => xilinxPart('xc7k325t'), FpgaError)).toBe(
      "--part: unknown Xilinx part 'xc7k325t' (known: xc7a35t, xc7z020, xczu3eg)",
    );
  });

  it.skipIf(!locateTool('yosys'))(
    'resources of the shell on an xc7a35t and a clock estimate from the logic depth',
    { timeout: 900_000 },
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'nibble-xc7-'));
      try {
        const r = synthXilinx(BOARDS['hx8k-breakout']!.config, 'xc7a35t', dir, BOARDS['hx8k-breakout']!.shell);
        expect(r.luts).toBeGreaterThan(500);
        expect(r.ffs).toBeGreaterThan(500);
        expect(r.logicLevels).toBeGreaterThan(3);
        expect(r.estimatedMHz).toBeGreaterThan(20);
        expect(r.estimatedMHz).toBeLessThan(800);
        expect(existsSync(r.log)).toBe(true);
        console.log(
          `xc7a35t: ${r.luts} LUTs, ${r.ffs} FFs, ${r.bram36} RAMB36, ${r.dsps} DSPs, ${r.logicLevels} levels, ~${r.estimatedMHz} MHz (${r.seconds} s)`,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe.skipIf(!HAVE_VERILATOR)('the board design end to end (Verilator, UART, host driver)', () => {
  it(
    'hx8k-breakout runs random programs loaded over its UART by nibble_run; outputs, cycles and every instruction == simulator',
    { timeout: 900_000 },
    async () => {
      const build = buildBoardSim('hx8k-breakout');
      for (const seed of [4, 7]) {
        const r = await runBoardSim(build, shellRandomProgram(seed, build.board.config));
        if (!r.ok) throw new Error(`seed ${seed}: ${r.mismatch}\n${r.hostOutput}`);
        // runBoardSim compares T and every instruction's D, S, E-1 with the simulator's board slave model
        expect(r.boardCycles).toBe(r.simCycles);
        expect(r.counters['fetch_cycles']).toBeGreaterThan(0);
      }
    },
  );
});
