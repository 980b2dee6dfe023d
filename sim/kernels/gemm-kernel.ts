/**
 * The WebAssembly SIMD GEMM kernel (sim/kernels/gemm.wat, built to
 * dist/sim/kernels/gemm.wasm by `npm run build`) behind a typed-array
 * interface: it copies one GEMM instruction's INP, WGT and ACC regions into
 * its memory (stage), runs (compute), and copies ACC back (unstage); a
 * tap-packed GEMM (taps = 1) is gathered into an ordinary one first. It
 * computes exact i32 sums in its own order, so the caller must only use it
 * where the fast engine's no-overflow bound holds (the checked, pass-by-pass
 * JavaScript path handles the rest and names the overflowing lane).
 * Unavailable (undefined) when the .wasm file is missing or the runtime has no
 * WebAssembly SIMD: the JavaScript path then runs, with the same results.
 */
import { readFileSync } from 'node:fs';
import { builtFile, type DerivedArch } from '../../arch/index.js';
import {
  gemmBlocks,
  gemmPassCount,
  passRowTaps,
  rowNibbleShift,
  type GemmInst,
  type Instruction,
} from '../../isa/index.js';
import { InstructionMemo } from '../instruction-memo.js';
import type { MemoryShape, Scratchpads } from '../memory.js';

/** The exports of gemm.wat. */
export interface KernelExports {
  pack(wgt: number, passes: number, n: number, pstart: number, pact: number, packed: number): number;
  gemm(
    inp: number,
    inH: number,
    inW: number,
    ciBlocks: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    pt: number,
    pl: number,
    outH: number,
    outW: number,
    n: number,
    sext: number,
    acc: number,
    accumulate: number,
    pshift: number,
    pstart: number,
    pact: number,
    packed: number,
    wide: number,
    hp: number,
    wp: number,
    pdir: number,
  ): void;
  gemmTapped(
    inp: number,
    inH: number,
    inW: number,
    sh: number,
    sw: number,
    pt: number,
    pl: number,
    outH: number,
    outW: number,
    n: number,
    sext: number,
    acc: number,
    accumulate: number,
    pshift: number,
    pstart: number,
    pact: number,
    packed: number,
    wide: number,
    hp: number,
    wp: number,
    pdir: number,
    passes: number,
    ntaps: number,
    taps: number,
    tmul: number,
    cols: number,
  ): void;
  zero(dst: number, len: number): void;
  absmax(src: number, len: number): number;
  unpack4(src: number, stride: number, rowBytes: number, rows: number, dst: number, signed: number): void;
  replicate(dst: number, entries: number, n: number, idx: number): void;
  pack4(src: number, rowBytes: number, rows: number, dst: number, stride: number): void;
  requant(
    acc: number,
    out: number,
    bias: number,
    shift: number,
    n: number,
    inW: number,
    outH: number,
    outW: number,
    k: number,
    s: number,
    lo: number,
    hi: number,
    mask: number,
    work: number,
  ): void;
  pool(
    src: number,
    dst: number,
    n: number,
    inW: number,
    outH: number,
    outW: number,
    k: number,
    s: number,
    signed: number,
    sext: number,
    mask: number,
  ): void;
}

/** How the fast engine runs the GEMMs the no-overflow bound covers (one kernel, or a team of threads). */
export interface GemmCore {
  /** Wait for any GEMM still running elsewhere whose ACC range `inst` reads or writes (results land in the scratchpads). */
  before(inst: Instruction): void;
  /** Run (or start) g on sp; false: the kernel cannot take it (memory), the JavaScript path must. */
  gemm(g: GemmInst, sp: Scratchpads, a: DerivedArch): boolean;
  /** Wait for everything still running: called at the end of a run. */
  finish(): void;
}

/** The kernel works on 16-lane chunks: smaller arrays are padded with zero lanes. */
const CHUNK = 16;
const PAGE = 65536;
/** Must match the memory import of gemm.wat (1 GiB). */
export const MAX_PAGES = 16384;
/** Arguments of one staged GEMM: its kind (GEMM or TAPPED), 6 for pack, 24 for gemm or 26 for gemmTapped. */
export const STAGED_ARGS = 33;
const GEMM = 0;
const TAPPED = 1;

/** N x N MACs of all of g's passes and pixels: the work the kernel does (lanes padded to 16 below 16). */
export function gemmArrayMacs(g: GemmInst, a: Pick<DerivedArch, 'rows' | 'cols'>): number {
  return gemmPassCount(g, a.rows) * g.out_h * g.out_w * a.rows * a.cols;
}

