/**
 * Functional execution of one instruction at a time ('fast' engine): the data
 * effect of each instruction, computed with tight typed-array loops, in the
 * order the timing model starts them. For a program whose tokens cover its
 * data hazards this gives the same memories as the cycle engine.
 */
import type { GemmInst, Instruction, LoadInst, PoolInst, RequantInst, StoreInst } from '../isa/table.js';
import { clampRange, loadEntry, overflowError, writeLanes, type Scratchpads } from './memory.js';
import type { PreparedProgram } from './prepare.js';

export class FunctionalUnit {
  private readonly colSum: Float64Array;
  private readonly act: Int32Array;
  private readonly signExt: Int32Array;
  private readonly unsignedExt: Int32Array;
  private readonly requantScale: Float64Array;
  private readonly requantBias: Float64Array;

  constructor(
    private readonly p: PreparedProgram,
    readonly sp: Scratchpads,
    readonly dram: Uint8Array,
  ) {
    const n = p.arch.n;
    this.colSum = new Float64Array(n);
    this.act = new Int32Array(n);
    this.requantScale = new Float64Array(n);
    this.requantBias = new Float64Array(n);
    const ab = p.arch.activationBits;
    this.signExt = new Int32Array(1 << ab);
    this.unsignedExt = new Int32Array(1 << ab);
    for (let v = 0; v < 1 << ab; v++) {
      this.unsignedExt[v] = v;
      this.signExt[v] = v >= 1 << (ab - 1) ? v - (1 << ab) : v;
    }
  }

  run(i: number, inst: Instruction): void {
    switch (inst.op) {
      case 'LOAD':
        return this.load(inst);
      case 'STORE':
        return this.store(inst);
      case 'GEMM':
        return this.gemm(i, inst);
      case 'REQUANT':
        return this.requant(inst);
      case 'POOL':
        return this.pool(inst);
      default:
        return;
    }
  }

  load(inst: LoadInst): void {
    const eb = this.p.loadEntryBytes[inst.buf]!;
    let entry = inst.sram_addr;
    for (let y = 0; y < inst.y_count; y++) {
      let off = inst.dram_addr + y * inst.dram_stride;
      for (let x = 0; x < inst.x_count; x++, off += eb, entry++) loadEntry(this.sp, this.p.arch, inst.buf, this.dram, off, entry);
    }
  }

  store(inst: StoreInst): void {
    const a = this.p.arch;
    const eb = a.outEntryBytes;
    let entry = inst.sram_addr;
    for (let y = 0; y < inst.y_count; y++) {
      let off = inst.dram_addr + y * inst.dram_stride;
      for (let x = 0; x < inst.x_count; x++, off += eb, entry++) writeLanes(this.sp.out, entry * a.n, a.n, a.activationBits, this.dram, off);
    }
  }

