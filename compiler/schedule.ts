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
  UNITS,
  UNIT_COMPUTE,
  type Instruction,
  type Unit,
} from '../isa/index.js';
import { UnitTimeline } from '../sim/index.js';
import type { ActTensor } from './lower.js';
import type { DramPlan } from './dram.js';
import { windowTiles, type OpPlan, type Tile } from './tiling.js';

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

interface Item {
  key: string;
  start: number;
  len: number;
  valid: boolean;
  /** last instruction that reads the item */
  lastUser?: Node;
  /** last LOAD that fills it */
  ready?: Node;
}

class Ring {
  private ptr = 0;
  private items: Item[] = [];
  private byKey = new Map<string, Item>();
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
    const start = this.ptr;
    const end = start + len;
    const waits: Node[] = [];
    const keep: Item[] = [];
    for (const it of this.items) {
      if (it.start < end && start < it.start + it.len) {
        it.valid = false;
        if (it.lastUser) waits.push(it.lastUser);
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

interface TensorWrite {
  b0: number;
  nb: number;
  y0: number;
  y1: number;
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

  /** The compute instruction a LOAD of data stored by `store` must wait for. */
  private relayFor(store: Node, group: number): Node {
    const w = this.storeWaiters;
    let lo = 0;
    let hi = w.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (w[mid]!.waitsStore >= store.storeIndex) hi = mid;
      else lo = mid + 1;
    }
    if (lo < w.length) return w[lo]!;
    // Insert a compute NOP right after the latest REQUANT (the array is drained there, so it costs one cycle).
    const nop = this.node(
      { op: 'NOP', ...flags, unit: UNIT_COMPUTE },
      'compute',
      group,
      [store],
      'wait for stored activations',
    );
    this.compute.pop();
    const anchor = this.relayAnchor ?? this.lastRequant!;
    const at = this.compute.indexOf(anchor);
    this.compute.splice(at + 1, 0, nop);
    nop.waitsStore = store.storeIndex;
    this.storeWaiters.push(nop);
    this.relayAnchor = nop;
    return nop;
  }

  /** Waits for the STOREs that wrote rows [y0, y1) of images [b0, b0+nb) of tensor t. */
  private dataWaits(t: ActTensor, b0: number, nb: number, y0: number, y1: number, group: number): Node[] {
    const ws = this.writes.get(t.id);
    if (!ws) return [];
    let latest: Node | undefined;
    for (const w of ws) {
      if (w.b0 < b0 + nb && b0 < w.b0 + w.nb && w.y0 < y1 && y0 < w.y1) {
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
    for (const { tile: ti, o } of plan.steps) {
      const tile = plan.tiles[ti]!;
      let first = true;
      const stepNote = plan.stacked
        ? `${op.name}: images ${tile.b0}..${tile.b0 + tile.nb - 1}, co block ${o}`
        : `${op.name}: image ${tile.b0}, rows ${tile.py0}..${tile.py1 - 1}, co block ${o}`;
      let noted = false;
      plan.terms.forEach((tp, k) => {
        const t = tp.term;
        const src = t.src;
        const tt = tile.terms[k]!;
        tp.chunks.forEach((ch, c) => {
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
            for (let p = 0; p < tp.planes; p++) {
              const blocks = perBlock ? cc : 1;
              for (let b = 0; b < blocks; b++) {
                const gemm: Instruction = {
                  op: 'GEMM',
                  ...flags,
                  wgt_addr: w.start + b * tiles * n,
                  inp_addr: inp.start + p * planeLen + b * blockLen + rowShift * src.w + colShift,
                  acc_addr: 0,
                  in_h: inH,
                  in_w: src.w,
                  out_h: plan.stacked
                    ? tile.nb
                    : tile.stackPitch
                      ? ((tile.nb - 1) * tile.stackPitch) / t.sh + tile.convRows
                      : tile.convRows,
                  out_w: plan.stacked ? 1 : plan.owc,
                  kernel_h: kh,
                  kernel_w: kw,
                  stride_h: plan.stacked ? (tile.nb > 1 ? src.h : 1) : t.sh,
                  stride_w: plan.stacked ? 1 : t.sw,
                  pad_top: Math.max(0, padTop - win.y0),
                  pad_left: Math.max(0, padLeft - win.x0),
                  ci_blocks: lanes || (perBlock ? 1 : cc),
                  accumulate: first ? 0 : 1,
                  act_signed: src.signed ? 1 : 0,
                  pshift: 4 * p,
                  taps: lanes ? 1 : 0,
                  nibble_lanes: tp.taps.nibbleLanes ? 1 : 0,
                };
                const g = this.node(gemm, 'compute', group, [w.ready!, inp.ready!], noted ? undefined : stepNote);
                noted = true;
                w.lastUser = g;
                inp.lastUser = g;
                first = false;
              }
            }
          });
        });
      });
      this.requantAndStore(plan, opIndex, tile, o);
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
    const waits = [
      ...a.waits,
      ...this.dataWaits(
        src,
        tile.b0,
        tile.nb,
        plan.stacked ? 0 : tt.iy0,
        plan.stacked ? src.h : tt.iy0 + tt.inH,
        group,
      ),
    ];
    const planeBytes = Math.ceil(src.c / this.lanes) * src.h * src.w * eb;
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

  private requantAndStore(plan: OpPlan, opIndex: number, tile: Tile, o: number): void {
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
      const accAddr = tile.stackPitch ? ((i * tile.stackPitch) / plan.terms[0]!.term.sh) * plan.owc : 0;
      this.requantStore(plan, tile, o, prm, pc, b0, nb, accAddr);
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
  ): void {
    const op = plan.op;
    const group = op.group;
    const outH = plan.stacked ? nb : tile.py1 - tile.py0;
    const outW = plan.stacked ? 1 : op.pow;
    const a = this.out.alloc(`o${this.store.length}`, outH * outW);
    const rq: Instruction = {
      op: 'REQUANT',
      ...flags,
      acc_addr: accAddr,
      out_addr: a.item.start,
      param_addr: prm.start + (o - pc * plan.paramChunk),
      in_h: plan.stacked ? nb : tile.convRows,
      in_w: plan.stacked ? 1 : plan.owc,
      out_h: outH,
      out_w: outW,
      pool_k: op.poolK,
      pool_s: op.poolS,
      out_signed: op.outSigned ? 1 : 0,
      clamp_bits: op.outBits,
    };
    // REQUANT r also waits for STORE r-2 (normally long done): it then relays that
    // STORE's completion to any later LOAD of the stored rows at no cost.
    const storeWaits = [...a.waits];
    const lagging = this.store[this.store.length - 2];
    if (lagging) storeWaits.push(lagging);
    const rqNode = this.node(rq, 'compute', group, [prm.ready!, ...storeWaits]);
    if (storeWaits.length) {
      rqNode.waitsStore = Math.max(...storeWaits.map((w) => w.storeIndex));
      this.storeWaiters.push(rqNode);
    }
    prm.lastUser = rqNode;
    this.lastRequant = rqNode;
    this.relayAnchor = undefined;
    const dst = op.dst;
    const eb = this.eb;
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
      ? store(1, nb, dst.imageStrideBytes)
      : this.lanes === this.cols
        ? store(px, 1, px * eb)
        : store(1, px, eb);
    const stNode = this.node(st, 'store', group, [rqNode]);
    a.item.lastUser = stNode;
    const list = this.writes.get(dst.id) ?? [];
    list.push({ b0, nb, y0: plan.stacked ? 0 : tile.py0, y1: plan.stacked ? 1 : tile.py1, store: stNode });
    this.writes.set(dst.id, list);
  }

  /**
   * Start and end of every instruction in the simulator's timing model
   * (sim/timing.ts), each unit's stream in order, an instruction ready when
   * the instructions it waits for have ended. Fetch is left out: the program
   * order is what this decides.
   */
  private estimate(): void {
    const m = { cfg: this.cfg, arch: deriveArch(this.cfg) };
    const timeline = new UnitTimeline(m.arch);
    const seqs: Record<Unit, Node[]> = { load: this.load, compute: this.compute, store: this.store };
    const ptr: Record<Unit, number> = { load: 0, compute: 0, store: 0 };
    const ready = (nd: Node) => nd.waits.every((w) => w.end >= 0);
    let remaining = this.load.length + this.compute.length + this.store.length;
    while (remaining > 0) {
      let progress = false;
      for (const u of UNITS) {
        const seq = seqs[u];
        while (ptr[u] < seq.length && ready(seq[ptr[u]]!)) {
          const nd = seq[ptr[u]!]!;
          timeline.placeInstruction(
            nd.inst,
            m,
            nd.waits.reduce((t, w) => Math.max(t, w.end), 0),
          );
          nd.start = timeline.start;
          nd.end = timeline.end;
          ptr[u]++;
          remaining--;
          progress = true;
        }
      }
      if (!progress) throw new Error('internal: compiler schedule deadlocks');
    }
  }

  /** Token flags from waits; program order from estimated start times. */
  finish(): Scheduled {
    const seqs: Record<Unit, Node[]> = { load: this.load, compute: this.compute, store: this.store };
    for (const u of ['load', 'compute', 'store'] as const) seqs[u].forEach((nd, i) => (nd.pos = i));
    this.estimate();
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
