/** GEMM in the engines: passes through the array pipeline; the fast engine's kernel is in sim/execute.ts. */
import { NO_FLAGS, gemmBlocks, gemmPassCount, passRowTaps, type GemmInst } from '../../isa/index.js';
import type { DerivedArch } from '../../arch/index.js';
import { InstructionMemo } from '../instruction-memo.js';
import { noLaneActions, occupancy, type SimOp } from './define.js';
import type { NaiveMachine } from './naive.js';
import type { RandomRound } from './random-round.js';

/** Passes per ci block. */
export const blockPasses = (g: GemmInst, rows: number): number => gemmPassCount(g, rows) / gemmBlocks(g);

/** The outputs o in [0, out) whose input o * stride + k - pad lies in [0, size): an interval [lo, hi], empty when lo > hi. */
function inside(out: number, stride: number, pad: number, size: number, k: number): { lo: number; hi: number } {
  return {
    lo: Math.max(0, Math.ceil((pad - k) / stride)),
    hi: Math.min(out - 1, Math.floor((size - 1 + pad - k) / stride)),
  };
}

/**
 * Number of (pass, pixel) pairs of a GEMM that read INP: whose input lies inside the tile
 * (padding reads nothing); tap-packed, whose input of at least one row's tap does. Counted
 * with intervals (each kernel offset's inside outputs are one per axis), not per pixel: this
 * is a counter of every GEMM of every run (test/sim/inp-reads.test.ts checks it per pixel).
 */
export function gemmInpReads(g: GemmInst, rows: number): number {
  return inpReads.get(g, rows);
}

/** Once per instruction: the counters of a program's GEMMs are counted again in every simulation of it. */
const inpReads = new InstructionMemo(countInpReads);

function countInpReads(g: GemmInst, rows: number): number {
  const ys = (kh: number) => inside(g.out_h, g.stride_h, g.pad_top, g.in_h, kh);
  const xs = (kw: number) => inside(g.out_w, g.stride_w, g.pad_left, g.in_w, kw);
  const count = (r: { lo: number; hi: number }) => Math.max(0, r.hi - r.lo + 1);
  if (!g.taps) {
    let total = 0;
    for (let kh = 0; kh < g.kernel_h; kh++) {
      const y = count(ys(kh));
      for (let kw = 0; kw < g.kernel_w; kw++) total += y * count(xs(kw));
    }
    return total * g.ci_blocks;
  }
  const yRange = Array.from({ length: g.kernel_h }, (_, kh) => ys(kh));
  const xRange = Array.from({ length: g.kernel_w }, (_, kw) => xs(kw));
  const used = new Uint8Array(g.kernel_w);
  let total = 0;
  for (let q = 0, Q = blockPasses(g, rows); q < Q; q++) {
    const taps = [...new Set(passRowTaps(g, rows, q))].filter((t) => t >= 0);
    for (let oy = 0; oy < g.out_h; oy++) {
      used.fill(0);
      for (const t of taps) {
        const y = yRange[Math.floor(t / g.kernel_w)]!;
        if (oy >= y.lo && oy <= y.hi) used[t % g.kernel_w] = 1;
      }
      // the union of the used offsets' x intervals: by falling kw their starts rise
      let end = -1;
      for (let kw = g.kernel_w - 1; kw >= 0; kw--) {
        if (!used[kw]) continue;
        const x = xRange[kw]!;
        const from = Math.max(x.lo, end + 1);
        if (x.hi >= from) total += x.hi - from + 1;
        end = Math.max(end, x.hi);
      }
    }
  }
  return total;
}

export const gemmPasses = (g: GemmInst, rows: number): number => gemmPassCount(g, rows);

/**
 * Its passes preload two weight rows a cycle and issue from PL + 1 (config
 * fastPreload, docs/architecture.md 7.2): every GEMM but a tap-packed one, whose
 * row walk gives the rows their taps one row a cycle.
 */
export const pairPreloads = (g: Pick<GemmInst, 'taps'>, arch: Pick<DerivedArch, 'pairPreload'>): boolean =>
  arch.pairPreload && !g.taps;

