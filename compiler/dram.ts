/**
 * DRAM layout: weight and parameter blobs (read-only segments), the network
 * input and output tensors, and intermediate activations placed by a
 * lifetime-aware first-fit planner, so buffers ping-pong between layers and a
 * residual block's input stays alive until its shortcut has read it.
 */
import type { ArchConfig } from '../arch/index.js';
import { CompileError } from '../arch/index.js';
import { PARAM_LANE_BYTES, packEntry, packParamEntry, tensorImageBytes, type DramSegment } from '../isa/index.js';
import type { ActTensor, Lowered } from './conv-op.js';
import { windowTiles, type KernelWindow, type OpPlan, type TermPlan } from './tiling.js';

export const DRAM_ALIGN = 64;
const align = (x: number) => Math.ceil(x / DRAM_ALIGN) * DRAM_ALIGN;

/** Where one op's constant data lives. */
export interface OpConstants {
  /** byte address of the WGT item (co block o, term k, chunk c, kernel window v) */
  weightAddr: (o: number, k: number, c: number, v: number) => number;
  /** byte address of co block o's PARAM entry */
  paramAddr: (o: number) => number;
}

export interface DramPlan {
  segments: DramSegment[];
  constants: OpConstants[];
  /** bytes used */
  size: number;
  /** byte address of an all-zero region (the gaps between stacked images are loaded from it) */
  zerosAddr: number;
}

/**
 * The weight each row of a weight tile holds, for every row of every tile of
 * one kernel window: rows[(cb * tiles + q) * R + r] is the offset in co
 * block 0's weights of (input channel, kernel y, kernel x) of row r of tile q
 * of ci block cb, or -1 for a zero row. Ordinary: tile q is the window's tap
 * q (row-major), row r channel cb*R + r. Tap-packed (g lanes, one ci block):
 * row j*g + l is tap q*T + j, channel l, or channel floor(l/2) with nibble
 * lanes (docs/architecture.md 7.6). The same for every co block, so it is
 * built once per window (co block o adds o * C * ci * kh * kw).
 */
function rowSources(tp: TermPlan, win: KernelWindow, R: number): Int32Array {
  const t = tp.term;
  const ww = win.x1 - win.x0;
  const taps = (win.y1 - win.y0) * ww;
  const tiles = windowTiles(tp.taps, win);
  const at = (ci: number, tap: number) => (ci * t.kh + win.y0 + Math.floor(tap / ww)) * t.kw + win.x0 + (tap % ww);
  const rows = new Int32Array(tp.ciBlocks * tiles * R).fill(-1);
  const g = tp.taps.lanes;
  const perPass = tp.taps.perPass;
  for (let cb = 0; cb < tp.ciBlocks; cb++) {
    for (let q = 0; q < tiles; q++) {
      for (let r = 0; r < R; r++) {
        const i = (cb * tiles + q) * R + r;
        if (!g) {
          if (cb * R + r < t.ci) rows[i] = at(cb * R + r, q);
          continue;
        }
        const j = Math.floor(r / g);
        const tap = q * perPass + j;
        // nibble lanes: lanes 2c and 2c+1 (low and high nibble of channel c) hold the same weight
        if (j < perPass && tap < taps) rows[i] = at(tp.taps.nibbleLanes ? (r % g) >> 1 : r % g, tap);
      }
    }
  }
  return rows;
}

/** Rows [from, to) of `rows` (rowSources) of one co block: lane c of row i is weight w[base + rows[i] + c * laneStride]. */
interface RowRun {
  w: Int8Array;
  rows: Int32Array;
  from: number;
  to: number;
  base: number;
  laneStride: number;
  /** lanes used (the co block's output channels); the others stay zero */
  lanes: number;
}

/**
 * A run of rows as WGT entries of 4-bit lanes from bytes[off] on, `eb` bytes each: lanes c and c + 1 in
 * one byte (lane c in the low nibble, as packEntry); zero rows stay zero. Returns the offset after the last.
 */
