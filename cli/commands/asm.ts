/** `nibble asm`: program assembly text -> program file (isa/program-text.ts). */
import { IsaError } from '../../arch/index.js';
import { bool, str, withConfig, withJson, type CommandSpec } from '../command.js';
import { assembleProgramFile, loadConfig, saveProgram } from '../inputs.js';
import { isaApi } from '../modules.js';
import { Terminal } from '../terminal.js';

/** A whole-program error of a text file without a line (the token counters) still names the file. */
function inFile(e: unknown, file: string): unknown {
  if (!(e instanceof IsaError) || e.where === undefined || e.where.startsWith(file)) return e;
  return new IsaError(e.message.slice(e.where.length + 2), `${file}: ${e.where}`);
}

export const asmCommand: CommandSpec = {
  command: 'asm <file>',
  describe: 'assemble program text (a whole program with its data, or a bare instruction list) into a program file',
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
      .example('$0 asm mnist.s -o mnist.nbl', 'a program nibble disasm wrote: the same .nbl, byte for byte')
      .example('$0 asm kernel.s --config small.json -o kernel.nbl', 'a bare instruction list for another config'),
  handler: async (args) => {
    const term = new Terminal(bool(args, 'json'));
    const file = str(args, 'file')!;
    const given = str(args, 'config');
    const program = await assembleProgramFile(file, loadConfig(given));
    const cfg = program.config;
    const api = await isaApi('nibble asm', ['checkTokenBalance', 'configDifferences', 'instructionPlace']);
    if (given) {
      const diff = api.configDifferences(cfg, loadConfig(given));
      if (diff.length)
        throw new IsaError(`the text's .config differs from --config ${given}: ${diff.join(', ')}`, file);
    }
    let tokens: ReturnType<typeof api.checkTokenBalance>;
    try {
      // the token checker and the race detector name instructions by their line
      tokens = api.checkTokenBalance(program.code, {
        queues: cfg.queues,
        config: cfg,
        place: (i) => api.instructionPlace(program, i),
      });
    } catch (e) {
      throw inFile(e, file);
    }
    const out = str(args, 'output')!;
    await saveProgram(out, program);
    const code = program.code;
    const doc = {
      program: out,
      source: file,
      instructions: code.length,
      segments: program.segments.length,
      layers: program.layers.length,
      configHash: program.configHash,
      tokens,
    };
    if (term.json) return term.document(doc);
    const data = program.segments.length
      ? `, ${program.segments.length} data segments, ${program.layers.length} layers`
      : '';
    term.line(
      `assembled ${code.length} instructions${data} from ${file} -> ${out} (config ${program.configHash}); token check passed`,
    );
    for (const w of tokens.warnings) term.warn(w);
  },
};
