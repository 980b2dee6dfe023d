/** The timing engine on a VGG-sized instruction stream (10^4-10^5 instructions, ~10^6 passes). */
import { describe, expect, it } from 'vitest';
import type { Instruction } from '../../isa/table.js';
import { simulate } from '../../sim/index.js';
import { HALT, ins, makeProgram } from './helpers.js';

describe('timing engine speed', () => {
  it('40k instructions with 720k GEMM passes: well under 2 s on an idle core', () => {
    const code: Instruction[] = [];
    for (let k = 0; k < 10_000; k++) {
      const half = k & 1;
      code.push(
        ins('LOAD', {
          buf: 0,
          sram_addr: half * 1024,
          dram_addr: 0,
          x_count: 8,
          y_count: 64,
          dram_stride: 64,
          push_next: 1,
          pop_next: k >= 2 ? 1 : 0,
        }),
        ins('GEMM', {
          pop_prev: 1,
          wgt_addr: 0,
          inp_addr: half * 1024,
          acc_addr: 0,
          in_h: 8,
          in_w: 8,
          out_h: 6,
          out_w: 6,
          kernel_h: 3,
          kernel_w: 3,
          stride_h: 1,
          stride_w: 1,
          pad_top: 0,
          pad_left: 0,
          ci_blocks: 8,
          accumulate: 0,
          act_signed: 0,
          pshift: 0,
        }),
        ins('REQUANT', {
          push_prev: 1,
          push_next: 1,
          pop_next: k >= 2 ? 1 : 0,
          acc_addr: 0,
          out_addr: half * 1024,
          param_addr: 0,
          in_h: 6,
          in_w: 6,
          out_h: 3,
          out_w: 3,
          pool_k: 2,
          pool_s: 2,
          out_signed: 0,
          clamp_bits: 4,
        }),
        ins('STORE', {
          pop_prev: 1,
          push_prev: 1,
          sram_addr: half * 1024,
          dram_addr: 4096,
          x_count: 9,
          y_count: 1,
          dram_stride: 0,
        }),
      );
    }
    const p = makeProgram([...code, HALT]);
    const t0 = performance.now();
    const r = simulate(p, { engine: 'timing' });
    const ms = performance.now() - t0;
    console.log(
      `timing engine: ${code.length} instructions, ${r.counters.array.passes} passes, ${r.cycles} cycles in ${ms.toFixed(0)} ms`,
    );
    expect(r.counters.array.passes).toBe(720_000);
    // generous bound: the suite runs in parallel with others on 2 cores
    expect(ms).toBeLessThan(10_000);
  });
});
