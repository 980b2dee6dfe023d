/** STORE: 2-D strided DMA from OUT to DRAM. */
import { checkRange, defineOp, dmaFields, dmaSpan } from './define.js';

export const STORE = defineOp(
  {
    opcode: 2,
    mnemonic: 'STORE',
    unit: 'store',
    doc: '2-D strided DMA from OUT to DRAM: y_count rows of x_count consecutive entries read from sram_addr upward.',
    fields: dmaFields((a) => a.outAddrBits, 'first OUT entry'),
  },
  {
    checkRanges(inst, m, reject) {
      const entries = inst.x_count * inst.y_count;
      checkRange(reject, inst.op, 'OUT read', inst.sram_addr, entries, m.cfg.scratchpad.outputEntries);
    },
    dramSpan: (inst, m) => dmaSpan(inst, m.arch.outEntryBytes),
  },
);
