/**
 * Tiling: how one ConvOp is cut to fit the scratchpads.
 *
 * Spatial tiles are bands of final (pooled) output rows over the full width;
 * for a dense op (1x1 output) a tile is a group of images stacked vertically
 * in INP. Input channels are cut into chunks of ci blocks: a chunk's weight
 * tiles (chunk * kh * kw tiles of N entries) are one WGT item, its input band
 * (chunk * planes * in_h * W entries) one INP item. Items are sized to half a
 * scratchpad when possible so the next one loads while this one computes.
 */
import { deriveArch, type ArchConfig } from '../arch/index.js';
import { CompileError } from '../arch/index.js';
import { BUF_INP, BUF_PARAM, NO_FLAGS, type Instruction } from '../isa/index.js';
import { UnitTimeline, instructionTiming } from '../sim/index.js';
import { ISA_LIMITS, viewTensor, type ConvOp, type ConvTerm } from './conv-op.js';

/** Kernel taps [y0, y1) x [x0, x1) computed by one GEMM. */
export interface KernelWindow {
  y0: number;
  y1: number;
  x0: number;
  x1: number;
}

/**
 * How a term's GEMMs put taps on the array rows (docs/compiler.md "Tap
 * packing"): `lanes` = 0, one tap per pass per ci block; `lanes` = g (the
 * term's input channels, 1 .. R/2), tap-packed: floor(R/g) taps per pass,
 * INP loaded with LOAD replicate = g (docs/architecture.md 7.6). An input in
 * the 'nibble-lanes' layout has two lanes per channel (g = 2 x channels,
 * GEMM nibble_lanes = 1).
 */
export interface TapPacking {
  lanes: number;
  /** taps per pass (1 when not packed) */
  perPass: number;
  nibbleLanes: boolean;
}

const UNPACKED: TapPacking = { lanes: 0, perPass: 1, nibbleLanes: false };

/** The tap packing of g lanes per tap on `rows` rows. */
function tapPacking(g: number, rows: number, nibbleLanes: boolean): TapPacking {
  return { lanes: g, perPass: Math.floor(rows / g), nibbleLanes };
}

/** Weight tiles (passes) of one ci block of a kernel window. */
export function windowTiles(taps: TapPacking, w: KernelWindow): number {
  return Math.ceil(((w.y1 - w.y0) * (w.x1 - w.x0)) / taps.perPass);
}

export interface TermPlan {
  term: ConvTerm;
  windows: KernelWindow[];
  taps: TapPacking;
  planes: number;
  ciBlocks: number;
  /** ci blocks per chunk (the last chunk may be smaller) */
  chunk: number;
  chunks: { c0: number; c1: number }[];
  /**
   * INP entries past each band item a GEMM's tile may reach: a kernel window
   * starting at column x0 > 0 reads from base + x0 with the map's row pitch,
   * so its in_h x in_w tile ends x0 entries past the band (dense ops that
   * keep the map's own rows; 0 otherwise)
   */
  inpSlack: number;
}

export interface TermTile {
  /** first input row loaded (per image) */
  iy0: number;
  /** rows loaded */
  inH: number;
  padTop: number;
}

/** One GEMM piece of a band (gemmPieces): conv rows [c0, c1) of the band, input rows [iy0, iy1). */
export interface GemmPiece extends TermTile {
  iy1: number;
  c0: number;
  c1: number;
}

export interface Tile {
  /** first image and image count */
  b0: number;
  nb: number;
  /** pooled output rows [py0, py1) */
  py0: number;
  py1: number;
  /** conv rows computed [cy0, cy0 + convRows) */
  cy0: number;
  convRows: number;
  terms: TermTile[];
  /**
   * Conv image stack (nb > 1, small maps): INP rows per image, i.e. the H map
   * rows then zero rows that pad between images. Stacked output row
   * i * stackPitch / stride + y is row y of image b0 + i.
   */
  stackPitch?: number;
  /**
   * Conv-row boundaries (relative to cy0) at which a band's GEMMs are cut,
   * each piece's GEMMs after the LOAD of only its own input rows: the first
   * band of a tap-packed op, whose GEMMs then start after the load of one
   * row instead of the whole band (GEMMs follow each other without a
   * drain, so the pieces cost no array time). Absent: one GEMM per pass set.
   */
  gemmRows?: number[];
}

/**
 * One step of an op: the GEMMs of (tile, co block o) into ACC from `acc`,
 * then its REQUANT and STORE. A dense op whose co blocks share ACC (OpPlan
 * coGroup > 1) splits that: steps with `chunk` run only that ci chunk's GEMMs
 * (accumulating when chunk > 0) and no REQUANT; the co blocks' REQUANT steps
 * (`chunk` -1) follow the last chunk.
 */
export interface OpStep {
  tile: number;
  o: number;
  /** ACC entry of the step's tile (0 unless co blocks share ACC) */
  acc?: number;
  /** only this ci chunk's GEMMs, no REQUANT; -1: only the REQUANT and STORE */
  chunk?: number;
  /** with chunk -1: REQUANT co blocks o .. o+run-1 (one image: consecutive entries), one STORE */
  run?: number;
}

export interface OpPlan {
  op: ConvOp;
  coBlocks: number;
  terms: TermPlan[];
  /** conv columns computed (pool windows only) */
  owc: number;
  tiles: Tile[];
  /** images stacked per GEMM (dense ops) */
  stacked: boolean;
  /** (tile, co block) steps in execution order */
  steps: OpStep[];
  /** co blocks per PARAM item */
  paramChunk: number;
  /** co blocks whose ACC tiles are resident together (dense ops: nb entries each), 1 otherwise */
  coGroup: number;
  /** entries of the OUT item of one (tile, co block) step, upper bound */
  outItem: number;
}

