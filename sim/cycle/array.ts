/**
 * The COMPUTE unit's GEMM machinery (docs/architecture.md 7.1-7.3), register
 * by register: the preload sequencer reads a pass's R weight rows into one of
 * the PE weight banks (two or three: config weightBanks); the issue sequencer sends one pixel per cycle into the
 * skewed R x C array (row r delayed r cycles); PE(r, c) adds a * w to the
 * partial sum from above; the bottom row leaves through the de-skew (column c
 * delayed C - 1 - c cycles) into the ACC read-modify-write (with bypass).
 * Nothing here uses the closed-form schedule.
 */
import { gemmBlocks, gemmPassCount, passRowTaps, rowNibbleShift, type GemmInst } from '../../isa/index.js';
import { overflowError } from '../memory.js';
import { pairPreloads } from '../ops/index.js';
import { U_COMPUTE } from '../prepare.js';
import type { CycleContext } from './context.js';

/** One pass: a weight tile preloaded at `pl`, then `p` pixels issued. */
interface Pass {
  inst: number;
  g: GemmInst;
  index: number;
  cb: number;
  /** per array row: the kernel tap offset it reads (dy < 0: the row reads zero) and its product shift */
  dy: Int32Array;
  dx: Int32Array;
  shift: Int32Array;
  bank: number;
  pl: number;
  /** WGT rows read a cycle (2: config fastPreload, 7.2) and the first cycle it may issue */
  rowsPerCycle: number;
  issueFrom: number;
  p: number;
  overwrite: boolean;
  lastOfGemm: boolean;
}

interface GemmRun {
  inst: number;
  g: GemmInst;
  passes: number;
  preloaded: number;
}

interface AccWrite {
  entry: number;
  sum: Int32Array;
  old: Int32Array;
  overwrite: boolean;
  shift: number;
  inst: number;
  last: boolean;
}

export class ArrayUnit {
  // shown in the snapshot
  preloadInst = -1;
  issueInst = -1;
  occupancy = 0;
  accRead = false;
  accWrite = false;

  /** R rows (INP lanes, weight rows per tile) and C columns (output lanes) */
  private readonly R: number;
  private readonly C: number;
  /** ring length of the skew / de-skew / ACC metadata histories */
  private readonly H: number;
  /** weightBanks (2 or 3) weight banks of R x C */
  private readonly W: Int8Array;
  /** per PE: activation, partial sum, valid, bank */
  private readonly peA: Int32Array;
  private readonly peP: Int32Array;
  private readonly peV: Uint8Array;
  private readonly peB: Uint8Array;
  /** the pixel vectors issued (row skew source) */
  private readonly histValid: Uint8Array;
  private readonly histBank: Uint8Array;
  private readonly histVec: Int32Array;
  /** de-skewed column sums */
  private readonly colRing: Int32Array;
  /** per pixel: its ACC entry and how to write it, due when its sums leave the de-skew */
  private readonly metaValid: Uint8Array;
  private readonly metaEntry: Int32Array;
  private readonly metaOverwrite: Uint8Array;
  private readonly metaShift: Uint8Array;
  private readonly metaInst: Int32Array;
  private readonly metaLast: Uint8Array;

  /** started, not retired */
  readonly gemms: GemmRun[] = [];
  private globalPass = 0;
  /** the WGT read port is free from this cycle (the previous preload's PL + T) */
  private plFree = -Infinity;
  private preload: Pass | undefined;
  /** the rows read last cycle (one, or two consecutive ones), written into their bank this cycle */
  private pendingWeight: { bank: number; row: number; values: Int8Array } | undefined;
  private readonly issueQueue: Pass[] = [];
  private issuing: Pass | undefined;
  private lastIssue = -Infinity;
  private issueStart = 0;
  private issueFreeAt = 0;
  /** per weight bank: the cycle from which it may take a preload */
  private readonly bankFree: number[];
  private readonly banks: number;
  private accPending: AccWrite | undefined;
  /** GEMMs due to retire: from `cycle`, and once the REQUANT `after` (or -1) has retired */
  private readonly retireAt: { inst: number; cycle: number; after: number }[] = [];
  /** per started GEMM: the REQUANT it started beside, or -1 */
  private readonly besideOf = new Map<number, number>();