/** The round's GEMMs: one ACC region per round; the first GEMM may overwrite, later ones accumulate. */
function planGemms(round: RandomRound): void {
  const { a, rows: n, cols, sp, wgtHalf, accBound } = round;
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
    // a third of the GEMMs are tap-packed (g rows per tap), some of those with nibble lanes
    const tapLanes = round.tapPacking && a.maxTapLanes >= 1 && round.rnd() < 1 / 3 ? round.int(1, a.maxTapLanes) : 0;
    const nibbleLanes = tapLanes >= 2 && tapLanes % 2 === 0 && round.rnd() < 0.4 ? 1 : 0;
    let kh = round.int(1, tapLanes ? 4 : 3);
    let kw = round.int(1, tapLanes ? 4 : 3);
    let ci = round.int(1, cbs);
    if (tapLanes) ci = tapLanes; // a tap-packed GEMM's ci_blocks is its tap group (one channel block)
    const taps = tapLanes ? 1 : 0;
    const passes = () => gemmPassCount({ ci_blocks: ci, kernel_h: kh, kernel_w: kw, taps }, n);
    while (passes() * n > Math.min(wgtHalf - wgtUsed, wgtTiles * n) && ((ci > 1 && !taps) || kh > 1 || kw > 1)) {
      if (ci > 1 && !taps) ci--;
      else if (kh > 1) kh--;
      else kw--;
    }
    const tiles = passes();
    if (tiles * n > wgtHalf - wgtUsed || tiles > wgtTiles) break;
    const actSigned = round.rnd() < 0.4 ? 1 : 0;
    const amax = (actSigned ? 2 ** (a.activationBits - 1) : 2 ** a.activationBits - 1) * (nibbleLanes ? 16 : 1);
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
      taps,
      nibble_lanes: nibbleLanes,
    });
    wgtUsed += tiles * n;
    macs += tiles * P * n * cols;
  }
  round.gemm = { outH, outW, accAddr, wgtBase, list: gemms, macs };
}

/**
 * GEMM, naively: pass by pass, pixel by pixel, every dot product lane by lane.
 * A pass is one tap of one channel block, or tap-packed (taps = 1, ci_blocks
 * then the tap group g) floor(R / g) taps at once, row j*g + l holding lane l
 * of tap j of the pass.
 */
function naiveGemm(g: GemmInst, m: NaiveMachine): void {
  const a = m.arch;
  const { rows: R, cols: n } = a;
  const T = g.kernel_h * g.kernel_w;
  const lanes = g.taps ? g.ci_blocks : 0;
  const blocks = g.taps ? 1 : g.ci_blocks;
  const per = lanes ? Math.floor(R / lanes) : 1;
  const groups = Math.ceil(T / per);
  let pass = 0;
  for (let cb = 0; cb < blocks; cb++)
    for (let q = 0; q < groups; q++, pass++) {
      const rowTap = (r: number): number => {
        if (!lanes) return q;
        const j = Math.floor(r / lanes);
        return j < per && q * per + j < T ? q * per + j : -1;
      };
      for (let oy = 0; oy < g.out_h; oy++)
        for (let ox = 0; ox < g.out_w; ox++) {
          const av = new Array<number>(R).fill(0);
          for (let r = 0; r < R; r++) {
            const t = rowTap(r);
            if (t < 0) continue;
            const iy = oy * g.stride_h + Math.floor(t / g.kernel_w) - g.pad_top;
            const ix = ox * g.stride_w + (t % g.kernel_w) - g.pad_left;
            if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) continue;
            const entry = g.inp_addr + cb * g.in_h * g.in_w + iy * g.in_w + ix;
            const v = m.lane(m.inp, a.inpEntryBytes, entry, a.activationBits, g.act_signed === 1, R);
            const high = g.nibble_lanes && (r % lanes) % 2 === 1;
            av[r] = v[r]! * (high ? 16 : 1);
          }
          const accRow = m.acc[g.acc_addr + oy * g.out_w + ox]!;
          for (let c = 0; c < n; c++) {
            let s = 0;
            for (let r = 0; r < R; r++)
              s += av[r]! * m.lane(m.wgt, a.wgtEntryBytes, g.wgt_addr + pass * R + r, a.weightBits, true)[c]!;
            const v = s * 2 ** g.pshift + (pass === 0 && !g.accumulate ? 0 : accRow[c]!);
            if (v < a.accMin || v > a.accMax) throw new Error(`naive: overflow`);
            accRow[c] = v;
          }
        }
    }
}

export const GEMM_SIM: SimOp<'GEMM'> = {
  timing: (g, m) =>
    occupancy('array', 0, 0, gemmPasses(g, m.arch.rows), g.out_h * g.out_w, false, pairPreloads(g, m.arch)),
  execute: (fu, i, g) => fu.gemm(i, g),
  cycle: { unit: 'array' },
  access(g, m, c) {
    const passes = gemmPasses(g, m.arch.rows);
    const px = g.out_h * g.out_w;
    c.sram.inp.reads += gemmInpReads(g, m.arch.rows);
    c.sram.wgt.reads += passes * m.arch.rows;
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
  naive: naiveGemm,
};
