/** `nibble asm`: assembly text -> program file (code only, no DRAM segments). */
import { configHash, IsaError } from '../../arch/index.js';
import type { Program } from '../../isa/index.js';
import { bool, str, withConfig, withJson, type CommandSpec } from '../command.js';
import { loadConfig, readText, saveProgram } from '../inputs.js';
import { isaApi } from '../modules.js';
import { Terminal } from '../terminal.js';

/** A whole-program error of a text file without a line (the token counters) still names the file. */
function inFile(e: unknown, file: string): unknown {
  if (!(e instanceof IsaError) || e.where === undefined || e.where.startsWith(file)) return e;
  return new IsaError(e.message.slice(e.where.length + 2), `${file}: ${e.where}`);
}

export const asmCommand: CommandSpec = {
  command: 'asm <file>',
  describe: 'assemble a bare instruction list into a program file (runs the token checker)',
  builder: (y) =>
    withJson(withConfig(y))
      .positional('file', { type: 'string', describe: 'assembly text (.s)', normalize: true })
      .option('output', {
        alias: 'o',
        type: 'string',
        demandOption: true,
        describe: 'program file to write (.nbl)',
        normalize: true,
      })
      .example('$0 asm kernel.s -o kernel.nbl', 'assemble for the default config')
      .example('$0 asm kernel.s --config small.json -o kernel.nbl', 'for another config (field widths follow it)'),
  handler: async (args) => {
    const term = new Terminal(bool(args, 'json'));
    const file = str(args, 'file')!;
    const cfg = loadConfig(str(args, 'config'));
    const text = readText(file, 'assembly file');
    const api = await isaApi('nibble asm', ['assembleProgram', 'assemblySourceLines', 'checkTokenBalance']);
    const code = api.assembleProgram(text, cfg, file);
    let tokens: ReturnType<typeof api.checkTokenBalance>;
    // the token checker and the race detector name instructions by their line
    const lines = api.assemblySourceLines(text);
    const place = (i: number) => `${file}:${lines[i]} (instruction ${i})`;
    try {
      tokens = api.checkTokenBalance(code, { queues: cfg.queues, config: cfg, place });
    } catch (e) {
      throw inFile(e, file);
    }
    const program: Program = {
      config: cfg,
      configHash: configHash(cfg),
      code,
      segments: [],
      inputs: [],
      outputs: [],
      layers: [],
      meta: { source: file, tool: 'nibble asm' },
    };
    const out = str(args, 'output')!;
    await saveProgram(out, program);
    const doc = { program: out, source: file, instructions: code.length, configHash: program.configHash, tokens };
    if (term.json) return term.document(doc);
    term.line(
      `assembled ${code.length} instructions from ${file} -> ${out} (config ${program.configHash}); token check passed`,
    );
    for (const w of tokens.warnings) term.line(`  warning: ${w}`);
  },
};