  constructor(private readonly ctx: CycleContext) {
    const { rows: R, cols: C } = ctx.p.arch;
    this.R = R;
    this.C = C;
    this.H = R + C + 4;
    this.banks = ctx.p.arch.weightBanks;
    this.bankFree = new Array<number>(this.banks).fill(0);
    this.W = new Int8Array(this.banks * R * C);
    this.peA = new Int32Array(R * C);
    this.peP = new Int32Array(R * C);
    this.peV = new Uint8Array(R * C);
    this.peB = new Uint8Array(R * C);
    this.histValid = new Uint8Array(this.H);
    this.histBank = new Uint8Array(this.H);
    this.histVec = new Int32Array(this.H * R);
    this.colRing = new Int32Array(this.H * C);
    this.metaValid = new Uint8Array(this.H);
    this.metaEntry = new Int32Array(this.H);
    this.metaOverwrite = new Uint8Array(this.H);
    this.metaShift = new Uint8Array(this.H);
    this.metaInst = new Int32Array(this.H);
    this.metaLast = new Uint8Array(this.H);
  }

  get busy(): boolean {
    return this.gemms.length > 0;
  }

  /** Data still in the array or the ACC write stage. */
  get draining(): boolean {
    return this.occupancy > 0 || this.accPending !== undefined;
  }

  /** The newest GEMM in flight, or -1. */
  get newest(): number {
    return this.gemms.length > 0 ? this.gemms[this.gemms.length - 1]!.inst : -1;
  }

  /**
   * One cycle. `mayStart`: the compute queue head is a GEMM and no REQUANT /
   * POOL / NOP is running, or it may start beside the REQUANT `beside` (else
   * -1). Returns whether a GEMM started.
   */
  step(t: number, mayStart: boolean, beside = -1): boolean {
    const started = this.preloadStart(t, mayStart);
    if (started) this.besideOf.set(this.newest, beside);
    const weightWrite = this.pendingWeight;
    this.pendingWeight = undefined;
    this.preloadStep(t);
    this.issue(t);
    this.propagate(t);
    this.accumulate(t);
    // the weight row is written into its bank after this cycle's multiplies used the old value
    if (weightWrite) this.W.set(weightWrite.values, (weightWrite.bank * this.R + weightWrite.row) * this.C);
    // GEMM retire: one cycle after its last ACC write (E = DR = IS + P + G); beside a REQUANT, after it
    const due = this.retireAt[0];
    if (due && due.cycle <= t && (due.after < 0 || this.ctx.E[due.after]! <= t)) {
      const { inst } = this.retireAt.shift()!;
      this.besideOf.delete(inst);
      this.ctx.retire(inst, t);
      this.gemms.splice(
        this.gemms.findIndex((r) => r.inst === inst),
        1,
      );
    }
    return started;
  }

