/**
 * Scheduling: turn tiled ConvOps into the three unit instruction streams,
 * connect them with dependency tokens, and interleave them into one program.
 *
 * Every scratchpad is managed as a ring of items (an INP band, a WGT chunk, a
 * PARAM chunk, an OUT tile). An item is loaded when a step first needs it and
 * stays until the ring wraps over it, so data still resident is reused (e.g.
 * the input band across co blocks, or a layer's weights across tiles when
 * they all fit). Overwriting an item waits for its last reader.
 *
 * Dependencies are recorded as "this instruction waits for that one" and
 * turned into token flags at the end: per channel, a consumer pops only when
 * it waits for a producer later than the last one it already popped, and
 * exactly those producers push. Pushes and pops therefore balance by
 * construction, with at most one pop per channel per instruction.
 *
 * A LOAD of activations stored by an earlier layer has no direct token path
 * (store and load do not talk): it waits for a compute instruction that
 * itself waited for the STORE (a REQUANT recycling that STORE's OUT item, or
 * a compute NOP inserted for the purpose).
 */
import { deriveArch, type ArchConfig } from '../arch/index.js';
import {
  BUF_INP,
  BUF_PARAM,
  BUF_WGT,
  NO_FLAGS,
  UNIT_COMPUTE,
  mayStartBeside,
  type Instruction,
  type Machine,
  type Unit,
} from '../isa/index.js';
import { UnitTimeline, instructionTiming } from '../sim/index.js';
import type { ActTensor } from './lower.js';
import type { DramPlan } from './dram.js';
import { bandAccEntries, gemmPieces, windowTiles, type OpPlan, type TermTile, type Tile } from './tiling.js';

export interface Node {
  inst: Instruction;
  unit: Unit;
  group: number;
  waits: Node[];
  note?: string;
  pos: number;
  start: number;
  end: number;
  /** STORE: order among stores */
  storeIndex: number;
  /** compute: largest STORE index it waits for (-1: none) */
  waitsStore: number;
}

const flags = NO_FLAGS;

/** LOADs after a waiting one that the prefetch looks through (estimate) */
const PREFETCH_WINDOW = 48;

/** compute instructions back from the latest that an early relay looks through */
const RELAY_WINDOW = 256;

/** About how long a compute instruction keeps the unit busy (GEMM: its passes; estimate only). */
function roughCycles(inst: Instruction, m: Machine): number {
  const o = instructionTiming(inst, m);
  return o.kind === 'array' ? o.passes * Math.max(o.pixels, m.arch.rows) : o.cycles;
}

/** Two LOADs' scratchpad entry ranges intersect. */
function overlaps(a: Instruction & { op: 'LOAD' }, b: Instruction & { op: 'LOAD' }): boolean {
  const len = (x: Instruction & { op: 'LOAD' }) => x.x_count * x.y_count;
  return a.sram_addr < b.sram_addr + len(b) && b.sram_addr < a.sram_addr + len(a);
}

/** Whether a LOAD overlaps the scratchpad range of an unplaced LOAD of its buffer in loads[from, to). */
function overlapsUnplaced(
  loads: readonly Node[],
  from: number,
  to: number,
  inst: Instruction & { op: 'LOAD' },
): boolean {
  for (let j = from; j < to; j++) {
    const q = loads[j]!;
    if (q.end < 0 && q.inst.op === 'LOAD' && q.inst.buf === inst.buf && overlaps(q.inst, inst)) return true;
  }
  return false;
}

interface Item {
  key: string;
  start: number;
  len: number;
  valid: boolean;
  /** last instruction that reads the item */
  lastUser?: Node;
  /** last LOAD that fills it */
  ready?: Node;
  /** a band loaded piece by piece for its GEMM pieces (Tile.gemmRows): the LOAD that ends each piece's rows */
  rowsReady?: { y1: number; node: Node }[];
}

class Ring {
  private ptr = 0;
  private items: Item[] = [];
  private byKey = new Map<string, Item>();
  /**
   * Overwritten items' ranges and last readers, until fully overwritten: an
   * item's WAR waits cover every reader of its range, not only those of the
   * items it overwrites itself, so a LOAD moved ahead of another (estimate's
   * prefetch) never relies on the other's waits.
   */
  private ghosts: { start: number; end: number; lastUser: Node }[] = [];
  constructor(
    readonly name: string,
    readonly size: number,
  ) {}

  lookup(key: string): Item | undefined {
    const it = this.byKey.get(key);
    return it && it.valid ? it : undefined;
  }

  /** Allocate a new item; returns it and the readers that must finish before it is overwritten. */
  alloc(key: string, len: number): { item: Item; waits: Node[] } {
    if (len > this.size) throw new Error(`internal: ${this.name} item of ${len} entries exceeds ${this.size}`);
    if (this.ptr + len > this.size) this.ptr = 0;
    // An item that fits before the end but leaves no room for the next one
    // goes to the end of the ring: it then overwrites only older items (those
    // past ptr), and the next one wraps to 0 instead of onto this one.
    else if (len <= this.size / 2 && this.ptr + 2 * len > this.size) this.ptr = this.size - len;
    const start = this.ptr;
    const end = start + len;
    const waits: Node[] = [];
    this.ghosts = this.ghosts.filter((g) => {
      if (g.start < end && start < g.end) waits.push(g.lastUser);
      return g.start < start || g.end > end;
    });
    const keep: Item[] = [];
    for (const it of this.items) {
      if (it.start < end && start < it.start + it.len) {
        it.valid = false;
        if (it.lastUser) {
          waits.push(it.lastUser);
          if (it.start < start || it.start + it.len > end)
            this.ghosts.push({ start: it.start, end: it.start + it.len, lastUser: it.lastUser });
        }
        this.byKey.delete(it.key);
      } else keep.push(it);
    }
    const item: Item = { key, start, len, valid: true };
    keep.push(item);
    this.items = keep;
    this.byKey.set(key, item);
    this.ptr = end;
    return { item, waits };
  }
}

