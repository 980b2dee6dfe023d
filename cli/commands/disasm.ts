/** `nibble disasm`: program file -> assembly text. */
import { bool, str, withJson, type CommandSpec } from '../command.js';
import { writeOutputFile } from '../../io/index.js';
import { loadProgram } from '../inputs.js';
import { isaApi } from '../modules.js';
import { Terminal } from '../terminal.js';

export const disasmCommand: CommandSpec = {
  command: 'disasm <program>',
  describe: 'disassemble a program file',
  builder: (y) =>
    withJson(y)
      .positional('program', { type: 'string', describe: 'program file (.nbl)', normalize: true })
      .option('output', {
        alias: 'o',
        type: 'string',
        describe: 'write the text to this file instead of stdout',
        normalize: true,
      })
      .option('indices', { type: 'boolean', default: false, describe: 'add "; [index]" comments' })
      .example('$0 disasm mnist.nbl', 'print the code with per-layer comments')
      .example('$0 disasm mnist.nbl --indices -o mnist.s', 'write it to a file (re-assembles with nibble asm)'),
  handler: async (args) => {
    const term = new Terminal(bool(args, 'json'));
    const program = await loadProgram(str(args, 'program')!);
    const api = await isaApi('nibble disasm', ['disassembleProgram']);
    const text = api.disassembleProgram(program.code, program.config, {
      indices: bool(args, 'indices'),
      layers: program.layers,
    });
    const out = str(args, 'output');
    if (out) writeOutputFile(out, text.endsWith('\n') ? text : `${text}\n`);
    if (term.json) {
      return term.document({
        program: str(args, 'program'),
        instructions: program.code.length,
        configHash: program.configHash,
        meta: program.meta,
        ...(out ? { output: out } : { text }),
      });
    }
    if (out) term.line(`wrote ${program.code.length} instructions to ${out}`);
    else process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  },
};