  gemm(i: number, g: GemmInst): void {
    const a = this.p.arch;
    const n = a.n;
    const { inp, wgt, acc } = this.sp;
    const sum = this.colSum;
    const act = this.act;
    const ext = g.act_signed ? this.signExt : this.unsignedExt;
    const scale = 2 ** g.pshift;
    const accMin = a.accMin;
    const accMax = a.accMax;
    const blockEntries = g.in_h * g.in_w;
    // SWAR: k column sums share one double in f-bit fields (exact: every partial sum stays below 2^52)
    const amax = g.act_signed ? 2 ** (a.activationBits - 1) : 2 ** a.activationBits - 1;
    const f = Math.ceil(Math.log2(n * amax * 2 ** (a.weightBits - 1) + 1)) + 2;
    let k = Math.floor(52 / f);
    while (k > 1 && n % k !== 0) k--;
    const groups = n / k;
    const B = 2 ** f;
    const invB = 1 / B;
    const packed = k > 1 ? new Float64Array(n * groups) : undefined;
    const psum = new Float64Array(groups);
    let pass = 0;
    for (let cb = 0; cb < g.ci_blocks; cb++) {
      for (let kh = 0; kh < g.kernel_h; kh++) {
        for (let kw = 0; kw < g.kernel_w; kw++, pass++) {
          const wBase = (g.wgt_addr + pass * n) * n;
          if (packed) {
            for (let r = 0; r < n; r++) {
              for (let q = 0; q < groups; q++) {
                let v = 0;
                for (let j = k - 1; j >= 0; j--) v = v * B + wgt[wBase + r * n + q * k + j]!;
                packed[r * groups + q] = v;
              }
            }
          }
          const overwrite = pass === 0 && g.accumulate === 0;
          for (let oy = 0; oy < g.out_h; oy++) {
            const iy = oy * g.stride_h + kh - g.pad_top;
            const rowInside = iy >= 0 && iy < g.in_h;
            for (let ox = 0; ox < g.out_w; ox++) {
              const ix = ox * g.stride_w + kw - g.pad_left;
              const accEntry = g.acc_addr + oy * g.out_w + ox;
              const accBase = accEntry * n;
              sum.fill(0);
              if (rowInside && ix >= 0 && ix < g.in_w) {
                const inBase = (g.inp_addr + cb * blockEntries + iy * g.in_w + ix) * n;
                for (let r = 0; r < n; r++) act[r] = ext[inp[inBase + r]!]!;
                if (packed) {
                  psum.fill(0);
                  for (let r = 0; r < n; r++) {
                    const ar = act[r]!;
                    if (ar === 0) continue;
                    const pr = r * groups;
                    for (let q = 0; q < groups; q++) psum[q] += ar * packed[pr + q]!;
                  }
                  for (let q = 0; q < groups; q++) {
                    let x = psum[q]!;
                    for (let j = 0; j < k; j++) {
                      const y = Math.round(x * invB);
                      sum[q * k + j] = x - y * B;
                      x = y;
                    }
                  }
                } else {
                  for (let r = 0; r < n; r++) {
                    const ar = act[r]!;
                    if (ar === 0) continue;
                    const wr = wBase + r * n;
                    for (let c = 0; c < n; c++) sum[c] += ar * wgt[wr + c]!;
                  }
                }
              }
              for (let c = 0; c < n; c++) {
                const v = sum[c]! * scale + (overwrite ? 0 : acc[accBase + c]!);
                if (v < accMin || v > accMax) throw overflowError(i, c, accEntry, v, a);
                acc[accBase + c] = v;
              }
            }
          }
        }
      }
    }
  }

  requant(r: RequantInst): void {
    const a = this.p.arch;
    const n = a.n;
    const { acc, bias, shift, out } = this.sp;
    const { lo, hi } = clampRange(r.out_signed === 1, r.clamp_bits);
    const mask = (1 << a.activationBits) - 1;
    const pBase = r.param_addr * n;
    // per lane: multiplying by 2^-shift is exact in doubles, so floor(v * 2^-s) == floor(v / 2^s) (requantValue)
    const scale = this.requantScale;
    const b = this.requantBias;
    for (let c = 0; c < n; c++) {
      scale[c] = 2 ** -shift[pBase + c]!;
      b[c] = bias[pBase + c]!;
    }
    const k = r.pool_k;
    for (let oy = 0; oy < r.out_h; oy++) {
      for (let ox = 0; ox < r.out_w; ox++) {
        const outBase = (r.out_addr + oy * r.out_w + ox) * n;
        const first = (r.acc_addr + oy * r.pool_s * r.in_w + ox * r.pool_s) * n;
        for (let c = 0; c < n; c++) {
          let m = acc[first + c]!;
          if (k > 1) {
            for (let ky = 0; ky < k; ky++) {
              const row = first + ky * r.in_w * n + c;
              for (let kx = 0; kx < k; kx++) {
                const v = acc[row + kx * n]!;
                if (v > m) m = v;
              }
            }
          }
          const q = Math.floor((m - b[c]!) * scale[c]!);
          out[outBase + c] = (q < lo ? lo : q > hi ? hi : q) & mask;
        }
      }
    }
  }

  pool(q: PoolInst): void {
    const a = this.p.arch;
    const n = a.n;
    const out = this.sp.out;
    const ext = q.act_signed ? this.signExt : this.unsignedExt;
    const mask = (1 << a.activationBits) - 1;
    for (let oy = 0; oy < q.out_h; oy++) {
      for (let ox = 0; ox < q.out_w; ox++) {
        const dst = (q.dst_addr + oy * q.out_w + ox) * n;
        for (let c = 0; c < n; c++) {
          let m = -Infinity;
          for (let ky = 0; ky < q.pool_k; ky++) {
            const row = q.src_addr + (oy * q.pool_s + ky) * q.in_w + ox * q.pool_s;
            for (let kx = 0; kx < q.pool_k; kx++) {
              const v = ext[out[(row + kx) * n + c]!]!;
              if (v > m) m = v;
            }
          }
          out[dst + c] = m & mask;
        }
      }
    }
  }
}