const cdiv = (a: number, b: number) => Math.ceil(a / b);

/** Cut `total` into the fewest pieces of at most `max`, as even as possible. */
function evenChunks(total: number, max: number): { c0: number; c1: number }[] {
  const count = cdiv(total, max);
  const size = cdiv(total, count);
  const out: { c0: number; c1: number }[] = [];
  for (let c0 = 0; c0 < total; c0 += size) out.push({ c0, c1: Math.min(total, c0 + size) });
  return out;
}

function termRows(t: ConvTerm, h: number, cy0: number, convRows: number): TermTile {
  const top = cy0 * t.sh - t.ph;
  const iy0 = Math.max(0, top);
  const iy1 = Math.min(h, (cy0 + convRows - 1) * t.sh - t.ph + t.kh);
  return { iy0, inH: iy1 - iy0, padTop: Math.max(0, t.ph - cy0 * t.sh) };
}

/** Worst-case input rows of a band of `convRows` conv rows. */
function maxInH(t: ConvTerm, convRows: number): number {
  return Math.min(t.src.h, (convRows - 1) * t.sh + t.kh);
}

/** Per-term facts the tile planners share. */
interface TermInfo {
  t: ConvTerm;
  taps: TapPacking;
  planes: number;
  ciBlocks: number;
  windows: KernelWindow[];
  /** most ci blocks per chunk the weight scratchpad allows */
  wmax: number;
  /** see TermPlan.inpSlack */
  slack: number;
}

/** Tiles of one op, the largest INP chunk (ci blocks) per term, and the OUT item size. */
interface TilePlan {
  tiles: Tile[];
  inpChunkMax: number[];
  outItem: number;
  /** see OpPlan.coGroup (default 1) */
  coGroup?: number;
}

/**
 * Kernel windows: a kernel whose taps of one channel block do not fit WGT (or
 * whose dense map exceeds the 4-bit kernel fields) is cut into windows, each
 * its own GEMM accumulating into the same ACC tile. Convs cut rows only (the
 * right-edge zero padding needs the full width); dense ops (no padding) cut both.
 * A tap-packed term needs one weight tile per `taps.perPass` taps.
 */
function kernelWindows(
  t: ConvTerm,
  denseTerm: boolean,
  taps: TapPacking,
  cfg: ArchConfig,
  where: string,
): KernelWindow[] {
  const n = cfg.array.rows; // WGT entries per weight tile
  const sp = cfg.scratchpad;
  const half = sp.weightEntries / 2;
  const maxK = ISA_LIMITS.kernel;
  const whole = { y0: 0, y1: t.kh, x0: 0, x1: t.kw };
  if (windowTiles(taps, whole) * n <= half && t.kh <= maxK && t.kw <= maxK) return [whole];
  const fitRows = (cols: number, cap: number) =>
    Math.min(maxK, t.kh, Math.floor((Math.floor(cap / n) * taps.perPass) / cols));
  let cols = denseTerm ? Math.min(t.kw, maxK) : t.kw;
  let cap = half;
  if (fitRows(cols, cap) < 1) cap = sp.weightEntries;
  if (denseTerm) while (cols > 1 && fitRows(cols, cap) < 1) cols--;
  const rows = fitRows(cols, cap);
  if (rows < 1) {
    throw new CompileError(
      `one ${n}-channel block of one ${cols}-wide kernel row needs ${cols * n} WGT entries but scratchpad.weightEntries is ${sp.weightEntries}: raise scratchpad.weightEntries`,
      where,
      'NB-C002',
    );
  }
  const out: KernelWindow[] = [];
  for (const r of evenChunks(t.kh, rows))
    for (const c of evenChunks(t.kw, cols)) out.push({ y0: r.c0, y1: r.c1, x0: c.c0, x1: c.c1 });
  return out;
}

/** Weight chunks: prefer half of WGT so the next chunk loads during this one. */
function weightChunk(windows: KernelWindow[], taps: TapPacking, cfg: ArchConfig): number {
  const sp = cfg.scratchpad;
  const perBlock = Math.max(...windows.map((w) => windowTiles(taps, w))) * cfg.array.rows;
  const cap = perBlock <= sp.weightEntries / 2 ? sp.weightEntries / 2 : sp.weightEntries;
  return Math.min(ISA_LIMITS.ciBlocks, Math.floor(cap / perBlock));
}

/**
 * A dense op: each tile is a group of nb images stacked vertically in INP, so
 * one pass streams nb pixels through one weight tile. A pass of P pixels costs
 * max(P, R, (P + R + C) / 2) cycles (one WGT read port; a bank is reloaded
 * only C cycles after its pass issued), so nb is as large as the scratchpads
 * allow: one ci block of nb images in half of INP, nb ACC entries per co
 * block, nb OUT entries. The co blocks of a tile keep their ACC tiles
 * resident together (coGroup x nb <= A), so a ci chunk's input is loaded once
 * for all of them and the weights once per tile.
 */
