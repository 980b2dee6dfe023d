/** `nibble rtl`: generate Verilog for a config; lint, synthesize, place and route, compare requant lanes. */
import { join } from 'node:path';
import { configHash } from '../../arch/index.js';
import { ensureOutputDirectory, writeOutputs } from '../../io/index.js';
import { bool, str, withConfig, withJson, type CommandSpec } from '../command.js';
import { ExitCodeError } from '../exit.js';
import { CliUsageError, loadConfig } from '../inputs.js';
import { rtlApi, shellApi } from '../modules.js';
import { shellOptionsFrom, withShellOptions } from '../shell-args.js';
import { requireTools } from '../tools.js';
import { colour, formatNumber, Terminal } from '../terminal.js';
import { showToolProgress } from '../tool-progress.js';

export const SYNTH_TARGETS = ['ice40', 'xilinx', 'generic'] as const;
export const PNR_DEVICES = ['ice40-up5k', 'ice40-hx8k'] as const;

export const rtlCommand: CommandSpec = {
  command: 'rtl',
  describe: 'generate Verilog for a config (-o DIR); lint, synthesize, place and route, compare requant lanes',
  outputKinds: { output: 'directory', 'log-dir': 'directory' },
  builder: (y) =>
    withShellOptions(withJson(withConfig(y)))
      .option('driver', {
        type: 'boolean',
        default: false,
        describe:
          'with -o DIR: also write the C driver (nibble_regs.h generated from the config, nibble_driver.c, transports)',
      })
      .option('output', {
        alias: 'o',
        type: 'string',
        describe: 'write the Verilog to this directory',
        normalize: true,
      })
      .option('lint', {
        type: 'boolean',
        default: false,
        describe: 'run verilator --lint-only -Wall on the generated design (exit 1 if not clean)',
      })
      .option('synth', {
        type: 'string',
        choices: [...SYNTH_TARGETS],
        describe: 'synthesize with Yosys and report LUT/FF/BRAM/DSP',
      })
      .option('pnr', {
        type: 'string',
        choices: [...PNR_DEVICES],
        describe:
          'place and route with nextpnr-ice40: utilization and Fmax (without --config: the 4x4 iCE40-sized machine of rtl-gen ice40Config())',
      })
      .option('log-dir', {
        type: 'string',
        describe:
          'keep the tool logs (verilator, yosys, nextpnr) in this directory (default: the -o directory, else .cache/logs)',
        normalize: true,
      })
      .option('compare-requant', {
        type: 'boolean',
        default: false,
        describe: 'synthesize a shift requant lane next to a multiplier-based one (iCE40 UP5K)',
      })
      .example('$0 rtl -o build/rtl', 'Verilog for the default config')
      .example('$0 rtl --config small.json --lint', 'lint the design of a config')
      .example('$0 rtl --shell axi --driver -o build/ip', 'the AXI shell (Vitis-style ports) and its C driver')
      .example(
        '$0 rtl --config small.json --synth ice40 --json > synth.json',
        'resource counts as JSON (nibble report --resources synth.json)',
      )
      .example('$0 rtl --pnr ice40-hx8k', 'Fmax of the iCE40-sized 4x4 machine (ice40Config) on an iCE40 HX8K')
      .example('$0 rtl --compare-requant', "the paper's claim in LUTs and MHz"),
  handler: async (args) => {
    const term = new Terminal(bool(args, 'json'));
    const cfg = loadConfig(str(args, 'config'));
    const out = str(args, 'output');
    const synth = str(args, 'synth') as (typeof SYNTH_TARGETS)[number] | undefined;
    const pnr = str(args, 'pnr') as (typeof PNR_DEVICES)[number] | undefined;
    const lint = bool(args, 'lint');
    const compare = bool(args, 'compare-requant');
    const shell = str(args, 'shell') === 'axi';
    const driver = bool(args, 'driver');
    if (driver && !out) throw new CliUsageError('nibble rtl --driver needs -o DIR (where to write the C driver)');
    if (!out && !synth && !pnr && !lint && !compare) {
      throw new CliUsageError(
        'nibble rtl needs at least one of -o DIR, --lint, --synth TARGET, --pnr DEVICE, --compare-requant',
      );
    }
    if (shell && (synth || pnr || compare))
      throw new CliUsageError('nibble rtl --shell axi goes with -o DIR or --lint; for resources use nibble fpga build');
    const hash = configHash(cfg);
    const doc: Record<string, unknown> = { configHash: hash };
    if (synth || pnr || lint || compare) await showToolProgress(term, 'nibble rtl');
    let failed: string | undefined;
    if (shell || driver) {
      failed = await shellOutputs(term, doc, cfg, out, lint && shell, shell, driver, args);
    } else if (out) {
      const api = await rtlApi('nibble rtl -o', ['generateVerilog']);
      const generated = api.generateVerilog(cfg).files.map((f) => ({ name: f.name, data: f.text }));
      // The directory appears whole or not at all; an existing one gets all new files or none.
      const { createdDirectories } = writeOutputs({ directories: [{ path: out, files: generated }] });
      const files = generated.map((f) => join(out, f.name));
      doc['output'] = { dir: out, files, createdDirectories };
      const created = createdDirectories.length ? ` (created ${createdDirectories.join(', ')})` : '';
      term.line(`Verilog for config ${hash} written to ${out}${created}: ${files.join(', ')}`);
    }
    const logs = { ...(logDirOf(args, out) ? { logDir: logDirOf(args, out)! } : {}) };
    if (lint && !shell) {
      requireTools('nibble rtl --lint', ['verilator']);
      const api = await rtlApi('nibble rtl --lint', ['lint']);
      const r = term.step(`linting config ${hash} with verilator -Wall`, () => api.lint(cfg, logs));
      doc['lint'] = r;
      if (r.clean) term.line(`lint (verilator -Wall): ${colour.green('clean')}`);
      else {
        const issues = r.messages.filter((m) => !/Exiting due to/.test(m)).length || r.messages.length;
        term.line(`lint (verilator -Wall): ${colour.red(`${issues} issue(s)`)}`);
        for (const m of r.messages) term.line(`  ${m}`);
        failed = `verilator lint found ${issues} issue(s) in the generated Verilog (config ${hash})`;
      }
    }
    if (synth) {
      requireTools('nibble rtl --synth', ['yosys']);
      const api = await rtlApi('nibble rtl --synth', ['synth']);
      const r = term.step(`synthesizing config ${hash} with yosys (${synth}; minutes for large arrays)`, () =>
        api.synth(cfg, synth, logs),
      );
      doc['synth'] = r;
      term.heading(`synthesis (yosys, ${synth}), config ${hash}`);
      term.pairs([
        ['LUTs', formatNumber(r.luts)],
        ['flip-flops', formatNumber(r.ffs)],
        ['block RAMs', formatNumber(r.brams)],
        ['DSPs', formatNumber(r.dsps)],
        ['cells', formatNumber(r.cells)],
        ['time', `${formatNumber(r.seconds)} s`],
      ]);
    }
    if (pnr) {
      requireTools('nibble rtl --pnr', ['yosys', 'nextpnr-ice40']);
      const api = await rtlApi('nibble rtl --pnr', ['pnr', 'ice40Config']);
      // The default machine does not fit an iCE40: without --config, place and route rtl-gen's iCE40-sized one.
      const pnrCfg = str(args, 'config') ? cfg : api.ice40Config();
      if (!str(args, 'config'))
        term.notice({
          code: 'NB-R201',
          message: `--pnr without --config uses the iCE40-sized config (${pnrCfg.array.rows}x${pnrCfg.array.cols} array, hash ${configHash(pnrCfg)})`,
        });
      const r = term.step(`synthesizing, placing and routing with yosys and nextpnr (${pnr}; a minute or more)`, () =>
        api.pnr(pnrCfg, pnr, {}, logs),
      );
      doc['pnr'] = { configHash: configHash(pnrCfg), config: pnrCfg, ...r };
      term.heading(`place and route (nextpnr, ${pnr}), config ${configHash(pnrCfg)}`);
      term.pairs([
        ['Fmax', `${formatNumber(r.fmaxMHz)} MHz`],
        ...Object.entries(r.utilisation).map(
          ([k, [used, avail]]) =>
            [k, `${used} / ${avail} (${((100 * used) / Math.max(1, avail)).toFixed(0)} %)`] as [string, string],
        ),
      ]);
    }
    if (compare) {
      requireTools('nibble rtl --compare-requant', ['yosys', 'nextpnr-ice40']);
      const api = await rtlApi('nibble rtl --compare-requant', ['compareRequant']);
      const rows = term.step(
        'synthesizing and placing requant lanes (shift and multiplier, several pipeline depths; about a minute)',
        () => api.compareRequant('ice40-up5k', logs),
      );
      doc['compareRequant'] = rows;
      term.heading('requant lane: shift/add/clamp vs multiplier-based (iCE40 UP5K)');
      term.table(
        ['lane', 'stages', 'LUTs', 'FFs', 'DSPs', 'Fmax MHz'],
        rows.map((r) => [r.lane, r.stages, r.luts, r.ffs, r.dsps, r.fmaxMHz.toFixed(1)]),
      );
    }
    if (term.json) term.document(doc);
    if (failed) throw new ExitCodeError(1, failed);
  },
};

