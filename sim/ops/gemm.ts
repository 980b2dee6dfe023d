/** GEMM in the engines: passes through the array pipeline; the fast engine's kernel is in sim/execute.ts. */
import { NO_FLAGS, type GemmInst } from '../../isa/index.js';
import { noLaneActions, occupancy, type SimOp } from './define.js';
import type { RandomRound } from './random-round.js';

/** Number of (pass, pixel) pairs of a GEMM whose input lies inside the tile (the INP reads; padding reads nothing). */
export function gemmInpReads(g: GemmInst): number {
  let total = 0;
  for (let kh = 0; kh < g.kernel_h; kh++) {
    let rows = 0;
    for (let oy = 0; oy < g.out_h; oy++) {
      const iy = oy * g.stride_h + kh - g.pad_top;
      if (iy >= 0 && iy < g.in_h) rows++;
    }
    for (let kw = 0; kw < g.kernel_w; kw++) {
      let cols = 0;
      for (let ox = 0; ox < g.out_w; ox++) {
        const ix = ox * g.stride_w + kw - g.pad_left;
        if (ix >= 0 && ix < g.in_w) cols++;
      }
      total += rows * cols;
    }
  }
  return total * g.ci_blocks;
}

export const gemmPasses = (g: GemmInst): number => g.ci_blocks * g.kernel_h * g.kernel_w;

/** The round's GEMMs: one ACC region per round; the first GEMM may overwrite, later ones accumulate. */
function planGemms(round: RandomRound): void {
  const { a, n, sp, wgtHalf, accBound } = round;
  const { cbs, h: tH, w: tW, inpBase } = round.tile;
  const wgtTiles = round.weights.tiles;
  const wmax = 2 ** (a.weightBits - 1);
  const outH = round.int(1, round.maxDim);
  const outW = round.int(1, Math.min(round.maxDim, Math.floor(sp.accEntries / outH)));
  const P = outH * outW;
  const accAddr = round.int(0, sp.accEntries - P);
  const nG = round.int(1, 3);
  const wgtBase = round.half * wgtHalf;
  let wgtUsed = 0;
  const gemms: GemmInst[] = [];
  let macs = 0;
  for (let k = 0; k < nG; k++) {
    let kh = round.int(1, 3);
    let kw = round.int(1, 3);
    let ci = round.int(1, cbs);
    while (ci * kh * kw * n > Math.min(wgtHalf - wgtUsed, wgtTiles * n) && (ci > 1 || kh > 1 || kw > 1)) {
      if (ci > 1) ci--;
      else if (kh > 1) kh--;
      else kw--;
    }
    const tiles = ci * kh * kw;
    if (tiles * n > wgtHalf - wgtUsed || tiles > wgtTiles) break;
    const actSigned = round.rnd() < 0.4 ? 1 : 0;
    const amax = actSigned ? 2 ** (a.activationBits - 1) : 2 ** a.activationBits - 1;
    let pshift = round.rnd() < 0.3 ? round.int(1, 3) : 0;
    let accumulate = k === 0 ? (round.rnd() < 0.2 ? 1 : 0) : round.rnd() < 0.8 ? 1 : 0;
    let prior = 0;
    for (let e = accAddr; e < accAddr + P; e++) prior = Math.max(prior, accBound[e]!);
    const bound = (ps: number, acc: number) => (acc ? prior : 0) + tiles * n * amax * wmax * 2 ** ps;
    if (bound(pshift, accumulate) > a.accMax) pshift = 0;
    if (bound(pshift, accumulate) > a.accMax) accumulate = 0;
    if (bound(pshift, accumulate) > a.accMax) break;
    const nb = bound(pshift, accumulate);
    for (let e = accAddr; e < accAddr + P; e++) accBound[e] = nb;
    gemms.push({
      op: 'GEMM',
      ...NO_FLAGS,
      wgt_addr: wgtBase + wgtUsed,
      inp_addr: inpBase,
      acc_addr: accAddr,
      in_h: tH,
      in_w: tW,
      out_h: outH,
      out_w: outW,
      kernel_h: kh,
      kernel_w: kw,
      stride_h: round.int(1, 2),
      stride_w: round.int(1, 2),
      pad_top: round.int(0, Math.min(2, kh - 1)),
      pad_left: round.int(0, Math.min(2, kw - 1)),
      ci_blocks: ci,
      accumulate,
      act_signed: actSigned,
      pshift,
    });
    wgtUsed += tiles * n;
    macs += tiles * P * n * n;
  }
  round.gemm = { outH, outW, accAddr, wgtBase, list: gemms, macs };
}

export const GEMM_SIM: SimOp<'GEMM'> = {
  timing: (g) => occupancy('array', 0, 0, gemmPasses(g), g.out_h * g.out_w),
  execute: (fu, i, g) => fu.gemm(i, g),
  cycle: { unit: 'array' },
  access(g, m, c) {
    const passes = gemmPasses(g);
    const px = g.out_h * g.out_w;
    c.sram.inp.reads += gemmInpReads(g);
    c.sram.wgt.reads += passes * m.arch.n;
    // the first pass of an overwriting GEMM does not need the old ACC value
    c.sram.acc.reads += (g.accumulate ? passes : passes - 1) * px;
    c.sram.acc.writes += passes * px;
    c.array.passes += passes;
    c.array.issueCycles += passes * px;
  },
  laneActions: noLaneActions,
  random: {
    plan: planGemms,
    compute(round) {
      round.compute.push(...round.gemm.list);
      // the block needs a first instruction to wait for the loads
      if (round.compute.length === 0) round.compute.push(round.nop(1));
    },
  },
};
