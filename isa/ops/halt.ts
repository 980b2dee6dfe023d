/** HALT: stops fetch. */
import { NO_ACCESSES, NO_RANGES, defineOp } from './define.js';

export const HALT = defineOp(
  {
    opcode: 6,
    mnemonic: 'HALT',
    unit: 'halt',
    doc: 'Stops fetch; the machine is done when every queue is empty and every unit idle.',
    fields: [],
  },
  { accesses: NO_ACCESSES, checkRanges: NO_RANGES },
);
