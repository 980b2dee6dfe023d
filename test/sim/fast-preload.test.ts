/**
 * Config fastPreload (docs/architecture.md 7.2): passes without tap packing
 * preload two weight rows a cycle (T = R/2) and issue from PL + 1; the bank
 * hold is C + R/2 - 1. The timing rule on its own (UnitTimeline), and the
 * cycle engine's register-level array computing the same ACC as the fast
 * engine where the bank rule is tightest (back-to-back passes of one pixel).
 */
import { describe, expect, it } from 'vitest';
import { deriveArch, DEFAULT_CONFIG } from '../../arch/config.js';
import { packEntry } from '../../isa/layout.js';
import { simulate } from '../../sim/index.js';
import { OCC_ARRAY, OCC_PAIRS, UnitTimeline } from '../../sim/timing.js';
import { gemmIns, HALT, ins, makeProgram, runAll } from './helpers.js';

const fast = deriveArch({ ...DEFAULT_CONFIG, weightBanks: 2 });
const slow = deriveArch({ ...DEFAULT_CONFIG, fastPreload: false, weightBanks: 2 });
/** the default machine: fastPreload and three weight banks */
const fast3 = deriveArch(DEFAULT_CONFIG);

/** E of `passes` passes of `P` pixels placed as one GEMM from cycle 0. */
function gemmEnd(arch: typeof fast, passes: number, P: number, pairs: boolean): number {
  const t = new UnitTimeline(arch);
  t.place(1, OCC_ARRAY + (pairs ? OCC_PAIRS : 0), 0, passes, P, 0);
  return t.end;
}