/**
 * Below these sizes the JavaScript loops are quicker than the kernel's fixed
 * costs (copies, a call, and below 16 lanes the padding): measured on this
 * project's machine, a 16-lane GEMM of 2 pixels x 9 passes is already 2x
 * quicker in the kernel, an 8-lane one needs about 30 k MACs.
 */
export function kernelTakes(g: GemmInst, a: Pick<DerivedArch, 'rows' | 'cols'>): boolean {
  // the kernel runs square arrays' GEMMs (rectangular ones stay in the JavaScript kernels)
  if (a.rows !== a.cols) return false;
  return gemmArrayMacs(g, a) >= (a.rows >= CHUNK ? 4096 : 32768);
}

function align(x: number): number {
  return Math.ceil(x / 64) * 64;
}

/** A file built into dist/sim/kernels/ (the .wasm kernel, the helper thread's entry). */
export function builtKernelFile(name: string): string | undefined {
  return builtFile(`sim/kernels/${name}`, import.meta.url);
}

export function newKernelMemory(): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
}

/** A GEMM whose data is in kernel memory: the arguments of its pack and gemm calls, and where its ACC goes. */
export interface StagedGemm {
  args: Int32Array;
  /** ACC region in kernel memory (i32 index), in the scratchpad (entry), pixels, lanes in kernel memory, lanes n */
  accIndex: number;
  accAddr: number;
  pixels: number;
  lanes: number;
  n: number;
  /** the GEMM ran on resident scratchpads: its ACC is already in place */
  inPlace: boolean;
}

/** The zero-bordered image the kernel widens a GEMM's tile into: it covers the tile and every window. */
function borderedImage(g: GemmInst): { hp: number; wp: number } {
  return {
    hp: Math.max(g.pad_top + g.in_h, (g.out_h - 1) * g.stride_h + g.kernel_h),
    wp: Math.max(g.pad_left + g.in_w, (g.out_w - 1) * g.stride_w + g.kernel_w),
  };
}

/**
 * A tap-packed GEMM's tap table as the kernel's gather reads it (gemm.wat
 * gemmTapped), on an array of R rows (lanes: R padded to 16): per kernel tap
 * some row reads, in pass order, its pass and the byte offset of its entry
 * from a pixel's window origin in the bordered image (words), and per lane
 * the factor of the row that reads it there (its product factor, 16 for a
 * high-nibble lane) or 0 (factors). From passRowTaps and rowNibbleShift.
 */
interface TapTable {
  count: number;
  words: Int32Array;
  factors: Int16Array;
}

function newTapTable(g: GemmInst, R: number): TapTable {
  const lanes = Math.max(CHUNK, R);
  const taps = g.kernel_h * g.kernel_w;
  const { wp } = borderedImage(g);
  const words = new Int32Array(2 * taps);
  const factors = new Int16Array(taps * lanes);
  let e = 0;
  for (let q = 0, passes = gemmPassCount(g, R); q < passes; q++) {
    const rowTaps = passRowTaps(g, R, q);
    for (const tap of new Set(rowTaps)) {
      if (tap < 0) continue;
      words[2 * e] = q;
      words[2 * e + 1] = (Math.floor(tap / g.kernel_w) * wp + (tap % g.kernel_w)) * lanes * 2;
      for (let r = 0; r < R; r++) if (rowTaps[r] === tap) factors[e * lanes + r] = 2 ** rowNibbleShift(g, r);
      e++;
    }
  }
  return { count: e, words: words.subarray(0, 2 * e), factors: factors.subarray(0, e * lanes) };
}

/** Once per instruction: a program's GEMMs run again in every simulation of it. */
const tapTables = new InstructionMemo(newTapTable);

/**
 * Kernel memory one GEMM needs from `base` on: offsets of its regions. Direct
 * (its INP, WGT and ACC are resident scratchpads, read and written in place):
 * no copies of those. A tap-packed GEMM also needs its tap table and the
 * gathered entries (one per pass and pixel).
 */
