/**
 * Directed co-simulation programs: every instruction, every buffer, tokens and
 * overlap, extreme requant parameters. Built from Instruction objects so they
 * do not depend on the compiler.
 */
import { configHash, deriveArch, validateConfig, DEFAULT_CONFIG, type ArchConfig } from '../../arch/config.js';
import { packParamEntry } from '../../isa/layout.js';
import type { DramSegment, Program } from '../../isa/program.js';
import type { Instruction } from '../../isa/table.js';
import { HALT, gemmIns, ins, makeProgram } from '../sim/helpers.js';

/** 4x4, entries narrower than the bus, shallow queues, 3 requant stages. */
export const CFG4: ArchConfig = validateConfig({
  ...structuredClone(DEFAULT_CONFIG),
  array: { rows: 4, cols: 4 },
  scratchpad: { inputEntries: 256, weightEntries: 256, accEntries: 128, outputEntries: 256, paramEntries: 16 },
  dram: { busBytes: 8, latency: 5, sizeBytes: 1 << 20 },
  queues: { load: 2, compute: 3, store: 1 },
  requantStages: 3,
});

/** 8x8, multi-beat entries (2-byte bus), 24-bit accumulators, 5 requant stages. */
export const CFG8: ArchConfig = validateConfig({
  ...structuredClone(DEFAULT_CONFIG),
  array: { rows: 8, cols: 8 },
  bits: { weight: 4, activation: 4, accumulator: 24 },
  scratchpad: { inputEntries: 512, weightEntries: 512, accEntries: 256, outputEntries: 256, paramEntries: 8 },
  dram: { busBytes: 2, latency: 11, sizeBytes: 1 << 16 },
  queues: { load: 4, compute: 4, store: 4 },
  requantStages: 5,
});

const F = { pop_prev: 0, pop_next: 0, push_prev: 0, push_next: 0 } as const;
type Flags = Partial<Record<'pop_prev' | 'pop_next' | 'push_prev' | 'push_next', 0 | 1>>;

export const nop = (unit: number, f: Flags = {}): Instruction => ({ op: 'NOP', ...F, ...f, unit });
export const load = (
  buf: number,
  sram_addr: number,
  dram_addr: number,
  x_count: number,
  y_count: number,
  dram_stride: number,
  f: Flags = {},
  replicate = 0,
): Instruction => ({
  op: 'LOAD',
  ...F,
  ...f,
  buf,
  sram_addr,
  dram_addr,
  x_count,
  y_count,
  dram_stride,
  replicate,
});
export const store = (
  sram_addr: number,
  dram_addr: number,
  x_count: number,
  y_count: number,
  dram_stride: number,
  f: Flags = {},
): Instruction => ({
  op: 'STORE',
  ...F,
  ...f,
  sram_addr,
  dram_addr,
  x_count,
  y_count,
  dram_stride,
});
export function gemm(g: Partial<Record<string, number>>, f: Flags = {}): Instruction {
  return {
    op: 'GEMM',
    ...F,
    ...f,
    wgt_addr: 0,
    inp_addr: 0,
    acc_addr: 0,
    in_h: 1,
    in_w: 1,
    out_h: 1,
    out_w: 1,
    kernel_h: 1,
    kernel_w: 1,
    stride_h: 1,
    stride_w: 1,
    pad_top: 0,
    pad_left: 0,
    ci_blocks: 1,
    accumulate: 0,
    act_signed: 0,
    pshift: 0,
    taps: 0,
    nibble_lanes: 0,
    ...g,
  } as Instruction;
}
export function requant(r: Partial<Record<string, number>>, f: Flags = {}): Instruction {
  return {
    op: 'REQUANT',
    ...F,
    ...f,
    acc_addr: 0,
    out_addr: 0,
    param_addr: 0,
    in_h: 1,
    in_w: 1,
    out_h: 1,
    out_w: 1,
    pool_k: 1,
    pool_s: 1,
    out_signed: 0,
    clamp_bits: 4,
    gemm_beside: 0,
    ...r,
  } as Instruction;
}
export function pool(p: Partial<Record<string, number>>, f: Flags = {}): Instruction {
  return {
    op: 'POOL',
    ...F,
    ...f,
    src_addr: 0,
    dst_addr: 0,
    in_h: 1,
    in_w: 1,
    out_h: 1,
    out_w: 1,
    pool_k: 1,
    pool_s: 1,
    act_signed: 0,
    ...p,
  } as Instruction;
}
export const halt = (): Instruction => ({ op: 'HALT', ...F });

