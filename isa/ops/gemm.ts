/** GEMM: one convolution tile on the systolic array, pass by pass. */
import { NO_RANGES, bits, defineOp, sramAccess } from './define.js';

export const GEMM = defineOp(
  {
    opcode: 3,
    mnemonic: 'GEMM',
    unit: 'compute',
    doc:
      'Convolution tile on the systolic array: for cb < ci_blocks, kh < kernel_h, kw < kernel_w (one pass each, weight tile ' +
      '((cb*kernel_h+kh)*kernel_w+kw) at wgt_addr + tile*N), every output pixel (y, x) of out_h x out_w reads input ' +
      '(y*stride_h+kh-pad_top, x*stride_w+kw-pad_left) of the in_h x in_w tile of block cb (zero outside) and ' +
      'accumulates (a*w) << pshift into ACC[acc_addr + y*out_w + x]; the first pass overwrites unless accumulate=1.',
    fields: [
      { name: 'wgt_addr', width: (a) => a.wgtAddrBits, doc: 'WGT entry of the first weight tile (N entries per tile)' },
      { name: 'inp_addr', width: (a) => a.inpAddrBits, doc: 'INP entry of pixel (0,0) of input-channel block 0' },
      { name: 'acc_addr', width: (a) => a.accAddrBits, doc: 'ACC entry of output pixel (0,0)' },
      { name: 'in_h', width: (a) => a.dimBits, min: 1, doc: 'input tile height (rows in INP)' },
      { name: 'in_w', width: (a) => a.dimBits, min: 1, doc: 'input tile width (entries per INP row)' },
      { name: 'out_h', width: (a) => a.outDimBits, min: 1, doc: 'output pixels per column' },
      { name: 'out_w', width: (a) => a.outDimBits, min: 1, doc: 'output pixels per row' },
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
        doc: 'input-channel blocks (each in_h*in_w INP entries, consecutive)',
      },
      { name: 'accumulate', width: bits(1), doc: '1: add to ACC from the first pass; 0: first pass overwrites' },
      { name: 'act_signed', width: bits(1), doc: "1: INP lanes are two's-complement signed; 0: unsigned" },
      { name: 'pshift', width: bits(3), doc: 'product left shift (4 for the high-nibble pass of 8-bit inputs)' },
    ],
  },
  {
    accesses: (g, m) => [
      sramAccess('inp', false, 'INP read', g.inp_addr, g.ci_blocks * g.in_h * g.in_w),
      sramAccess('wgt', false, 'WGT read', g.wgt_addr, g.ci_blocks * g.kernel_h * g.kernel_w * m.arch.n),
      sramAccess('acc', true, 'ACC', g.acc_addr, g.out_h * g.out_w),
    ],
    checkRanges: NO_RANGES,
  },
);
