/** LOAD: 2-D strided DMA from DRAM into INP, WGT or PARAM. */
import type { DerivedArch } from '../../arch/index.js';
import { BUFFER_NAMES, BUF_INP, BUF_WGT } from '../word.js';
import { bits, defineOp, dmaAccess, dmaFields, sramAccess } from './define.js';

/** Entry width in bytes of a LOAD destination buffer (by `buf` code). */
export function loadEntryBytes(a: DerivedArch, buf: number): number {
  return buf === BUF_INP ? a.inpEntryBytes : buf === BUF_WGT ? a.wgtEntryBytes : a.paramEntryBytes;
}

export const LOAD = defineOp(
  {
    opcode: 1,
    mnemonic: 'LOAD',
    unit: 'load',
    doc:
      '2-D strided DMA from DRAM into INP, WGT or PARAM: y_count rows of x_count consecutive entries; SRAM entries are ' +
      'written consecutively from sram_addr. replicate = g >= 1 (INP only): lane l of each entry written is lane l mod g ' +
      'of the entry read, so every group of g lanes holds the first g (the tap groups of a tap-packed GEMM).',
    fields: [
      { name: 'buf', width: bits(2), enumNames: BUFFER_NAMES, doc: 'destination scratchpad' },
      ...dmaFields((a) => a.sramAddrBits, 'first destination entry'),
      {
        name: 'replicate',
        width: (a) => a.tapBits,
        max: (a) => a.maxTapLanes,
        doc: 'INP only: 0 copies the entry; g >= 1 writes lane l from lane l mod g',
      },
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
    checkRanges(inst, _m, reject) {
      if (inst.replicate && inst.buf !== BUF_INP) {
        reject(`LOAD replicate=${inst.replicate} applies to INP only, not ${BUFFER_NAMES[inst.buf]!.toUpperCase()}`);
      }
    },
  },
);