function planStackedTiles(op: ConvOp, info: TermInfo, cfg: ArchConfig, batch: number): TilePlan {
  const n = cfg.array.rows; // channels per INP block
  const sp = cfg.scratchpad;
  const t = info.t;
  const slack = info.slack;
  const perImageBlock = t.src.h * t.src.w * info.planes;
  if (perImageBlock + slack > sp.inputEntries) {
    throw new CompileError(
      `one ${n}-channel block of its ${t.src.h}x${t.src.w} input needs ${perImageBlock + slack} INP entries but scratchpad.inputEntries is ${sp.inputEntries}: raise scratchpad.inputEntries`,
      op.where,
      'NB-C002',
    );
  }
  const fits = (nb: number) =>
    nb <= sp.accEntries && nb <= sp.outputEntries / 2 && perImageBlock * nb + slack <= sp.inputEntries / 2;
  let nb = 1;
  // stride_h = H steps from image to image: the 3-bit field
  if (t.src.h <= ISA_LIMITS.stride) {
    nb = batch;
    while (nb > 1 && !fits(nb)) nb--;
  }
  const icap = perImageBlock * nb + slack <= sp.inputEntries / 2 ? sp.inputEntries / 2 : sp.inputEntries;
  const inpChunkMax = [Math.max(1, Math.floor((icap - slack) / (perImageBlock * nb)))];
  const tiles: Tile[] = [];
  const groups = cdiv(batch, nb);
  const even = cdiv(batch, groups);
  for (let b0 = 0; b0 < batch; b0 += even) {
    tiles.push({
      b0,
      nb: Math.min(even, batch - b0),
      py0: 0,
      py1: 1,
      cy0: 0,
      convRows: 1,
      terms: [{ iy0: 0, inH: t.src.h, padTop: 0 }],
    });
  }
  const coBlocks = cdiv(op.co, cfg.array.cols);
  return {
    tiles,
    inpChunkMax,
    outItem: even,
    coGroup: Math.max(1, Math.min(coBlocks, Math.floor(sp.accEntries / even))),
  };
}

/**
 * How a dense op reads its map. A map wider than a kernel window can be
 * (the 4-bit kernel_w field, and one row of N-entry weight tiles in half of
 * WGT) needs windows cut across columns, whose GEMM tiles reach past the band
 * (TermPlan.inpSlack); read instead as C x H' x W' with W' a divisor of H*W
 * that fits (the same linear order, TensorView), its windows are bands of
 * whole rows. The map's own rows are kept only when they let a batch stack
 * (H <= 7, the 3-bit stride_h field steps from image to image) where no such
 * view would and two images with the slack fit half of INP.
 */
function denseTermInfo(op: ConvOp, cfg: ArchConfig, batch: number, packing: boolean): TermInfo {
  const n = cfg.array.rows;
  const sp = cfg.scratchpad;
  const t = op.terms[0]!;
  const info = termInfo(t, true, 1, packing, cfg, op.where);
  const maxW = Math.min(ISA_LIMITS.kernel, Math.max(1, Math.floor(sp.weightEntries / 2 / n)));
  if (t.src.w <= maxW) return info;
  const pixels = t.src.h * t.src.w;
  const widths: number[] = [];
  for (let w = maxW; w >= 1; w--) if (pixels % w === 0) widths.push(w);
  const view = (w: number) => {
    const h = pixels / w;
    return termInfo({ ...t, src: viewTensor(t.src, h, w), kh: h, kw: w }, true, 1, packing, cfg, op.where);
  };
  if (batch > 1) {
    const stacking = widths.find((w) => pixels / w <= ISA_LIMITS.stride);
    if (stacking !== undefined) return view(stacking);
    const two = info.ciBlocks * info.planes * pixels * 2 + info.slack;
    if (t.src.h <= ISA_LIMITS.stride && 2 <= sp.accEntries && 2 <= sp.outputEntries / 2 && two <= sp.inputEntries / 2)
      return info;
  }
  return view(widths[0]!);
}

/** The per-term facts of one term read as `t` says, tap-packed when `packing` allows and it is faster. */
function termInfo(
  t: ConvTerm,
  denseTerm: boolean,
  pixels: number,
  packing: boolean,
  cfg: ArchConfig,
  where: string,
): TermInfo {
  const R = cfg.array.rows;
  // a 'nibble-lanes' input is read tap-packed only (compileNetwork chooses that layout)
  if (t.src.layout === 'nibble-lanes') return termInfoWith(t, denseTerm, tapPacking(2 * t.ci, R, true), cfg, where);
  const unpacked = termInfoWith(t, denseTerm, UNPACKED, cfg, where);
  if (!packing || t.ci > deriveArch(cfg).maxTapLanes) return unpacked;
  const packed = termInfoWith(t, denseTerm, tapPacking(t.ci, R, false), cfg, where);
  return gemmCycles(packed, pixels, cfg) < gemmCycles(unpacked, pixels, cfg) ? packed : unpacked;
}

function termInfoWith(t: ConvTerm, denseTerm: boolean, taps: TapPacking, cfg: ArchConfig, where: string): TermInfo {
  const windows = kernelWindows(t, denseTerm, taps, cfg, where);
  return {
    t,
    taps,
    planes: t.src.layout === 'nibble-planes' ? 2 : 1,
    ciBlocks: cdiv(t.ci, cfg.array.rows),
    windows,
    wmax: weightChunk(windows, taps, cfg),
    slack: Math.max(0, ...windows.map((w) => w.x0 - t.pw)),
  };
}

/** A LOAD of `entries` entries into `buf` and a REQUANT of `reads` ACC reads, for their timing. */
function loadOf(buf: number, entries: number): Instruction {
  return {
    op: 'LOAD',
    ...NO_FLAGS,
    buf,
    sram_addr: 0,
    dram_addr: 0,
    x_count: entries,
    y_count: 1,
    dram_stride: 0,
    replicate: 0,
  };
}

function requantOf(reads: number): Instruction {
  return {
    op: 'REQUANT',
    ...NO_FLAGS,
    acc_addr: 0,
    out_addr: 0,
    param_addr: 0,
    in_h: 1,
    in_w: reads,
    out_h: 1,
    out_w: reads,
    pool_k: 1,
    pool_s: 1,
    out_signed: 0,
    clamp_bits: 4,
    gemm_beside: 0,
  };
}

