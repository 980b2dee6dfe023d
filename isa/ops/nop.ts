/** NOP (SYNC): a token-only instruction on the unit its field names. */
import { UNITS } from '../word.js';
import { NO_ACCESSES, NO_RANGES, bits, defineOp } from './define.js';

export const NOP = defineOp(
  {
    opcode: 0,
    mnemonic: 'NOP',
    unit: 'field',
    doc: 'Token-only instruction (SYNC): pops and pushes dependency tokens in the named unit, nothing else. 1 cycle.',
    fields: [{ name: 'unit', width: bits(2), enumNames: UNITS, doc: 'unit that executes it' }],
  },
  { accesses: NO_ACCESSES, checkRanges: NO_RANGES },
);
