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
 * The weight each row of a weight tile holds: tile q of ci block cb of kernel
 * window `win`, row r -> (input channel, kernel y, kernel x), or undefined for
 * a zero row. Ordinary: tile q is the window's tap q (row-major), row r channel
 * cb*R + r. Tap-packed (g lanes): row j*g + l is tap q*T + j, channel l, or
 * channel floor(l/2) with nibble lanes (docs/architecture.md 7.6).
 */
function rowSource(
  tp: TermPlan,
  win: KernelWindow,
  R: number,
): (cb: number, q: number, r: number) => { ci: number; y: number; x: number } | undefined {
  const t = tp.term;
  const ww = win.x1 - win.x0;
  const taps = (win.y1 - win.y0) * ww;
  const at = (ci: number, tap: number) => ({ ci, y: win.y0 + Math.floor(tap / ww), x: win.x0 + (tap % ww) });
  const g = tp.taps.lanes;
  if (!g) return (cb, q, r) => (cb * R + r < t.ci ? at(cb * R + r, q) : undefined);
  const perPass = tp.taps.perPass;
  // nibble lanes: lanes 2c and 2c+1 (low and high nibble of channel c) hold the same weight
  const channel = tp.taps.nibbleLanes ? (l: number) => l >> 1 : (l: number) => l;
  return (_cb, q, r) => {
    const j = Math.floor(r / g);
    const tap = q * perPass + j;
    return j < perPass && tap < taps ? at(channel(r % g), tap) : undefined;
  };
}

/**
 * Pack an op's weights as WGT items in GEMM read order: [co block][term][chunk][window][cb][tile]
 * tiles of R entries (input lanes) of C lanes (output channels).
 */
function packWeights(plan: OpPlan, cfg: ArchConfig): { bytes: Uint8Array; offsets: number[][][][] } {
  const R = cfg.array.rows;
  const n = cfg.array.cols;
  const wb = cfg.bits.weight;
  const eb = (n * wb) / 8;
  const op = plan.op;
  let total = 0;
  for (let o = 0; o < plan.coBlocks; o++) {
    for (const tp of plan.terms)
      for (const win of tp.windows) total += tp.ciBlocks * windowTiles(tp.taps, win) * R * eb;
  }
  const bytes = new Uint8Array(total);
  const offsets: number[][][][] = [];
  const lanes = new Int32Array(n);
  let off = 0;
  for (let o = 0; o < plan.coBlocks; o++) {
    const perTerm: number[][][] = [];
    for (const tp of plan.terms) {
      const t = tp.term;
      const kk = t.kh * t.kw;
      const laneStride = t.ci * kk;
      const lanesUsed = Math.max(0, Math.min(n, op.co - o * n));
      const w = t.weights;
      const perChunk: number[][] = [];
      for (const ch of tp.chunks) {
        const perWindow: number[] = [];
        for (const win of tp.windows) {
          perWindow.push(off);
          const tiles = windowTiles(tp.taps, win);
          const source = rowSource(tp, win, R);
          for (let cb = ch.c0; cb < ch.c1; cb++) {
            for (let q = 0; q < tiles; q++) {
              for (let r = 0; r < R; r++, off += eb) {
                const s = source(cb, q, r);
                if (!s) continue; // a zero row
                let src = (o * n * t.ci + s.ci) * kk + s.y * t.kw + s.x;
                if (wb === 4) {
                  // Fast path: each byte of an entry at once, lanes c and c + 1 (lane c in the low
                  // nibble, as packEntry); unused lanes stay zero.
                  let c = 0;
                  for (; c + 1 < lanesUsed; c += 2, src += 2 * laneStride)
                    bytes[off + (c >> 1)] = (w[src]! & 15) | ((w[src + laneStride]! & 15) << 4);
                  if (c < lanesUsed) bytes[off + (c >> 1)] = w[src]! & 15;
                } else {
                  lanes.fill(0);
                  for (let c = 0; c < lanesUsed; c++) lanes[c] = w[src + c * laneStride]!;
                  packEntry(lanes, n, wb, bytes, off);
                }
              }
            }
          }
        }
        perChunk.push(perWindow);
      }
      perTerm.push(perChunk);
    }
    offsets.push(perTerm);
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

export function planDram(lowered: Lowered, plans: OpPlan[], cfg: ArchConfig, batch: number): DramPlan {
  const segments: DramSegment[] = [];
  const constants: OpConstants[] = [];
  let top = 0;
  for (const plan of plans) {
    const w = packWeights(plan, cfg);
    const p = packParams(plan, cfg);
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
