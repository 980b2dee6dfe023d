/** POOL: max pooling of activations OUT -> OUT. */
import { bits, checkWindows, defineOp, sramAccess } from './define.js';

export const POOL = defineOp(
  {
    opcode: 5,
    mnemonic: 'POOL',
    unit: 'compute',
    doc: 'Max pooling of activations OUT -> OUT: dst[y*out_w+x] = max of the pool_k x pool_k window at (y*pool_s, x*pool_s) of the in_h x in_w tile at src_addr. Source and destination ranges must not overlap.',
    fields: [
      { name: 'src_addr', width: (a) => a.outAddrBits, doc: 'OUT entry of input pixel (0,0)' },
      { name: 'dst_addr', width: (a) => a.outAddrBits, doc: 'OUT entry of output pixel (0,0)' },
      { name: 'in_h', width: (a) => a.outDimBits, min: 1, doc: 'input tile height' },
      { name: 'in_w', width: (a) => a.outDimBits, min: 1, doc: 'input tile width' },
      { name: 'out_h', width: (a) => a.outDimBits, min: 1, doc: 'output height' },
      { name: 'out_w', width: (a) => a.outDimBits, min: 1, doc: 'output width' },
      { name: 'pool_k', width: bits(2), min: 1, doc: 'pool window' },
      { name: 'pool_s', width: bits(2), min: 1, doc: 'pool stride' },
      { name: 'act_signed', width: bits(1), doc: '1: lanes are signed' },
    ],
  },
  {
    accesses: (q) => [
      sramAccess('out', false, 'OUT read', q.src_addr, q.in_h * q.in_w),
      sramAccess('out', true, 'OUT write', q.dst_addr, q.out_h * q.out_w),
    ],
    checkRanges(q, _m, reject) {
      checkWindows(reject, q);
      const inCount = q.in_h * q.in_w;
      const outCount = q.out_h * q.out_w;
      if (q.src_addr < q.dst_addr + outCount && q.dst_addr < q.src_addr + inCount) {
        reject(
          `POOL source [${q.src_addr}, ${q.src_addr + inCount - 1}] and destination [${q.dst_addr}, ${q.dst_addr + outCount - 1}] overlap`,
        );
      }
    },
  },
);
