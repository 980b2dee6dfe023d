/**
 * LOAD, STORE, REQUANT and POOL of the fast engine in WebAssembly
 * (sim/kernels/gemm.wat), on scratchpads and a DRAM image resident in the
 * kernel's memory (GemmKernel.resident). Each method returns false when it
 * does not take an instruction (lane widths or array sizes it has no path
 * for); the instruction's JavaScript loop in sim/ops/<op>.ts then runs, with
 * the same result (test/sim/units.test.ts compares them).
 */
import type { DerivedArch } from '../../arch/index.js';
import {
  BUF_INP,
  BUF_WGT,
  requantClampRange,
  type LoadInst,
  type PoolInst,
  type RequantInst,
  type StoreInst,
} from '../../isa/index.js';
import type { GemmKernel, KernelExports, ResidentMemories } from './gemm-kernel.js';

/** REQUANT and POOL take 16 lanes per step. */
const VECTOR_LANES = 16;

export class ResidentUnits {
  private readonly x: KernelExports;
  private readonly dram: number;
  private readonly inp: number;
  private readonly wgt: number;
  private readonly bias: number;
  private readonly shift: number;
  private readonly acc: number;
  private readonly out: number;
  /** REQUANT's (bias, scale) doubles (32 bytes per lane), or a replicating LOAD's lane table (one byte per lane) */
  private readonly work: number | undefined;
  private readonly memory: WebAssembly.Memory;
  private readonly vector: boolean;

  constructor(
    kernel: GemmKernel,
    m: ResidentMemories,
    private readonly a: DerivedArch,
  ) {
    this.x = kernel.x;
    this.dram = m.dram.byteOffset;
    this.inp = m.sp.inp.byteOffset;
    this.wgt = m.sp.wgt.byteOffset;
    this.bias = m.sp.bias.byteOffset;
    this.shift = m.sp.shift.byteOffset;
    this.acc = m.sp.acc.byteOffset;
    this.out = m.sp.out.byteOffset;
    this.memory = kernel.memory;
    this.vector = a.cols % VECTOR_LANES === 0;
    this.work = kernel.work(Math.max(a.cols * 32, a.rows));
  }

  /** The largest |v| of ACC lanes [from, from + len) (undefined: a length the SIMD scan does not take). */
  accAbsMax(from: number, len: number): number | undefined {
    if (len % 4 !== 0) return undefined;
    return this.x.absmax(this.acc + from * 4, len) >>> 0;
  }

  /** LOAD of 4-bit INP or WGT lanes, replicated (tap packing) when its lanes fill whole vectors (PARAM, other widths: false). */
  load(ld: LoadInst): boolean {
    const a = this.a;
    const g = ld.buf === BUF_INP ? ld.replicate : 0; // INP only (as sim/memory.ts loadEntries)
    if (g && (a.rows % VECTOR_LANES !== 0 || g > VECTOR_LANES || this.work === undefined)) return false;
    const n = ld.buf === BUF_INP ? a.rows : a.cols;
    let dst: number;
    let signed: number;
    if (ld.buf === BUF_INP && a.activationBits === 4) {
      dst = this.inp + ld.sram_addr * n;
      signed = 0;
    } else if (ld.buf === BUF_WGT && a.weightBits === 4) {
      dst = this.wgt + ld.sram_addr * n;
      signed = 1;
    } else return false;
    this.x.unpack4(this.dram + ld.dram_addr, ld.dram_stride, (ld.x_count * n) / 2, ld.y_count, dst, signed);
    if (g && this.work !== undefined) {
      // lane l of every entry written is lane l mod g of the entry read (sim/memory.ts loadEntries)
      const idx = new Uint8Array(this.memory.buffer, this.work, n);
      for (let l = 0; l < n; l++) idx[l] = l % g;
      this.x.replicate(dst, ld.x_count * ld.y_count, n, this.work);
    }
    return true;
  }

  /** STORE of 4-bit OUT lanes. */
  store(st: StoreInst): boolean {
    const a = this.a;
    if (a.activationBits !== 4) return false;
    const src = this.out + st.sram_addr * a.cols;
    this.x.pack4(src, (st.x_count * a.cols) / 2, st.y_count, this.dram + st.dram_addr, st.dram_stride);
    return true;
  }

  requant(r: RequantInst): boolean {
    if (!this.vector || this.work === undefined) return false;
    const a = this.a;
    const n = a.cols;
    const { lo, hi } = requantClampRange(r.out_signed === 1, r.clamp_bits);
    this.x.requant(
      this.acc + r.acc_addr * n * 4,
      this.out + r.out_addr * n,
      this.bias + r.param_addr * n * 4,
      this.shift + r.param_addr * n,
      n,
      r.in_w,
      r.out_h,
      r.out_w,
      r.pool_k,
      r.pool_s,
      lo,
      hi,
      (1 << a.activationBits) - 1,
      this.work,
    );
    return true;
  }

  pool(q: PoolInst): boolean {
    if (!this.vector) return false;
    const a = this.a;
    const n = a.cols;
    this.x.pool(
      this.out + q.src_addr * n,
      this.out + q.dst_addr * n,
      n,
      q.in_w,
      q.out_h,
      q.out_w,
      q.pool_k,
      q.pool_s,
      q.act_signed,
      8 - a.activationBits,
      (1 << a.activationBits) - 1,
    );
    return true;
  }
}