/** Input rows [y0, y1) of a band, last written by `store` (undefined: not written by this program). */
interface RowPiece {
  y0: number;
  y1: number;
  store: Node | undefined;
}

/** a band's rows are loaded in pieces (rowPieces) only when its last rows come from one of these latest STOREs */
const RECENT_STORES = 3;

interface TensorWrite {
  b0: number;
  nb: number;
  y0: number;
  y1: number;
  /** channels [c0, c1) */
  c0: number;
  c1: number;
  store: Node;
}

export interface Scheduled {
  code: Instruction[];
  /** per instruction: layer group index (-1 for HALT) */
  groupOf: number[];
  /** per instruction: runs on the compute unit */
  isCompute: boolean[];
  /** per instruction: optional comment */
  notes: (string | undefined)[];
}

export class Scheduler {
  readonly load: Node[] = [];
  readonly compute: Node[] = [];
  readonly store: Node[] = [];
  private readonly inp: Ring;
  private readonly wgt: Ring;
  private readonly param: Ring;
  private readonly out: Ring;
  private readonly writes = new Map<number, TensorWrite[]>();
  /** compute nodes that wait for a STORE, in compute order (their waitsStore increases) */
  private readonly storeWaiters: Node[] = [];
  private lastRequant: Node | undefined;
  private relayAnchor: Node | undefined;
  /** R: channels per INP block, entries per weight tile */
  private readonly n: number;
  /** C: channels per co block (OUT entry) */
  private readonly cols: number;
  /** DRAM activation entries: L = max(R, C) lanes of eb bytes (isa/program.ts TensorLayout) */
  private readonly lanes: number;
  private readonly eb: number;
  /** bytes of one INP entry and of one OUT entry (an INP / OUT block's part of a DRAM entry) */
  private readonly inpBytes: number;
  private readonly outBytes: number;

  constructor(
    readonly cfg: ArchConfig,
    readonly dram: DramPlan,
  ) {
    const sp = cfg.scratchpad;
    this.inp = new Ring('INP', sp.inputEntries);
    this.wgt = new Ring('WGT', sp.weightEntries);
    this.param = new Ring('PARAM', sp.paramEntries);
    this.out = new Ring('OUT', sp.outputEntries);
    const a = deriveArch(cfg);
    this.n = a.rows;
    this.cols = a.cols;
    this.lanes = a.dramLanes;
    this.eb = a.dramEntryBytes;
    this.inpBytes = a.inpEntryBytes;
    this.outBytes = a.outEntryBytes;
  }

  private node(inst: Instruction, unit: Unit, group: number, waits: Node[], note?: string): Node {
    const nd: Node = {
      inst,
      unit,
      group,
      waits,
      pos: -1,
      start: -1,
      end: -1,
      storeIndex: -1,
      waitsStore: -1,
    };
    if (note !== undefined) nd.note = note;
    if (unit === 'load') this.load.push(nd);
    else if (unit === 'compute') this.compute.push(nd);
    else {
      nd.storeIndex = this.store.length;
      this.store.push(nd);
    }
    return nd;
  }

  private loadInst(
    buf: number,
    sram: number,
    dram: number,
    x: number,
    y: number,
    stride: number,
    replicate = 0,
  ): Instruction {
    return {
      op: 'LOAD',
      ...flags,
      buf,
      sram_addr: sram,
      dram_addr: dram,
      x_count: x,
      y_count: y,
      dram_stride: stride,
      replicate,
    };
  }

