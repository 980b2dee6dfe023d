/** Command-line options of the AXI shell, shared by `nibble rtl`, `nibble verify` and `nibble fpga`. */
import type { Argv } from 'yargs';
import type { ShellOptions } from '../rtl-gen/index.js';
import { parsePositiveInt } from './inputs.js';

export function withShellOptions(y: Argv): Argv {
  return y
    .option('shell', {
      type: 'string',
      choices: ['axi'],
      describe: 'wrap the core in the AXI shell (nibble_axi_top: m_axi_gmem, s_axi_control, interrupt; docs/board.md)',
    })
    .option('addr-bits', { type: 'number', describe: 'AXI address width of the shell (default 64)' })
    .option('insn-words', {
      type: 'number',
      describe: 'instruction memory depth of the shell in 128-bit words, a power of two (default 4096)',
    });
}

export function shellOptionsFrom(args: Record<string, unknown>): ShellOptions {
  const addrBits = parsePositiveInt(args['addr-bits'], 'addr-bits');
  const insnWords = parsePositiveInt(args['insn-words'], 'insn-words');
  return { ...(addrBits !== undefined ? { addrBits } : {}), ...(insnWords !== undefined ? { insnWords } : {}) };
}
