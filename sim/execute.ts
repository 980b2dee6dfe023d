/**
 * The 'fast' engine's functional unit and its GEMM kernel. The engine runs
 * each instruction's data effect at once (its module's `execute`), with tight
 * typed-array loops, in the order the timing model starts them. For a
 * program whose tokens cover its data hazards this gives the same memories
 * as the cycle engine.
 */
import type { GemmInst, Instruction } from '../isa/index.js';
import type { GemmCore } from './kernels/gemm-kernel.js';
import type { ResidentUnits } from './kernels/units.js';
import { overflowError, type Scratchpads } from './memory.js';
import { dotPixel, type PackedDot } from './packed-dot.js';
import { gemmTapped } from './tap-gemm.js';
import type { DerivedArch } from '../arch/index.js';

/**
 * The fast engine's machine: scratchpads, DRAM and the tables and scratch
 * arrays the kernels share. Each opcode's data effect is its module's
 * `execute` (sim/ops/<op>.ts); GEMM's kernel is here.
 */
export class FunctionalUnit {
  private readonly colSum: Float64Array;
  private readonly act: Int32Array;
  /** raw activation bit pattern -> signed / unsigned value */
  readonly signExt: Int32Array;
  readonly unsignedExt: Int32Array;

  constructor(
    readonly p: { readonly arch: DerivedArch },
    readonly sp: Scratchpads,
    readonly dram: Uint8Array,
    /** the WebAssembly GEMM core (one thread or a team) for GEMMs the no-overflow bound covers; undefined: JavaScript loops only */
    readonly core?: GemmCore,
    /** LOAD, STORE, REQUANT and POOL in WebAssembly (memories resident in the kernel's); undefined: JavaScript loops */
    readonly units?: ResidentUnits,
  ) {
    this.colSum = new Float64Array(p.arch.cols);
    this.act = new Int32Array(p.arch.rows);
    const ab = p.arch.activationBits;
    this.signExt = new Int32Array(1 << ab);
    this.unsignedExt = new Int32Array(1 << ab);
    for (let v = 0; v < 1 << ab; v++) {
      this.unsignedExt[v] = v;
      this.signExt[v] = v >= 1 << (ab - 1) ? v - (1 << ab) : v;
    }
  }

  /** A GEMM still running on another thread must land before anything reads or writes its ACC range. */
  before(inst: Instruction): void {
    this.core?.before(inst);
  }

  /** Wait for every GEMM still running on another thread (end of a run). */
  finish(): void {
    this.core?.finish();
  }

  gemm(i: number, g: GemmInst): void {
    // tap-packed GEMMs address INP per row: their own kernel (sim/tap-gemm.ts)
    if (g.taps) gemmTapped(this, i, g);
    else if (!this.gemmUnchecked(g)) this.gemmChecked(i, g);
  }

  /** Grow-only scratch arrays of the unchecked GEMM (no allocation per instruction). */
  private nzRows = new Int32Array(0);
  private nzStart = new Int32Array(0);
  private gatherW = new Int32Array(0);
  private gatherA = new Int32Array(0);
  private packedW = new Float64Array(0);