  /**
   * The compute instruction a LOAD of data stored by `store` must wait for:
   * the earliest of a compute instruction that already waits for that STORE
   * (or a later one) and a compute NOP placed at the first drained point (next
   * to a REQUANT, between GEMMs never) at which the STORE has had time to
   * finish (earlyRelaySlot); else a NOP right after the latest REQUANT.
   */
  private relayFor(store: Node, group: number): Node {
    const w = this.storeWaiters;
    let lo = 0;
    let hi = w.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (w[mid]!.waitsStore >= store.storeIndex) hi = mid;
      else lo = mid + 1;
    }
    const existing = w[lo];
    const early = this.earlyRelaySlot(store);
    if (early >= 0 && (!existing || this.compute.lastIndexOf(existing) >= early)) {
      // inside the producer's compute stream, the NOP counts to the producer's layer (Program.layers)
      return this.relayNop(store, early < this.compute.length ? store.group : group, early);
    }
    if (existing) return existing;
    // With gemmBeside, a NOP after the latest REQUANT would keep the next GEMM from
    // starting beside it: the NOP goes before that REQUANT (the array is drained there
    // too) unless the STORE is that REQUANT's own.
    const latest = this.compute.indexOf(this.lastRequant!);
    const rq = this.compute.lastIndexOf(store.waits[0]!, latest);
    // (inside the producer's compute stream, so it counts to the producer's layer)
    if (this.cfg.gemmBeside && !this.relayAnchor && rq >= 0 && rq < latest)
      return this.relayNop(store, store.group, latest);
    // Insert a compute NOP right after the latest REQUANT (the array is drained there, so it costs one cycle).
    const anchor = this.relayAnchor ?? this.lastRequant!;
    const nop = this.relayNop(store, group, this.compute.indexOf(anchor) + 1);
    this.relayAnchor = nop;
    return nop;
  }

  /** A compute NOP waiting for `store`, inserted before compute[at]; registered as a store waiter. */
  private relayNop(store: Node, group: number, at: number): Node {
    const nop = this.node(
      { op: 'NOP', ...flags, unit: UNIT_COMPUTE },
      'compute',
      group,
      [store],
      'wait for stored activations',
    );
    this.compute.pop();
    this.compute.splice(at, 0, nop);
    nop.waitsStore = store.storeIndex;
    // storeWaiters stays in compute order (relayFor's search then finds an early one)
    const w = this.storeWaiters;
    let k = w.length;
    while (k > 0 && this.compute.lastIndexOf(w[k - 1]!) > at) k--;
    w.splice(k, 0, nop);
    return nop;
  }

  /**
   * Where a relay NOP for `store` costs nothing: the first drained point of
   * the compute stream after the STORE's REQUANT (next to a REQUANT, never
   * between two GEMMs, which would drain the array) by which the compute
   * work since that REQUANT lasts as long as the STORE. The insertion index
   * into the compute stream, or -1 (the REQUANT is not among the recent
   * compute instructions, or no such point exists yet).
   */
  private earlyRelaySlot(store: Node): number {
    const c = this.compute;
    const rq = store.waits[0];
    const from = Math.max(0, c.length - RELAY_WINDOW);
    let idx = -1;
    for (let i = c.length - 1; i >= from; i--) {
      if (c[i] === rq) {
        idx = i;
        break;
      }
    }
    if (idx < 0) return -1;
    const m = { cfg: this.cfg, arch: deriveArch(this.cfg) };
    // a GEMM right after the REQUANT runs beside it (gemm_beside, set at finish): the
    // STORE then starts only when the REQUANT ends, while that GEMM's cycles pass
    const rqNext = c[idx + 1]?.inst;
    const beside = this.cfg.gemmBeside && rqNext !== undefined && mayStartBeside(rq!.inst, rqNext, m);
    const need = instructionTiming(store.inst, m).cycles + (beside ? instructionTiming(rq!.inst, m).cycles : 0);
    const vector = (nd: Node | undefined) => nd !== undefined && nd.inst.op !== 'GEMM';
    // with gemmBeside, not between a REQUANT and the GEMM that would start beside it
    const after = (nd: Node) => vector(nd) && !(this.cfg.gemmBeside && nd.inst.op === 'REQUANT');
    let spent = 0;
    for (let p = idx + 1; p < c.length; p++) {
      spent += roughCycles(c[p]!.inst, m);
      if (spent >= need && (after(c[p]!) || vector(c[p + 1]))) return p + 1;
    }
    return -1;
  }

  /**
   * Waits for the STOREs that wrote rows [y0, y1) of channels [c0, c1) of
   * images [b0, b0+nb) of tensor t (so a layer's first ci chunk does not wait
   * for the previous layer's last co blocks).
   */
  private dataWaits(
    t: ActTensor,
    b0: number,
    nb: number,
    y0: number,
    y1: number,
    c0: number,
    c1: number,
    group: number,
  ): Node[] {
    const ws = this.writes.get(t.id);
    if (!ws) return [];
    let latest: Node | undefined;
    for (const w of ws) {
      if (w.b0 < b0 + nb && b0 < w.b0 + w.nb && w.y0 < y1 && y0 < w.y1 && w.c0 < c1 && c0 < w.c1) {
        if (!latest || w.store.storeIndex > latest.storeIndex) latest = w.store;
      }
    }
    return latest ? [this.relayFor(latest, group)] : [];
  }

  emitOp(plan: OpPlan, opIndex: number): void {
    const op = plan.op;
    const n = this.n;
    const group = op.group;
    const consts = this.dram.constants[opIndex]!;
    const mirror = this.mirrorAcc(plan);
    for (const { tile: ti, o, acc: at = 0, chunk, run = 1 } of plan.steps) {
      const tile = plan.tiles[ti]!;
      const acc = mirror
        ? this.cfg.scratchpad.accEntries - bandAccEntries(tile, plan.owc, plan.terms[0]!.term.sh) - at
        : at;
      if (chunk === -1) {
        this.requantAndStore(plan, opIndex, tile, o, acc, run);
        continue;
      }
      let first = !chunk;
      const stepNote = plan.stacked
        ? `${op.name}: images ${tile.b0}..${tile.b0 + tile.nb - 1}, co block ${o}${chunk === undefined ? '' : `, ci chunk ${chunk}`}`
        : `${op.name}: image ${tile.b0}, rows ${tile.py0}..${tile.py1 - 1}, co block ${o}`;
      let noted = false;
      plan.terms.forEach((tp, k) => {
        const t = tp.term;
        const src = t.src;
        const tt = tile.terms[k]!;
        tp.chunks.forEach((ch, c) => {
          if (chunk !== undefined && c !== chunk) return;
          const cc = ch.c1 - ch.c0;
          const rowsPer = plan.stacked ? tile.nb * src.h : tt.inH;
          const blockLen = rowsPer * src.w;
          const planeLen = cc * blockLen;
          const wBytes = (this.cols * this.cfg.bits.weight) / 8;
          const lanes = tp.taps.lanes; // tap-packed: lanes per tap, one ci block
          tp.windows.forEach((win, v) => {
            const kh = win.y1 - win.y0;
            const kw = win.x1 - win.x0;
            const tiles = windowTiles(tp.taps, win);
            // WGT item: this window's weight tiles of the chunk's blocks
            const wKey = `w${opIndex}:${o}:${k}:${c}:${v}`;
            let w = this.wgt.lookup(wKey);
            if (!w) {
              const len = cc * tiles * n;
              const a = this.wgt.alloc(wKey, len);
              w = a.item;
              const what =
                tp.windows.length > 1 ? `, kernel rows ${win.y0}..${win.y1 - 1} cols ${win.x0}..${win.x1 - 1}` : '';
              w.ready = this.node(
                this.loadInst(BUF_WGT, w.start, consts.weightAddr(o, k, c, v), len, 1, len * wBytes),
                'load',
                group,
                a.waits,
                `${op.name}: weights co block ${o}, ci blocks ${ch.c0}..${ch.c1 - 1}${what}`,
              );
            }
            // INP item: the band of the chunk's blocks, shared by every window and co block
            const iKey = `i${opIndex}:${ti}:${k}:${c}`;
            let inp = this.inp.lookup(iKey);
            if (!inp) inp = this.loadBand(plan, tile, k, ch, iKey, planeLen, group);
            // A window starting below the top padding reads from a shifted base; the
            // shift changes in_h, hence the block pitch, so it runs one GEMM per block.
            const padTop = plan.stacked ? 0 : tt.padTop;
            const padLeft = plan.stacked ? 0 : t.pw;
            const rowShift = Math.max(0, win.y0 - padTop);
            const colShift = Math.max(0, win.x0 - padLeft);
            const inH = rowsPer - rowShift;
            if (inH < 1) return; // the window only sees rows below the map: zeros
            const perBlock = rowShift > 0;
            // one piece (the band), or the band's GEMM pieces, each after the LOAD of its rows
            const pieces = inp.rowsReady ? gemmPieces(tile, t) : [undefined];
            const firstOfStep = first;
            for (const pc of pieces) {
              const ready = pc ? inp.rowsReady!.find((r) => r.y1 >= pc.iy1)!.node : inp.ready!;
              const pcShift = pc ? (pc.iy0 - tt.iy0) * src.w : 0;
              if (pc) first = firstOfStep;
              for (let p = 0; p < tp.planes; p++) {
                const blocks = perBlock ? cc : 1;
                for (let b = 0; b < blocks; b++) {
                  const gemm: Instruction = {
                    op: 'GEMM',
                    ...flags,
                    wgt_addr: w.start + b * tiles * n,
                    inp_addr: inp.start + p * planeLen + b * blockLen + rowShift * src.w + colShift + pcShift,
                    acc_addr: acc + (pc ? pc.c0 * plan.owc : 0),
                    in_h: pc ? pc.inH : inH,
                    in_w: src.w,
                    out_h: pc
                      ? pc.c1 - pc.c0
                      : plan.stacked
                        ? tile.nb
                        : tile.stackPitch
                          ? ((tile.nb - 1) * tile.stackPitch) / t.sh + tile.convRows
                          : tile.convRows,
                    out_w: plan.stacked ? 1 : plan.owc,
                    kernel_h: kh,
                    kernel_w: kw,
                    stride_h: plan.stacked ? (tile.nb > 1 ? src.h : 1) : t.sh,
                    stride_w: plan.stacked ? 1 : t.sw,
                    pad_top: Math.max(0, (pc ? pc.padTop : padTop) - win.y0),
                    pad_left: Math.max(0, padLeft - win.x0),
                    ci_blocks: lanes || (perBlock ? 1 : cc),
                    accumulate: first ? 0 : 1,
                    act_signed: src.signed ? 1 : 0,
                    pshift: 4 * p,
                    taps: lanes ? 1 : 0,
                    nibble_lanes: tp.taps.nibbleLanes ? 1 : 0,
                  };
                  const g = this.node(gemm, 'compute', group, [w.ready!, ready], noted ? undefined : stepNote);
                  noted = true;
                  w.lastUser = g;
                  inp.lastUser = g;
                  first = false;
                }
              }
            }
          });
        });
      });
      if (chunk === undefined) this.requantAndStore(plan, opIndex, tile, o, acc);
    }
  }

  /**
   * DRAM byte of pixel `px` of INP block `cb` (channels cb*R ..) in the image plane at `base`:
   * its L-lane DRAM entry, then the block's part of that entry.
   */
  private blockPixel(src: ActTensor, base: number, cb: number, px: number): number {
    const ch = cb * this.n;
    const entry = Math.floor(ch / this.lanes) * src.h * src.w + px;
    return base + entry * this.eb + (ch % this.lanes) * (this.inpBytes / this.n);
  }

  /** One LOAD of `count` consecutive pixels of INP block `cb` into INP from `sram` on. */
  private pixelRun(sram: number, src: ActTensor, base: number, cb: number, px: number, count: number): Instruction {
    const at = this.blockPixel(src, base, cb, px);
    // a DRAM entry wider than an INP entry: one row per pixel, pixels one DRAM entry apart
    return this.lanes === this.n
      ? this.loadInst(BUF_INP, sram, at, count, 1, count * this.inpBytes)
      : this.loadInst(BUF_INP, sram, at, 1, count, this.eb);
  }

  /** Allocate and load the INP item of one band and ci chunk (both nibble planes). */
  private loadBand(
    plan: OpPlan,
    tile: Tile,
    k: number,
    ch: { c0: number; c1: number },
    key: string,
    planeLen: number,
    group: number,
  ): Item {
    const n = this.n;
    const eb = this.eb;
    const tp = plan.terms[k]!;
    const src = tp.term.src;
    const tt = tile.terms[k]!;
    const cc = ch.c1 - ch.c0;
    const a = this.inp.alloc(key, planeLen * tp.planes + tp.inpSlack);
    const inp = a.item;
    const pieces = plan.stacked || tile.stackPitch || cc > 1 ? [] : this.rowPieces(src, tile.b0, tt, ch);
    if (pieces.length > 1) {
      this.loadBandPieces(plan, tile, k, ch, inp, a.waits, pieces);
      return inp;
    }
    const waits = [
      ...a.waits,
      ...this.dataWaits(
        src,
        tile.b0,
        tile.nb,
        plan.stacked ? 0 : tt.iy0,
        plan.stacked ? src.h : tt.iy0 + tt.inH,
        ch.c0 * this.n,
        ch.c1 * this.n,
        group,
      ),
    ];
    const planeBytes = Math.ceil(src.c / this.lanes) * src.h * src.w * eb;
    if (tile.gemmRows && !plan.stacked && !tile.stackPitch && cc === 1) {
      this.loadGemmPieces(plan, tile, k, ch, inp, waits, planeLen, planeBytes);
      return inp;
    }
    const hw = src.h * src.w;
    const note = `${plan.op.name}: input ${src.name} ci blocks ${ch.c0}..${ch.c1 - 1}`;
    const load = (inst: Instruction, what = note) => {
      // a tap-packed term's GEMM reads lane j*g + l of each entry: LOAD replicates the g channels
      if (inst.op === 'LOAD' && tp.taps.lanes) inst.replicate = tp.taps.lanes;
      inp.ready = this.node(inst, 'load', group, waits, what);
    };
    for (let p = 0; p < tp.planes; p++) {
      const base = src.dramAddr + tile.b0 * src.imageStrideBytes + p * planeBytes;
      const sram = inp.start + p * planeLen;
      if (tile.stackPitch) {
        // conv image stack: per block, each image's rows then zero rows up to the pitch
        const pitch = tile.stackPitch;
        const blockLen = tt.inH * src.w;
        for (let cb = ch.c0; cb < ch.c1; cb++) {
          for (let i = 0; i < tile.nb; i++) {
            const at = sram + (cb - ch.c0) * blockLen + i * pitch * src.w;
            load(this.pixelRun(at, src, base + i * src.imageStrideBytes, cb, 0, hw));
            if (i + 1 < tile.nb && pitch > src.h) {
              const len = (pitch - src.h) * src.w;
              load(
                this.loadInst(BUF_INP, at + hw, this.dram.zerosAddr, len, 1, len * this.inpBytes),
                'zero rows between stacked images',
              );
            }
          }
        }
      } else if (plan.stacked && tile.nb > 1) {
        for (let cb = ch.c0; cb < ch.c1; cb++) {
          const at = sram + (cb - ch.c0) * tile.nb * hw;
          if (this.lanes === n) {
            // one row per image, images one stride apart
            load(this.loadInst(BUF_INP, at, this.blockPixel(src, base, cb, 0), hw, tile.nb, src.imageStrideBytes));
          } else {
            for (let i = 0; i < tile.nb; i++)
              load(this.pixelRun(at + i * hw, src, base + i * src.imageStrideBytes, cb, 0, hw));
          }
        }
      } else if (this.lanes === n) {
        // one row per block, blocks one map apart in DRAM
        const at = this.blockPixel(src, base, ch.c0, tt.iy0 * src.w);
        load(this.loadInst(BUF_INP, sram, at, tt.inH * src.w, cc, hw * eb));
      } else {
        for (let cb = ch.c0; cb < ch.c1; cb++) {
          load(this.pixelRun(sram + (cb - ch.c0) * tt.inH * src.w, src, base, cb, tt.iy0 * src.w, tt.inH * src.w));
        }
      }
    }
    return inp;
  }

  /**
   * The INP item of a band whose GEMMs run in pieces (Tile.gemmRows): one
   * LOAD per piece of the input rows it reads first, so the first piece's
   * GEMMs wait for only its own rows (item.rowsReady).
   */
  private loadGemmPieces(
    plan: OpPlan,
    tile: Tile,
    k: number,
    ch: { c0: number; c1: number },
    inp: Item,
    waits: Node[],
    planeLen: number,
    planeBytes: number,
  ): void {
    const tp = plan.terms[k]!;
    const src = tp.term.src;
    const tt = tile.terms[k]!;
    const rowsReady: { y1: number; node: Node }[] = [];
    let y0 = tt.iy0;
    for (const piece of gemmPieces(tile, tp.term)) {
      if (piece.iy1 <= y0) continue;
      for (let p = 0; p < tp.planes; p++) {
        const base = src.dramAddr + tile.b0 * src.imageStrideBytes + p * planeBytes;
        const inst = this.pixelRun(
          inp.start + p * planeLen + (y0 - tt.iy0) * src.w,
          src,
          base,
          ch.c0,
          y0 * src.w,
          (piece.iy1 - y0) * src.w,
        );
        if (inst.op === 'LOAD' && tp.taps.lanes) inst.replicate = tp.taps.lanes;
        inp.ready = this.node(
          inst,
          'load',
          plan.op.group,
          waits,
          `${plan.op.name}: input ${src.name} rows ${y0}..${piece.iy1 - 1}`,
        );
      }
      rowsReady.push({ y1: piece.iy1, node: inp.ready! });
      y0 = piece.iy1;
    }
    inp.rowsReady = rowsReady;
  }

  /**
   * A band's input rows cut by the STOREs that wrote them (one ci block,
   * one image): when the band's last rows come from one of the latest
   * STOREs, the rows written earlier load in their own LOAD, which waits
   * only for their STOREs, so the LOAD that waits for the previous layer's
   * last STORE is short. Runs of rows with the same latest STORE, all but the
   * last two merged; [] when nothing is gained.
   */
  private rowPieces(src: ActTensor, b0: number, tt: TermTile, ch: { c0: number; c1: number }): RowPiece[] {
    const ws = this.writes.get(src.id);
    if (!ws) return [];
    const c0 = ch.c0 * this.n;
    const c1 = ch.c1 * this.n;
    const runs: RowPiece[] = [];
    for (let y = tt.iy0; y < tt.iy0 + tt.inH; y++) {
      let latest: Node | undefined;
      for (const w of ws) {
        if (w.b0 <= b0 && b0 < w.b0 + w.nb && w.y0 <= y && y < w.y1 && w.c0 < c1 && c0 < w.c1) {
          if (!latest || w.store.storeIndex > latest.storeIndex) latest = w.store;
        }
      }
      const last = runs[runs.length - 1];
      if (last && last.store === latest) last.y1 = y + 1;
      else runs.push({ y0: y, y1: y + 1, store: latest });
    }
    const tail = runs[runs.length - 1]!.store;
    if (runs.length < 2 || !tail || tail.storeIndex < this.store.length - RECENT_STORES) return [];
    while (runs.length > 3) {
      const [a, b] = runs.splice(0, 2) as [RowPiece, RowPiece];
      const later = !a.store || (b.store && b.store.storeIndex > a.store.storeIndex) ? b.store : a.store;
      runs.unshift({ y0: a.y0, y1: b.y1, store: later });
    }
    return runs;
  }

  /** The INP item of one band and ci block loaded piece by piece (rowPieces), each piece after its STOREs. */
  private loadBandPieces(
    plan: OpPlan,
    tile: Tile,
    k: number,
    ch: { c0: number; c1: number },
    inp: Item,
    slotWaits: Node[],
    pieces: RowPiece[],
  ): void {
    const group = plan.op.group;
    const tp = plan.terms[k]!;
    const src = tp.term.src;
    const tt = tile.terms[k]!;
    const note = `${plan.op.name}: input ${src.name} ci block ${ch.c0}`;
    const planeLen = tt.inH * src.w;
    const planeBytes = Math.ceil(src.c / this.lanes) * src.h * src.w * this.eb;
    for (let p = 0; p < tp.planes; p++) {
      const base = src.dramAddr + tile.b0 * src.imageStrideBytes + p * planeBytes;
      for (const pc of pieces) {
        const waits = [...slotWaits, ...(pc.store ? [this.relayFor(pc.store, group)] : [])];
        const inst = this.pixelRun(
          inp.start + p * planeLen + (pc.y0 - tt.iy0) * src.w,
          src,
          base,
          ch.c0,
          pc.y0 * src.w,
          (pc.y1 - pc.y0) * src.w,
        );
        if (inst.op === 'LOAD' && tp.taps.lanes) inst.replicate = tp.taps.lanes;
        inp.ready = this.node(inst, 'load', group, waits, `${note}, rows ${pc.y0}..${pc.y1 - 1}`);
      }
    }
  }

  /** REQUANT and STORE of co block o (and, with run > 1, of the run's next co blocks, one STORE). */
  private requantAndStore(plan: OpPlan, opIndex: number, tile: Tile, o: number, acc: number, run = 1): void {
    const op = plan.op;
    const group = op.group;
    const consts = this.dram.constants[opIndex]!;
    const pc = Math.floor(o / plan.paramChunk);
    const pKey = `p${opIndex}:${pc}`;
    let prm = this.param.lookup(pKey);
    if (!prm) {
      const c0 = pc * plan.paramChunk;
      const len = Math.min(plan.paramChunk, plan.coBlocks - c0);
      const a = this.param.alloc(pKey, len);
      prm = a.item;
      prm.ready = this.node(
        this.loadInst(BUF_PARAM, prm.start, consts.paramAddr(c0), len, 1, len * deriveArch(this.cfg).paramEntryBytes),
        'load',
        group,
        a.waits,
        `${op.name}: bias/shift co blocks ${c0}..${c0 + len - 1}`,
      );
    }
    // A conv image stack is requantized and stored image by image.
    const images = tile.stackPitch ? tile.nb : 1;
    for (let i = 0; i < images; i++) {
      const b0 = tile.b0 + i;
      const nb = tile.stackPitch ? 1 : tile.nb;
      const accAddr = acc + (tile.stackPitch ? ((i * tile.stackPitch) / plan.terms[0]!.term.sh) * plan.owc : 0);
      this.requantStore(plan, tile, o, prm, pc, b0, nb, accAddr, run);
    }
  }

  private requantStore(
    plan: OpPlan,
    tile: Tile,
    o: number,
    prm: Item,
    pc: number,
    b0: number,
    nb: number,
    accAddr: number,
    run: number,
  ): void {
    const op = plan.op;
    const group = op.group;
    const outH = plan.stacked ? nb : tile.py1 - tile.py0;
    const outW = plan.stacked ? 1 : op.pow;
    const a = this.out.alloc(`o${this.store.length}`, outH * outW * run);
    // REQUANT r also waits for STORE r-2 (normally long done): it then relays that
    // STORE's completion to any later LOAD of the stored rows at no cost.
    const storeWaits = [...a.waits];
    const lagging = this.store[this.store.length - 2];
    if (lagging) storeWaits.push(lagging);
    let rqNode: Node | undefined;
    // a run of dense co blocks (one image): consecutive ACC, OUT and DRAM entries
    for (let j = 0; j < run; j++)
      rqNode = this.requantNode(
        plan,
        tile,
        o + j,
        prm,
        pc,
        nb,
        accAddr + j * nb,
        a.item.start + j * outH * outW,
        j ? [] : storeWaits,
      );
    const eb = this.eb;
    const dst = op.dst;
    // co block o (channels o*C ..) is DRAM entry block floor(o*C / L), at its part of the entry
    const ch = o * this.cols;
    const at = (px: number) =>
      dst.dramAddr +
      b0 * dst.imageStrideBytes +
      (Math.floor(ch / this.lanes) * op.poh * op.pow + px) * eb +
      (ch % this.lanes) * (this.outBytes / this.cols);
    const store = (x: number, y: number, stride: number): Instruction => ({
      op: 'STORE',
      ...flags,
      sram_addr: a.item.start,
      dram_addr: at(plan.stacked ? 0 : tile.py0 * op.pow),
      x_count: x,
      y_count: y,
      dram_stride: stride,
    });
    const px = outH * outW;
    // a DRAM entry wider than an OUT entry (rows > cols): one row per pixel, one DRAM entry apart
    const st = plan.stacked
      ? run > 1
        ? store(run, 1, run * eb)
        : store(1, nb, dst.imageStrideBytes)
      : this.lanes === this.cols
        ? store(px, 1, px * eb)
        : store(1, px, eb);
    const stNode = this.node(st, 'store', group, [rqNode!]);
    a.item.lastUser = stNode;
    const list = this.writes.get(dst.id) ?? [];
    list.push({
      b0,
      nb,
      y0: plan.stacked ? 0 : tile.py0,
      y1: plan.stacked ? 1 : tile.py1,
      c0: ch,
      c1: ch + run * this.cols,
      store: stNode,
    });
    this.writes.set(dst.id, list);
  }

  /**
   * Whether an op's ACC tiles, which alternate between the bottom and the top of
   * ACC (tiling.ts alternateAcc, always starting at the bottom), are mirrored: when
   * its first tile overlaps the ACC entries of the previous op's last REQUANT and
   * the mirrored one does not, so that its first GEMM can start beside that
   * REQUANT too (REQUANT gemm_beside, set in besideRequants).
   */
  private mirrorAcc(plan: OpPlan): boolean {
    const rq = this.lastRequant?.inst;
    const step = plan.steps[0];
    if (!this.cfg.gemmBeside || plan.coGroup !== 1 || plan.stacked || !step || rq?.op !== 'REQUANT') return false;
    const len = bandAccEntries(plan.tiles[step.tile]!, plan.owc, plan.terms[0]!.term.sh);
    const at = step.acc ?? 0;
    const free = (lo: number) => lo >= rq.acc_addr + rq.in_h * rq.in_w || lo + len <= rq.acc_addr;
    return !free(at) && free(this.cfg.scratchpad.accEntries - len - at);
  }

  /** The REQUANT of co block o from ACC `accAddr` into OUT `outAddr`; it also waits for `storeWaits`. */
  private requantNode(
    plan: OpPlan,
    tile: Tile,
    o: number,
    prm: Item,
    pc: number,
    nb: number,
    accAddr: number,
    outAddr: number,
    storeWaits: Node[],
  ): Node {
    const op = plan.op;
    const rq: Instruction = {
      op: 'REQUANT',
      ...flags,
      acc_addr: accAddr,
      out_addr: outAddr,
      param_addr: prm.start + (o - pc * plan.paramChunk),
      in_h: plan.stacked ? nb : tile.convRows,
      in_w: plan.stacked ? 1 : plan.owc,
      out_h: plan.stacked ? nb : tile.py1 - tile.py0,
      out_w: plan.stacked ? 1 : op.pow,
      pool_k: op.poolK,
      pool_s: op.poolS,
      out_signed: op.outSigned ? 1 : 0,
      clamp_bits: op.outBits,
      gemm_beside: 0,
    };
    const rqNode = this.node(rq, 'compute', op.group, [prm.ready!, ...storeWaits]);
    if (storeWaits.length) {
      rqNode.waitsStore = Math.max(...storeWaits.map((w) => w.storeIndex));
      this.storeWaiters.push(rqNode);
    }
    prm.lastUser = rqNode;
    this.lastRequant = rqNode;
    this.relayAnchor = undefined;
    return rqNode;
  }

  /**
   * Start and end of every instruction in the simulator's timing model
   * (sim/timing.ts), each unit's stream in order, an instruction ready when
   * the instructions it waits for have ended. Fetch is left out: the program
   * order is what this decides.
   *
   * The load stream is ordered here (prefetch): when the next LOAD must wait
   * (typically for activations the previous layer is still computing), a
   * later weight or parameter LOAD that can end before it could start goes
   * first. That never delays any other LOAD, and it is safe: its waits (the
   * readers of what it overwrites) have already been placed, and it does not
   * overlap the scratchpad range of any LOAD it passes.
   */
  private estimate(): void {
    const m = { cfg: this.cfg, arch: deriveArch(this.cfg) };
    const timeline = new UnitTimeline(m.arch);
    const ready = (nd: Node) => nd.waits.every((w) => w.end >= 0);
    const waitEnd = (nd: Node) => nd.waits.reduce((t, w) => Math.max(t, w.end), 0);
    const place = (nd: Node) => {
      timeline.placeInstruction(nd.inst, m, waitEnd(nd));
      nd.start = timeline.start;
      nd.end = timeline.end;
    };
    const seqs = { compute: this.compute, store: this.store };
    const ptr = { compute: 0, store: 0 };
    const loads = this.load;
    const order: Node[] = [];
    let head = 0;
    let loadFree = 0;
    let remaining = loads.length + this.compute.length + this.store.length;
    while (remaining > 0) {
      let progress = false;
      for (const u of ['compute', 'store'] as const) {
        const seq = seqs[u];
        while (ptr[u] < seq.length && ready(seq[ptr[u]]!)) {
          place(seq[ptr[u]++]!);
          remaining--;
          progress = true;
        }
      }
      while (head < loads.length && loads[head]!.end >= 0) head++;
      const h = loads[head];
      if (h && ready(h)) {
        const nd = this.prefetch(head, Math.max(loadFree, waitEnd(h)), loadFree, m) ?? h;
        place(nd);
        loadFree = nd.end;
        order.push(nd);
        remaining--;
        progress = true;
      }
      if (!progress) throw new Error('internal: compiler schedule deadlocks');
    }
    loads.splice(0, loads.length, ...order);
  }

  /**
   * A weight or parameter LOAD after loads[head] that is ready and ends by
   * `by` when started at `free` or later, and overlaps no scratchpad range of
   * the unplaced LOADs before it; undefined if none within a short window.
   */
  private prefetch(head: number, by: number, free: number, m: Machine): Node | undefined {
    const loads = this.load;
    const limit = Math.min(loads.length, head + PREFETCH_WINDOW);
    // loads[head] is unplaced and never a candidate: the loads passed are the unplaced ones from head on.
    // No arrays per call: this runs once per LOAD placed, over up to PREFETCH_WINDOW loads each.
    for (let i = head + 1; i < limit; i++) {
      const nd = loads[i]!;
      const inst = nd.inst;
      if (nd.end >= 0 || inst.op !== 'LOAD' || (inst.buf !== BUF_WGT && inst.buf !== BUF_PARAM)) continue;
      let start = free;
      let ready = true;
      for (const w of nd.waits) {
        if (w.end < 0) {
          ready = false;
          break;
        }
        if (w.end > start) start = w.end;
      }
      if (ready && start + instructionTiming(inst, m).cycles <= by && !overlapsUnplaced(loads, head, i, inst))
        return nd;
    }
    return undefined;
  }

  /**
   * gemm_beside on each REQUANT right before a GEMM in the compute stream
   * whose ACC entries that GEMM does not touch: it starts while the REQUANT drains
   * (docs/architecture.md 7.3).
   */
  private besideRequants(): void {
    const m = { cfg: this.cfg, arch: deriveArch(this.cfg) };
    const c = this.compute;
    for (let i = 1; i < c.length; i++) {
      const g = c[i]!.inst;
      const rq = c[i - 1]!.inst;
      if (rq.op === 'REQUANT' && mayStartBeside(rq, g, m)) rq.gemm_beside = 1;
    }
  }

  /** Token flags from waits; program order from estimated start times. */
  finish(): Scheduled {
    const seqs: Record<Unit, Node[]> = { load: this.load, compute: this.compute, store: this.store };
    if (this.cfg.gemmBeside) this.besideRequants();
    this.estimate();
    for (const u of ['load', 'compute', 'store'] as const) seqs[u].forEach((nd, i) => (nd.pos = i));
    const pop = (nd: Node, prodUnit: Unit): 'pop_prev' | 'pop_next' => {
      if (nd.unit === 'compute') return prodUnit === 'load' ? 'pop_prev' : 'pop_next';
      return nd.unit === 'load' ? 'pop_next' : 'pop_prev';
    };
    const push = (prod: Node, consUnit: Unit): 'push_prev' | 'push_next' => {
      if (prod.unit === 'compute') return consUnit === 'load' ? 'push_prev' : 'push_next';
      return prod.unit === 'load' ? 'push_next' : 'push_prev';
    };
    for (const u of ['load', 'compute', 'store'] as const) {
      const lastPopped: Partial<Record<Unit, number>> = {};
      for (const nd of seqs[u]) {
        const best: Partial<Record<Unit, Node>> = {};
        for (const w of nd.waits) {
          if (w.unit === u) continue;
          const b = best[w.unit];
          if (!b || w.pos > b.pos) best[w.unit] = w;
        }
        for (const pu of ['load', 'compute', 'store'] as const) {
          const p = best[pu];
          if (!p) continue;
          if (p.pos <= (lastPopped[pu] ?? -1)) continue;
          (nd.inst as unknown as Record<string, number>)[pop(nd, pu)] = 1;
          (p.inst as unknown as Record<string, number>)[push(p, u)] = 1;
          lastPopped[pu] = p.pos;
        }
      }
    }
    const all = [...this.load, ...this.compute, ...this.store];
    const rank: Record<Unit, number> = { load: 0, compute: 1, store: 2 };
    all.sort((a, b) => a.start - b.start || rank[a.unit] - rank[b.unit] || a.pos - b.pos);
    const code = all.map((nd) => nd.inst);
    code.push({ op: 'HALT', ...flags });
    return {
      code,
      groupOf: [...all.map((nd) => nd.group), -1],
      notes: [...all.map((nd) => nd.note), undefined],
      isCompute: [...all.map((nd) => nd.unit === 'compute'), false],
    };
  }
}
