/** REQUANT: shift-batch-norm requantization ACC -> OUT, with optional fused max pooling. */
import { bits, checkWindows, defineOp, sramAccess } from './define.js';

export const REQUANT = defineOp(
  {
    opcode: 4,
    mnemonic: 'REQUANT',
    unit: 'compute',
    doc:
      'Shift-batch-norm requant with optional fused max pooling: for each output (y, x) of out_h x out_w, m = max of ' +
      'ACC over the pool_k x pool_k window at (y*pool_s, x*pool_s) of the in_h x in_w tile at acc_addr; per lane c, ' +
      'OUT[out_addr + y*out_w + x][c] = clamp(floor((m - bias[c]) / 2^shift[c]), lo, hi) with PARAM[param_addr].',
    fields: [
      { name: 'acc_addr', width: (a) => a.accAddrBits, doc: 'ACC entry of pixel (0,0) of the accumulator tile' },
      { name: 'out_addr', width: (a) => a.outAddrBits, doc: 'OUT entry of output pixel (0,0)' },
      { name: 'param_addr', width: (a) => a.paramAddrBits, doc: 'PARAM entry holding bias and shift of the N lanes' },
      { name: 'in_h', width: (a) => a.outDimBits, min: 1, doc: 'accumulator tile height' },
      { name: 'in_w', width: (a) => a.outDimBits, min: 1, doc: 'accumulator tile width' },
      { name: 'out_h', width: (a) => a.outDimBits, min: 1, doc: 'output height' },
      { name: 'out_w', width: (a) => a.outDimBits, min: 1, doc: 'output width' },
      { name: 'pool_k', width: bits(2), min: 1, doc: 'pool window (1 = no pooling)' },
      { name: 'pool_s', width: bits(2), min: 1, doc: 'pool stride' },
      { name: 'out_signed', width: bits(1), doc: '1: clamp to [-(2^(b-1)-1), 2^(b-1)-1]; 0: [0, 2^b-1]' },
      {
        name: 'clamp_bits',
        width: bits(4),
        min: 1,
        max: (a) => a.activationBits,
        doc: 'b: output width (<= activation bits)',
      },
      {
        name: 'gemm_beside',
        width: bits(1),
        doc: "1: a GEMM right after it may start while it runs (the GEMM's ACC range must not meet its ACC reads); that GEMM ends after it. 0 on a machine without config gemmBeside",
      },
    ],
  },
  {
    accesses: (r) => [
      sramAccess('acc', false, 'ACC read', r.acc_addr, r.in_h * r.in_w),
      sramAccess('out', true, 'OUT write', r.out_addr, r.out_h * r.out_w),
      sramAccess('param', false, 'PARAM read', r.param_addr, 1),
    ],
    checkRanges: (r, m, reject) => {
      if (r.gemm_beside && !m.cfg.gemmBeside)
        reject(
          'REQUANT gemm_beside = 1 needs a machine that starts a GEMM beside a REQUANT (config gemmBeside is false)',
        );
      checkWindows(reject, r);
    },
  },
);
