/** Per-instruction memos (sim/instruction-memo.ts): reused while the instruction is unchanged, recomputed when edited in place. */
import { describe, expect, it } from 'vitest';
import { InstructionMemo } from '../../sim/instruction-memo.js';

describe('InstructionMemo', () => {
  it('computes once per instruction and rows, again after an in-place edit or an added field', () => {
    let calls = 0;
    const memo = new InstructionMemo((g: Record<string, number>, rows: number) => {
      calls++;
      return (g.out_h ?? 0) * rows + (g.nibble_lanes ?? 0);
    });
    const g: Record<string, number> = { out_h: 3, out_w: 4 };
    expect(memo.get(g, 16)).toBe(48);
    expect(memo.get(g, 16)).toBe(48);
    expect(calls).toBe(1);
    expect(memo.get({ ...g }, 16)).toBe(48); // another object: its own entry
    expect(calls).toBe(2);
    expect(memo.get(g, 8)).toBe(24);
    g.out_h = 5;
    expect(memo.get(g, 8)).toBe(40);
    g.nibble_lanes = 1;
    expect(memo.get(g, 8)).toBe(41);
    expect(memo.get(g, 8)).toBe(41);
    expect(calls).toBe(5);
  });
});
