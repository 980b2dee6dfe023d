/** `nibble config`: print the default config or validate a given one, with derived numbers and hash. */
import { canonicalConfigJson, configHash, deriveArch, type ArchConfig } from '../../arch/index.js';
import { isaLayout } from '../../isa/index.js';
import { bool, str, withJson, type CommandSpec } from '../command.js';
import { areaLine, areaOf } from '../area-figures.js';
import { writeOutputFile } from '../../io/index.js';
import { loadConfig } from '../inputs.js';
import { colour, formatNumber, Terminal } from '../terminal.js';

/** Headline figures of a configuration, shared with `report` and `demo`. */
export function configSummary(cfg: ArchConfig) {
  const d = deriveArch(cfg);
  const kib = (entries: number, bytes: number) => (entries * bytes) / 1024;
  const sp = cfg.scratchpad;
  return {
    n: d.n,
    peakMacsPerCycle: d.n * d.n,
    peakGops: (2 * d.n * d.n * cfg.clockMHz) / 1000,
    dramBytesPerCycle: cfg.dram.busBytes,
    dramGBps: (cfg.dram.busBytes * cfg.clockMHz) / 1000,
    gemmPipelineDepth: d.gemmDepth,
    requantDepth: d.requantDepth,
    scratchpadKiB: {
      inp: kib(sp.inputEntries, d.inpEntryBytes),
      wgt: kib(sp.weightEntries, d.wgtEntryBytes),
      acc: kib(sp.accEntries, d.accEntryBytes),
      out: kib(sp.outputEntries, d.outEntryBytes),
      param: kib(sp.paramEntries, d.paramEntryBytes),
    },
  };
}

export const configCommand: CommandSpec = {
  command: 'config [file]',
  describe: 'print the default ArchConfig, or validate one; show derived numbers and hash',
  builder: (y) =>
    withJson(y)
      .positional('file', {
        type: 'string',
        describe: 'ArchConfig JSON file (fields not given take their defaults)',
        normalize: true,
      })
      .option('output', {
        alias: 'o',
        type: 'string',
        describe: 'write the full resolved config as JSON to this file',
        normalize: true,
      })
      .example('$0 config', 'show the default configuration')
      .example('$0 config my-arch.json', 'validate a config, show derived numbers and its hash')
      .example('$0 config -o arch.json', 'write the default config as a starting point')
      .example('$0 config my-arch.json --json', 'machine-readable'),
  handler: async (args) => {
    const term = new Terminal(bool(args, 'json'));
    const file = str(args, 'file');
    const cfg = loadConfig(file);
    const layout = isaLayout(cfg); // throws if an instruction no longer fits 128 bits
    const derived = deriveArch(cfg);
    const hash = configHash(cfg);
    const summary = configSummary(cfg);
    const area = await areaOf(cfg, 'nibble config');
    const out = str(args, 'output');
    if (out) writeOutputFile(out, `${JSON.stringify(JSON.parse(canonicalConfigJson(cfg)), null, 2)}\n`);
    const fields = Object.fromEntries(
      [...layout].map(([mn, l]) => [
        mn,
        { usedBits: l.usedBits, fields: Object.fromEntries(l.fields.map((f) => [f.name, f.width])) },
      ]),
    );
    if (term.json) {
      term.document({
        source: file ?? 'default',
        valid: true,
        hash,
        config: JSON.parse(canonicalConfigJson(cfg)),
        derived,
        summary,
        area,
        instructionFields: fields,
      });
      return;
    }
    term.heading(`${file ? `config ${file}` : 'default config'}: ${colour.green('valid')}, hash ${hash}`);
    term.line(JSON.stringify(JSON.parse(canonicalConfigJson(cfg)), null, 2));
    term.line();
    term.heading('derived');
    term.pairs([
      ['array', `${summary.n} x ${summary.n} PEs, ${summary.peakMacsPerCycle} MAC/cycle`],
      ['peak', `${formatNumber(summary.peakGops)} GOPS at ${cfg.clockMHz} MHz (2 ops per MAC)`],
      [
        'DRAM',
        `${cfg.dram.busBytes} B/cycle per channel = ${formatNumber(summary.dramGBps)} GB/s, latency ${cfg.dram.latency} cycles`,
      ],
      ['GEMM pipeline depth', `${derived.gemmDepth} cycles (2N + 2)`],
      ['requant depth', `${derived.requantDepth} cycles`],
      ['accumulator range', `[${derived.accMin}, ${derived.accMax}]`],
      ...Object.entries(summary.scratchpadKiB).map(
        ([k, v]) => [`${k.toUpperCase()} scratchpad`, `${formatNumber(v)} KiB`] as [string, string],
      ),
      [
        'address bits',
        `INP ${derived.inpAddrBits}, WGT ${derived.wgtAddrBits}, ACC ${derived.accAddrBits}, OUT ${derived.outAddrBits}, PARAM ${derived.paramAddrBits}, DRAM ${derived.dramAddrBits}`,
      ],
      ['area', areaLine(area)],
      ['instruction bits used', [...layout].map(([mn, l]) => `${mn} ${l.usedBits}`).join(', ') + ' (of 128)'],
    ]);
    if (out) term.line(`\nwrote ${out}`);
  },
};