function packNibbleRows(bytes: Uint8Array, off: number, eb: number, run: RowRun): number {
  const { w, rows, base, laneStride, lanes } = run;
  for (let i = run.from; i < run.to; i++, off += eb) {
    const s = rows[i]!;
    if (s < 0) continue;
    let src = base + s;
    let c = 0;
    for (; c + 1 < lanes; c += 2, src += 2 * laneStride)
      bytes[off + (c >> 1)] = (w[src]! & 15) | ((w[src + laneStride]! & 15) << 4);
    if (c < lanes) bytes[off + (c >> 1)] = w[src]! & 15;
  }
  return off;
}

/** packNibbleRows for any weight width, through packEntry. */
function packRows(bytes: Uint8Array, off: number, cfg: ArchConfig, run: RowRun): number {
  const n = cfg.array.cols;
  const wb = cfg.bits.weight;
  const eb = (n * wb) / 8;
  if (wb === 4) return packNibbleRows(bytes, off, eb, run);
  const { w, rows, base, laneStride, lanes } = run;
  const values = new Int32Array(n);
  for (let i = run.from; i < run.to; i++, off += eb) {
    const s = rows[i]!;
    if (s < 0) continue;
    values.fill(0);
    for (let c = 0; c < lanes; c++) values[c] = w[base + s + c * laneStride]!;
    packEntry(values, n, wb, bytes, off);
  }
  return off;
}

/** An op's weights as WGT items (packWeights) and where each item starts. */
interface PackedWeights {
  bytes: Uint8Array;
  /** byte offset of item [co block][term][chunk][window] */
  offsets: number[][][][];
}

/**
 * Pack an op's weights as WGT items in GEMM read order: [co block][term][chunk][window][cb][tile]
 * tiles of R entries (input lanes) of C lanes (output channels).
 */
function packWeights(plan: OpPlan, cfg: ArchConfig): PackedWeights {
  const R = cfg.array.rows;
  const n = cfg.array.cols;
  const eb = (n * cfg.bits.weight) / 8;
  const op = plan.op;
  const sources = plan.terms.map((tp) => tp.windows.map((win) => rowSources(tp, win, R)));
  let total = 0;
  for (const perWindow of sources) for (const rows of perWindow) total += rows.length * eb;
  const bytes = new Uint8Array(total * plan.coBlocks);
  const offsets: number[][][][] = [];
  let off = 0;
  for (let o = 0; o < plan.coBlocks; o++) {
    const lanes = Math.max(0, Math.min(n, op.co - o * n));
    offsets.push(
      plan.terms.map((tp, k) => {
        const t = tp.term;
        const laneStride = t.ci * t.kh * t.kw;
        return tp.chunks.map((ch) =>
          tp.windows.map((win, v) => {
            const start = off;
            const per = windowTiles(tp.taps, win) * R;
            off = packRows(bytes, off, cfg, {
              w: t.weights,
              rows: sources[k]![v]!,
              from: ch.c0 * per,
              to: ch.c1 * per,
              base: o * n * laneStride,
              laneStride,
              lanes,
            });
            return start;
          }),
        );
      }),
    );
  }
  return { bytes, offsets };
}

function packParams(plan: OpPlan, cfg: ArchConfig): Uint8Array {
  const n = cfg.array.cols;
  const op = plan.op;
  const bytes = new Uint8Array(plan.coBlocks * n * PARAM_LANE_BYTES);
  const bias = new Int32Array(n);
  const shift = new Int8Array(n);
  for (let o = 0; o < plan.coBlocks; o++) {
    for (let c = 0; c < n; c++) {
      const ch = o * n + c;
      bias[c] = ch < op.co ? op.bias[ch]! : 0;
      shift[c] = ch < op.co ? op.shift[ch]! : 0;
    }
    packParamEntry(bias, shift, n, bytes, o * n * PARAM_LANE_BYTES);
  }
  return bytes;
}

