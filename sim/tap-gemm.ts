/**
 * The fast engine's kernel for tap-packed GEMMs (taps = 1,
 * docs/architecture.md 7.6): every array row addresses INP itself, reading
 * lane r of the entry of its own kernel tap. Same two paths as the ordinary
 * kernel (sim/execute.ts): when a bound proves no ACC value can leave the
 * accumulator range, each pixel gathers its nonzero (activation, weight row)
 * pairs over all passes and runs packed dot products (or the WebAssembly
 * kernel runs it, gathered into an ordinary GEMM: sim/kernels/gemm.wat
 * gemmTapped); otherwise the pass-by-pass loop checks every ACC write in the
 * hardware's order.
 */
import { gemmBlocks, gemmPassCount, passRowTaps, rowNibbleShift, type GemmInst } from '../isa/index.js';
import type { DerivedArch } from '../arch/index.js';
import { InstructionMemo } from './instruction-memo.js';
import type { GemmCore } from './kernels/gemm-kernel.js';
import { overflowError, type Scratchpads } from './memory.js';
import { dotPixel, type PackedDot } from './packed-dot.js';

/** What the kernel uses of the fast engine's functional unit (sim/execute.ts). */
interface Machine {
  readonly p: { readonly arch: DerivedArch };
  readonly sp: Scratchpads;
  readonly signExt: Int32Array;
  readonly unsignedExt: Int32Array;
  /** the WebAssembly GEMM core, when there is one */
  readonly core?: GemmCore | undefined;
  /** the largest |ACC value| of `len` lanes from lane `from` */
  accAbsMax(from: number, len: number): number;
}

/** Per pass and row: the tap offsets (dy < 0: the row reads zero) and the product factor (16 for high-nibble lanes). */
interface RowPlan {
  passes: number;
  perBlock: number;
  dy: Int32Array;
  dx: Int32Array;
  factor: Int32Array;
}

/** g's row plan on R rows, once per instruction (a program's GEMMs run again in every simulation). */
const rowPlans = new InstructionMemo(newRowPlan);
const rowPlan = (g: GemmInst, R: number): RowPlan => rowPlans.get(g, R);

function newRowPlan(g: GemmInst, R: number): RowPlan {
  const passes = gemmPassCount(g, R);
  const perBlock = passes / gemmBlocks(g);
  const dy = new Int32Array(perBlock * R);
  const dx = new Int32Array(perBlock * R);
  const factor = new Int32Array(perBlock * R);
  for (let q = 0; q < perBlock; q++) {
    const taps = passRowTaps(g, R, q);
    for (let r = 0; r < R; r++) {
      const t = taps[r]!;
      dy[q * R + r] = t < 0 ? -1 : Math.floor(t / g.kernel_w);
      dx[q * R + r] = t < 0 ? 0 : t % g.kernel_w;
      factor[q * R + r] = 2 ** rowNibbleShift(g, r);
    }
  }
  return { passes, perBlock, dy, dx, factor };
}

/** Run one tap-packed GEMM on the fast engine's memories. */
export function gemmTapped(fu: Machine, i: number, g: GemmInst): void {
  const plan = rowPlan(g, fu.p.arch.rows);
  if (!tappedUnchecked(fu, g, plan, fu.core)) tappedChecked(fu, i, g, plan);
}

/**
 * The paths of gemmTapped one at a time, for the tests that they agree (test/sim/gemm-paths.test.ts,
 * test/sim/kernel.test.ts): unchecked in JavaScript alone, or with the machine's WebAssembly core.
 */
export const tappedPaths = {
  unchecked: (fu: Machine, g: GemmInst): boolean => tappedUnchecked(fu, g, rowPlan(g, fu.p.arch.rows)),
  kernel: (fu: Machine, g: GemmInst): boolean => tappedUnchecked(fu, g, rowPlan(g, fu.p.arch.rows), fu.core),
  checked: (fu: Machine, i: number, g: GemmInst): void => tappedChecked(fu, i, g, rowPlan(g, fu.p.arch.rows)),
};

/** The activation of row r at output pixel (oy, ox) in block pass `bq` of ci block cb (0 outside the tile). */
function rowInput(
  fu: Machine,
  g: GemmInst,
  plan: RowPlan,
  cb: number,
  q: number,
  r: number,
  oy: number,
  ox: number,
): number {
  const R = fu.p.arch.rows;
  const k = q * R + r;
  const dy = plan.dy[k]!;
  if (dy < 0) return 0;
  const iy = oy * g.stride_h + dy - g.pad_top;
  const ix = ox * g.stride_w + plan.dx[k]! - g.pad_left;
  if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) return 0;
  const raw = fu.sp.inp[(g.inp_addr + cb * g.in_h * g.in_w + iy * g.in_w + ix) * R + r]!;
  return (g.act_signed ? fu.signExt : fu.unsignedExt)[raw]! * plan.factor[k]!;
}

