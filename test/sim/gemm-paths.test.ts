/**
 * The fast engine's two GEMM paths (unchecked: regrouped sums when a bound
 * rules out overflow; checked: pass by pass) must leave identical ACC
 * contents. Random programs almost always take the unchecked path, so both
 * are run here directly on every GEMM of random programs, over random
 * scratchpad contents (zero activations and zero weight rows included).
 */
import { describe, expect, it } from 'vitest';
import type { GemmInst } from '../../isa/table.js';
import { randomConfig, randomProgram } from '../../sim/index.js';
import { FunctionalUnit } from '../../sim/execute.js';
import { mulberry32, newScratchpads } from '../../sim/memory.js';
import { prepareProgram } from '../../sim/prepare.js';
import { tappedPaths } from '../../sim/tap-gemm.js';
import { ins, makeProgram } from './helpers.js';

describe('fast GEMM: unchecked path == checked path', () => {
  it('on every GEMM of 150 random programs', () => {
    let compared = 0;
    let tapped = 0;
    for (let seed = 5000; seed < 5150; seed++) {
      const p = prepareProgram(randomProgram(seed, randomConfig(seed)));
      const a = p.arch;
      const rnd = mulberry32(seed);
      const sp = newScratchpads(p);
      const zeroBias = rnd() * 0.6;
      for (let j = 0; j < sp.inp.length; j++)
        sp.inp[j] = rnd() < zeroBias ? 0 : Math.floor(rnd() * 2 ** a.activationBits);
      for (let j = 0; j < sp.wgt.length; j += a.cols) {
        const zeroRow = rnd() < 0.3;
        for (let c = 0; c < a.cols; c++)
          sp.wgt[j + c] = zeroRow ? 0 : Math.floor(rnd() * 2 ** a.weightBits) - 2 ** (a.weightBits - 1);
      }
      for (let j = 0; j < sp.acc.length; j++) sp.acc[j] = Math.floor((rnd() - 0.5) * 2000);
      const fu = new FunctionalUnit(p, sp, new Uint8Array(0));
      const plain = fu as unknown as { gemmUnchecked(g: GemmInst): boolean };
      // a tap-packed GEMM has its own two paths (sim/tap-gemm.ts): the plain ones never see it
      const unchecked = (g: GemmInst) => (g.taps ? tappedPaths.unchecked(fu, g) : plain.gemmUnchecked(g));
      const checked = (i: number, g: GemmInst) => (g.taps ? tappedPaths.checked(fu, i, g) : fu.gemmChecked(i, g));
      for (let i = 0; i < p.count; i++) {
        const g = p.code[i]!;
        if (g.op !== 'GEMM') continue;
        const before = sp.acc.slice();
        if (!unchecked(g)) continue;
        const fast = sp.acc.slice();
        sp.acc.set(before);
        checked(i, g);
        if (g.taps) tapped++;
        expect(
          Buffer.compare(Buffer.from(fast.buffer), Buffer.from(sp.acc.buffer)),
          `seed ${seed} instruction ${i}`,
        ).toBe(0);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(300);
    expect(tapped).toBeGreaterThan(100);
  });

  it('with wide sums (one lane per double: 8-bit operands, 135 passes) and with odd lane groups', () => {
    for (const [bits, ciBlocks, acc] of [
      [8, 15, 32],
      [8, 8, 32],
      [4, 2, 24],
      [8, 1, 20],
    ] as const) {
      const config = {
        bits: { weight: bits, activation: bits, accumulator: acc },
        scratchpad: { weightEntries: 4096 },
      };
      const g = ins('GEMM', {
        wgt_addr: 0,
        inp_addr: 0,
        acc_addr: 0,
        in_h: 6,
        in_w: 5,
        out_h: 3,
        out_w: 4,
        kernel_h: 3,
        kernel_w: 3,
        stride_h: 2,
        stride_w: 1,
        pad_top: 1,
        pad_left: 1,
        ci_blocks: ciBlocks,
        accumulate: 1,
        act_signed: bits === 8 ? 1 : 0,
        pshift: 1,
      }) as GemmInst;
      const p = prepareProgram(makeProgram([g, ins('HALT')], { config }));
      const a = p.arch;
      const rnd = mulberry32(bits * 100 + ciBlocks);
      const sp = newScratchpads(p);
      for (let j = 0; j < sp.inp.length; j++) sp.inp[j] = Math.floor(rnd() * 2 ** a.activationBits);
      for (let j = 0; j < sp.wgt.length; j++)
        sp.wgt[j] = Math.floor(rnd() * 2 ** a.weightBits) - 2 ** (a.weightBits - 1);
      for (let j = 0; j < sp.acc.length; j++) sp.acc[j] = Math.floor((rnd() - 0.5) * 1000);
      const fu = new FunctionalUnit(p, sp, new Uint8Array(0));
      const before = sp.acc.slice();
      const took = (fu as unknown as { gemmUnchecked(g: GemmInst): boolean }).gemmUnchecked(g);
      // 20-bit accumulator: the bound does not hold, so the checked path must be the one that runs
      expect(took, `bits ${bits}`).toBe(acc !== 20);
      if (!took) continue;
      const fast = sp.acc.slice();
      sp.acc.set(before);
      fu.gemmChecked(0, g);
      expect(Array.from(fast), `bits ${bits} ci_blocks ${ciBlocks}`).toEqual(Array.from(sp.acc));
    }
  });
});