function layout(g: GemmInst, n: number, lanes: number, base: number, direct: boolean) {
  const passes = gemmPassCount(g, n);
  const blocks = gemmBlocks(g);
  const pairs = passes * (lanes / 2);
  const pixels = g.out_h * g.out_w;
  const taps = g.taps ? tapTables.get(g, n) : undefined;
  const ntaps = taps ? taps.count : 0;
  const { hp, wp } = borderedImage(g);
  let at = base;
  const take = (bytes: number) => {
    const off = at;
    at += align(bytes);
    return off;
  };
  return {
    passes,
    blocks,
    taps,
    hp,
    wp,
    inp: direct ? 0 : take(blocks * g.in_h * g.in_w * lanes),
    wgt: direct ? 0 : take(passes * lanes * lanes),
    acc: direct ? 0 : take(pixels * lanes * 4),
    pstart: take((passes + 1) * 4),
    pact: take(pairs * 4),
    packed: take(pairs * lanes * 4),
    wide: take(blocks * hp * wp * lanes * 2),
    pdir: take(pairs * 4),
    tapWords: take(ntaps * 8),
    tapFactors: take(ntaps * lanes * 2),
    cols: take(passes * pixels * lanes * 2),
    total: at,
  };
}

/** The scratchpads and DRAM image of one fast-engine run, as views into a kernel's memory. */
export interface ResidentMemories {
  sp: Scratchpads;
  dram: Uint8Array;
}

/** Byte offsets of the resident memories: scratchpads, then DRAM, each 64-byte aligned. */
function residentLayout(p: MemoryShape) {
  const sp = p.cfg.scratchpad;
  const { rows, cols: n } = p.arch; // INP entries hold R lanes, the other buffers C
  let at = 0;
  const take = (bytes: number) => {
    const off = at;
    at += align(bytes);
    return off;
  };
  return {
    inp: take(sp.inputEntries * rows),
    wgt: take(sp.weightEntries * n),
    bias: take(sp.paramEntries * n * 4),
    shift: take(sp.paramEntries * n),
    acc: take(sp.accEntries * n * 4),
    out: take(sp.outputEntries * n),
    dram: take(p.dramBytes),
    total: at,
  };
}

export class GemmKernel implements GemmCore {
  readonly x: KernelExports;
  private u8 = new Uint8Array(0);
  private i8 = new Int8Array(0);
  private i16 = new Int16Array(0);
  private i32 = new Int32Array(0);
  /** where a GEMM's work regions start: after the resident memories of the current run */
  private workBase = 0;
  /** the scratchpads resident in this memory for the current run (their GEMMs need no copies) */
  private residentSp: Scratchpads | undefined;
  /** the staged GEMM's arguments, reused (they are consumed before the next GEMM is staged) */
  private readonly args = new Int32Array(STAGED_ARGS);

  constructor(
    module: WebAssembly.Module,
    readonly memory: WebAssembly.Memory = newKernelMemory(),
  ) {
    this.x = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
  }

  private reserve(bytes: number): boolean {
    const mem = this.memory;
    if (mem.buffer.byteLength < bytes) {
      try {
        mem.grow(Math.ceil((bytes - mem.buffer.byteLength) / PAGE));
      } catch {
        return false;
      }
    }
    if (this.u8.byteLength !== mem.buffer.byteLength) {
      this.u8 = new Uint8Array(mem.buffer);
      this.i8 = new Int8Array(mem.buffer);
      this.i16 = new Int16Array(mem.buffer);
      this.i32 = new Int32Array(mem.buffer);
    }
    return true;
  }

  /**
   * Zeroed scratchpads and a zeroed DRAM image of p's sizes at the start of
   * this kernel's memory, for one fast-engine run (the previous run's views
   * are overwritten: a run copies out what it returns). Undefined when the
   * memory cannot grow that far: the run then uses plain typed arrays.
   */
  resident(p: MemoryShape): ResidentMemories | undefined {
    const L = residentLayout(p);
    this.residentSp = undefined;
    this.workBase = 0;
    if (!this.reserve(L.total)) return undefined;
    const buf = this.memory.buffer;
    const s = p.cfg.scratchpad;
    const { rows, cols: n } = p.arch;
    this.x.zero(0, L.total);
    const sp: Scratchpads = {
      inp: new Uint8Array(buf, L.inp, s.inputEntries * rows),
      wgt: new Int8Array(buf, L.wgt, s.weightEntries * n),
      bias: new Int32Array(buf, L.bias, s.paramEntries * n),
      shift: new Int8Array(buf, L.shift, s.paramEntries * n),
      acc: new Int32Array(buf, L.acc, s.accEntries * n),
      out: new Uint8Array(buf, L.out, s.outputEntries * n),
    };
    this.residentSp = sp;
    this.workBase = align(L.total);
    return { sp, dram: new Uint8Array(buf, L.dram, p.dramBytes) };
  }