/** Deterministic bytes. */
function bytes(len: number, seed: number): Uint8Array {
  let s = seed >>> 0;
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

// DRAM map of the directed programs
export const A_INP = 0x0000;
export const A_WGT = 0x2000;
export const A_PAR = 0x4000;
export const A_OUT = 0x6000;

function program(cfg: ArchConfig, code: Instruction[], params: { bias: number[]; shift: number[] }[]): Program {
  const a = deriveArch(cfg);
  const par = new Uint8Array(params.length * a.paramEntryBytes);
  params.forEach((p, e) => packParamEntry(p.bias, p.shift, a.cols, par, e * a.paramEntryBytes));
  const segments: DramSegment[] = [
    { name: 'inp', dramAddr: A_INP, bytes: bytes(0x1000, 11) },
    { name: 'wgt', dramAddr: A_WGT, bytes: bytes(0x1000, 23) },
    { name: 'par', dramAddr: A_PAR, bytes: par },
    // makes the output region part of the compared DRAM image
    { name: 'out', dramAddr: A_OUT, bytes: new Uint8Array(0x800) },
  ];
  return {
    config: cfg,
    configHash: configHash(cfg),
    code: [...code, halt()],
    segments,
    inputs: [],
    outputs: [],
    layers: [],
    meta: { name: 'directed' },
  };
}

const lanes = (n: number, f: (l: number) => number) => Array.from({ length: n }, (_, l) => f(l));

interface Ctx {
  cfg: ArchConfig;
  n: number;
  /** INP and OUT entry bytes */
  ie: number;
  oe: number;
  normal: { bias: number[]; shift: number[] }[];
  /** normal and extreme PARAM entries */
  all: { bias: number[]; shift: number[] }[];
}

function context(cfg: ArchConfig): Ctx {
  const a = deriveArch(cfg);
  // n: entries per weight tile (rows); c: lanes of a PARAM entry (cols)
  const n = a.rows;
  const c = a.cols;
  const normal = [
    { bias: lanes(c, (l) => 3 * l - 5), shift: lanes(c, (l) => l % 4) },
    { bias: lanes(c, (l) => -40 + l), shift: lanes(c, (l) => 2 + (l % 3)) },
  ];
  const extreme = [
    // huge right shifts, negative (saturating left) shifts, extreme biases
    {
      bias: lanes(c, (l) => [0, 2 ** 31 - 1, -(2 ** 31), 7][l % 4]!),
      shift: lanes(c, (l) => [127, -128, 40, -10, 33, -1, 0, 31][l % 8]!),
    },
    { bias: lanes(c, (l) => [-3, 100, -(2 ** 20), 2 ** 20][l % 4]!), shift: lanes(c, (l) => [-9, -8, 32, 5][l % 4]!) },
  ];
  return { cfg, n, ie: a.inpEntryBytes, oe: a.outEntryBytes, normal, all: [...normal, ...extreme] };
}

function loadGemmRequantStore(c: Ctx): Program {
  const { cfg, n, ie, oe, normal } = c;
  // LOAD into every buffer (2-D, strided), 1x1 GEMM, REQUANT, 2-D STORE
  return program(
    cfg,
    [
      load(0, 0, A_INP + 3, 4, 3, 4 * ie + 5),
      load(1, 0, A_WGT, n, 1, 0),
      load(2, 0, A_PAR, 2, 1, 0, { push_next: 1 }),
      gemm({ in_h: 3, in_w: 4, out_h: 3, out_w: 4 }, { pop_prev: 1 }),
      requant({ in_h: 3, in_w: 4, out_h: 3, out_w: 4, param_addr: 1, clamp_bits: 4 }, { push_next: 1 }),
      store(0, A_OUT + 1, 4, 3, 4 * oe + 3, { pop_prev: 1 }),
    ],
    normal,
  );
}

function convPool(c: Ctx): Program {
  const { cfg, n, ie, oe, normal } = c;
  // convolution: 3x3 kernel, padding, stride 2, two input-channel blocks, signed activations, pshift;
  // then an accumulating 1-pixel GEMM (ACC bypass), fused 2x2 pooling, POOL, several STOREs
  return program(
    cfg,
    [
      load(0, 0, A_INP, 5 * 6, 2, 5 * 6 * ie),
      load(1, 0, A_WGT, 18 * n, 1, 0),
      load(2, 0, A_PAR, 2, 1, 0, { push_next: 1 }),
      gemm(
        {
          in_h: 5,
          in_w: 6,
          out_h: 3,
          out_w: 3,
          kernel_h: 3,
          kernel_w: 3,
          stride_h: 2,
          stride_w: 2,
          pad_top: 1,
          pad_left: 1,
          ci_blocks: 2,
          act_signed: 1,
          pshift: 2,
          acc_addr: 10,
        },
        { pop_prev: 1 },
      ),
      gemm({ in_h: 5, in_w: 6, out_h: 1, out_w: 1, wgt_addr: 4 * n, inp_addr: 7, acc_addr: 14, accumulate: 1 }),
      gemm({
        in_h: 5,
        in_w: 6,
        out_h: 1,
        out_w: 1,
        wgt_addr: 5 * n,
        inp_addr: 8,
        acc_addr: 14,
        accumulate: 1,
        pshift: 1,
      }),
      requant({
        acc_addr: 10,
        in_h: 3,
        in_w: 3,
        out_h: 1,
        out_w: 1,
        pool_k: 2,
        pool_s: 2,
        out_addr: 0,
        out_signed: 1,
        clamp_bits: 4,
      }),
      requant({
        acc_addr: 10,
        in_h: 3,
        in_w: 3,
        out_h: 2,
        out_w: 2,
        pool_k: 2,
        pool_s: 1,
        out_addr: 4,
        param_addr: 1,
        clamp_bits: 3,
      }),
      requant({ acc_addr: 10, in_h: 3, in_w: 3, out_h: 3, out_w: 3, out_addr: 16, param_addr: 1, clamp_bits: 4 }),
      pool({ src_addr: 16, dst_addr: 40, in_h: 3, in_w: 3, out_h: 1, out_w: 1, pool_k: 3, pool_s: 1 }),
      pool({ src_addr: 4, dst_addr: 48, in_h: 2, in_w: 2, out_h: 1, out_w: 1, pool_k: 2, pool_s: 1, act_signed: 1 }),
      pool({ src_addr: 4, dst_addr: 49, in_h: 2, in_w: 2, out_h: 2, out_w: 2, pool_k: 1, pool_s: 1, act_signed: 1 }),
      pool(
        { src_addr: 16, dst_addr: 56, in_h: 3, in_w: 3, out_h: 2, out_w: 2, pool_k: 2, pool_s: 1 },
        { push_next: 1 },
      ),
      store(0, A_OUT, 5, 1, 0, { pop_prev: 1 }),
      store(16, A_OUT + 0x40, 9, 1, 0),
      store(40, A_OUT + 0x100, 1, 1, 0),
      store(48, A_OUT + 0x110, 5, 1, 0),
      store(56, A_OUT + 0x120, 2, 2, 3 * oe),
    ],
    normal,
  );
}

function requantExtremes(c: Ctx): Program {
  const { cfg, n, all } = c;
  // extreme requant parameters: shift >= 32, shift = -128, |bias| = 2^31, every clamp width
  const rq: Instruction[] = [];
  for (let p = 0; p < 4; p++) {
    for (const [signed, bits] of [
      [0, 4],
      [1, 4],
      [0, 1],
      [1, 2],
      [1, 1],
    ] as const) {
      rq.push(
        requant({
          acc_addr: 0,
          in_h: 2,
          in_w: 4,
          out_h: 2,
          out_w: 4,
          param_addr: p,
          out_signed: signed,
          clamp_bits: bits,
          out_addr: rq.length * 8,
        }),
      );
    }
  }
  rq[rq.length - 1]!.push_next = 1;
  return program(
    cfg,
    [
      load(0, 0, A_INP, 8, 1, 0),
      load(1, 0, A_WGT, 2 * n, 1, 0),
      load(2, 0, A_PAR, 4, 1, 0, { push_next: 1 }),
      gemm({ in_h: 2, in_w: 4, out_h: 2, out_w: 4, act_signed: 1, pshift: 7 }, { pop_prev: 1 }),
      gemm({ in_h: 2, in_w: 4, out_h: 2, out_w: 4, wgt_addr: n, accumulate: 1, pshift: 5 }),
      ...rq,
      store(0, A_OUT, rq.length * 8, 1, 0, { pop_prev: 1 }),
    ],
    all,
  );
}

function gemmBackToBack(c: Ctx): Program {
  const { cfg, n, normal } = c;
  // back-to-back GEMMs with P = 1, 2 and many passes: bank alternation, pass FIFO, bypass
  const bb: Instruction[] = [];
  for (let i = 0; i < 6; i++) {
    bb.push(
      gemm({
        in_h: 3,
        in_w: 3,
        out_h: 1 + (i % 2),
        out_w: 1,
        kernel_h: 1 + (i % 3),
        kernel_w: 2,
        acc_addr: 0,
        accumulate: i === 0 ? 0 : 1,
        wgt_addr: i * n,
        inp_addr: i,
      }),
    );
  }
  bb.push(
    gemm({
      in_h: 3,
      in_w: 3,
      out_h: 3,
      out_w: 3,
      kernel_h: 3,
      kernel_w: 3,
      pad_top: 1,
      pad_left: 1,
      acc_addr: 0,
      accumulate: 1,
    }),
  );
  return program(
    cfg,
    [
      load(0, 0, A_INP, 9, 1, 0),
      load(1, 0, A_WGT, 16 * n, 1, 0),
      load(2, 0, A_PAR, 2, 1, 0, { push_next: 1 }),
      nop(1, { pop_prev: 1 }),
      ...bb,
      requant({ acc_addr: 0, in_h: 3, in_w: 3, out_h: 3, out_w: 3, param_addr: 1 }, { push_next: 1 }),
      store(0, A_OUT, 9, 1, 0, { pop_prev: 1 }),
    ],
    normal,
  );
}

function tokenOverlap(c: Ctx): Program {
  const { cfg, n, ie, oe, normal } = c;
  // token-synchronised overlap: double-buffered rounds; loads of round r+1 run under compute of round r,
  // stores of round r under compute of round r+1; compute->load and store->compute tokens free the buffers
  const ov: Instruction[] = [];
  const rounds = 4;
  ov.push(load(1, 0, A_WGT, 2 * n, 1, 0), load(2, 0, A_PAR, 2, 1, 0));
  for (let r = 0; r < rounds; r++) {
    const h = r & 1;
    ov.push(load(0, h * 64, A_INP + r * 40 * ie, 20, 2, 20 * ie, { push_next: 1, pop_next: r >= 2 ? 1 : 0 }));
    ov.push(
      gemm(
        {
          in_h: 4,
          in_w: 5,
          out_h: 4,
          out_w: 5,
          inp_addr: h * 64,
          acc_addr: h * 32,
          wgt_addr: 0,
          ci_blocks: 2,
          kernel_w: 1,
        },
        { pop_prev: 1, pop_next: r >= 2 ? 1 : 0 },
      ),
    );
    ov.push(
      requant(
        { acc_addr: h * 32, out_addr: h * 32, in_h: 4, in_w: 5, out_h: 4, out_w: 5, param_addr: r & 1 },
        { push_prev: 1, push_next: 1 },
      ),
    );
    ov.push(store(h * 32, A_OUT + r * 20 * oe, 20, 1, 0, { pop_prev: 1, push_prev: 1 }));
  }
  // drain the last two store->compute and compute->load tokens
  ov.push(nop(1, { pop_next: 1 }), nop(1, { pop_next: 1 }), nop(0, { pop_next: 1 }), nop(0, { pop_next: 1 }));
  return program(cfg, ov, normal);
}

function besideRequant(c: Ctx): Program {
  const { cfg, n, normal } = c;
  // GEMMs beside REQUANTs (gemm_beside): a long GEMM that drains after its REQUANT, a short one
  // held until the REQUANT before it retires, and a GEMM after a beside one, which waits for the REQUANT
  const band = (acc: number, f: Flags = {}) =>
    gemm({ in_h: 6, in_w: 6, out_h: 4, out_w: 4, kernel_h: 3, kernel_w: 3, acc_addr: acc }, f);
  const rq = (acc: number, out: number, rows: number, beside: number, f: Flags = {}) =>
    requant(
      { acc_addr: acc, out_addr: out, in_h: rows, in_w: 4, out_h: rows, out_w: 4, param_addr: 1, gemm_beside: beside },
      f,
    );
  return program(
    cfg,
    [
      load(0, 0, A_INP, 36, 1, 0),
      load(1, 0, A_WGT, 9 * n, 1, 0),
      load(2, 0, A_PAR, 2, 1, 0, { push_next: 1 }),
      band(0, { pop_prev: 1 }),
      rq(0, 0, 4, 1),
      band(16),
      rq(16, 16, 4, 1),
      gemm({ acc_addr: 40 }),
      gemm({ acc_addr: 41, accumulate: 1 }),
      rq(40, 32, 1, 1),
      band(48),
      rq(48, 36, 4, 0, { push_next: 1 }),
      store(0, A_OUT, 52, 1, 0, { pop_prev: 1 }),
    ],
    normal,
  );
}

/** The directed programs for one config: name -> program. */
export function directedPrograms(cfg: ArchConfig): Record<string, Program> {
  const c = context(cfg);
  return {
    'nop-each-unit': program(cfg, [nop(0), nop(1), nop(2), nop(1), nop(0)], c.normal),
    'load-gemm-requant-store': loadGemmRequantStore(c),
    'conv-pool': convPool(c),
    'requant-extremes': requantExtremes(c),
    'gemm-back-to-back': gemmBackToBack(c),
    'token-overlap': tokenOverlap(c),
    'beside-requant': besideRequant(c),
  };
}

/** LOAD one INP entry of 15s and one pass of 7s, then the GEMMs; 16-bit accumulators on the 4x4 machine. */
export function overflowProgram(gemms: Record<string, number>[]): Program {
  const cfg = validateConfig({ ...structuredClone(CFG4), bits: { ...CFG4.bits, accumulator: 16 } });
  return makeProgram(
    [
      ins('LOAD', { buf: 0, sram_addr: 0, dram_addr: 0, x_count: 1, y_count: 1, dram_stride: 0 }),
      ins('LOAD', { buf: 1, sram_addr: 0, dram_addr: 64, x_count: 4, y_count: 1, dram_stride: 0, push_next: 1 }),
      ...gemms.map((g, i) => gemmIns({ pop_prev: i === 0 ? 1 : 0, ...g })),
      HALT,
    ],
    { config: cfg, segments: [{ name: 'ones', dramAddr: 0, bytes: new Uint8Array(128).fill(0xff).fill(0x77, 64) }] },
  );
}
