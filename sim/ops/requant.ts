/** REQUANT in the engines: window max over ACC, then clamp(floor((m - bias) / 2^shift)) per lane into OUT. */
import {
  BESIDE_HOST,
  NO_FLAGS,
  UNIT_COMPUTE,
  besideRole,
  requantClampRange,
  requantScale,
  requantScaled,
  requantValue,
  packEntry,
  unpackParamEntry,
  type RequantInst,
} from '../../isa/index.js';
import type { FunctionalUnit } from '../execute.js';
import { occupancy, windowEntries, type SimOp } from './define.js';
import type { NaiveMachine } from './naive.js';
import type { RandomRound } from './random-round.js';

/** The fast engine: per lane scale and bias precomputed, windows maxed in place. */
function executeRequant(fu: FunctionalUnit, r: RequantInst): void {
  const a = fu.p.arch;
  const n = a.cols;
  const { acc, bias, shift, out } = fu.sp;
  const { lo, hi } = requantClampRange(r.out_signed === 1, r.clamp_bits);
  const mask = (1 << a.activationBits) - 1;
  const pBase = r.param_addr * n;
  const scale = new Float64Array(n);
  const b = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    scale[c] = requantScale(shift[pBase + c]!);
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
        out[outBase + c] = requantScaled(m, b[c]!, scale[c]!, lo, hi) & mask;
      }
    }
  }
}

/** The round's REQUANT of its accumulator tile (or of a 1x1 tile when it has no GEMM) into its OUT half. */
function emitRequant(round: RandomRound): void {
  const { a, gemm } = round;
  const inHq = gemm.list.length > 0 ? gemm.outH : 1;
  const inWq = gemm.list.length > 0 ? gemm.outW : 1;
  const q0 = round.half * round.outHalf;
  const rw = round.poolWindow(inHq, inWq, round.outQuarter);
  const outSigned = round.rnd() < 0.4 ? 1 : 0;
  const rq: RequantInst = {
    op: 'REQUANT',
    ...NO_FLAGS,
    // frees the round's load buffers; from round 2 on, waits for the store of round r-2 (same OUT half)
    pop_next: round.r >= 2 ? 1 : 0,
    push_prev: 1,
    acc_addr: gemm.accAddr,
    out_addr: q0,
    param_addr: round.param.base + round.int(0, round.param.count - 1),
    in_h: inHq,
    in_w: inWq,
    out_h: rw.oh,
    out_w: rw.ow,
    pool_k: rw.k,
    pool_s: rw.s,
    out_signed: outSigned,
    clamp_bits: round.int(1, a.activationBits),
    gemm_beside: 0,
  };
  round.maybeNop(round.compute, UNIT_COMPUTE);
  round.compute.push(rq);
  round.out = { addr: q0, h: rw.oh, w: rw.ow, signed: outSigned === 1 };
}

/** REQUANT, naively: window max, then floor((m - bias) / 2^shift) in BigInt, clamped, lane by lane. */
function naiveRequant(r: RequantInst, m: NaiveMachine): void {
  const a = m.arch;
  const n = a.cols;
  const { bias, shift } = unpackParamEntry(m.param, r.param_addr * a.paramEntryBytes, n);
  const b = r.clamp_bits;
  const lo = r.out_signed ? -(2 ** (b - 1) - 1) : 0;
  const hi = r.out_signed ? 2 ** (b - 1) - 1 : 2 ** b - 1;
  for (let oy = 0; oy < r.out_h; oy++)
    for (let ox = 0; ox < r.out_w; ox++) {
      const res: number[] = [];
      for (let c = 0; c < n; c++) {
        let mx = -Infinity;
        for (let ky = 0; ky < r.pool_k; ky++)
          for (let kx = 0; kx < r.pool_k; kx++)
            mx = Math.max(mx, m.acc[r.acc_addr + (oy * r.pool_s + ky) * r.in_w + ox * r.pool_s + kx]![c]!);
        const v = BigInt(mx) - BigInt(bias[c]!);
        const s = shift[c]!;
        // floor division by 2^s with BigInt (>> on negative BigInt is floor)
        let q = s >= 0 ? v >> BigInt(s) : v << BigInt(-s);
        if (q < BigInt(lo)) q = BigInt(lo);
        if (q > BigInt(hi)) q = BigInt(hi);
        res.push(Number(q));
      }
      packEntry(res, n, a.activationBits, m.out, (r.out_addr + oy * r.out_w + ox) * a.outEntryBytes);
    }
}

export const REQUANT_SIM: SimOp<'REQUANT'> = {
  timing: (r, m) =>
    occupancy(
      'vector',
      r.out_h * r.out_w * r.pool_k * r.pool_k + m.cfg.requantStages + 2,
      0,
      0,
      0,
      besideRole(r) === BESIDE_HOST,
    ),
  execute: (fu, _i, r) => fu.units?.requant(r) || executeRequant(fu, r),
  cycle: {
    unit: 'vector',
    vector: {
      source: 'acc',
      setup: 1,
      latency: (_r, cfg) => cfg.requantStages,
      windows: (r) => ({ entries: windowEntries(r, r.acc_addr), size: r.pool_k * r.pool_k, outFirst: r.out_addr }),
      start(r, ctx) {
        // cycle 0 reads the PARAM entry: bias and shift of the C lanes
        const { lanes: n, sp } = ctx;
        ctx.counters.sram.param.reads++;
        const bias = sp.bias.slice(r.param_addr * n, r.param_addr * n + n);
        const shift = sp.shift.slice(r.param_addr * n, r.param_addr * n + n);
        const { lo, hi } = requantClampRange(r.out_signed === 1, r.clamp_bits);
        const mask = (1 << ctx.activationBits) - 1;
        return {
          lane: (raw) => raw,
          output(max, out) {
            for (let l = 0; l < n; l++) out[l] = requantValue(max[l]!, bias[l]!, shift[l]!, lo, hi) & mask;
          },
        };
      },
    },
  },
  access(r, _m, c) {
    const outs = r.out_h * r.out_w;
    c.sram.param.reads += 1;
    c.sram.acc.reads += outs * r.pool_k * r.pool_k;
    c.sram.out.writes += outs;
  },
  laneActions(r, m) {
    const lanes = r.out_h * r.out_w * m.arch.cols;
    return {
      requantLanes: lanes,
      compares: lanes * (r.pool_k * r.pool_k - 1),
      pipelineRegisterBits: lanes * m.cfg.requantStages * m.arch.accBits,
    };
  },
  random: { compute: emitRequant },
  naive: naiveRequant,
};
