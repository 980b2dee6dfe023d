/** `nibble rtl`: generate Verilog for a config; lint, synthesize, place and route, compare requant lanes. */
import type { ArchConfig } from '../../arch/config.js';
import { configHash } from '../../arch/config.js';
import { bool, str, withConfig, withJson, type CommandSpec } from '../command.js';
import { CliUsageError, loadConfig } from '../inputs.js';
import { requirePart } from '../modules.js';
import { formatNumber, Terminal } from '../terminal.js';

type Fn = (...a: unknown[]) => unknown;
type RtlApi = Record<string, Fn>;

async function rtlFn(name: string, feature: string): Promise<Fn> {
  const api = await requirePart<RtlApi>('rtl', [name], feature);
  return api[name]!;
}

export const SYNTH_TARGETS = ['ice40', 'xilinx', 'generic'] as const;
export const PNR_DEVICES = ['ice40-up5k', 'ice40-hx8k'] as const;

export const rtlCommand: CommandSpec = {
  command: 'rtl',
  describe: 'generate Verilog for a config (-o DIR); lint, synthesize, place and route, compare requant lanes',
  builder: (y) =>
    withJson(withConfig(y))
      .option('output', { alias: 'o', type: 'string', describe: 'write the Verilog (and testbench) to this directory', normalize: true })
      .option('lint', { type: 'boolean', default: false, describe: 'run verilator --lint-only -Wall on the generated design' })
      .option('synth', { type: 'string', choices: [...SYNTH_TARGETS], describe: 'synthesize with Yosys and report LUT/FF/BRAM/DSP' })
      .option('pnr', { type: 'string', choices: [...PNR_DEVICES], describe: 'place and route with nextpnr-ice40: utilization and Fmax' })
      .option('compare-requant', { type: 'boolean', default: false, describe: 'synthesize a shift requant lane next to a multiplier-based one' })
      .example('$0 rtl -o build/rtl', 'Verilog for the default config')
      .example('$0 rtl --config small.json --lint', 'lint the design of a config')
      .example('$0 rtl --config small.json --synth ice40 --json', 'resource counts as JSON')
      .example('$0 rtl --config tiny.json --pnr ice40-up5k', 'Fmax on an iCE40 UP5K')
      .example('$0 rtl --compare-requant', 'the paper\'s claim in LUTs and MHz'),
  handler: async (args) => {
    const term = new Terminal(bool(args, 'json'));
    const cfg = loadConfig(str(args, 'config'));
    const out = str(args, 'output');
    const synth = str(args, 'synth');
    const pnr = str(args, 'pnr');
    const lint = bool(args, 'lint');
    const compare = bool(args, 'compare-requant');
    if (!out && !synth && !pnr && !lint && !compare) {
      throw new CliUsageError('nibble rtl needs at least one of -o DIR, --lint, --synth TARGET, --pnr DEVICE, --compare-requant');
    }
    const doc: Record<string, unknown> = { configHash: configHash(cfg) };
    if (out) {
      const r = await (await rtlFn('writeVerilog', 'nibble rtl -o'))(cfg, out);
      doc['output'] = { dir: out, result: r ?? null };
      if (!term.json) term.line(`Verilog for config ${configHash(cfg)} written to ${out}${describeFiles(r)}`);
    }
    if (lint) {
      const r = await (await rtlFn('lint', 'nibble rtl --lint'))(cfg);
      doc['lint'] = r ?? { clean: true };
      if (!term.json) term.line(`lint: clean${describeWarnings(r)}`);
    }
    if (synth) {
      const r = await (await rtlFn('synth', 'nibble rtl --synth'))(cfg, synth);
      doc['synth'] = r;
      if (!term.json) printResources(term, `synthesis (${synth})`, r);
    }
    if (pnr) {
      const r = await (await rtlFn('pnr', 'nibble rtl --pnr'))(cfg, pnr);
      doc['pnr'] = r;
      if (!term.json) printResources(term, `place and route (${pnr})`, r);
    }
    if (compare) {
      const r = await (await rtlFn('compareRequant', 'nibble rtl --compare-requant'))(cfg as ArchConfig);
      doc['compareRequant'] = r;
      if (!term.json) printResources(term, 'requant lane: shift vs multiplier', r);
    }
    if (term.json) term.document(doc);
  },
};

function describeFiles(r: unknown): string {
  if (r && typeof r === 'object' && Array.isArray((r as { files?: unknown }).files)) return ` (${(r as { files: unknown[] }).files.length} files)`;
  if (Array.isArray(r)) return ` (${r.length} files)`;
  return '';
}

function describeWarnings(r: unknown): string {
  const w = r && typeof r === 'object' ? (r as { warnings?: unknown }).warnings : undefined;
  return Array.isArray(w) && w.length > 0 ? ` (${w.length} warnings)` : '';
}

/** Print a result object of flat numbers (or one level of nested objects) as aligned lines. */
function printResources(term: Terminal, title: string, r: unknown): void {
  term.heading(title);
  if (!r || typeof r !== 'object') {
    term.line(`  ${String(r)}`);
    return;
  }
  const rows: [string, string][] = [];
  const walk = (obj: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(obj)) {
      if (v && typeof v === 'object' && !Array.isArray(v)) walk(v as Record<string, unknown>, `${prefix}${k}.`);
      else if (typeof v === 'number') rows.push([`${prefix}${k}`, formatNumber(v)]);
      else if (typeof v === 'string' || typeof v === 'boolean') rows.push([`${prefix}${k}`, String(v)]);
    }
  };
  walk(r as Record<string, unknown>, '');
  term.pairs(rows);
}