/**
 * The compiler's timing model (sim/timing.ts) of one tile's GEMMs of a term,
 * passes of `pixels` pixels: what tap packing is chosen by.
 */
function gemmCycles(
  ti: Pick<TermInfo, 'windows' | 'planes' | 'taps' | 'ciBlocks'>,
  pixels: number,
  cfg: ArchConfig,
): number {
  const m = { cfg, arch: deriveArch(cfg) };
  const timeline = new UnitTimeline(m.arch);
  for (const w of ti.windows) {
    for (let p = 0; p < ti.planes; p++) {
      const gemm: Instruction = {
        op: 'GEMM',
        ...NO_FLAGS,
        wgt_addr: 0,
        inp_addr: 0,
        acc_addr: 0,
        in_h: 1,
        in_w: 1,
        out_h: pixels,
        out_w: 1,
        kernel_h: w.y1 - w.y0,
        kernel_w: w.x1 - w.x0,
        stride_h: 1,
        stride_w: 1,
        pad_top: 0,
        pad_left: 0,
        ci_blocks: ti.taps.lanes || ti.ciBlocks,
        accumulate: 0,
        act_signed: 0,
        pshift: 0,
        taps: ti.taps.lanes ? 1 : 0,
        nibble_lanes: ti.taps.nibbleLanes ? 1 : 0,
      };
      timeline.placeInstruction(gemm, m, 0);
    }
  }
  return timeline.end;
}

/** Band height r (pooled rows) and the INP budget its chunks are sized to. */
function bandRows(op: ConvOp, termInfo: TermInfo[], owc: number, cfg: ArchConfig): { r: number; icap: number } {
  const n = cfg.array.rows; // channels per INP block
  const sp = cfg.scratchpad;
  const where = op.where;
  const rows = op.poh;
  const convRowsOf = (r: number) => (r - 1) * op.poolS + op.poolK;
  const accNeed = (r: number) => convRowsOf(r) * owc;
  const outNeed = (r: number) => r * op.pow;
  const inpWhole = (r: number) =>
    termInfo.reduce((s, ti) => s + ti.planes * ti.ciBlocks * maxInH(ti.t, convRowsOf(r)) * ti.t.src.w, 0);
  const inpBlock = (r: number) =>
    Math.max(...termInfo.map((ti) => ti.planes * maxInH(ti.t, convRowsOf(r)) * ti.t.src.w));
  if (accNeed(1) > sp.accEntries) {
    throw new CompileError(
      `one output row needs ${accNeed(1)} ACC entries (${convRowsOf(1)} conv rows x ${owc}) but scratchpad.accEntries is ${sp.accEntries}: raise scratchpad.accEntries`,
      where,
      'NB-C002',
    );
  }
  if (outNeed(1) > sp.outputEntries) {
    throw new CompileError(
      `one output row needs ${outNeed(1)} OUT entries but scratchpad.outputEntries is ${sp.outputEntries}: raise scratchpad.outputEntries`,
      where,
      'NB-C002',
    );
  }
  if (inpBlock(1) > sp.inputEntries) {
    throw new CompileError(
      `one output row needs ${inpBlock(1)} INP entries with halo (per ${n}-channel block${termInfo.some((ti) => ti.planes === 2) ? ', both nibble planes of the 8-bit input' : ''}) but scratchpad.inputEntries is ${sp.inputEntries}: raise scratchpad.inputEntries`,
      where,
      'NB-C002',
    );
  }
  const largest = (ok: (r: number) => boolean): number => {
    let best = 0;
    for (let r = 1; r <= rows; r++) if (ok(r)) best = r;
    return best;
  };
  const base = (r: number) => accNeed(r) <= sp.accEntries && outNeed(r) <= sp.outputEntries;
  const outHalf = (r: number) => outNeed(r) <= sp.outputEntries / 2 || r === 1;
  let r = largest((r) => base(r) && outHalf(r) && inpWhole(r) <= sp.inputEntries / 2);
  let icap = sp.inputEntries / 2;
  if (r === 0) r = largest((r) => base(r) && outHalf(r) && inpBlock(r) <= sp.inputEntries / 2);
  if (r === 0) {
    icap = sp.inputEntries;
    r = largest((r) => base(r) && outHalf(r) && inpBlock(r) <= sp.inputEntries);
  }
  if (r === 0) r = 1;
  const count = cdiv(rows, r);
  return { r: cdiv(rows, count), icap };
}

/**
 * Band height of an op with a tap-packed term. Its few passes per input
 * entry make a band's GEMMs about as long as its INP load, so the load of the
 * first band is not hidden, and the band size trades that exposed load
 * against the per-band overheads. Each height up to `most` (the largest whose
 * two bands fit INP) is timed with the compiler's timing model: the bands'
 * LOADs in order, each waiting for the GEMMs of the band before last (the INP
 * half it overwrites); each step's (band, co block) GEMMs after its LOAD and
 * the previous step, its REQUANT after them. A step's GEMMs start beside the
 * previous step's REQUANT (REQUANT gemm_beside, docs/architecture.md 7.3)
 * when the machine has them (config gemmBeside) and the two ACC tiles fit
 * ACC together (alternateAcc), else after it.
 */
