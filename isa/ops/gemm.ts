/** GEMM: one convolution tile on the systolic array, pass by pass. */
import { bits, defineOp, sramAccess } from './define.js';

/** The GEMM fields that shape its passes. */
interface PassShape {
  ci_blocks: number;
  kernel_h: number;
  kernel_w: number;
  taps: number;
  nibble_lanes?: number;
}

/**
 * Lanes per tap of a tap-packed GEMM (taps = 1): its ci_blocks field, since a
 * tap-packed GEMM reads one channel block (the word has no room for a field of
 * its own); 0 for an ordinary GEMM.
 */
export function tapLanesOf(g: Pick<PassShape, 'ci_blocks' | 'taps'>): number {
  return g.taps ? g.ci_blocks : 0;
}

/** Input-channel blocks a GEMM reads: ci_blocks, or the one block of a tap-packed GEMM. */
export function gemmBlocks(g: Pick<PassShape, 'ci_blocks' | 'taps'>): number {
  return g.taps ? 1 : g.ci_blocks;
}

/** Taps one pass of a tap-packed GEMM holds on an array of `rows` rows: floor(rows / tap lanes). */
export function tapsPerPass(g: Pick<PassShape, 'ci_blocks' | 'taps'>, rows: number): number {
  return Math.floor(rows / tapLanesOf(g));
}

/**
 * Passes (weight tiles) of a GEMM: per ci block one per kernel tap, or, tap-packed,
 * ceil(kernel taps / taps per pass). Pass order: ci block, then tap (row-major over
 * kernel_h x kernel_w) or tap group.
 */
export function gemmPassCount(g: PassShape, rows: number): number {
  const taps = g.kernel_h * g.kernel_w;
  return g.taps ? Math.ceil(taps / tapsPerPass(g, rows)) : g.ci_blocks * taps;
}

/**
 * The kernel tap each array row reads in pass q of a block (q < passes per ci block):
 * row-major tap index into kernel_h x kernel_w, or -1 for a row that reads zero.
 * One tap for every row, or, tap-packed (g lanes per tap), tap q*T + floor(r/g) for
 * row r of the first T*g rows (T = taps per pass).
 */
export function passRowTaps(g: PassShape, rows: number, q: number): Int32Array {
  const out = new Int32Array(rows);
  const lanes = tapLanesOf(g);
  if (!lanes) return out.fill(q);
  const taps = g.kernel_h * g.kernel_w;
  const per = tapsPerPass(g, rows);
  for (let r = 0; r < rows; r++) {
    const j = Math.floor(r / lanes);
    const t = q * per + j;
    out[r] = j < per && t < taps ? t : -1;
  }
  return out;
}

/** Extra product shift of each row: 4 for the high-nibble lanes of a nibble_lanes GEMM, else 0. */
export function rowNibbleShift(g: Pick<PassShape, 'ci_blocks' | 'taps' | 'nibble_lanes'>, r: number): number {
  return g.nibble_lanes && (r % tapLanesOf(g)) % 2 === 1 ? 4 : 0;
}

export const GEMM = defineOp(
  {
    opcode: 3,
    mnemonic: 'GEMM',
    unit: 'compute',
    doc:
      'Convolution tile on the systolic array: for cb < ci_blocks, kh < kernel_h, kw < kernel_w (one pass each, weight tile ' +
      '((cb*kernel_h+kh)*kernel_w+kw) at wgt_addr + tile*R), every output pixel (y, x) of out_h x out_w reads input ' +
      '(y*stride_h+kh-pad_top, x*stride_w+kw-pad_left) of the in_h x in_w tile of block cb (zero outside) and ' +
      'accumulates (a*w) << pshift into ACC[acc_addr + y*out_w + x]; the first pass overwrites unless accumulate=1. ' +
      'Tap-packed (taps = 1, tap group g = ci_blocks, one channel block): each pass holds T = floor(R/g) taps, row ' +
      'j*g + l reading lane j*g + l of the entry of its own tap (tap q*T + j of pass q, row-major), so there are ' +
      'ceil(kernel_h*kernel_w / T) passes; rows past the last tap read zero.',
    fields: [
      {
        name: 'wgt_addr',
        width: (a) => a.wgtAddrBits,
        doc: 'WGT entry of the first weight tile (R = array.rows entries per tile)',
      },
      { name: 'inp_addr', width: (a) => a.inpAddrBits, doc: 'INP entry of pixel (0,0) of input-channel block 0' },
      { name: 'acc_addr', width: (a) => a.accAddrBits, doc: 'ACC entry of output pixel (0,0)' },
      { name: 'in_h', width: (a) => a.dimBits, min: 1, doc: 'input tile height (rows in INP)' },
      { name: 'in_w', width: (a) => a.dimBits, min: 1, doc: 'input tile width (entries per INP row)' },
      { name: 'out_h', width: (a) => a.accDimBits, min: 1, doc: 'output pixels per column' },
      { name: 'out_w', width: (a) => a.accDimBits, min: 1, doc: 'output pixels per row' },
      { name: 'kernel_h', width: bits(4), min: 1, doc: 'kernel height' },
      { name: 'kernel_w', width: bits(4), min: 1, doc: 'kernel width' },
      { name: 'stride_h', width: bits(3), min: 1, doc: 'vertical stride' },
      { name: 'stride_w', width: bits(3), min: 1, doc: 'horizontal stride' },
      { name: 'pad_top', width: bits(3), doc: 'zero rows above the tile' },
      { name: 'pad_left', width: bits(3), doc: 'zero columns left of the tile' },
      {
        name: 'ci_blocks',
        width: bits(8),
        min: 1,
        doc: 'input-channel blocks (each in_h*in_w INP entries, consecutive); with taps = 1: the tap group g (lanes per tap, 1 .. R/2)',
      },
      { name: 'accumulate', width: bits(1), doc: '1: add to ACC from the first pass; 0: first pass overwrites' },
      { name: 'act_signed', width: bits(1), doc: "1: INP lanes are two's-complement signed; 0: unsigned" },
      { name: 'pshift', width: bits(3), doc: 'product left shift (4 for the high-nibble pass of 8-bit inputs)' },
      {
        name: 'taps',
        width: bits(1),
        doc: '1: tap packing, ci_blocks = g rows (lanes) per tap, floor(R/g) taps per pass, one channel block',
      },
      {
        name: 'nibble_lanes',
        width: bits(1),
        doc: 'with taps = 1: odd lanes of each tap group are high nibbles (products shifted 4 more bits)',
      },
    ],
  },
  {
    accesses: (g, m) => [
      sramAccess('inp', false, 'INP read', g.inp_addr, gemmBlocks(g) * g.in_h * g.in_w),
      sramAccess('wgt', false, 'WGT read', g.wgt_addr, gemmPassCount(g, m.arch.rows) * m.arch.rows),
      sramAccess('acc', true, 'ACC', g.acc_addr, g.out_h * g.out_w),
    ],
    checkRanges(g, m, reject) {
      if (g.taps && g.ci_blocks > m.arch.maxTapLanes) {
        reject(
          `GEMM taps=1 takes its tap group from ci_blocks, which must be at most R/2 = ${m.arch.maxTapLanes} lanes (two taps per pass), got ${g.ci_blocks}`,
        );
      }
      if (g.nibble_lanes && !(g.taps && g.ci_blocks % 2 === 0)) {
        reject(
          `GEMM nibble_lanes=1 needs taps=1 with an even tap group (ci_blocks: a low and a high nibble lane per channel), got taps=${g.taps} ci_blocks=${g.ci_blocks}`,
        );
      }
    },
  },
);
