/**
 * Random valid machines and programs for differential testing (fast == cycle
 * == timing, and simulator == RTL). A program is a sequence of rounds in the
 * VTA style: LOAD block -> COMPUTE block (GEMMs, REQUANT, optional POOL) ->
 * STORE block, with INP/WGT/PARAM and OUT double-buffered by round parity and
 * dependency tokens on every hazard. Blocks are emitted in a random order that
 * keeps every token pop after the push that satisfies it in program order,
 * which makes the program deadlock-free for any queue depth while still
 * letting the loads of round r+1 overlap the compute of round r.
 */
import { configHash, deriveArch, validateConfig, type ArchConfig } from '../arch/index.js';
import { isaLayout, packParamEntry } from '../isa/index.js';
import type {
  DramSegment,
  LayerInfo,
  Program,
  TensorDescriptor,
  GemmInst,
  Instruction,
  LoadInst,
  NopInst,
  PoolInst,
  RequantInst,
  StoreInst,
} from '../isa/index.js';
import { mulberry32 } from './memory.js';

export interface RandomProgramOptions {
  /** number of load/compute/store rounds (default: random 1..6) */
  rounds?: number;
  /** largest tile height/width (default 6) */
  maxDim?: number;
  /** probability of inserting a NOP at each opportunity (default 0.1) */
  nopRate?: number;
}

