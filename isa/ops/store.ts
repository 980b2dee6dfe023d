/** STORE: 2-D strided DMA from OUT to DRAM. */
import { checkRange, defineOp, dmaSpan } from './define.js';

export const STORE = defineOp(
  {
    opcode: 2,
    mnemonic: 'STORE',
    unit: 'store',
    doc: '2-D strided DMA from OUT to DRAM: y_count rows of x_count consecutive entries read from sram_addr upward.',
    fields: [
      { name: 'sram_addr', width: (a) => a.outAddrBits, doc: 'first OUT entry' },
      { name: 'dram_addr', width: (a) => a.dramAddrBits, doc: 'byte address of the first row' },
      { name: 'x_count', width: (a) => a.dimBits, min: 1, doc: 'entries per row (contiguous in DRAM)' },
      { name: 'y_count', width: (a) => a.dimBits, min: 1, doc: 'rows' },
      {
        name: 'dram_stride',
        width: (a) => a.dramAddrBits,
        doc: 'bytes between the starts of consecutive rows in DRAM',
      },
    ],
  },
  {
    checkRanges(inst, m, reject) {
      const entries = inst.x_count * inst.y_count;
      checkRange(reject, inst.op, 'OUT read', inst.sram_addr, entries, m.cfg.scratchpad.outputEntries);
    },
    dramSpan: (inst, m) => dmaSpan(inst, m.arch.outEntryBytes),
  },
);