/** --log-dir (created if missing, its parent must exist), else the -o directory; undefined: rtl-gen's default. */
function logDirOf(args: Record<string, unknown>, out: string | undefined): string | undefined {
  const dir = str(args, 'log-dir');
  if (dir === undefined) return out;
  ensureOutputDirectory(dir);
  return dir;
}

/** -o DIR / --lint with --shell axi, and --driver: returns a failure line when the lint is not clean. */
async function shellOutputs(
  term: Terminal,
  doc: Record<string, unknown>,
  cfg: Parameters<ShellApiT['writeShell']>[0],
  out: string | undefined,
  lint: boolean,
  shell: boolean,
  driver: boolean,
  args: Record<string, unknown>,
): Promise<string | undefined> {
  const api = await shellApi('nibble rtl --shell', ['writeShell', 'writeDriver', 'lintShell']);
  const opts = shellOptionsFrom(args);
  if (shell && out) {
    const files = api.writeShell(cfg, out, opts);
    doc['output'] = { dir: out, files };
    term.line(
      `AXI shell (nibble_axi_top) for config ${configHash(cfg)} written to ${out}: ${files.length} Verilog files`,
    );
  }
  if (driver && out) {
    const files = api.writeDriver(cfg, out, opts);
    doc['driver'] = { dir: out, files };
    term.line(
      `C driver for config ${configHash(cfg)} written to ${out}: ${files.map((f) => f.split('/').pop()).join(', ')}`,
    );
  }
  if (!lint) return undefined;
  const r = api.lintShell(cfg, opts);
  doc['lint'] = r;
  if (r.clean) {
    term.line(`lint of the AXI shell (verilator -Wall): ${colour.green('clean')}`);
    return undefined;
  }
  for (const m of r.messages) term.line(`  ${m}`);
  return `verilator lint found ${r.messages.length} issue(s) in the AXI shell (config ${configHash(cfg)})`;
}

type ShellApiT = Awaited<ReturnType<typeof shellApi>>;