/** Packed weights and parameters of plans already laid out (a plan's constants do not depend on where they go). */
export type ConstantsMemo = WeakMap<OpPlan, { w: PackedWeights; p: Uint8Array }>;

export function planDram(
  lowered: Lowered,
  plans: OpPlan[],
  cfg: ArchConfig,
  batch: number,
  memo: ConstantsMemo = new WeakMap(),
): DramPlan {
  const segments: DramSegment[] = [];
  const constants: OpConstants[] = [];
  let top = 0;
  for (const plan of plans) {
    let packed = memo.get(plan);
    if (!packed) {
      packed = { w: packWeights(plan, cfg), p: packParams(plan, cfg) };
      memo.set(plan, packed);
    }
    const { w, p } = packed;
    const wAddr = top;
    top = align(top + w.bytes.length);
    const pAddr = top;
    top = align(top + p.length);
    segments.push({ name: `${plan.op.name}.weights`, dramAddr: wAddr, bytes: w.bytes });
    segments.push({ name: `${plan.op.name}.params`, dramAddr: pAddr, bytes: p });
    const pBytes = cfg.array.cols * PARAM_LANE_BYTES;
    constants.push({
      weightAddr: (o, k, c, v) => wAddr + w.offsets[o]![k]![c]![v]!,
      paramAddr: (o) => pAddr + o * pBytes,
    });
  }
  // Zero rows between images stacked in INP come from here (read as INP entries).
  const eb = (cfg.array.rows * cfg.bits.activation) / 8;
  let zeroBytes = 0;
  for (const plan of plans) {
    for (const tile of plan.tiles) {
      if (!tile.stackPitch) continue;
      const src = plan.terms[0]!.term.src;
      zeroBytes = Math.max(zeroBytes, (tile.stackPitch - src.h) * src.w * eb);
    }
  }
  const zerosAddr = top;
  if (zeroBytes > 0) {
    segments.push({ name: 'zeros', dramAddr: zerosAddr, bytes: new Uint8Array(zeroBytes) });
    top = align(top + zeroBytes);
  }
  // Segment names must be unique even if two ops share a layer name.
  const seen = new Map<string, number>();
  for (const s of segments) {
    const k = seen.get(s.name) ?? 0;
    seen.set(s.name, k + 1);
    if (k) s.name = `${s.name}#${k}`;
  }

  const sizeOf = (t: ActTensor) => {
    t.imageStrideBytes = align(tensorImageBytes({ shape: [batch, t.c, t.h, t.w], layout: t.layout }, cfg));
    return t.imageStrideBytes * batch;
  };
  for (const t of [lowered.input, lowered.output]) {
    sizeOf(t);
    t.dramAddr = top;
    top = align(top + t.imageStrideBytes * batch);
  }
  // Intermediates: first fit among tensors whose lifetimes [producer, lastUse] intersect.
  const placed: { t: ActTensor; size: number }[] = [];
  const inter = lowered.tensors.filter((t) => t.role === 'intermediate');
  const base = top;
  for (const t of inter) {
    const size = sizeOf(t);
    const live = placed
      .filter(
        (p) => !(Math.max(p.t.lastUse, p.t.producer) < t.producer || Math.max(t.lastUse, t.producer) < p.t.producer),
      )
      .map((p) => [p.t.dramAddr, p.t.dramAddr + p.size] as const)
      .sort((a, b) => a[0] - b[0]);
    let addr = base;
    for (const [s, e] of live) {
      if (addr + size <= s) break;
      addr = Math.max(addr, align(e));
    }
    t.dramAddr = addr;
    placed.push({ t, size });
    top = Math.max(top, align(addr + size));
  }
  if (top > cfg.dram.sizeBytes) {
    throw new CompileError(
      `the program needs ${top} bytes of DRAM (weights, parameters and activations for batch ${batch}) but dram.sizeBytes is ${cfg.dram.sizeBytes}: raise dram.sizeBytes or lower the batch`,
      'compiler',
    );
  }
  return { segments, constants, size: top, zerosAddr };
}