  /**
   * GEMM without per-pass overflow checks, used when a bound proves no ACC
   * value can leave the accumulator range in any pass: then integer sums can
   * be regrouped freely, so each pixel gathers its nonzero (activation, weight
   * row) pairs over all passes once (padding, zero activations and all-zero
   * weight rows skipped) and runs dot products on weights packed k output
   * lanes per double (four doubles in registers), writing ACC once instead
   * of once per pass. Returns false when the bound does not hold (the
   * checked, pass-by-pass path then runs and names the overflowing lane
   * exactly as the other engines do).
   */
  private gemmUnchecked(g: GemmInst): boolean {
    const a = this.p.arch;
    const R = a.rows;
    const n = a.cols;
    const passes = g.ci_blocks * g.kernel_h * g.kernel_w;
    const scale = 2 ** g.pshift;
    const amax = g.act_signed ? 2 ** (a.activationBits - 1) : 2 ** a.activationBits - 1;
    const limit = Math.min(-a.accMin, a.accMax);
    const bound = passes * R * amax * 2 ** (a.weightBits - 1) * scale;
    if (!(bound <= limit) || bound > 2 ** 52) return false;
    const { inp, wgt, acc } = this.sp;
    const pixels = g.out_h * g.out_w;
    const acc0 = g.acc_addr * n;
    if (g.accumulate && !(bound + this.accAbsMax(acc0, pixels * n) <= limit)) return false;
    if (this.core?.gemm(g, this.sp, a)) return true;
    const rows = passes * R;
    if (this.nzRows.length < rows) {
      this.nzRows = new Int32Array(rows);
      this.gatherW = new Int32Array(rows);
      this.gatherA = new Int32Array(rows);
    }
    if (this.nzStart.length < passes + 1) this.nzStart = new Int32Array(passes + 1);
    const nzRows = this.nzRows;
    const nzStart = this.nzStart;
    const gw = this.gatherW;
    const ga = this.gatherA;
    // nonzero weight rows of each pass (padded input channels have all-zero rows)
    const w0 = g.wgt_addr * n;
    let cntRows = 0;
    for (let pass = 0; pass < passes; pass++) {
      nzStart[pass] = cntRows;
      for (let r = 0; r < R; r++) {
        const base = w0 + (pass * R + r) * n;
        for (let c = 0; c < n; c++) {
          if (wgt[base + c] !== 0) {
            nzRows[cntRows++] = r;
            break;
          }
        }
      }
    }
    nzStart[passes] = cntRows;
    const ext = g.act_signed ? this.signExt : this.unsignedExt;
    const overwrite = g.accumulate === 0;
    const blockEntries = g.in_h * g.in_w;
    const { in_h, in_w, kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left, ci_blocks, out_w } = g;
    // SWAR: k output lanes share one double in f-bit signed fields (k = 1 when the sums are too wide). Exact:
    // each lane's sum over the pixel (one term per nonzero row at most) stays within +-laneBound < 2^(f-1),
    // so every packed partial sum stays below 2^52 and rounding x / 2^f peels off the low field exactly
    const laneBound = cntRows * amax * 2 ** (a.weightBits - 1);
    const f = Math.ceil(Math.log2(2 * laneBound + 1));
    const k = Math.max(1, Math.min(n, Math.floor(52 / f)));
    const G = Math.ceil(n / k);
    const B = 2 ** f;
    const invB = 1 / B;
    let packed = this.packedW;
    if (packed.length < rows * G) packed = this.packedW = new Float64Array(rows * G);
    // only nonzero rows are ever read
    for (let pass = 0; pass < passes; pass++) {
      for (let z = nzStart[pass]!, ze = nzStart[pass + 1]!; z < ze; z++) {
        const row = pass * R + nzRows[z]!;
        const wr = w0 + row * n;
        for (let q = 0; q < G; q++) {
          let v = 0;
          for (let j = Math.min(k, n - q * k) - 1; j >= 0; j--) v = v * B + wgt[wr + q * k + j]!;
          packed[row * G + q] = v;
        }
      }
    }
    const dot: PackedDot = { ga, gw, packed, acc, G, k, n, B, invB, scale, overwrite };
    for (let oy = 0; oy < g.out_h; oy++) {
      for (let ox = 0; ox < out_w; ox++) {
        // gather: weight offset and activation of every nonzero product of this pixel
        let cnt = 0;
        let pass = 0;
        for (let cb = 0; cb < ci_blocks; cb++) {
          const blockBase = g.inp_addr + cb * blockEntries;
          for (let kh = 0; kh < kernel_h; kh++) {
            const iy = oy * stride_h + kh - pad_top;
            if (iy < 0 || iy >= in_h) {
              pass += kernel_w;
              continue;
            }
            for (let kw = 0; kw < kernel_w; kw++, pass++) {
              const ix = ox * stride_w + kw - pad_left;
              if (ix < 0 || ix >= in_w) continue;
              const inBase = (blockBase + iy * in_w + ix) * R;
              const wBase = pass * R * G;
              for (let z = nzStart[pass]!, ze = nzStart[pass + 1]!; z < ze; z++) {
                const r = nzRows[z]!;
                const v = ext[inp[inBase + r]!]!;
                if (v !== 0) {
                  gw[cnt] = wBase + r * G;
                  ga[cnt] = v;
                  cnt++;
                }
              }
            }
          }
        }
        const accBase = acc0 + (oy * out_w + ox) * n;
        if (cnt === 0) {
          // all products zero (padding, zero activations: e.g. an image's background)
          if (overwrite) acc.fill(0, accBase, accBase + n);
          continue;
        }
        dotPixel(dot, cnt, accBase);
      }
    }
    return true;
  }

  /** The largest |ACC value| of `len` lanes from lane `from` (in the kernel's SIMD scan when ACC is resident there). */
  accAbsMax(from: number, len: number): number {
    const m = this.units?.accAbsMax(from, len);
    if (m !== undefined) return m;
    const acc = this.sp.acc;
    let max = 0;
    for (let j = from, e = from + len; j < e; j++) {
      const v = acc[j]!;
      if (v > max) max = v;
      else if (-v > max) max = -v;
    }
    return max;
  }

  /** Pass by pass, checking every ACC write against the accumulator range (the hardware's order). */
  gemmChecked(i: number, g: GemmInst): void {
    const a = this.p.arch;
    const R = a.rows;
    const n = a.cols;
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
    const f = Math.ceil(Math.log2(R * amax * 2 ** (a.weightBits - 1) + 1)) + 2;
    let k = Math.floor(52 / f);
    while (k > 1 && n % k !== 0) k--;
    const groups = n / k;
    const B = 2 ** f;
    const invB = 1 / B;
    const packed = k > 1 ? new Float64Array(R * groups) : undefined;
    const psum = new Float64Array(groups);
    let pass = 0;
    for (let cb = 0; cb < g.ci_blocks; cb++) {
      for (let kh = 0; kh < g.kernel_h; kh++) {
        for (let kw = 0; kw < g.kernel_w; kw++, pass++) {
          const wBase = (g.wgt_addr + pass * R) * n;
          if (packed) {
            for (let r = 0; r < R; r++) {
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
                const inBase = (g.inp_addr + cb * blockEntries + iy * g.in_w + ix) * R;
                for (let r = 0; r < R; r++) act[r] = ext[inp[inBase + r]!]!;
                if (packed) {
                  psum.fill(0);
                  for (let r = 0; r < R; r++) {
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
                  for (let r = 0; r < R; r++) {
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
}
