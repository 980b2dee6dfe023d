/**
 * Random valid machines and programs for differential testing (fast == cycle
 * == timing, and simulator == RTL). A program is a sequence of rounds in the
 * VTA style: LOAD block -> COMPUTE block (GEMMs, REQUANT, optional POOL) ->
 * STORE block, with INP/WGT/PARAM and OUT double-buffered by round parity and
 * dependency tokens on every hazard. Blocks are emitted in a random order that
 * keeps every token pop after the push that satisfies it in program order,
 * which makes the program deadlock-free for any queue depth while still
 * letting the loads of round r+1 overlap the compute of round r.
 *
 * Each opcode module generates its own instructions (sim/ops/<op>.ts
 * `random`): per round, phase by phase (plan, load, compute, store), the
 * generators run in registry order and share the round (sim/ops/random-round.ts).
 */
import { configHash, deriveArch, validateConfig, type ArchConfig } from '../arch/index.js';
import {
  MNEMONICS,
  NO_FLAGS,
  isaLayout,
  mayStartBeside,
  packParamEntry,
  unitOf,
  type DramSegment,
  type Instruction,
  type LayerInfo,
  type Program,
  type TensorDescriptor,
} from '../isa/index.js';
import { mulberry32 } from './memory.js';
import { SIM_OPS } from './ops/index.js';
import { RandomRound } from './ops/random-round.js';

export interface RandomProgramOptions {
  /** number of load/compute/store rounds (default: random 1..6) */
  rounds?: number;
  /** largest tile height/width (default 6) */
  maxDim?: number;
  /** probability of inserting a NOP at each opportunity (default 0.1) */
  nopRate?: number;
  /** tap-packed GEMMs and replicating LOADs (default true) */
  tapPacking?: boolean;
}

export interface RandomConfigOptions {
  /** machines with rows != cols (default true: a third of them) */
  rectangular?: boolean;
}