type Rnd = () => number;
const int = (rnd: Rnd, lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
const pick = <T>(rnd: Rnd, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const pow2 = (rnd: Rnd, loLog: number, hiLog: number) => 2 ** int(rnd, loLog, hiLog);

/** A random valid ArchConfig (small buffers so the cycle engine stays fast). */
export function randomConfig(seed: number): ArchConfig {
  const rnd = mulberry32(seed ^ 0x5eed);
  const n = pick(rnd, [2, 2, 4, 4, 4, 8, 8, 16]);
  const bitsFor = () => {
    const ok = [2, 3, 4, 5, 6, 7, 8].filter((b) => (n * b) % 8 === 0);
    return rnd() < 0.5 && ok.includes(4) ? 4 : pick(rnd, ok);
  };
  const wb = bitsFor();
  const ab = bitsFor();
  // enough accumulator bits for a few dozen passes with pshift, so random programs need not shrink much
  const need = Math.ceil(Math.log2(n * (2 ** ab - 1) * 2 ** (wb - 1) * 64 * 8 + 1)) + 1;
  const acc = int(rnd, Math.min(32, Math.max(16, need)), 32);
  const cfg: ArchConfig = {
    array: { rows: n, cols: n },
    bits: { weight: wb, activation: ab, accumulator: acc },
    scratchpad: {
      inputEntries: pow2(rnd, 5, 9),
      weightEntries: Math.max(2 ** Math.ceil(Math.log2(4 * n)), pow2(rnd, 4, 10)),
      accEntries: pow2(rnd, 5, 8),
      outputEntries: pow2(rnd, 5, 8),
      paramEntries: pow2(rnd, 1, 4),
    },
    dram: { busBytes: pow2(rnd, 0, 4), latency: int(rnd, 1, 30), sizeBytes: pow2(rnd, 16, 20) },
    queues: { load: int(rnd, 1, 6), compute: int(rnd, 1, 6), store: int(rnd, 1, 6) },
    requantStages: int(rnd, 1, 4),
    clockMHz: pick(rnd, [100, 250, 500, 800]),
    techNodeNm: pick(rnd, [45, 28, 22] as const),
  };
  validateConfig(cfg);
  isaLayout(cfg);
  return cfg;
}

const flags = { pop_prev: 0, pop_next: 0, push_prev: 0, push_next: 0 } as const;

function nop(unit: number): NopInst {
  return { op: 'NOP', ...flags, unit };
}

interface Block {
  kind: 'L' | 'C' | 'S';
  round: number;
  code: Instruction[];
}

/** A random valid program for `cfg` (see the file comment for its structure). */
export function randomProgram(seed: number, cfg: ArchConfig, opts: RandomProgramOptions = {}): Program {
  const rnd = mulberry32(seed);
  const a = deriveArch(cfg);
  const n = a.n;
  const sp = cfg.scratchpad;
  const rounds = opts.rounds ?? int(rnd, 1, 6);
  const maxDim = opts.maxDim ?? 6;
  const nopRate = opts.nopRate ?? 0.1;
  const maybeNop = (code: Instruction[], unit: number) => {
    if (rnd() < nopRate) code.push(nop(unit));
  };

  // DRAM: input tensor, weights, params, then one region per stored output
  const inBlocks = int(rnd, 1, 3);
  const inH = int(rnd, 1, maxDim + 2);
  const inW = int(rnd, 1, maxDim + 2);
  const inputDesc: TensorDescriptor = {
    name: 'input',
    dramAddr: int(rnd, 0, 3) * 16,
    shape: [1, inBlocks * n, inH, inW],
    layout: 'blocked',
    bits: a.activationBits,
    signed: false,
    imageStrideBytes: inBlocks * inH * inW * a.inpEntryBytes,
  };
  let cursor = inputDesc.dramAddr + inputDesc.imageStrideBytes;
  const wgtTiles = Math.max(1, Math.min(64, Math.floor(sp.weightEntries / 2 / n)));
  const wgtBytes = new Uint8Array(wgtTiles * n * a.wgtEntryBytes);
  for (let i = 0; i < wgtBytes.length; i++) wgtBytes[i] = Math.floor(rnd() * 256);
  const wgtAddr = cursor + int(rnd, 0, 7);
  cursor = wgtAddr + wgtBytes.length;
  const paramCount = 8;
  const paramBytes = new Uint8Array(paramCount * a.paramEntryBytes);
  for (let e = 0; e < paramCount; e++) {
    const bias = Array.from({ length: n }, () => int(rnd, -(2 ** 10), 2 ** 10));
    const shift = Array.from({ length: n }, () => int(rnd, -4, 10));
    packParamEntry(bias, shift, n, paramBytes, e * a.paramEntryBytes);
  }
  const paramAddr = cursor + int(rnd, 0, 7);
  cursor = paramAddr + paramBytes.length;
  const segments: DramSegment[] = [
    { name: 'weights', dramAddr: wgtAddr, bytes: wgtBytes },
    { name: 'params', dramAddr: paramAddr, bytes: paramBytes },
  ];
  const outputs: TensorDescriptor[] = [];

  const inpHalf = sp.inputEntries / 2;
  const wgtHalf = sp.weightEntries / 2;
  const paramHalf = sp.paramEntries >= 2 ? sp.paramEntries / 2 : 0;
  const outHalf = sp.outputEntries / 2;
  const outQuarter = outHalf / 2;
  const accBound = new Float64Array(sp.accEntries);
  const wmax = 2 ** (a.weightBits - 1);

  const blocks: Block[] = [];
  const layerMacs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const half = r & 1;
    const L: Instruction[] = [];
    const C: Instruction[] = [];
    const S: Instruction[] = [];
    // --- the round's input tile
    const cbs = int(rnd, 1, Math.min(inBlocks, 3));
    let tH = int(rnd, 1, Math.min(inH, maxDim));
    let tW = int(rnd, 1, Math.min(inW, maxDim));
    while (cbs * tH * tW > inpHalf) {
      if (tH > 1) tH--;
      else tW--;
    }
    const inpBase = half * inpHalf;
    // --- GEMMs: one ACC region per round, first GEMM may overwrite, later ones accumulate
    const outH = int(rnd, 1, maxDim);
    const outW = int(rnd, 1, Math.min(maxDim, Math.floor(sp.accEntries / outH)));
    const P = outH * outW;
    const accAddr = int(rnd, 0, sp.accEntries - P);
    const nG = int(rnd, 1, 3);
    const wgtBase = half * wgtHalf;
    let wgtUsed = 0;
    const gemms: GemmInst[] = [];
    let macs = 0;
    for (let k = 0; k < nG; k++) {
      let kh = int(rnd, 1, 3);
      let kw = int(rnd, 1, 3);
      let ci = int(rnd, 1, cbs);
      while (ci * kh * kw * n > Math.min(wgtHalf - wgtUsed, wgtTiles * n) && (ci > 1 || kh > 1 || kw > 1)) {
        if (ci > 1) ci--;
        else if (kh > 1) kh--;
        else kw--;
      }
      const tiles = ci * kh * kw;
      if (tiles * n > wgtHalf - wgtUsed || tiles > wgtTiles) break;
      const actSigned = rnd() < 0.4 ? 1 : 0;
      const amax = actSigned ? 2 ** (a.activationBits - 1) : 2 ** a.activationBits - 1;
      let pshift = rnd() < 0.3 ? int(rnd, 1, 3) : 0;
      let accumulate = k === 0 ? (rnd() < 0.2 ? 1 : 0) : rnd() < 0.8 ? 1 : 0;
      let prior = 0;
      for (let e = accAddr; e < accAddr + P; e++) prior = Math.max(prior, accBound[e]!);
      const bound = (ps: number, acc: number) => (acc ? prior : 0) + tiles * n * amax * wmax * 2 ** ps;
      if (bound(pshift, accumulate) > a.accMax) pshift = 0;
      if (bound(pshift, accumulate) > a.accMax) accumulate = 0;
      if (bound(pshift, accumulate) > a.accMax) break;
      const nb = bound(pshift, accumulate);
      for (let e = accAddr; e < accAddr + P; e++) accBound[e] = nb;
      const g: GemmInst = {
        op: 'GEMM',
        ...flags,
        wgt_addr: wgtBase + wgtUsed,
        inp_addr: inpBase,
        acc_addr: accAddr,
        in_h: tH,
        in_w: tW,
        out_h: outH,
        out_w: outW,
        kernel_h: kh,
        kernel_w: kw,
        stride_h: int(rnd, 1, 2),
        stride_w: int(rnd, 1, 2),
        pad_top: int(rnd, 0, Math.min(2, kh - 1)),
        pad_left: int(rnd, 0, Math.min(2, kw - 1)),
        ci_blocks: ci,
        accumulate,
        act_signed: actSigned,
        pshift,
      };
      gemms.push(g);
      wgtUsed += tiles * n;
      macs += tiles * P * n * n;
    }
    // --- LOAD block
    if (r >= 2) L.push({ ...nop(0), pop_next: 1 });
    maybeNop(L, 0);
    for (let cb = 0; cb < cbs; cb++) {
      const src = int(rnd, 0, inBlocks - 1);
      const y0 = int(rnd, 0, inH - tH);
      const x0 = int(rnd, 0, inW - tW);
      const ld: LoadInst = {
        op: 'LOAD',
        ...flags,
        buf: 0,
        sram_addr: inpBase + cb * tH * tW,
        dram_addr: inputDesc.dramAddr + ((src * inH + y0) * inW + x0) * a.inpEntryBytes,
        x_count: tW,
        y_count: tH,
        dram_stride: inW * a.inpEntryBytes,
      };
      L.push(ld);
    }
    let wOff = 0;
    for (const g of gemms) {
      const tiles = g.ci_blocks * g.kernel_h * g.kernel_w;
      const t0 = int(rnd, 0, wgtTiles - tiles);
      const rows = rnd() < 0.5;
      L.push({
        op: 'LOAD',
        ...flags,
        buf: 1,
        sram_addr: wgtBase + wOff,
        dram_addr: wgtAddr + t0 * n * a.wgtEntryBytes,
        x_count: rows ? n : tiles * n,
        y_count: rows ? tiles : 1,
        dram_stride: rows ? n * a.wgtEntryBytes : 0,
      });
      wOff += tiles * n;
      maybeNop(L, 0);
    }
    const paramBase = half * paramHalf;
    const paramLoaded = r === 0 || paramHalf > 0;
    const pCount = paramLoaded ? int(rnd, 1, Math.max(1, Math.min(paramHalf || 1, paramCount))) : 1;
    if (paramLoaded) {
      const p0 = int(rnd, 0, paramCount - pCount);
      L.push({
        op: 'LOAD',
        ...flags,
        buf: 2,
        sram_addr: paramBase,
        dram_addr: paramAddr + p0 * a.paramEntryBytes,
        x_count: pCount,
        y_count: 1,
        dram_stride: 0,
      });
    }
    L[L.length - 1] = { ...L[L.length - 1]!, push_next: 1 };
    // --- COMPUTE block
    maybeNop(C, 1);
    C.push(...gemms);
    if (C.length === 0) C.push(nop(1));
    C[0] = { ...C[0]!, pop_prev: 1 };
    const inHq = gemms.length > 0 ? outH : 1;
    const inWq = gemms.length > 0 ? outW : 1;
    const win = (ih: number, iw: number, cap: number) => {
      let k = int(rnd, 1, Math.min(3, ih, iw));
      let s = int(rnd, 1, 3);
      if (rnd() < 0.4) {
        k = 1;
        s = 1;
      }
      let oh = Math.floor((ih - k) / s) + 1;
      let ow = Math.floor((iw - k) / s) + 1;
      oh = int(rnd, Math.max(1, oh - 1), oh);
      while (oh * ow > cap) {
        if (ow > 1) ow--;
        else oh--;
      }
      return { k, s, oh, ow };
    };
    const q0 = half * outHalf;
    const q1 = q0 + outQuarter;
    const rw = win(inHq, inWq, outQuarter);
    const outSigned = rnd() < 0.4 ? 1 : 0;
    const rq: RequantInst = {
      op: 'REQUANT',
      ...flags,
      pop_next: r >= 2 ? 1 : 0,
      push_prev: 1,
      acc_addr: accAddr,
      out_addr: q0,
      param_addr: paramBase + int(rnd, 0, pCount - 1),
      in_h: inHq,
      in_w: inWq,
      out_h: rw.oh,
      out_w: rw.ow,
      pool_k: rw.k,
      pool_s: rw.s,
      out_signed: outSigned,
      clamp_bits: int(rnd, 1, a.activationBits),
    };
    maybeNop(C, 1);
    C.push(rq);
    let stAddr = q0;
    let stH = rw.oh;
    let stW = rw.ow;
    if (rnd() < 0.4) {
      const pw = win(rw.oh, rw.ow, outQuarter);
      const pool: PoolInst = {
        op: 'POOL',
        ...flags,
        src_addr: q0,
        dst_addr: q1,
        in_h: rw.oh,
        in_w: rw.ow,
        out_h: pw.oh,
        out_w: pw.ow,
        pool_k: pw.k,
        pool_s: pw.s,
        act_signed: outSigned,
      };
      C.push(pool);
      stAddr = q1;
      stH = pw.oh;
      stW = pw.ow;
    }
    C[C.length - 1] = { ...C[C.length - 1]!, push_next: 1 };
    // --- STORE block: the stored tile is one output tensor
    const desc: TensorDescriptor = {
      name: `out${r}`,
      dramAddr: cursor + int(rnd, 0, 3) * 4,
      shape: [1, n, stH, stW],
      layout: 'blocked',
      bits: a.activationBits,
      signed: outSigned === 1,
      imageStrideBytes: stH * stW * a.outEntryBytes,
    };
    cursor = desc.dramAddr + desc.imageStrideBytes;
    outputs.push(desc);
    const split = stH > 1 && rnd() < 0.3 ? int(rnd, 1, stH - 1) : stH;
    const st = (row0: number, rows: number): StoreInst => ({
      op: 'STORE',
      ...flags,
      sram_addr: stAddr + row0 * stW,
      dram_addr: desc.dramAddr + row0 * stW * a.outEntryBytes,
      x_count: stW,
      y_count: rows,
      dram_stride: stW * a.outEntryBytes,
    });
    maybeNop(S, 2);
    S.push(st(0, split));
    if (split < stH) S.push(st(split, stH - split));
    maybeNop(S, 2);
    S[0] = { ...S[0]!, pop_prev: 1 };
    S[S.length - 1] = { ...S[S.length - 1]!, push_prev: 1 };
    blocks.push({ kind: 'L', round: r, code: L }, { kind: 'C', round: r, code: C }, { kind: 'S', round: r, code: S });
    layerMacs.push(macs);
  }

  // emit blocks in a random order that respects the token producers (see file comment)
  const done = new Set<string>();
  const ready = (b: Block) => {
    const r = b.round;
    const has = (k: string, rr: number) => rr < 0 || done.has(`${k}${rr}`);
    if (b.kind === 'L') return has('L', r - 1) && (r < 2 || has('C', r - 2));
    if (b.kind === 'C') return has('C', r - 1) && has('L', r) && (r < 2 || has('S', r - 2));
    return has('S', r - 1) && has('C', r);
  };
  const code: Instruction[] = [];
  const firstIdx = new Array<number>(rounds).fill(Infinity);
  const lastIdx = new Array<number>(rounds).fill(-1);
  const pending = [...blocks];
  while (pending.length > 0) {
    const cands = pending.filter(ready);
    const b = pick(rnd, cands);
    pending.splice(pending.indexOf(b), 1);
    done.add(`${b.kind}${b.round}`);
    firstIdx[b.round] = Math.min(firstIdx[b.round]!, code.length);
    code.push(...b.code);
    lastIdx[b.round] = code.length - 1;
  }
  code.push({ op: 'HALT', ...flags });
  const layers: LayerInfo[] = layerMacs.map((macs, r) => ({
    name: `round${r}`,
    kind: 'random',
    macs,
    firstInstruction: firstIdx[r]!,
    lastInstruction: lastIdx[r]!,
  }));
  return {
    config: cfg,
    configHash: configHash(cfg),
    code,
    segments,
    inputs: [inputDesc],
    outputs,
    layers,
    meta: { generator: 'randomProgram', seed },
  };
}
