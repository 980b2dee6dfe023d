/** `nibble compile`: network -> program file (.nbl), optionally with an assembly listing. */
import { configHash } from '../../arch/index.js';
import { bool, str, withConfig, withFormat, withJson, type CommandSpec } from '../command.js';
import { compiler } from '../engines.js';
import { writeOutputs, type OutputFile } from '../../io/index.js';
import { loadConfig, loadModel, parsePositiveInt, programFileBytes } from '../inputs.js';
import { formatNumber, Terminal } from '../terminal.js';
import { useOneShotBudget } from '../v8-budget.js';

export const compileCommand: CommandSpec = {
  command: 'compile <model>',
  describe: 'compile a model for a configuration into a program file',
  builder: (y) =>
    withJson(withConfig(withFormat(y)))
      .positional('model', {
        type: 'string',
        describe: 'model file (.txt IntegerNet, .json nibble model)',
        normalize: true,
      })
      .option('batch', { requiresArg: true, default: 1, describe: 'images per program run' })
      .option('output', {
        alias: 'o',
        type: 'string',
        demandOption: true,
        describe: 'program file to write (.nbl)',
        normalize: true,
      })
      .option('listing', {
        type: 'string',
        describe: 'also write the assembly listing (per-layer comments) to this file',
        normalize: true,
      })
      .option('tap-packing', {
        type: 'boolean',
        default: true,
        describe: 'tap packing of layers with few input channels (--no-tap-packing: one tap per pass)',
      })
      .example(
        '$0 compile ../shared/reference/integernet-mnist-4bit.txt -o mnist.nbl',
        'compile for the default config',
      )
      .example('$0 compile net.json --config small.json --batch 4 -o net.nbl --listing net.s', 'with a listing'),
  handler: async (args) => {
    // a one-shot process, like nibble sim (CIFAR10NET_INT: about 360 -> 290 ms CPU, docs/performance.md)
    useOneShotBudget();
    const term = new Terminal(bool(args, 'json'));
    const cfg = loadConfig(str(args, 'config'));
    const batch = parsePositiveInt(args['batch'], 'batch') ?? 1;
    const net = await loadModel(str(args, 'model')!, str(args, 'format'), cfg);
    const api = await compiler('nibble compile');
    const program = term.stepWithPhases(`compiling ${net.name} (batch ${batch})`, (onPhase) =>
      api.compileNetwork(net, cfg, { batch, onPhase, tapPacking: bool(args, 'tap-packing') }),
    );
    const out = str(args, 'output')!;
    const listing = str(args, 'listing');
    // Both files or neither: a bad --listing path must not replace an existing program file.
    const files: OutputFile[] = [{ path: out, data: await programFileBytes(out, program) }];
    if (listing) files.push({ path: listing, data: api.compileListing(program) });
    writeOutputs({ files });
    const macs = program.layers.reduce((s, l) => s + l.macs, 0);
    const doc = {
      program: out,
      ...(listing ? { listing } : {}),
      network: net.name,
      batch,
      configHash: configHash(cfg),
      instructions: program.code.length,
      segments: program.segments.length,
      segmentBytes: program.segments.reduce((s, g) => s + g.bytes.length, 0),
      layers: program.layers.map((l) => ({
        name: l.name,
        kind: l.kind,
        macs: l.macs,
        instructions: l.lastInstruction - l.firstInstruction + 1,
      })),
      macs,
    };
    if (term.json) return term.document(doc);
    term.heading(`compiled ${net.name} (batch ${batch}) -> ${out}`);
    term.pairs([
      ['instructions', formatNumber(doc.instructions)],
      ['DRAM segments', `${doc.segments} (${formatNumber(doc.segmentBytes)} bytes)`],
      ['MACs', formatNumber(macs)],
      ['config hash', doc.configHash],
    ]);
    term.table(
      ['layer', 'kind', 'MACs', 'instructions'],
      doc.layers.map((l) => [l.name, l.kind, l.macs, l.instructions]),
    );
    if (listing) term.line(`  listing written to ${listing}`);
  },
};
