/**
 * Tool flows on the generated Verilog: Verilator lint, Yosys synthesis
 * (ice40 / xilinx / generic) with cell-count parsing, nextpnr-ice40 place and
 * route with utilisation and Fmax, and the shift-vs-multiplier requant study.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG, packageRoot, validateConfig, type ArchConfig, RtlError } from '../arch/index.js';
import { coreFacts, type RtlOptions } from './core-facts.js';
import { Constants, VerilogModule, type Signal } from './emit/module.js';
import { widthValue } from './emit/width.js';
import { coreModules, generateVerilog, verilogFile } from './generate.js';
import { requantLaneModule } from './units/requant.js';
import { runTool, withLogMoved } from './tool-run.js';

/** Where the tool flows keep their logs (the work directory itself is temporary). */
export interface ToolLogOptions {
  /** copy every tool log of the run here (an existing directory), on success and on failure; default <repo>/.cache/logs */
  logDir?: string;
  /** prefix of the copied log names (runs that share a directory) */
  logPrefix?: string;
}

function withDir<T>(f: (dir: string) => T, logs: ToolLogOptions = {}): T {
  const dir = mkdtempSync(join(tmpdir(), 'nibble-synth-'));
  const keep = logs.logDir ?? join(packageRoot(), '.cache', 'logs');
  const kept = (name: string) => join(keep, `${logs.logPrefix ?? ''}${name}`);
  const copyLogs = () => {
    if (logs.logDir === undefined) mkdirSync(keep, { recursive: true });
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.log'))) copyFileSync(join(dir, name), kept(name));
  };
  try {
    const r = f(dir);
    copyLogs();
    return r;
  } catch (e) {
    copyLogs();
    // the message names the log where it stays, not in the work directory
    throw withLogMoved(e, `${dir}/`, kept(''));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Yosys with its full log in yosys.log (-q keeps stdout empty), phases shown while it runs. */
function runYosys(script: string, dir: string, what: string): string {
  runTool('yosys', ['-q', '-l', 'yosys.log', '-p', script], dir, what, {
    log: 'yosys.stdout.log',
    watchFile: 'yosys.log',
    phases: 'yosys',
  });
  return readFileSync(join(dir, 'yosys.log'), 'utf8');
}

function writeRtl(cfg: ArchConfig, dir: string, opts: RtlOptions = {}): string[] {
  const g = generateVerilog(cfg, opts);
  for (const file of g.files) writeFileSync(join(dir, file.name), file.text);
  return g.files.map((file) => file.name);
}

export interface LintResult {
  clean: boolean;
  /** Verilator's warning/error lines */
  messages: string[];
}

/** `verilator --lint-only -Wall` on the generated Verilog. */
export function lint(cfg: ArchConfig, logs: ToolLogOptions = {}): LintResult {
  validateConfig(cfg);
  return withDir((dir) => {
    const files = writeRtl(cfg, dir);
    try {
      runTool('verilator', ['--lint-only', '-Wall', '--top-module', 'nibble_top', ...files], dir, 'verilator lint', {
        log: 'verilator-lint.log',
        phases: 'lint',
      });
      return { clean: true, messages: [] };
    } catch (e) {
      if (!(e instanceof RtlError) || /not installed/.test(e.message)) throw e;
      return { clean: false, messages: e.message.split('\n').filter((l) => /%(Warning|Error)/.test(l)) };
    }
  }, logs);
}

export type SynthTarget = 'ice40' | 'xilinx' | 'generic';

export interface SynthResult {
  target: SynthTarget;
  cells: number;
  /** cell type -> count */
  cellTypes: Record<string, number>;
  luts: number;
  ffs: number;
  brams: number;
  dsps: number;
  seconds: number;
}

/** Parse the last `stat` block of a Yosys log. */
export function parseYosysStat(log: string, target: SynthTarget): Omit<SynthResult, 'seconds'> {
  const idx = log.lastIndexOf('Number of cells:');
  if (idx < 0) throw new RtlError('no cell statistics in the Yosys log', 'yosys');
  const cells = Number(/Number of cells:\s+(\d+)/.exec(log.slice(idx))![1]);
  const cellTypes: Record<string, number> = {};
  for (const line of log.slice(idx).split('\n').slice(1)) {
    const m = /^\s+(\$?[A-Za-z_][\w$]*)\s+(\d+)\s*$/.exec(line);
    if (m) cellTypes[m[1]!] = Number(m[2]);
    else if (line.trim() === '' && Object.keys(cellTypes).length) break;
  }
  const sum = (re: RegExp) =>
    Object.entries(cellTypes)
      .filter(([k]) => re.test(k))
      .reduce((s, [, v]) => s + v, 0);
  if (target === 'ice40') {
    return {
      target,
      cells,
      cellTypes,
      luts: sum(/^SB_LUT4$/),
      ffs: sum(/^SB_DFF/),
      brams: sum(/^SB_RAM/),
      dsps: sum(/^SB_MAC16$/),
    };
  }
  if (target === 'xilinx') {
    return {
      target,
      cells,
      cellTypes,
      luts: sum(/^LUT[1-6]$/),
      ffs: sum(/^FD[A-Z]*$/),
      brams: sum(/^RAMB/),
      dsps: sum(/^DSP/),
    };
  }
  return {
    target,
    cells,
    cellTypes,
    luts: sum(/^\$_(AND|OR|XOR|NAND|NOR|XNOR|ANDNOT|ORNOT|MUX|NOT|NMUX|AOI|OAI)/),
    ffs: sum(/^\$_.*(DFF|SDFF|DLATCH)/),
    brams: sum(/^\$mem/),
    dsps: sum(/^\$mul/),
  };
}

function synthScript(target: SynthTarget, top: string, files: string[], json?: string, dsp = false): string {
  const read = `read_verilog ${files.join(' ')}`;
  const cmd =
    target === 'ice40'
      ? `synth_ice40 -top ${top}${dsp ? ' -dsp' : ''}${json ? ` -json ${json}` : ''}`
      : target === 'xilinx'
        ? `synth_xilinx -top ${top} -flatten`
        : // generic: memories stay $mem cells (mapping a 1024 x 512-bit ACC to flip-flops says nothing useful)
          `synth -top ${top} -flatten -run begin:fine; opt -fast -full; techmap; opt -fast; abc -fast; opt -fast`;
  return `${read}; ${cmd}; stat`;
}

/** Yosys synthesis of the generated core. */
export function synth(cfg: ArchConfig, target: SynthTarget = 'generic', logs: ToolLogOptions = {}): SynthResult {
  validateConfig(cfg);
  if (!['ice40', 'xilinx', 'generic'].includes(target))
    throw new RtlError(`unknown synthesis target '${target}' (ice40, xilinx, generic)`, 'synth');
  return withDir((dir) => {
    const files = writeRtl(cfg, dir);
    const t0 = Date.now();
    runYosys(`${synthScript(target, 'nibble_top', files)}; tee -o stat.txt stat`, dir, `yosys synth (${target})`);
    const stat = readFileSync(join(dir, 'stat.txt'), 'utf8');
    return { ...parseYosysStat(stat, target), seconds: (Date.now() - t0) / 1000 };
  }, logs);
}

export type PnrDevice = 'ice40-up5k' | 'ice40-hx8k';

export interface PnrResult {
  device: PnrDevice;
  /** resource -> [used, available] from nextpnr's utilisation report */
  utilisation: Record<string, [number, number]>;
  fmaxMHz: number;
  seconds: number;
}

const DEVICE_ARGS: Record<PnrDevice, string[]> = {
  'ice40-up5k': ['--up5k', '--package', 'sg48'],
  'ice40-hx8k': ['--hx8k', '--package', 'ct256'],
};

export function parseNextpnr(log: string): { utilisation: Record<string, [number, number]>; fmaxMHz: number } {
  const utilisation: Record<string, [number, number]> = {};
  for (const m of log.matchAll(/Info:\s+(\w+):\s+(\d+)\/\s*(\d+)\s+\d+%/g))
    utilisation[m[1]!] = [Number(m[2]), Number(m[3])];
  const f = [...log.matchAll(/Max frequency for clock\s+'[^']*':\s+([\d.]+) MHz/g)];
  if (!f.length) throw new RtlError('nextpnr reported no clock frequency', 'nextpnr');
  return { utilisation, fmaxMHz: Number(f[f.length - 1]![1]) };
}

function placeAndRoute(
  dir: string,
  json: string,
  device: PnrDevice,
  seed = 1,
): { utilisation: Record<string, [number, number]>; fmaxMHz: number } {
  try {
    return placeAndRouteOnce(dir, json, device, seed);
  } catch (e) {
    if (e instanceof RtlError && /Unable to place|Failed to expand region|no BELs remaining/.test(e.message)) {
      const need = /of (\d+) ICESTORM_LCs/.exec(e.message)?.[1];
      throw new RtlError(
        `the design does not fit the ${device}${need ? ` (it needs ${need} logic cells)` : ''}: use a smaller machine ` +
          `(ice40Config(): 4 x 4, small buffers, fits an ice40-hx8k; see docs/synthesis.md)`,
        `nextpnr-ice40 (${device})`,
      );
    }
    throw e;
  }
}

function placeAndRouteOnce(
  dir: string,
  json: string,
  device: PnrDevice,
  seed: number,
): { utilisation: Record<string, [number, number]>; fmaxMHz: number } {
  runTool(
    'nextpnr-ice40',
    [
      ...DEVICE_ARGS[device],
      '--json',
      json,
      '--freq',
      '12',
      '--seed',
      String(seed),
      '--ignore-loops',
      '-q',
      '-l',
      'pnr.log',
    ],
    dir,
    `nextpnr-ice40 (${device})`,
    { log: 'nextpnr.stdout.log', watchFile: 'pnr.log', phases: 'nextpnr' },
  );
  return parseNextpnr(readFileSync(join(dir, 'pnr.log'), 'utf8'));
}

/**
 * A 4 x 4 machine that places and routes on an iCE40 HX8K (16-bit accumulators,
 * small buffers: at most 128 entries, so dimensions are 8 bits; 8-byte bus, so a
 * PARAM entry assembles from 4 beats; one-deep queues; config gemmBeside and fastPreload off, two weight banks). `requantStages`
 * defaults to 3; pass 1 for the unpipelined lane.
 */
export function ice40Config(requantStages = 3): ArchConfig {
  return validateConfig({
    ...structuredClone(DEFAULT_CONFIG),
    array: { rows: 4, cols: 4 },
    bits: { weight: 4, activation: 4, accumulator: 16 },
    scratchpad: { inputEntries: 128, weightEntries: 64, accEntries: 64, outputEntries: 128, paramEntries: 4 },
    dram: { busBytes: 8, latency: 8, sizeBytes: 1 << 16 },
    queues: { load: 1, compute: 1, store: 1 },
    requantStages,
    // as on the boards' machine (preset ice40-board): no cells to spare for GEMMs beside REQUANTs
    gemmBeside: false,
    fastPreload: false,
    weightBanks: 2,
  });
}

/**
 * Board wrapper for place and route: the core's ~600 port bits do not fit a
 * 48-pin package, so its inputs come from a shift register fed by one pin and
 * its outputs (except the simulation-only trace ports, which synthesis then
 * removes) are XOR-reduced into one registered pin. Every path stays real.
 */
export function fpgaWrapper(cfg: ArchConfig, opts: RtlOptions = {}): string {
  const core = coreModules(coreFacts(cfg, opts)).at(-1)!;
  const m = new VerilogModule(
    'nibble_fpga',
    'Board wrapper: one-pin serial inputs, XOR-reduced outputs.',
    new Constants(),
  );
  const direct = ['clk', 'rst', 'start'];
  for (const p of direct) m.input(p);
  m.input('din');
  m.output('dout', 1, { reg: true });
  m.output('done');
  const fed = core.ports.filter((p) => p.kind === 'input' && !direct.includes(p.name));
  // the instruction word first, then the handshakes, then the rest (the shift register's bit order)
  const rank = (p: Signal) => (p.name === 'insn_data' ? 0 : widthValue(p.width) === 1 ? 1 : 2);
  fed.sort((a, b) => rank(a) - rank(b));
  const total = fed.reduce((n, p) => n + widthValue(p.width), 0);
  m.reg('sr', total);
  m.clocked(`sr <= {sr[${total - 2}:0], din};`, { reset: false });
  const ports: Record<string, string> = {};
  let lsb = 0;
  for (const p of fed) {
    const w = widthValue(p.width);
    ports[p.name] = w === 1 ? `sr[${lsb}]` : `sr[${lsb + w - 1}:${lsb}]`;
    lsb += w;
  }
  const observed: string[] = [];
  for (const p of core.ports) {
    if (p.kind !== 'output' || p.name === 'done') continue;
    if (p.name.startsWith('tr_')) ports[p.name] = '';
    else {
      m.wire(p.name, widthValue(p.width));
      observed.push(p.name);
    }
  }
  m.instance(core, 'u_core', { ports });
  m.clocked(`dout <= ^{${observed.join(', ')}};`, { reset: false });
  return m.renderModule();
}

/** Synthesize for iCE40 and place and route with nextpnr-ice40 (core inside fpgaWrapper). */
export function pnr(
  cfg: ArchConfig,
  device: PnrDevice = 'ice40-hx8k',
  opts: RtlOptions = {},
  logs: ToolLogOptions = {},
): PnrResult {
  validateConfig(cfg);
  if (!DEVICE_ARGS[device]) throw new RtlError(`unknown device '${device}' (ice40-up5k, ice40-hx8k)`, 'pnr');
  return withDir((dir) => {
    const files = writeRtl(cfg, dir, opts);
    writeFileSync(join(dir, 'nibble_fpga.v'), fpgaWrapper(cfg, opts));
    files.push('nibble_fpga.v');
    const t0 = Date.now();
    runYosys(synthScript('ice40', 'nibble_fpga', files, 'top.json', device === 'ice40-up5k'), dir, 'yosys synth_ice40');
    return { device, ...placeAndRoute(dir, 'top.json', device), seconds: (Date.now() - t0) / 1000 };
  }, logs);
}

// ---------------------------------------------------------------- requant lane study

/** The machine whose requant lane the study measures: 32-bit accumulators, 4-bit activations. */
function laneConfig(stages: number): ArchConfig {
  return validateConfig({ ...ice40Config(stages), bits: { weight: 4, activation: 4, accumulator: 32 } });
}

/**
 * One requant lane in a test bench for synthesis. Operands are shifted in
 * serially (one pin) so every measured path is register to register and the
 * design fits a 48-pin package; the 4-bit result leaves through registered pins.
 * The shift lane is nibble_requant_lane itself (clamp to 4-bit unsigned).
 */
function requantLaneFiles(kind: 'shift' | 'multiplier', stages: number): { name: string; text: string }[] {
  const serial = (w: number) => `
  reg [${w - 1}:0] sr;
  always @(posedge clk) sr <= {sr[${w - 2}:0], din};`;
  if (kind === 'shift') {
    const cfg = laneConfig(stages);
    const f = coreFacts(cfg);
    const { ACCB, PKEEP_W, CLAMP_W } = f.d;
    const w = ACCB.value + PKEEP_W.value;
    return [
      verilogFile(cfg, requantLaneModule(f)),
      {
        name: 'lane.v',
        text: `module lane_top (input wire clk, input wire din, output reg [3:0] y);${serial(w)}
  wire [3:0] rq_y;
  nibble_requant_lane u_lane (.clk(clk), .rst(1'b0), .mx(sr[${ACCB.value - 1}:0]), .par(sr[${w - 1}:${ACCB.value}]),
    .hi(${CLAMP_W.value}'d15), .lo(${CLAMP_W.value}'d0), .y(rq_y));
  always @(posedge clk) y <= rq_y;
endmodule
`,
      },
    ];
  }
  // gemmlowp / TFLite: y = clamp(zp + RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(acc + bias, M), s))
  const st = Math.max(1, Math.min(3, stages));
  const r = (k: number, e: string, w: number, name: string) =>
    k <= st
      ? `  reg signed [${w - 1}:0] ${name}; always @(posedge clk) ${name} <= ${e};`
      : `  wire signed [${w - 1}:0] ${name} = ${e};`;
  const text = `module lane_top (input wire clk, input wire din, output reg [3:0] y);${serial(110)}
  wire signed [31:0] acc = sr[31:0];
  wire signed [31:0] bias = sr[63:32];
  wire signed [31:0] m = sr[95:64];
  wire [4:0] s = sr[100:96];
  wire signed [8:0] zp = sr[109:101];
  wire signed [31:0] x = acc + bias;
  wire signed [63:0] p = x * m;
${r(st >= 2 ? 1 : 9, 'p', 64, 'p_r')}
  wire signed [31:0] hi = (p_r + 64'sd1073741824) >>> 31;
  wire signed [31:0] rnd = (s == 0) ? hi : ((hi + (32'sd1 <<< (s - 1))) >>> s);
  wire signed [32:0] z = rnd + zp;
${r(st >= 3 ? 2 : 9, 'z', 33, 'z_r')}
  wire [3:0] yc = (z_r > 33'sd15) ? 4'd15 : (z_r < 33'sd0) ? 4'd0 : z_r[3:0];
  always @(posedge clk) y <= yc;
endmodule
`;
  return [{ name: 'lane.v', text }];
}

/** Operand shift-register bits of a lane bench (not pipeline registers). */
function laneSerialBits(kind: 'shift' | 'multiplier', stages: number): number {
  if (kind === 'multiplier') return 110;
  const f = coreFacts(laneConfig(stages));
  return f.d.ACCB.value + f.d.PKEEP_W.value;
}

export interface RequantRow {
  lane: string;
  stages: number;
  luts: number;
  ffs: number;
  dsps: number;
  fmaxMHz: number;
}

/**
 * Synthesize and place one shift/add/clamp requant lane next to a
 * multiplier-based (gemmlowp/TFLite) lane on an iCE40 UP5K (DSPs enabled):
 * shift lane with 1, 3 and 4 stages (the stage plans of requantStages),
 * multiplier lane with 1 and 3.
 */
export function compareRequant(device: PnrDevice = 'ice40-up5k', logs: ToolLogOptions = {}): RequantRow[] {
  const rows: RequantRow[] = [];
  for (const kind of ['shift', 'multiplier'] as const) {
    for (const stages of kind === 'shift' ? [1, 3, 4] : [1, 3]) {
      rows.push(
        withDir(
          (dir) => {
            const files = requantLaneFiles(kind, stages);
            for (const file of files) writeFileSync(join(dir, file.name), file.text);
            const names = files.map((file) => file.name);
            runYosys(
              `${synthScript('ice40', 'lane_top', names, 'lane.json', device === 'ice40-up5k')}; tee -o stat.txt stat`,
              dir,
              `yosys (${kind} lane, ${stages} stage(s))`,
            );
            const st = parseYosysStat(readFileSync(join(dir, 'stat.txt'), 'utf8'), 'ice40');
            const p = placeAndRoute(dir, 'lane.json', device);
            return {
              lane: kind === 'shift' ? 'shift/add/clamp (nibble)' : 'int32 x int32 multiplier (gemmlowp)',
              stages,
              luts: st.luts,
              // pipeline registers only: the operand shift register and the output register are test scaffolding
              ffs: st.ffs - laneSerialBits(kind, stages) - 4,
              dsps: st.dsps,
              fmaxMHz: p.fmaxMHz,
            };
          },
          { ...logs, logPrefix: `${logs.logPrefix ?? ''}${kind}-${stages}-` },
        ),
      );
    }
  }
  return rows;
}