function packedBandRows(
  op: ConvOp,
  termInfo: TermInfo[],
  owc: number,
  most: number,
  cfg: ArchConfig,
  batch: number,
  cuts: readonly number[],
): { r: number; cuts: number[] } {
  const m = { cfg, arch: deriveArch(cfg) };
  const coBlocks = cdiv(op.co, cfg.array.cols);
  const convRowsOf = (r: number) => (r - 1) * op.poolS + op.poolK;
  const cycles = (inst: Instruction) => instructionTiming(inst, m).cycles;
  // every band below has 1 .. most pooled rows: each size's LOAD, GEMMs and REQUANT timed once
  const loadCycles: number[] = [0];
  const gemmsCycles: number[] = [0];
  const requantCycles: number[] = [0];
  for (let pooled = 1; pooled <= most; pooled++) {
    loadCycles.push(
      termInfo.reduce(
        (sum, ti) => sum + ti.planes * cycles(loadOf(BUF_INP, maxInH(ti.t, convRowsOf(pooled)) * ti.t.src.w)),
        0,
      ),
    );
    const pixels = convRowsOf(pooled) * owc;
    gemmsCycles.push(termInfo.reduce((sum, ti) => sum + gemmCycles(ti, pixels, cfg), 0));
    requantCycles.push(cycles(requantOf(pooled * op.pow * op.poolK * op.poolK)));
  }
  // the first band's REQUANT needs its PARAM item, loaded right after that band's INP
  const paramLoad = cycles(loadOf(BUF_PARAM, Math.min(coBlocks, Math.floor(cfg.scratchpad.paramEntries / 2) || 1)));
  // the first band in GEMM pieces: when its last LOAD ends, and the latest start its GEMMs
  // could have as one run (each piece's LOAD end minus the GEMM time before that piece)
  const pieces = rowPiecesOf(termInfo, cfg);
  const lags = new Map<number, { loadEnd: number; gemmStart: number }>();
  const firstBandLag = (pooled: number): { loadEnd: number; gemmStart: number } => {
    const known = lags.get(pooled);
    if (known) return known;
    const ti = termInfo[0]!;
    const cr = convRowsOf(pooled);
    const bounds = [0, ...pieces!(cr), cr];
    let loadEnd = 0;
    let gemmStart = 0;
    let y1 = 0;
    for (let i = 0; i + 1 < bounds.length; i++) {
      const rows = termRows(ti.t, ti.t.src.h, bounds[i]!, bounds[i + 1]! - bounds[i]!);
      const iy1 = rows.iy0 + rows.inH;
      loadEnd += ti.planes * cycles(loadOf(BUF_INP, (iy1 - y1) * ti.t.src.w));
      y1 = iy1;
      gemmStart = Math.max(gemmStart, loadEnd - (bounds[i]! > 0 ? gemmCycles(ti, bounds[i]! * owc, cfg) : 0));
    }
    lags.set(pooled, { loadEnd, gemmStart });
    return { loadEnd, gemmStart };
  };
  const bandEnd = (sizes: readonly number[]): number => {
    let loadFree = 0; // the load unit: each band's INP LOAD, the PARAM item after the first
    let loadEnd = 0;
    let before = 0; // end of the GEMMs of band b - 1 (the INP half band b + 1 overwrites)
    let gemmEnd = 0;
    let requantStart = 0;
    let requantEnd = 0;
    let prevAcc = Infinity; // ACC entries of the previous step's tile
    sizes.forEach((pooled, b) => {
      // the first band's GEMM pieces (Tile.gemmRows) each wait for their own rows' LOAD
      const lag = b === 0 && pieces ? firstBandLag(pooled) : undefined;
      loadEnd = lag ? lag.loadEnd : Math.max(loadFree, before) + loadCycles[pooled]!;
      loadFree = loadEnd + (b === 0 ? paramLoad : 0);
      before = gemmEnd;
      const acc = convRowsOf(pooled) * owc;
      for (let o = 0; o < coBlocks; o++) {
        const beside = cfg.gemmBeside && prevAcc + acc <= cfg.scratchpad.accEntries;
        const start = Math.max(o === 0 ? (lag ? lag.gemmStart : loadEnd) : 0, beside ? requantStart + 1 : requantEnd);
        gemmEnd = Math.max(start + gemmsCycles[pooled]!, beside ? requantEnd + 1 : 0);
        requantStart = Math.max(gemmEnd, requantEnd);
        requantEnd = requantStart + requantCycles[pooled]!;
        prevAcc = acc;
      }
    });
    return requantEnd;
  };
  let best = { r: most, cuts: [...cuts] };
  let bestCycles = Infinity;
  for (const sizes of bandCandidates(op.poh, most, batch === 1, cfg.gemmBeside, cuts)) {
    // with a batch, the next image's first band loads while this one computes
    const end = bandEnd(batch === 1 ? sizes : [...sizes, ...sizes]);
    if (end < bestCycles) {
      let at = 0;
      best = { r: Math.max(...sizes), cuts: sizes.slice(0, -1).map((s) => (at += s)) };
      bestCycles = end;
    }
  }
  return best;
}

/**
 * Band sizes (pooled rows, summing to `rows`) that packedBandRows times: a
 * first band (at batch 1: any size up to r, a small one shortens the exposed
 * first LOAD; later images' first bands load while the previous image
 * computes), bands of r in the middle, and a tail of up to three shrinking
 * bands (a half or three quarters of r, then halving, so each band's GEMMs
 * still cover the REQUANT of the one before beside them): a small last band shortens
 * the REQUANT after the last GEMM. Every boundary in `cuts` is kept (a band it falls in is split).
 */
