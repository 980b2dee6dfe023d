/** STORE in the engines: DMA from OUT through the DRAM write channel. */
import { NO_FLAGS, UNIT_STORE, type StoreInst, type TensorDescriptor } from '../../isa/index.js';
import { storeEntries } from '../memory.js';
import { dmaBeats, noLaneActions, occupancy, type SimOp } from './define.js';
import type { NaiveMachine } from './naive.js';
import type { RandomRound } from './random-round.js';

/** The STORE block: the round's output tile is one output tensor, stored in one or two row ranges. */
function emitStores(round: RandomRound): void {
  const { a, cols } = round;
  const { addr: stAddr, h: stH, w: stW, signed } = round.out;
  const desc: TensorDescriptor = {
    name: `out${round.r}`,
    dramAddr: round.cursor + round.int(0, 3) * 4,
    shape: [1, cols, stH, stW],
    layout: 'blocked',
    bits: a.activationBits,
    signed,
    // the STOREs write OUT entries one after another; a DRAM entry of the blocked layout may be wider (rows > cols)
    imageStrideBytes: stH * stW * Math.max(a.outEntryBytes, a.dramEntryBytes),
  };
  round.cursor = desc.dramAddr + desc.imageStrideBytes;
  round.outputs.push(desc);
  const split = stH > 1 && round.rnd() < 0.3 ? round.int(1, stH - 1) : stH;
  const st = (row0: number, rows: number): StoreInst => ({
    op: 'STORE',
    ...NO_FLAGS,
    sram_addr: stAddr + row0 * stW,
    dram_addr: desc.dramAddr + row0 * stW * a.outEntryBytes,
    x_count: stW,
    y_count: rows,
    dram_stride: stW * a.outEntryBytes,
  });
  const S = round.store;
  round.maybeNop(S, UNIT_STORE);
  S.push(st(0, split));
  if (split < stH) S.push(st(split, stH - split));
  round.maybeNop(S, UNIT_STORE);
}

/** STORE, naively: OUT entry by entry into DRAM rows. */
function naiveStore(st: StoreInst, m: NaiveMachine): void {
  const eb = m.arch.outEntryBytes;
  let e = st.sram_addr;
  for (let y = 0; y < st.y_count; y++)
    for (let x = 0; x < st.x_count; x++, e++)
      m.dram.set(m.out.subarray(e * eb, (e + 1) * eb), st.dram_addr + y * st.dram_stride + x * eb);
}

export const STORE_SIM: SimOp<'STORE'> = {
  timing(st, m) {
    const L = m.cfg.dram.latency;
    // one more cycle: the last beat's write response
    return occupancy('dma', L + dmaBeats(st.x_count * st.y_count, m.arch.outEntryBytes, m.cfg) + 1, L);
  },
  execute(fu, _i, st) {
    if (fu.units?.store(st)) return;
    for (let y = 0; y < st.y_count; y++) {
      const off = st.dram_addr + y * st.dram_stride;
      storeEntries(fu.sp, fu.p.arch, st.sram_addr + y * st.x_count, st.x_count, fu.dram, off);
    }
  },
  cycle: { unit: 'dma-write' },
  access(st, m, c) {
    const entries = st.x_count * st.y_count;
    c.sram.out.reads += entries;
    c.dram.writeBytes += entries * m.arch.outEntryBytes;
  },
  laneActions: noLaneActions,
  random: { store: emitStores },
  naive: naiveStore,
};