  /** Start of a scratch region of `bytes` after the resident memories (undefined: memory cannot grow). */
  work(bytes: number): number | undefined {
    return this.reserve(this.workBase + bytes) ? this.workBase : undefined;
  }

  /**
   * The arguments of g's pack and gemm (or gemmTapped) calls. Its INP, WGT
   * (and ACC when it accumulates) are copied into kernel memory, except when
   * they are this kernel's resident scratchpads with at least 16 lanes: then
   * the kernel reads and writes them in place. Undefined when memory cannot
   * grow that far.
   */
  stage(g: GemmInst, sp: Scratchpads, a: DerivedArch): StagedGemm | undefined {
    const n = a.rows; // square arrays only (kernelTakes)
    const lanes = Math.max(CHUNK, n);
    const direct = lanes === n && sp === this.residentSp;
    const L = layout(g, n, lanes, this.workBase, direct);
    if (!this.reserve(L.total)) return undefined;
    const pixels = g.out_h * g.out_w;
    let inp = L.inp;
    let wgt = L.wgt;
    let acc = L.acc;
    if (direct) {
      inp = sp.inp.byteOffset + g.inp_addr * n;
      wgt = sp.wgt.byteOffset + g.wgt_addr * n;
      acc = sp.acc.byteOffset + g.acc_addr * n * 4;
    } else this.copyIn(g, sp, n, lanes, L);
    const sext = g.act_signed ? 16 - a.activationBits : 0;
    const args = this.args;
    args[0] = g.taps ? TAPPED : GEMM;
    args[1] = wgt;
    args[2] = L.passes;
    args[3] = lanes;
    args[4] = L.pstart;
    args[5] = L.pact;
    args[6] = L.packed;
    args[7] = inp;
    args[8] = g.in_h;
    args[9] = g.in_w;
    let k = 10;
    if (!g.taps) {
      args[k++] = g.ci_blocks;
      args[k++] = g.kernel_h;
      args[k++] = g.kernel_w;
    }
    args[k++] = g.stride_h;
    args[k++] = g.stride_w;
    args[k++] = g.pad_top;
    args[k++] = g.pad_left;
    args[k++] = g.out_h;
    args[k++] = g.out_w;
    args[k++] = lanes;
    args[k++] = sext;
    args[k++] = acc;
    args[k++] = g.accumulate;
    args[k++] = g.pshift;
    args[k++] = L.pstart;
    args[k++] = L.pact;
    args[k++] = L.packed;
    args[k++] = L.wide;
    args[k++] = L.hp;
    args[k++] = L.wp;
    args[k++] = L.pdir;
    if (L.taps) {
      this.i32.set(L.taps.words, L.tapWords / 4);
      this.i16.set(L.taps.factors, L.tapFactors / 2);
      args[k++] = L.passes;
      args[k++] = L.taps.count;
      args[k++] = L.tapWords;
      args[k++] = L.tapFactors;
      args[k] = L.cols;
    }
    return { args, accIndex: acc / 4, accAddr: g.acc_addr, pixels, lanes, n, inPlace: direct };
  }

  /** Copy g's INP, WGT (and ACC when it accumulates) into its regions of kernel memory (16 lanes at least). */
  private copyIn(g: GemmInst, sp: Scratchpads, n: number, lanes: number, L: ReturnType<typeof layout>): void {
    const { u8, i8, i32 } = this;
    const inpEntries = L.blocks * g.in_h * g.in_w;
    const wgtRows = L.passes * n;
    const pixels = g.out_h * g.out_w;
    if (lanes === n) {
      u8.set(sp.inp.subarray(g.inp_addr * n, (g.inp_addr + inpEntries) * n), L.inp);
      i8.set(sp.wgt.subarray(g.wgt_addr * n, (g.wgt_addr + wgtRows) * n), L.wgt);
      if (g.accumulate) i32.set(sp.acc.subarray(g.acc_addr * n, (g.acc_addr + pixels) * n), L.acc / 4);
      return;
    }
    // n < 16: every entry padded to 16 lanes, every pass to 16 rows (zero rows are skipped as pairs)
    u8.fill(0, L.inp, L.inp + inpEntries * lanes);
    for (let e = 0; e < inpEntries; e++)
      u8.set(sp.inp.subarray((g.inp_addr + e) * n, (g.inp_addr + e + 1) * n), L.inp + e * lanes);
    i8.fill(0, L.wgt, L.wgt + L.passes * lanes * lanes);
    for (let r = 0; r < wgtRows; r++) {
      const dst = L.wgt + (Math.floor(r / n) * lanes + (r % n)) * lanes;
      i8.set(sp.wgt.subarray((g.wgt_addr + r) * n, (g.wgt_addr + r + 1) * n), dst);
    }
    if (g.accumulate)
      for (let k = 0; k < pixels; k++)
        i32.set(sp.acc.subarray((g.acc_addr + k) * n, (g.acc_addr + k + 1) * n), L.acc / 4 + k * lanes);
  }

