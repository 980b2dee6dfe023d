/** STORE: 2-D strided DMA from OUT to DRAM. */
import { NO_RANGES, defineOp, dmaAccess, dmaFields, sramAccess } from './define.js';

export const STORE = defineOp(
  {
    opcode: 2,
    mnemonic: 'STORE',
    unit: 'store',
    doc: '2-D strided DMA from OUT to DRAM: y_count rows of x_count consecutive entries read from sram_addr upward.',
    fields: dmaFields((a) => a.outAddrBits, 'first OUT entry'),
  },
  {
    accesses: (inst, m) => [
      sramAccess('out', false, 'OUT read', inst.sram_addr, inst.x_count * inst.y_count),
      dmaAccess(inst, m.arch.outEntryBytes, true),
    ],
    checkRanges: NO_RANGES,
  },
);
