/** Per-instruction memos (sim/instruction-memo.ts) and per-program ones (sim/prepare.ts preparedProgram): reused while unchanged, recomputed when edited in place. */
import { describe, expect, it } from 'vitest';
import { configHash, DEFAULT_CONFIG } from '../../arch/index.js';
import { randomProgram, simulate } from '../../sim/index.js';
import { InstructionMemo } from '../../sim/instruction-memo.js';
import { preparedProgram } from '../../sim/prepare.js';

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

describe('preparedProgram (per program object)', () => {
  const cfg = { ...DEFAULT_CONFIG, array: { rows: 4, cols: 4 } };

  it('is reused while config and instructions are unchanged, prepared again after an in-place edit', () => {
    const program = randomProgram(17051, cfg, { rounds: 20 });
    const p = preparedProgram(program);
    expect(preparedProgram(program)).toBe(p);
    expect(preparedProgram({ ...program })).not.toBe(p); // another program object: its own entry
    const load = program.code.find((i) => i.op === 'LOAD')! as { sram_addr: number };
    const was = load.sram_addr;
    load.sram_addr = 1 << 20; // out of every buffer: the check runs again and refuses it
    expect(() => preparedProgram(program)).toThrow(/illegal instruction|outside|range/);
    load.sram_addr = was;
    expect(preparedProgram(program)).toBe(p); // the fields it was prepared from again
    program.config.queues = { ...program.config.queues, load: program.config.queues.load + 1 }; // same object, new contents
    expect(() => preparedProgram(program)).toThrow(/configHash .* does not match its config/);
    program.configHash = configHash(program.config);
    const again = preparedProgram(program);
    expect(again).not.toBe(p);
    expect(preparedProgram(program)).toBe(again);
  });

  it('repeated simulations give the first run counters, energy and DRAM', () => {
    const program = randomProgram(17052, cfg, { rounds: 30 });
    const first = simulate(program, { engine: 'fast' });
    const second = simulate(program, { engine: 'fast' });
    expect(second.counters).toEqual(first.counters);
    expect(second.energy).toEqual(first.energy);
    expect(second.dram).toEqual(first.dram);
    const fresh = simulate(structuredClone(program), { engine: 'fast' });
    expect(fresh.counters).toEqual(first.counters);
    expect(fresh.energy).toEqual(first.energy);
  });
});