describe('fast weight preload (config fastPreload)', () => {
  it('derives T = R/2, U = 1 and the bank hold C + R/2 - 1; off: C', () => {
    expect(fast).toMatchObject({ pairPreload: true, bankHold: 16 + 8 - 1 });
    expect(slow).toMatchObject({ pairPreload: false, bankHold: 16 });
  });

  it('a dense layer at batch 1 (P = 1): a pass every 12.5 cycles instead of 16.5', () => {
    // pair passes: PL_j = max(PL_{j-1} + 8, IS_{j-2} + 1 + 23), IS = PL + 1: two passes per 25 cycles
    // (pass 0 issues at 1, pass 71 at 1 + 35 * 25 + 8 = 884), E = IS_last + 1 + G (34)
    expect(gemmEnd(fast, 72, 1, true)).toBe(884 + 1 + 34);
    // one row a cycle: two passes per 33 cycles (PL_j >= IS_{j-2} + 1 + 16, IS = PL + 16)
    expect(gemmEnd(slow, 72, 1, false)).toBe(16 + 35 * 33 + 16 + 1 + 34);
    // the closed form of the settled recurrence gives what pass-by-pass placing gives
    for (const arch of [fast, fast3]) {
      const one = new UnitTimeline(arch);
      for (let j = 0; j < 72; j++) one.place(1, OCC_ARRAY + OCC_PAIRS, 0, 1, 1, 0);
      expect(one.end).toBe(gemmEnd(arch, 72, 1, true));
    }
  });

  it('three weight banks (config weightBanks): the bank rule looks three passes back, 8.33 cycles a pass', () => {
    // PL_j = max(PL_{j-1} + 8, IS_{j-3} + 1 + 23), IS = PL + 1: three passes per 25 cycles,
    // IS_j = 1 + 8 (j mod 3) + 25 floor(j / 3); pass 71: 1 + 16 + 575 = 592
    expect(fast3.weightBanks).toBe(3);
    expect(gemmEnd(fast3, 72, 1, true)).toBe(592 + 1 + 34);
    // one row a cycle, three banks: the read port (16 a pass) binds
    const slow3 = deriveArch({ ...DEFAULT_CONFIG, fastPreload: false });
    expect(gemmEnd(slow3, 72, 1, false)).toBe(16 + 71 * 16 + 1 + 34);
  });

  it('a tap-packed GEMM keeps one row a cycle (its row walk), under the longer bank hold', () => {
    // one pass: IS = PL + R; on the fast machine the pass after it waits IS + P + 23 for its bank
    expect(gemmEnd(fast, 1, 64, false)).toBe(16 + 64 + 34);
    const t = new UnitTimeline(fast);
    t.place(1, OCC_ARRAY, 0, 2, 1, 0); // IS 16, 32 (PL 0, 16)
    t.place(1, OCC_ARRAY + OCC_PAIRS, 0, 1, 1, 0); // PL = max(32, IS_0 + 1 + 23 = 40), IS 41
    expect(t.start).toBe(40);
    expect(t.end).toBe(41 + 1 + 34);
    // with a third bank the pass after them takes bank 2 at once: PL = PL_1 + 16 = 32
    const t3 = new UnitTimeline(fast3);
    t3.place(1, OCC_ARRAY, 0, 2, 1, 0);
    t3.place(1, OCC_ARRAY + OCC_PAIRS, 0, 1, 1, 0);
    expect([t3.start, t3.end]).toEqual([32, 33 + 1 + 34]);
  });

  it('back-to-back one-pixel passes: the cycle engine (register level) computes what the fast engine does', () => {
    let s = 12345;
    const rnd = (lo: number, hi: number) => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return lo + ((s >>> 8) % (hi - lo + 1));
    };
    const N = 16;
    const tiles = 6;
    // at an odd WGT address, so that every row pair straddles the two WGT RAMs of the RTL
    const wgtAt = 3;
    const wgt = new Uint8Array(tiles * N * fast.wgtEntryBytes);
    for (let e = 0; e < tiles * N; e++)
      packEntry(
        Array.from({ length: N }, () => rnd(-7, 7)),
        N,
        4,
        wgt,
        e * fast.wgtEntryBytes,
      );
    const inp = new Uint8Array(tiles * fast.inpEntryBytes);
    for (let e = 0; e < tiles; e++)
      packEntry(
        Array.from({ length: N }, () => rnd(0, 15)),
        N,
        4,
        inp,
        e * fast.inpEntryBytes,
      );
    const code = [
      ins('LOAD', { buf: 1, sram_addr: wgtAt, dram_addr: 0, x_count: tiles * N, y_count: 1, dram_stride: 0 }),
      ins('LOAD', { buf: 0, sram_addr: 0, dram_addr: 4096, x_count: tiles, y_count: 1, dram_stride: 0, push_next: 1 }),
      // 6 passes of one pixel over 6 ci blocks, then 3 GEMMs of 2 passes accumulating into one entry
      gemmIns({ pop_prev: 1, wgt_addr: wgtAt, ci_blocks: tiles }),
      gemmIns({ wgt_addr: wgtAt, acc_addr: 1, ci_blocks: 2 }),
      gemmIns({ wgt_addr: wgtAt + 2 * N, inp_addr: 2, acc_addr: 1, ci_blocks: 2, accumulate: 1 }),
      gemmIns({ wgt_addr: wgtAt + 4 * N, inp_addr: 4, acc_addr: 1, ci_blocks: 2, accumulate: 1 }),
      HALT,
    ];
    const segments = [
      { name: 'wgt', dramAddr: 0, bytes: wgt },
      { name: 'inp', dramAddr: 4096, bytes: inp },
    ];
    const acc = (config?: unknown) => {
      const p = makeProgram(code, { segments, ...(config ? { config } : {}) });
      const r = runAll(p); // the three engines agree on every S, E and counter
      const c = simulate(p, { engine: 'cycle' });
      expect(Array.from(c.scratchpads!.acc.subarray(0, 2 * N))).toEqual(
        Array.from(r.scratchpads!.acc.subarray(0, 2 * N)),
      );
      return { acc: Array.from(r.scratchpads!.acc.subarray(0, 2 * N)), cycles: r.cycles };
    };
    const on = acc();
    const two = acc({ weightBanks: 2 });
    const off = acc({ fastPreload: false, weightBanks: 2 });
    expect(on.acc).toEqual(off.acc);
    expect(two.acc).toEqual(off.acc);
    expect(on.cycles).toBeLessThan(two.cycles);
    // the sum of all six tiles, two ways
    expect(on.acc.slice(0, N)).toEqual(on.acc.slice(N));
    expect(on.cycles).toBeLessThan(off.cycles);
  });
});