type Rnd = () => number;
const int = (rnd: Rnd, lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
const pick = <T>(rnd: Rnd, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const pow2 = (rnd: Rnd, loLog: number, hiLog: number) => 2 ** int(rnd, loLog, hiLog);

/** A random valid ArchConfig (small buffers so the cycle engine stays fast). */
export function randomConfig(seed: number, opts: RandomConfigOptions = {}): ArchConfig {
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
    gemmBeside: true,
    fastPreload: true,
    weightBanks: 3,
    clockMHz: pick(rnd, [100, 250, 500, 800]),
    techNodeNm: pick(rnd, [45, 28, 22] as const),
  };
  // drawn last, so a seed's other choices are what they were before rectangular arrays: a third of the
  // machines get cols = rows / 2, 2 rows or 4 rows where the entries stay whole bytes
  if (rnd() < 1 / 3 && opts.rectangular !== false) {
    const ok = [n / 2, 2 * n, 4 * n].filter((c) => c >= 2 && c <= 64 && (c * wb) % 8 === 0 && (c * ab) % 8 === 0);
    if (ok.length > 0) cfg.array.cols = pick(rnd, ok);
  }
  // a quarter of the machines without GEMMs beside REQUANTs (the iCE40 boards' choice), drawn after the rest
  cfg.gemmBeside = rnd() >= 1 / 4;
  // a quarter without the fast weight preload (the iCE40 boards' choice too), drawn after that
  cfg.fastPreload = rnd() >= 1 / 4;
  // half with a third weight bank
  cfg.weightBanks = rnd() < 1 / 2 ? 3 : 2;
  validateConfig(cfg);
  isaLayout(cfg);
  return cfg;
}

interface Block {
  kind: 'L' | 'C' | 'S';
  round: number;
  code: Instruction[];
}

/** The program-wide DRAM image: the input tensor, random weights and params; output tensors follow. */
function layOutDram(round: RandomRound): DramSegment[] {
  const { a, rows: n, cols, sp, maxDim } = round;
  const inBlocks = round.int(1, 3);
  const inH = round.int(1, maxDim + 2);
  const inW = round.int(1, maxDim + 2);
  const desc: TensorDescriptor = {
    name: 'input',
    dramAddr: round.int(0, 3) * 16,
    shape: [1, inBlocks * n, inH, inW],
    layout: 'blocked',
    bits: a.activationBits,
    signed: false,
    // LOADs read it as INP entries one after another; its blocked layout may use wider DRAM entries (cols > rows)
    imageStrideBytes: inBlocks * inH * inW * Math.max(a.inpEntryBytes, a.dramEntryBytes),
  };
  round.input = { desc, blocks: inBlocks, h: inH, w: inW };
  let cursor = desc.dramAddr + desc.imageStrideBytes;
  const wgtTiles = Math.max(1, Math.min(64, Math.floor(sp.weightEntries / 2 / n)));
  const wgtBytes = new Uint8Array(wgtTiles * n * a.wgtEntryBytes);
  for (let i = 0; i < wgtBytes.length; i++) wgtBytes[i] = Math.floor(round.rnd() * 256);
  const wgtAddr = cursor + round.int(0, 7);
  cursor = wgtAddr + wgtBytes.length;
  round.weights = { addr: wgtAddr, tiles: wgtTiles };
  const paramCount = 8;
  const paramBytes = new Uint8Array(paramCount * a.paramEntryBytes);
  for (let e = 0; e < paramCount; e++) {
    const bias = Array.from({ length: cols }, () => round.int(-(2 ** 10), 2 ** 10));
    const shift = Array.from({ length: cols }, () => round.int(-4, 10));
    packParamEntry(bias, shift, cols, paramBytes, e * a.paramEntryBytes);
  }
  const paramAddr = cursor + round.int(0, 7);
  round.cursor = paramAddr + paramBytes.length;
  round.params = { addr: paramAddr, count: paramCount };
  return [
    { name: 'weights', dramAddr: wgtAddr, bytes: wgtBytes },
    { name: 'params', dramAddr: paramAddr, bytes: paramBytes },
  ];
}

const PHASES = ['plan', 'load', 'compute', 'store'] as const;

/** One round: every opcode module's generator, phase by phase, then the blocks' token flags. */
function buildRound(round: RandomRound): Block[] {
  for (const phase of PHASES) for (const m of MNEMONICS) SIM_OPS[m].random[phase]?.(round);
  const { load: L, compute: C, store: S } = round;
  // the load block tells compute its data is there; compute waits for it and tells store; store tells compute
  L[L.length - 1] = { ...L[L.length - 1]!, push_next: 1 };
  C[0] = { ...C[0]!, pop_prev: 1 };
  C[C.length - 1] = { ...C[C.length - 1]!, push_next: 1 };
  S[0] = { ...S[0]!, pop_prev: 1 };
  S[S.length - 1] = { ...S[S.length - 1]!, push_prev: 1 };
  return [
    { kind: 'L', round: round.r, code: L },
    { kind: 'C', round: round.r, code: C },
    { kind: 'S', round: round.r, code: S },
  ];
}

/** gemm_beside on every REQUANT right before a GEMM (compute order) whose ACC entries that GEMM does not touch. */
function markBeside(code: Instruction[], cfg: ArchConfig): void {
  if (!cfg.gemmBeside) return;
  const m = { cfg, arch: deriveArch(cfg) };
  let prev: { inst: Instruction; at: number } | undefined;
  code.forEach((inst, i) => {
    if (unitOf(inst) !== 'compute') return;
    if (prev && prev.inst.op === 'REQUANT' && mayStartBeside(prev.inst, inst, m))
      code[prev.at] = { ...prev.inst, gemm_beside: 1 };
    prev = { inst, at: i };
  });
}

/** A random valid program for `cfg` (see the file comment for its structure). */
export function randomProgram(seed: number, cfg: ArchConfig, opts: RandomProgramOptions = {}): Program {
  const rnd = mulberry32(seed);
  const round = new RandomRound(
    rnd,
    cfg,
    deriveArch(cfg),
    opts.maxDim ?? 6,
    opts.nopRate ?? 0.1,
    opts.tapPacking ?? true,
  );
  const rounds = opts.rounds ?? round.int(1, 6);
  const segments = layOutDram(round);
  const blocks: Block[] = [];
  const layerMacs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    round.begin(r);
    blocks.push(...buildRound(round));
    layerMacs.push(round.gemm.macs);
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
    const b = round.pick(cands);
    pending.splice(pending.indexOf(b), 1);
    done.add(`${b.kind}${b.round}`);
    firstIdx[b.round] = Math.min(firstIdx[b.round]!, code.length);
    code.push(...b.code);
    lastIdx[b.round] = code.length - 1;
  }
  markBeside(code, cfg);
  code.push({ op: 'HALT', ...NO_FLAGS });
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
    inputs: [round.input.desc],
    outputs: round.outputs,
    layers,
    meta: { generator: 'randomProgram', seed },
  };
}