function bandCandidates(
  rows: number,
  most: number,
  smallFirst: boolean,
  tapered: boolean,
  cuts: readonly number[],
): number[][] {
  const out: number[][] = [];
  const seen = new Set<string>();
  const keep = new Uint8Array(rows + 1);
  for (const c of cuts) if (c > 0 && c < rows) keep[c] = 1;
  keep[rows] = 1;
  const add = (sizes: number[]) => {
    const bounds = keep.slice();
    let at = 0;
    for (let i = 0; i + 1 < sizes.length; i++) bounds[(at += sizes[i]!)] = 1;
    const split: number[] = [];
    for (let b = 1, prev = 0; b <= rows; b++) {
      if (!bounds[b]) continue;
      split.push(b - prev);
      prev = b;
    }
    const key = split.join();
    if (!seen.has(key)) {
      seen.add(key);
      out.push(split);
    }
  };
  // a tail starts at a half or three quarters of r, then halves (up to three bands)
  const tailsOf = (r: number): number[][] => {
    const tails: number[][] = [[]];
    for (const s of new Set([Math.ceil(r / 2), Math.ceil((3 * r) / 4)])) {
      if (s >= r) continue;
      const t = [s];
      tails.push([...t]);
      while (t.length < 3 && t[t.length - 1]! > 1) {
        t.push(Math.ceil(t[t.length - 1]! / 2));
        tails.push([...t]);
      }
    }
    return tails;
  };
  for (let r = 1; r <= most; r++) {
    if (!tapered) {
      // a first band, then the fewest even bands of at most r between the cuts
      for (let first = Math.min(r, rows); first >= (smallFirst ? 1 : r); first--) {
        out.push(bandSizes(rows, r, first < r ? [first, ...cuts] : cuts).map(([a, b]) => b - a));
      }
      continue;
    }
    add(evenChunks(rows, r).map((c) => c.c1 - c.c0));
    const tails = tailsOf(r);
    for (let first = Math.min(r, rows); first >= (smallFirst ? 1 : r); first--) {
      for (const tail of tails) {
        const mid = rows - first - tail.reduce((a, b) => a + b, 0);
        if (mid < 0) continue;
        const middle = mid > 0 ? evenChunks(mid, r).map((c) => c.c1 - c.c0) : [];
        add([first, ...middle, ...tail].filter((s) => s > 0));
      }
    }
  }
  return out;
}

/**
 * Pooled-row sizes of an op's bands: boundaries at `cuts`, each piece between
 * them cut into the fewest even bands of at most `r` rows.
 */
function bandSizes(rows: number, r: number, cuts: readonly number[]): [number, number][] {
  const bands: [number, number][] = [];
  const bounds = [0, ...[...new Set(cuts)].filter((c) => c > 0 && c < rows).sort((a, b) => a - b), rows];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const lo = bounds[i]!;
    for (const piece of evenChunks(bounds[i + 1]! - lo, r)) bands.push([lo + piece.c0, lo + piece.c1]);
  }
  return bands;
}

/**
 * GEMM pieces of a tap-packed op's first band (Tile.gemmRows): conv rows
 * 1, 1, 2, 4, ... so that each piece's input LOAD (one entry per cycle) is
 * done before the GEMMs of the piece before it (two passes or more per
 * entry); undefined for ops that cannot be cut (several terms, kernel
 * windows or ci chunks) and on machines without gemmBeside, whose bands'
 * REQUANTs do not overlap GEMMs: there the band search needs the first band
 * small for the next layer to overlap, and pieces would only add LOADs.
 */
function rowPiecesOf(termInfo: readonly TermInfo[], cfg: ArchConfig): ((convRows: number) => number[]) | undefined {
  const ti = termInfo[0]!;
  if (!cfg.gemmBeside || termInfo.length !== 1 || !ti.taps.lanes || ti.windows.length !== 1 || ti.ciBlocks !== 1)
    return undefined;
  return (convRows) => {
    const cuts: number[] = [];
    for (let at = 1, size = 1; at < convRows; size = cuts.length < 2 ? 1 : size * 2, at += size) cuts.push(at);
    return cuts;
  };
}

/**
 * The GEMM pieces of a band with Tile.gemmRows, for term t: conv rows
 * [c0, c1) relative to the band, and the input rows and top padding of each.
 */
export function gemmPieces(tile: Tile, t: ConvTerm): GemmPiece[] {
  const bounds = [0, ...(tile.gemmRows ?? []), tile.convRows];
  const out: GemmPiece[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const [c0, c1] = [bounds[i]!, bounds[i + 1]!];
    const rows = termRows(t, t.src.h, tile.cy0 + c0, c1 - c0);
    out.push({ ...rows, iy1: rows.iy0 + rows.inH, c0, c1 });
  }
  return out;
}

/** A conv op: tiles are bands of pooled output rows (or, for small maps, stacks of whole images). */
function planBandTiles(
  op: ConvOp,
  termInfo: TermInfo[],
  owc: number,
  cfg: ArchConfig,
  batch: number,
  cutsAt: readonly number[],
): TilePlan {
  let cuts = cutsAt;
  const rows = op.poh;
  const convRowsOf = (r: number) => (r - 1) * op.poolS + op.poolK;
  const fit = bandRows(op, termInfo, owc, cfg);
  const icap = fit.icap;
  const packed = termInfo.some((ti) => ti.taps.lanes)
    ? packedBandRows(op, termInfo, owc, fit.r, cfg, batch, cuts)
    : undefined;
  const r = packed?.r ?? fit.r;
  if (packed) cuts = packed.cuts;
  const convRows = convRowsOf(r);
  let inpChunkMax = termInfo.map((ti) =>
    Math.max(1, Math.floor(icap / (ti.planes * maxInH(ti.t, convRows) * ti.t.src.w))),
  );
  const bands = bandSizes(rows, r, cuts);
  const tiles: Tile[] = [];
  const stack = bands.length === 1 ? imageStack(op, termInfo[0]!.windows.length, convRows, owc, batch, cfg) : undefined;
  if (stack) {
    const t = op.terms[0]!;
    const groups = cdiv(batch, stack.nb);
    const even = cdiv(batch, groups);
    for (let b0 = 0; b0 < batch; b0 += even) {
      const nb = Math.min(even, batch - b0);
      const pitch = nb > 1 ? stack.pitch : undefined;
      tiles.push({
        b0,
        nb,
        py0: 0,
        py1: rows,
        cy0: 0,
        convRows,
        terms: [{ iy0: 0, inH: (nb - 1) * stack.pitch + t.src.h, padTop: t.ph }],
        ...(pitch ? { stackPitch: pitch } : {}),
      });
    }
    inpChunkMax = [
      Math.max(1, Math.floor(stack.icap / (termInfo[0]!.planes * ((stack.nb - 1) * stack.pitch + t.src.h) * t.src.w))),
    ];
  }
  const pieces = rowPiecesOf(termInfo, cfg);
  for (let b = 0; b < batch && !stack; b++) {
    for (const [py0, py1] of bands) {
      const cy0 = py0 * op.poolS;
      const cr = convRowsOf(py1 - py0);
      tiles.push({
        b0: b,
        nb: 1,
        py0,
        py1,
        cy0,
        convRows: cr,
        terms: op.terms.map((t) => termRows(t, t.src.h, cy0, cr)),
        ...(pieces && tiles.length === 0 ? { gemmRows: pieces(cr) } : {}),
      });
    }
  }
  return { tiles, inpChunkMax, outItem: r * op.pow };
}