  /** Preload start: the next pass of the newest GEMM, or a new GEMM from the queue. */
  private preloadStart(t: number, mayStart: boolean): boolean {
    const { ctx, R } = this;
    this.preloadInst = -1;
    if (this.preload || t < this.plFree || this.bankFree[this.globalPass % this.banks]! > t) return false;
    let started = false;
    let run = this.gemms.length > 0 ? this.gemms[this.gemms.length - 1]! : undefined;
    if (run && run.preloaded >= run.passes) run = undefined;
    if (!run && mayStart && ctx.startable(U_COMPUTE) >= 0) {
      const i = ctx.start(U_COMPUTE, t);
      const g = ctx.p.code[i] as GemmInst;
      run = { inst: i, g, passes: gemmPassCount(g, this.R), preloaded: 0 };
      this.gemms.push(run);
      started = true;
    }
    if (!run) return started;
    const g = run.g;
    const j = run.preloaded++;
    const bank = this.globalPass % this.banks;
    const perBlock = run.passes / gemmBlocks(g);
    const taps = passRowTaps(g, R, j % perBlock);
    const dy = taps.map((t) => (t < 0 ? -1 : Math.floor(t / g.kernel_w)));
    const pairs = pairPreloads(g, ctx.p.arch);
    this.preload = {
      inst: run.inst,
      g,
      index: j,
      cb: Math.floor(j / perBlock),
      dy,
      dx: taps.map((t) => (t < 0 ? 0 : t % g.kernel_w)),
      shift: taps.map((_, r) => rowNibbleShift(g, r)),
      bank,
      pl: t,
      rowsPerCycle: pairs ? 2 : 1,
      issueFrom: pairs ? t + 1 : t + R,
      p: g.out_h * g.out_w,
      overwrite: j === 0 && g.accumulate === 0,
      lastOfGemm: j === run.passes - 1,
    };
    this.bankFree[bank] = Infinity;
    this.globalPass++;
    ctx.c.array.passes++;
    this.plFree = t + R / this.preload.rowsPerCycle;
    // a pair preload stays ahead of the pixels (row r is in before the first pixel reaches it): it may issue at once
    if (pairs) this.issueQueue.push(this.preload);
    return started;
  }

  /**
   * Preload step: WGT row r is read at PL + r and written into the PE bank at
   * PL + r + 1; two rows a cycle, rows 2i and 2i + 1 at PL + i and PL + i + 1.
   */
  private preloadStep(t: number): void {
    const pre = this.preload;
    if (!pre) return;
    const { R, C } = this;
    this.preloadInst = pre.inst;
    const k = pre.rowsPerCycle;
    const r = (t - pre.pl) * k;
    const entry = pre.g.wgt_addr + pre.index * R + r;
    this.pendingWeight = { bank: pre.bank, row: r, values: this.ctx.sp.wgt.slice(entry * C, (entry + k) * C) };
    this.ctx.c.sram.wgt.reads += k;
    if (r + k === R) {
      if (k === 1) this.issueQueue.push(pre);
      this.preload = undefined;
    }
  }

  /** Issue: one pixel per cycle; INP address at IS + p, data at IS + p + 1; its ACC metadata due R + C later. */
  private issue(t: number): void {
    const { ctx, R, C, H } = this;
    const hs = (t + 1) % H;
    this.histValid[hs] = 0;
    this.issueInst = -1;
    if (!this.issuing && this.issueQueue.length > 0 && this.issueQueue[0]!.issueFrom <= t && t >= this.issueFreeAt) {
      this.issuing = this.issueQueue.shift()!;
      this.issueStart = t;
    }
    const ps = this.issuing;
    if (!ps) return;
    const g = ps.g;
    this.issueInst = ps.inst;
    this.lastIssue = t;
    ctx.c.array.issueCycles++;
    const px = t - this.issueStart;
    const oy = Math.floor(px / g.out_w);
    const ox = px % g.out_w;
    this.histValid[hs] = 1;
    this.histBank[hs] = ps.bank;
    // every row addresses INP itself (lane RAMs): its own tap when tap-packed, the pass's tap otherwise
    const base = hs * R;
    const block = g.inp_addr + ps.cb * g.in_h * g.in_w;
    const ab = ctx.p.arch.activationBits;
    let read = false;
    for (let r = 0; r < R; r++) {
      const iy = oy * g.stride_h + ps.dy[r]! - g.pad_top;
      const ix = ox * g.stride_w + ps.dx[r]! - g.pad_left;
      if (ps.dy[r]! < 0 || iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) {
        this.histVec[base + r] = 0;
        continue;
      }
      read = true;
      const raw = ctx.sp.inp[(block + iy * g.in_w + ix) * R + r]!;
      const v = g.act_signed && raw >= 1 << (ab - 1) ? raw - (1 << ab) : raw;
      this.histVec[base + r] = v * 2 ** ps.shift[r]!;
    }
    if (read) ctx.c.sram.inp.reads++;
    const ms = (t + R + C) % H;
    this.metaValid[ms] = 1;
    this.metaEntry[ms] = g.acc_addr + px;
    this.metaOverwrite[ms] = ps.overwrite ? 1 : 0;
    this.metaShift[ms] = g.pshift;
    this.metaInst[ms] = ps.inst;
    this.metaLast[ms] = ps.lastOfGemm && px === ps.p - 1 ? 1 : 0;
    if (px === ps.p - 1) {
      this.bankFree[ps.bank] = t + 1 + ctx.p.arch.bankHold;
      this.issueFreeAt = t + 1;
      this.issuing = undefined;
    }
  }

