/** `nibble disasm`: program file -> assembly text: the whole program (isa/program-text.ts), or its code only. */
import { basename, dirname, join } from 'node:path';
import { bool, str, withJson, type CommandSpec } from '../command.js';
import { writeOutputs } from '../../io/index.js';
import { CliUsageError, loadProgram } from '../inputs.js';
import { isaApi } from '../modules.js';
import { Terminal } from '../terminal.js';

/** Where `--data files` puts the segments of FILE.s: FILE.s.data/ beside it. */
const dataDirName = (out: string) => `${basename(out)}.data`;

export const disasmCommand: CommandSpec = {
  command: 'disasm <program>',
  describe: 'disassemble a program file: the whole program (nibble asm rebuilds the same file), or its code only',
  builder: (y) =>
    withJson(y)
      .positional('program', { type: 'string', describe: 'program file (.nbl)', normalize: true })
      .option('output', {
        alias: 'o',
        type: 'string',
        describe: 'write the text to this file instead of stdout',
        normalize: true,
      })
      .option('data', {
        type: 'string',
        choices: ['hex', 'files'],
        default: 'hex',
        describe: 'data segments as .data hex lines, or as binary files in <output>.data/ (needs -o)',
      })
      .option('code-only', {
        type: 'boolean',
        default: false,
        describe: 'only the instructions, with a comment per layer (a listing; nibble asm makes a bare program of it)',
      })
      .option('indices', { type: 'boolean', default: false, describe: 'add "; [index]" comments' })
      .example('$0 disasm mnist.nbl -o mnist.s', 'the whole program as text; nibble asm mnist.s rebuilds mnist.nbl')
      .example('$0 disasm vgg16.nbl -o vgg16.s --data files', 'weights as binary files in vgg16.s.data/')
      .example('$0 disasm mnist.nbl --code-only --indices', 'print the code with per-layer comments'),
  handler: async (args) => {
    const term = new Terminal(bool(args, 'json'));
    const program = await loadProgram(str(args, 'program')!);
    const api = await isaApi('nibble disasm', ['disassembleProgram', 'programText']);
    const out = str(args, 'output');
    const data = str(args, 'data') ?? 'hex';
    const codeOnly = bool(args, 'code-only');
    if (data === 'files' && !out)
      throw new CliUsageError('--data files writes the segments next to the text: give -o FILE.s');
    let text: string;
    let files: { path: string; bytes: Uint8Array }[] = [];
    if (codeOnly) {
      text = api.disassembleProgram(program.code, program.config, {
        indices: bool(args, 'indices'),
        layers: program.layers,
      });
    } else {
      const dataDir = out ? dataDirName(out) : undefined;
      ({ text, files } = api.programText(program, {
        indices: bool(args, 'indices'),
        ...(data === 'files' ? { data: 'files', dataDir } : {}),
      }));
    }
    if (out) {
      // the text and its data directory: all or none
      const dir = join(dirname(out), dataDirName(out));
      const prefix = `${dataDirName(out)}/`;
      writeOutputs({
        files: [{ path: out, data: text.endsWith('\n') ? text : `${text}\n` }],
        directories: files.length
          ? [{ path: dir, files: files.map((f) => ({ name: f.path.slice(prefix.length), data: f.bytes })) }]
          : [],
      });
    }
    if (term.json) {
      return term.document({
        program: str(args, 'program'),
        instructions: program.code.length,
        segments: program.segments.length,
        configHash: program.configHash,
        meta: program.meta,
        ...(out ? { output: out, dataFiles: files.map((f) => join(dirname(out), f.path)) } : { text }),
      });
    }
    if (out)
      term.line(
        `wrote ${program.code.length} instructions${codeOnly ? '' : ` and ${program.segments.length} data segments${files.length ? ` (${files.length} files in ${join(dirname(out), dataDirName(out))})` : ''}`} to ${out}`,
      );
    else process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  },
};
