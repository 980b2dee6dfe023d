/** LOAD in the engines: DRAM read channel DMA into INP, WGT or PARAM. */
import {
  BUF_INP,
  BUF_PARAM,
  BUF_WGT,
  NO_FLAGS,
  UNIT_LOAD,
  gemmPassCount,
  loadEntryBytes,
  packEntry,
  tapLanesOf,
  type LoadInst,
} from '../../isa/index.js';
import { loadEntries } from '../memory.js';
import { dmaBeats, noLaneActions, occupancy, type SimOp } from './define.js';
import type { NaiveMachine } from './naive.js';
import type { RandomRound } from './random-round.js';

/** The round's input tile: up to three channel blocks of at most maxDim x maxDim pixels, in its INP half. */
function planInputTile(round: RandomRound): void {
  const { blocks, h: inH, w: inW } = round.input;
  const cbs = round.int(1, Math.min(blocks, 3));
  let tH = round.int(1, Math.min(inH, round.maxDim));
  let tW = round.int(1, Math.min(inW, round.maxDim));
  while (cbs * tH * tW > round.inpHalf) {
    if (tH > 1) tH--;
    else tW--;
  }
  round.tile = { cbs, h: tH, w: tW, inpBase: round.half * round.inpHalf };
}

/** The LOAD block: the input tile's blocks, each GEMM's weight tiles, and a few PARAM entries. */
function emitLoads(round: RandomRound): void {
  const { a, rows: n, load: L } = round;
  const { desc, blocks, h: inH, w: inW } = round.input;
  const { cbs, h: tH, w: tW, inpBase } = round.tile;
  // replicate the input for the round's tap-packed GEMM (mostly), or now and then for no reason
  const tapped = tapLanesOf(round.gemm.list.find((g) => g.taps) ?? { taps: 0, ci_blocks: 0 });
  for (let cb = 0; cb < cbs; cb++) {
    const src = round.int(0, blocks - 1);
    const y0 = round.int(0, inH - tH);
    const x0 = round.int(0, inW - tW);
    const replicate =
      tapped && round.rnd() < 0.8
        ? tapped
        : round.tapPacking && a.maxTapLanes >= 1 && round.rnd() < 0.1
          ? round.int(1, a.maxTapLanes)
          : 0;
    L.push({
      op: 'LOAD',
      ...NO_FLAGS,
      buf: BUF_INP,
      sram_addr: inpBase + cb * tH * tW,
      dram_addr: desc.dramAddr + ((src * inH + y0) * inW + x0) * a.inpEntryBytes,
      x_count: tW,
      y_count: tH,
      dram_stride: inW * a.inpEntryBytes,
      replicate,
    });
  }
  let wOff = 0;
  for (const g of round.gemm.list) {
    const tiles = gemmPassCount(g, n);
    const t0 = round.int(0, round.weights.tiles - tiles);
    const perTile = round.rnd() < 0.5;
    L.push({
      op: 'LOAD',
      ...NO_FLAGS,
      buf: BUF_WGT,
      sram_addr: round.gemm.wgtBase + wOff,
      dram_addr: round.weights.addr + t0 * n * a.wgtEntryBytes,
      x_count: perTile ? n : tiles * n,
      y_count: perTile ? tiles : 1,
      dram_stride: perTile ? n * a.wgtEntryBytes : 0,
      replicate: 0,
    });
    wOff += tiles * n;
    round.maybeNop(L, UNIT_LOAD);
  }
  const { paramHalf } = round;
  const paramCount = round.params.count;
  const paramBase = round.half * paramHalf;
  const paramLoaded = round.r === 0 || paramHalf > 0;
  const pCount = paramLoaded ? round.int(1, Math.max(1, Math.min(paramHalf || 1, paramCount))) : 1;
  if (paramLoaded) {
    const p0 = round.int(0, paramCount - pCount);
    L.push({
      op: 'LOAD',
      ...NO_FLAGS,
      buf: BUF_PARAM,
      sram_addr: paramBase,
      dram_addr: round.params.addr + p0 * a.paramEntryBytes,
      x_count: pCount,
      y_count: 1,
      dram_stride: 0,
      replicate: 0,
    });
  }
  round.param = { base: paramBase, count: pCount };
}

/** LOAD, naively: entry by entry from DRAM; a replicated INP entry's lane l becomes lane l mod replicate. */
function naiveLoad(ld: LoadInst, m: NaiveMachine): void {
  const a = m.arch;
  const [buf, eb] =
    ld.buf === 0 ? [m.inp, a.inpEntryBytes] : ld.buf === 1 ? [m.wgt, a.wgtEntryBytes] : [m.param, a.paramEntryBytes];
  let e = ld.sram_addr;
  for (let y = 0; y < ld.y_count; y++)
    for (let x = 0; x < ld.x_count; x++, e++) {
      const from = ld.dram_addr + y * ld.dram_stride + x * eb;
      buf.set(m.dram.subarray(from, from + eb), e * eb);
      if (ld.replicate) {
        const v = m.lane(m.inp, eb, e, a.activationBits, false, a.rows);
        packEntry(
          v.map((_, l) => v[l % ld.replicate]!),
          a.rows,
          a.activationBits,
          m.inp,
          e * eb,
        );
      }
    }
}

export const LOAD_SIM: SimOp<'LOAD'> = {
  timing(ld, m) {
    const L = m.cfg.dram.latency;
    return occupancy('dma', L + dmaBeats(ld.x_count * ld.y_count, loadEntryBytes(m.arch, ld.buf), m.cfg), L);
  },
  /** Rows of consecutive entries are contiguous in DRAM and in the buffer, so each row converts at once. */
  execute(fu, _i, ld) {
    if (fu.units?.load(ld)) return;
    for (let y = 0; y < ld.y_count; y++) {
      const off = ld.dram_addr + y * ld.dram_stride;
      loadEntries(fu.sp, fu.p.arch, ld.buf, fu.dram, off, ld.sram_addr + y * ld.x_count, ld.x_count, ld.replicate);
    }
  },
  cycle: { unit: 'dma-read' },
  access(ld, m, c) {
    const entries = ld.x_count * ld.y_count;
    const dst = ld.buf === BUF_INP ? c.sram.inp : ld.buf === BUF_WGT ? c.sram.wgt : c.sram.param;
    dst.writes += entries;
    c.dram.readBytes += entries * loadEntryBytes(m.arch, ld.buf);
  },
  laneActions: noLaneActions,
  random: { plan: planInputTile, load: emitLoads },
  naive: naiveLoad,
};