  /**
   * The array: PE(r, c) takes a from the left (row r of the data issued r + 1
   * cycles ago at c = 0) and the partial sum from above; the bottom row leaves
   * through the de-skew.
   */
  private propagate(t: number): void {
    const { R, C, H, peA, peP, peV, peB, W } = this;
    let occupancy = 0;
    // a pixel issued at t0 leaves the last PE at t0 + R + C: skip the array while it is certainly empty
    const arrayLive = t <= this.lastIssue + R + C + 1;
    for (let r = arrayLive ? R - 1 : -1; r >= 0; r--) {
      const srcSlot = (((t - 1 - r) % H) + H) % H;
      for (let col = C - 1; col >= 0; col--) {
        const k = r * C + col;
        let valid: number;
        let av: number;
        let bk: number;
        if (col === 0) {
          valid = this.histValid[srcSlot]!;
          av = this.histVec[srcSlot * R + r]!;
          bk = this.histBank[srcSlot]!;
        } else {
          valid = peV[k - 1]!;
          av = peA[k - 1]!;
          bk = peB[k - 1]!;
        }
        peV[k] = valid;
        if (valid) {
          occupancy++;
          const pin = r === 0 ? 0 : peP[k - C]!;
          peA[k] = av;
          peB[k] = bk;
          peP[k] = pin + av * W[(bk * R + r) * C + col]!;
        } else {
          peA[k] = 0;
          peP[k] = 0;
        }
      }
    }
    this.occupancy = occupancy;
    // column c of the bottom row is delayed C - 1 - c cycles
    for (let col = 0; arrayLive && col < C; col++) {
      const k = (R - 1) * C + col;
      this.colRing[((t + C - 1 - col) % H) * C + col] = peV[k] ? peP[k]! : 0;
    }
  }

  /** ACC: the write of the pixel read last cycle, then this cycle's read (bypass: the read sees the write). */
  private accumulate(t: number): void {
    const { ctx, C: n, H } = this;
    const a = ctx.p.arch;
    const { sp, c } = ctx;
    this.accRead = false;
    this.accWrite = false;
    const w = this.accPending;
    if (w) {
      this.accWrite = true;
      const scale = 2 ** w.shift;
      const base = w.entry * n;
      for (let l = 0; l < n; l++) {
        const v = w.sum[l]! * scale + (w.overwrite ? 0 : w.old[l]!);
        if (v < a.accMin || v > a.accMax) throw overflowError(w.inst, l, w.entry, v, a);
        sp.acc[base + l] = v;
      }
      c.sram.acc.writes++;
      if (w.last) this.retireAt.push({ inst: w.inst, cycle: t + 1, after: this.besideOf.get(w.inst) ?? -1 });
      this.accPending = undefined;
    }
    const ms = t % H;
    if (!this.metaValid[ms]) return;
    this.metaValid[ms] = 0;
    this.accRead = this.metaOverwrite[ms] === 0;
    if (this.accRead) c.sram.acc.reads++;
    const entry = this.metaEntry[ms]!;
    this.accPending = {
      entry,
      sum: this.colRing.slice(ms * n, ms * n + n),
      old: sp.acc.slice(entry * n, entry * n + n),
      overwrite: this.metaOverwrite[ms] === 1,
      shift: this.metaShift[ms]!,
      inst: this.metaInst[ms]!,
      last: this.metaLast[ms] === 1,
    };
  }
}