/**
 * Plan one op. `cuts` (pooled output rows): put band boundaries there, e.g.
 * so that the next layer's first band, which reads only rows [0, cut), does
 * not wait for this layer's last band (compileNetwork), or so that this
 * layer's first band does not wait for the previous layer's last
 * (overlapCut).
 */
export function planOp(
  op: ConvOp,
  cfg: ArchConfig,
  batch: number,
  packing: boolean,
  cuts: readonly number[] = [],
): OpPlan {
  const sp = cfg.scratchpad;
  const coBlocks = cdiv(op.co, cfg.array.cols);
  const owc = (op.pow - 1) * op.poolS + op.poolK;
  const stacked = op.dense && op.terms.length === 1;
  const infos: TermInfo[] = stacked
    ? [denseTermInfo(op, cfg, batch, packing)]
    : op.terms.map((t) => termInfo(t, op.dense, Math.min(op.oh * op.ow, sp.accEntries), packing, cfg, op.where));
  const {
    tiles,
    inpChunkMax,
    outItem,
    coGroup = 1,
  } = stacked ? planStackedTiles(op, infos[0]!, cfg, batch) : planBandTiles(op, infos, owc, cfg, batch, cuts);

  const terms: TermPlan[] = infos.map((ti, k) => {
    const chunk = Math.max(1, Math.min(ti.wmax, inpChunkMax[k]!, ti.ciBlocks));
    return {
      term: ti.t,
      windows: ti.windows,
      taps: ti.taps,
      planes: ti.planes,
      ciBlocks: ti.ciBlocks,
      chunk,
      chunks: evenChunks(ti.ciBlocks, chunk),
      inpSlack: ti.slack,
    };
  });
  const paramChunk = Math.max(1, Math.min(coBlocks, Math.floor(sp.paramEntries / 2) || 1));
  // Image-major steps: one image's band stays in INP for all co blocks. (A
  // weight-major order, band x co block x image, was measured: it moves fewer
  // weights at batch > 1 but no layer here is limited by that traffic.)
  // one image per tile, one DRAM entry per co block (rows <= cols): a run of co
  // blocks in one PARAM item is one STORE of consecutive OUT and DRAM entries
  const storeRun =
    outItem === 1 && cfg.array.rows <= cfg.array.cols && paramChunk <= sp.outputEntries / 2 ? paramChunk : 1;
  const steps: OpStep[] = [];
  tiles.forEach((_, t) => {
    if (coGroup === 1) for (let o = 0; o < coBlocks; o++) steps.push({ tile: t, o });
    else steps.push(...denseSteps(t, coBlocks, coGroup, outItem, terms[0]!.chunks.length, storeRun));
  });
  if (cfg.gemmBeside && coGroup === 1 && !stacked) alternateAcc(steps, tiles, owc, terms[0]!.term.sh, sp.accEntries);
  return { op, coBlocks, terms, owc, tiles, stacked, paramChunk, coGroup, outItem, steps };
}

/** ACC entries of a band tile's GEMMs (an image stack: every image's rows at its pitch). */
export function bandAccEntries(tile: Tile, owc: number, sh: number): number {
  return (tile.stackPitch ? ((tile.nb - 1) * tile.stackPitch) / sh + tile.convRows : tile.convRows) * owc;
}

/**
 * Steps alternate between the bottom and the top of ACC where two fit, so
 * that a step's GEMMs can start beside the previous step's REQUANT
 * (REQUANT gemm_beside, docs/architecture.md 7.3; compiler/schedule.ts sets it).
 */
function alternateAcc(steps: OpStep[], tiles: readonly Tile[], owc: number, sh: number, accEntries: number): void {
  let prev = { at: 0, len: accEntries };
  for (const st of steps) {
    const len = bandAccEntries(tiles[st.tile]!, owc, sh);
    const top = prev.at === 0 && prev.len + len <= accEntries;
    st.acc = top ? accEntries - len : 0;
    prev = { at: st.acc, len };
  }
}

/**
 * Steps of one tile of a dense op whose co blocks share ACC: per group of
 * coGroup co blocks, ci chunk-major (each chunk's input serves the whole
 * group; the GEMMs chain without a REQUANT draining the array between co
 * blocks), then the group's REQUANTs.
 */
