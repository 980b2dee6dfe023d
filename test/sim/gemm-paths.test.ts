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

describe('fast GEMM: unchecked path == checked path', () => {
  it('on every GEMM of 150 random programs', () => {
    let compared = 0;
    for (let seed = 5000; seed < 5150; seed++) {
      const p = prepareProgram(randomProgram(seed, randomConfig(seed)));
      const a = p.arch;
      const rnd = mulberry32(seed);
      const sp = newScratchpads(p);
      const zeroBias = rnd() * 0.6;
      for (let j = 0; j < sp.inp.length; j++) sp.inp[j] = rnd() < zeroBias ? 0 : Math.floor(rnd() * 2 ** a.activationBits);
      for (let j = 0; j < sp.wgt.length; j += a.n) {
        const zeroRow = rnd() < 0.3;
        for (let c = 0; c < a.n; c++) sp.wgt[j + c] = zeroRow ? 0 : Math.floor(rnd() * 2 ** a.weightBits) - 2 ** (a.weightBits - 1);
      }
      for (let j = 0; j < sp.acc.length; j++) sp.acc[j] = Math.floor((rnd() - 0.5) * 2000);
      const fu = new FunctionalUnit(p, sp, new Uint8Array(0));
      const unchecked = fu as unknown as { gemmUnchecked(g: GemmInst): boolean };
      for (let i = 0; i < p.count; i++) {
        const g = p.code[i]!;
        if (g.op !== 'GEMM') continue;
        const before = sp.acc.slice();
        if (!unchecked.gemmUnchecked(g)) continue;
        const fast = sp.acc.slice();
        sp.acc.set(before);
        fu.gemmChecked(i, g);
        expect(Buffer.compare(Buffer.from(fast.buffer), Buffer.from(sp.acc.buffer)), `seed ${seed} instruction ${i}`).toBe(0);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(300);
  });
});
