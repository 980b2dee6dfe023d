/** POOL in the engines: max pooling of OUT activations into OUT. */
import { NO_FLAGS, packEntry, type PoolInst } from '../../isa/index.js';
import type { FunctionalUnit } from '../execute.js';
import { occupancy, windowEntries, type SimOp } from './define.js';
import type { NaiveMachine } from './naive.js';
import type { RandomRound } from './random-round.js';

function executePool(fu: FunctionalUnit, q: PoolInst): void {
  const a = fu.p.arch;
  const n = a.cols;
  const out = fu.sp.out;
  const ext = q.act_signed ? fu.signExt : fu.unsignedExt;
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

/** Sometimes a POOL of the round's requant output into the other quarter of its OUT half. */
function emitPool(round: RandomRound): void {
  if (!(round.rnd() < 0.4)) return;
  const src = round.out;
  const pw = round.poolWindow(src.h, src.w, round.outQuarter);
  const dst = round.half * round.outHalf + round.outQuarter;
  round.compute.push({
    op: 'POOL',
    ...NO_FLAGS,
    src_addr: src.addr,
    dst_addr: dst,
    in_h: src.h,
    in_w: src.w,
    out_h: pw.oh,
    out_w: pw.ow,
    pool_k: pw.k,
    pool_s: pw.s,
    act_signed: src.signed ? 1 : 0,
  });
  round.out = { addr: dst, h: pw.oh, w: pw.ow, signed: src.signed };
}

/** POOL, naively: the max of each window's OUT entries, lane by lane. */
function naivePool(q: PoolInst, m: NaiveMachine): void {
  const a = m.arch;
  const n = a.cols;
  for (let oy = 0; oy < q.out_h; oy++)
    for (let ox = 0; ox < q.out_w; ox++) {
      const res = new Array<number>(n).fill(-Infinity);
      for (let ky = 0; ky < q.pool_k; ky++)
        for (let kx = 0; kx < q.pool_k; kx++) {
          const entry = q.src_addr + (oy * q.pool_s + ky) * q.in_w + ox * q.pool_s + kx;
          const v = m.lane(m.out, a.outEntryBytes, entry, a.activationBits, q.act_signed === 1);
          for (let c = 0; c < n; c++) res[c] = Math.max(res[c]!, v[c]!);
        }
      packEntry(res, n, a.activationBits, m.out, (q.dst_addr + oy * q.out_w + ox) * a.outEntryBytes);
    }
}

export const POOL_SIM: SimOp<'POOL'> = {
  timing: (q) => occupancy('vector', q.out_h * q.out_w * q.pool_k * q.pool_k + 2),
  execute: (fu, _i, q) => fu.units?.pool(q) || executePool(fu, q),
  cycle: {
    unit: 'vector',
    vector: {
      source: 'out',
      setup: 0,
      latency: () => 1,
      windows: (q) => ({ entries: windowEntries(q, q.src_addr), size: q.pool_k * q.pool_k, outFirst: q.dst_addr }),
      start(q, ctx) {
        const ab = ctx.activationBits;
        const mask = (1 << ab) - 1;
        const n = ctx.lanes;
        return {
          lane: q.act_signed ? (raw) => (raw >= 1 << (ab - 1) ? raw - (1 << ab) : raw) : (raw) => raw,
          output(max, out) {
            for (let l = 0; l < n; l++) out[l] = max[l]! & mask;
          },
        };
      },
    },
  },
  access(q, _m, c) {
    const outs = q.out_h * q.out_w;
    c.sram.out.reads += outs * q.pool_k * q.pool_k;
    c.sram.out.writes += outs;
  },
  laneActions: (q, m) => ({
    requantLanes: 0,
    compares: q.out_h * q.out_w * m.arch.cols * (q.pool_k * q.pool_k - 1),
    pipelineRegisterBits: 0,
  }),
  random: { compute: emitPool },
  naive: naivePool,
};