function denseSteps(
  tile: number,
  coBlocks: number,
  coGroup: number,
  nb: number,
  chunks: number,
  storeRun: number,
): OpStep[] {
  const steps: OpStep[] = [];
  for (let g0 = 0; g0 < coBlocks; g0 += coGroup) {
    const g1 = Math.min(coBlocks, g0 + coGroup);
    for (let chunk = 0; chunk < chunks; chunk++)
      for (let o = g0; o < g1; o++) steps.push({ tile, o, acc: (o - g0) * nb, chunk });
    // a run stays within one PARAM item (storeRun is the PARAM chunk or 1)
    for (let o = g0; o < g1;) {
      const run = Math.min(g1 - o, storeRun - (o % storeRun));
      steps.push({ tile, o, acc: (o - g0) * nb, chunk: -1, run });
      o += run;
    }
  }
  return steps;
}

/**
 * Small maps give passes of fewer than R + C pixels, which cannot hide the
 * R-cycle weight preload. With a batch, whole images of a single-term,
 * single-band conv are stacked vertically in INP, separated by zero rows (the
 * bottom padding of one image and the top padding of the next), so one GEMM
 * computes several images: pass length nb x map instead of one map.
 */
function imageStack(
  op: ConvOp,
  windows: number,
  convRows: number,
  owc: number,
  batch: number,
  cfg: ArchConfig,
): { nb: number; pitch: number; icap: number } | undefined {
  const { rows, cols } = cfg.array;
  const sp = cfg.scratchpad;
  if (batch < 2 || op.terms.length !== 1 || windows !== 1 || op.dense) return undefined;
  // passes of P >= R + C pixels issue back to back (docs/architecture.md 7.2): nothing to gain
  if (convRows * owc >= rows + cols) return undefined;
  const t = op.terms[0]!;
  const h = t.src.h;
  const bottom = Math.max(0, (convRows - 1) * t.sh - t.ph + t.kh - h);
  let pitch = h + Math.max(t.ph, bottom);
  pitch = cdiv(pitch, t.sh) * t.sh;
  const planes = t.src.layout === 'nibble-planes' ? 2 : 1;
  const blocks = cdiv(t.ci, rows);
  const inH = (nb: number) => (nb - 1) * pitch + h;
  const accRows = (nb: number) => ((nb - 1) * pitch) / t.sh + convRows;
  const fits = (nb: number, icap: number, allBlocks: boolean) =>
    accRows(nb) * owc <= sp.accEntries && planes * (allBlocks ? blocks : 1) * inH(nb) * t.src.w <= icap;
  let nb = Math.min(batch, ISA_LIMITS.ciBlocks);
  const icap = sp.inputEntries / 2;
  while (nb > 1 && !fits(nb, icap, true)) nb--;
  if (nb === 1) {
    nb = Math.min(batch, ISA_LIMITS.ciBlocks);
    while (nb > 1 && !fits(nb, icap, false)) nb--;
  }
  if (nb === 1) return undefined;
  return { nb, pitch, icap };
}

function storeOf(entries: number): Instruction {
  return { op: 'STORE', ...NO_FLAGS, sram_addr: 0, dram_addr: 0, x_count: entries, y_count: 1, dram_stride: 0 };
}

/**
 * A band boundary for `next`, a single-band conv reading `prev`'s output at
 * batch 1, so that its first band reads only rows `prev` stored before its
 * last band: that band then computes while `prev` stores its last band and
 * the rest of `next`'s input loads, instead of the array waiting for that
 * STORE and LOAD. Chosen by the compiler's timing model when the wait it
 * saves (the last STORE and the LOAD after it, at most the first band's
 * compute) exceeds what the second band costs (one more pipeline drain,
 * preload and REQUANT start per co block); undefined otherwise.
 */
export function overlapCut(prev: OpPlan, next: OpPlan, cfg: ArchConfig): number | undefined {
  const op = next.op;
  const t = op.terms[0]!;
  const last = prev.tiles[prev.tiles.length - 1];
  if (next.stacked || prev.stacked || op.terms.length !== 1 || t.src.id !== prev.op.dst.id) return undefined;
  if (next.tiles.length !== 1 || prev.tiles.length < 2 || !last || last.b0 !== 0 || next.tiles[0]!.stackPitch) {
    return undefined;
  }
  const convRowsOf = (r: number) => (r - 1) * op.poolS + op.poolK;
  const inEnd = (r: number) => Math.min(t.src.h, (convRowsOf(r) - 1) * t.sh - t.ph + t.kh);
  let cut = 0;
  for (let r = 1; r < op.poh; r++) if (inEnd(r) <= last.py0) cut = r;
  if (cut === 0) return undefined;
  const m = { cfg, arch: deriveArch(cfg) };
  const cycles = (inst: Instruction) => instructionTiming(inst, m).cycles;
  const tp = next.terms[0]!;
  const band = (r: number) =>
    next.coBlocks * (gemmCycles(tp, convRowsOf(r) * next.owc, cfg) + cycles(requantOf(convRowsOf(r) * next.owc)));
  const loss = band(cut) + band(op.poh - cut) - band(op.poh);
  // The single band's first GEMMs wait for prev's last STORE only if its first ci
  // chunk reads the channels of prev's last co block; then for the LOAD after
  // that STORE: the band's last rows (one ci block: the scheduler loads them
  // apart), else the whole first chunk. Later chunks load during earlier GEMMs.
  const chunk0 = tp.chunks[0]!;
  if (chunk0.c1 * cfg.array.rows <= (prev.coBlocks - 1) * cfg.array.cols) return undefined;
  const w = t.src.w * tp.planes;
  const after = cycles(
    loadOf(BUF_INP, tp.ciBlocks === 1 ? (t.src.h - last.py0) * w : (chunk0.c1 - chunk0.c0) * t.src.h * w),
  );
  const wait = cycles(storeOf((last.py1 - last.py0) * prev.op.pow)) + 1 + after;
  return Math.min(wait, band(cut)) > loss ? cut : undefined;
}