  /** ACC[acc_addr ..] (+)= the GEMM's sums << pshift, in kernel memory. */
  static compute(x: KernelExports, args: Int32Array): void {
    const a = args;
    x.pack(a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!);
    // spelled out: a spread call over a typed array is a slow generic path, once per GEMM
    if (a[0] === TAPPED)
      x.gemmTapped(
        a[7]!,
        a[8]!,
        a[9]!,
        a[10]!,
        a[11]!,
        a[12]!,
        a[13]!,
        a[14]!,
        a[15]!,
        a[16]!,
        a[17]!,
        a[18]!,
        a[19]!,
        a[20]!,
        a[21]!,
        a[22]!,
        a[23]!,
        a[24]!,
        a[25]!,
        a[26]!,
        a[27]!,
        a[28]!,
        a[29]!,
        a[30]!,
        a[31]!,
        a[32]!,
      );
    else
      x.gemm(
        a[7]!,
        a[8]!,
        a[9]!,
        a[10]!,
        a[11]!,
        a[12]!,
        a[13]!,
        a[14]!,
        a[15]!,
        a[16]!,
        a[17]!,
        a[18]!,
        a[19]!,
        a[20]!,
        a[21]!,
        a[22]!,
        a[23]!,
        a[24]!,
        a[25]!,
        a[26]!,
        a[27]!,
        a[28]!,
        a[29]!,
        a[30]!,
      );
  }

  /** Copy a computed GEMM's ACC back into the scratchpad. */
  unstage(s: StagedGemm, sp: Scratchpads): void {
    if (s.inPlace) return;
    if (this.i32.byteLength !== this.memory.buffer.byteLength) this.reserve(0);
    const { i32 } = this;
    const { n, lanes, pixels, accIndex } = s;
    if (lanes === n) sp.acc.set(i32.subarray(accIndex, accIndex + pixels * n), s.accAddr * n);
    else
      for (let k = 0; k < pixels; k++)
        sp.acc.set(i32.subarray(accIndex + k * lanes, accIndex + k * lanes + n), (s.accAddr + k) * n);
  }

  before(): void {}

  /**
   * ACC[acc_addr ..] (+)= the GEMM's sums << pshift, exactly as the hardware
   * computes them when no value overflows, whatever the GEMM's size. Returns
   * false (nothing changed) when the kernel's memory cannot grow to its size.
   */
  run(g: GemmInst, sp: Scratchpads, a: DerivedArch): boolean {
    const s = this.stage(g, sp, a);
    if (!s) return false;
    GemmKernel.compute(this.x, s.args);
    this.unstage(s, sp);
    return true;
  }

  /** run(), for a GEMM big enough to be quicker here than in the JavaScript loops (false: not taken). */
  gemm(g: GemmInst, sp: Scratchpads, a: DerivedArch): boolean {
    return kernelTakes(g, a) && this.run(g, sp, a);
  }

  finish(): void {}
}

let compiled: WebAssembly.Module | null | undefined;

/** The compiled kernel module, or undefined (no .wasm file, or no WebAssembly SIMD here). Compiled once per process. */
export function gemmKernelModule(): WebAssembly.Module | undefined {
  if (compiled === undefined) {
    compiled = null;
    const file = builtKernelFile('gemm.wasm');
    if (file) {
      const bytes = readFileSync(file);
      if (WebAssembly.validate(bytes)) compiled = new WebAssembly.Module(bytes);
    }
  }
  return compiled ?? undefined;
}

/** A kernel instance with its own memory, or undefined when unavailable. */
export function newGemmKernel(): GemmKernel | undefined {
  const m = gemmKernelModule();
  return m ? new GemmKernel(m) : undefined;
}

let shared: GemmKernel | null | undefined;

/** One kernel instance per thread, reused by every fast-engine run (its memory grows to the largest GEMM seen). */
export function sharedGemmKernel(): GemmKernel | undefined {
  if (shared === undefined) shared = newGemmKernel() ?? null;
  return shared ?? undefined;
}
