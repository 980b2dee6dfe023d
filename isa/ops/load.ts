/** LOAD: 2-D strided DMA from DRAM into INP, WGT or PARAM. */
import type { DerivedArch } from '../../arch/index.js';
import { BUFFER_NAMES, BUF_INP, BUF_WGT } from '../word.js';
import { NO_RANGES, bits, defineOp, dmaAccess, dmaFields, sramAccess } from './define.js';

/** Entry width in bytes of a LOAD destination buffer (by `buf` code). */
export function loadEntryBytes(a: DerivedArch, buf: number): number {
  return buf === BUF_INP ? a.inpEntryBytes : buf === BUF_WGT ? a.wgtEntryBytes : a.paramEntryBytes;
}

export const LOAD = defineOp(
  {
    opcode: 1,
    mnemonic: 'LOAD',
    unit: 'load',
    doc: '2-D strided DMA from DRAM into INP, WGT or PARAM: y_count rows of x_count consecutive entries; SRAM entries are written consecutively from sram_addr.',
    fields: [
      { name: 'buf', width: bits(2), enumNames: BUFFER_NAMES, doc: 'destination scratchpad' },
      ...dmaFields((a) => a.sramAddrBits, 'first destination entry'),
    ],
  },
  {
    accesses: (inst, m) => [
      sramAccess(
        BUFFER_NAMES[inst.buf]!,
        true,
        `${BUFFER_NAMES[inst.buf]!.toUpperCase()} write`,
        inst.sram_addr,
        inst.x_count * inst.y_count,
      ),
      dmaAccess(inst, loadEntryBytes(m.arch, inst.buf), false),
    ],
    checkRanges: NO_RANGES,
  },
);