/** Pass by pass, checking every ACC write against the accumulator range (the hardware's order). */
function tappedChecked(fu: Machine, i: number, g: GemmInst, plan: RowPlan): void {
  const a = fu.p.arch;
  const { rows: R, cols: C } = a;
  const { wgt, acc } = fu.sp;
  const scale = 2 ** g.pshift;
  const sum = new Float64Array(C);
  for (let pass = 0; pass < plan.passes; pass++) {
    const cb = Math.floor(pass / plan.perBlock);
    const q = pass % plan.perBlock;
    const wBase = (g.wgt_addr + pass * R) * C;
    const overwrite = pass === 0 && g.accumulate === 0;
    for (let oy = 0; oy < g.out_h; oy++) {
      for (let ox = 0; ox < g.out_w; ox++) {
        sum.fill(0);
        for (let r = 0; r < R; r++) {
          const v = rowInput(fu, g, plan, cb, q, r, oy, ox);
          if (v === 0) continue;
          for (let c = 0; c < C; c++) sum[c] += v * wgt[wBase + r * C + c]!;
        }
        const entry = g.acc_addr + oy * g.out_w + ox;
        for (let c = 0; c < C; c++) {
          const v = sum[c]! * scale + (overwrite ? 0 : acc[entry * C + c]!);
          if (v < a.accMin || v > a.accMax) throw overflowError(i, c, entry, v, a);
          acc[entry * C + c] = v;
        }
      }
    }
  }
}

/**
 * All passes at once per pixel, when no ACC value can leave the range (so sums
 * regroup freely): in the WebAssembly core when there is one and it takes g,
 * else nonzero (activation, weight row) pairs and packed dot products.
 * Returns false when the bound does not hold.
 */
function tappedUnchecked(fu: Machine, g: GemmInst, plan: RowPlan, core?: GemmCore): boolean {
  const a = fu.p.arch;
  const { rows: R, cols: n } = a;
  const { wgt, acc } = fu.sp;
  const amax = g.act_signed ? 2 ** (a.activationBits - 1) : 2 ** a.activationBits - 1;
  const wmax = 2 ** (a.weightBits - 1);
  const scale = 2 ** g.pshift;
  const limit = Math.min(-a.accMin, a.accMax);
  // nonzero weight rows that some tap reads, and the bound of one pixel's sum over them
  const rows: number[] = [];
  let bound = 0;
  for (let pass = 0; pass < plan.passes; pass++) {
    const q = pass % plan.perBlock;
    for (let r = 0; r < R; r++) {
      if (plan.dy[q * R + r]! < 0) continue;
      const w = (g.wgt_addr + pass * R + r) * n;
      let nz = false;
      for (let c = 0; c < n && !nz; c++) nz = wgt[w + c] !== 0;
      if (!nz) continue;
      rows.push(pass * R + r);
      bound += amax * plan.factor[q * R + r]! * wmax;
    }
  }
  bound *= scale;
  if (!(bound <= limit) || bound > 2 ** 52) return false;
  const pixels = g.out_h * g.out_w;
  const acc0 = g.acc_addr * n;
  if (g.accumulate && !(bound + fu.accAbsMax(acc0, pixels * n) <= limit)) return false;
  if (core?.gemm(g, fu.sp, a)) return true;
  // SWAR: k output lanes per double in f-bit fields (as in sim/execute.ts: exact, every partial sum < 2^52)
  const f = Math.ceil(Math.log2((2 * bound) / scale + 1));
  const k = Math.max(1, Math.min(n, Math.floor(52 / f)));
  const G = Math.ceil(n / k);
  const B = 2 ** f;
  const packed = new Float64Array(rows.length * G);
  rows.forEach((row, z) => {
    const wr = (g.wgt_addr + row) * n;
    for (let q = 0; q < G; q++) {
      let v = 0;
      for (let j = Math.min(k, n - q * k) - 1; j >= 0; j--) v = v * B + wgt[wr + q * k + j]!;
      packed[z * G + q] = v;
    }
  });
  const ga = new Int32Array(rows.length);
  const gw = new Int32Array(rows.length);
  const overwrite = g.accumulate === 0;
  const dot: PackedDot = { ga, gw, packed, acc, G, k, n, B, invB: 1 / B, scale, overwrite };
  // per gathered row z: its tap offsets less the padding, INP lane offset of its block, factor (rowInput, hoisted)
  const Z = rows.length;
  const zy = new Int32Array(Z);
  const zx = new Int32Array(Z);
  const zBase = new Int32Array(Z);
  const zFactor = new Int32Array(Z);
  const { in_h, in_w, stride_h, stride_w, out_w } = g;
  for (let z = 0; z < Z; z++) {
    const row = rows[z]!;
    const pass = Math.floor(row / R);
    const r = row % R;
    const q = pass % plan.perBlock;
    const cb = Math.floor(pass / plan.perBlock);
    zy[z] = plan.dy[q * R + r]! - g.pad_top;
    zx[z] = plan.dx[q * R + r]! - g.pad_left;
    zBase[z] = (g.inp_addr + cb * in_h * in_w) * R + r;
    zFactor[z] = plan.factor[q * R + r]!;
  }
  const inp = fu.sp.inp;
  const ext = g.act_signed ? fu.signExt : fu.unsignedExt;
  for (let oy = 0; oy < g.out_h; oy++) {
    for (let ox = 0; ox < out_w; ox++) {
      let cnt = 0;
      for (let z = 0; z < Z; z++) {
        const iy = oy * stride_h + zy[z]!;
        const ix = ox * stride_w + zx[z]!;
        if (iy < 0 || iy >= in_h || ix < 0 || ix >= in_w) continue;
        const v = ext[inp[zBase[z]! + (iy * in_w + ix) * R]!]! * zFactor[z]!;
        if (v === 0) continue;
        ga[cnt] = v;
        gw[cnt] = z * G;
        cnt++;
      }
      const accBase = acc0 + (oy * out_w + ox) * n;
      if (cnt === 0) {
        if (overwrite) acc.fill(0, accBase, accBase + n);
        continue;
      }
      dotPixel(dot, cnt, accBase);
    }
  }
  return true;
}
