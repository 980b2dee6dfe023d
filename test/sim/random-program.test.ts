/** randomProgram / randomConfig produce valid inputs for co-simulation. */
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../arch/index.js';
import { MNEMONICS, checkTokenBalance, encodeProgramCode } from '../../isa/index.js';
import { randomConfig, randomProgram, simulate } from '../../sim/index.js';

describe('random programs', () => {
  it('are deterministic per seed, encodable, pass the strict-enough token checker and end in HALT', () => {
    for (let seed = 1; seed <= 100; seed++) {
      const cfg = randomConfig(seed);
      validateConfig(cfg);
      const p = randomProgram(seed, cfg);
      expect(JSON.stringify(randomProgram(seed, randomConfig(seed)).code)).toBe(JSON.stringify(p.code));
      expect(p.code[p.code.length - 1]!.op).toBe('HALT');
      expect(encodeProgramCode(p.code, cfg).length).toBe(16 * p.code.length);
      // deadlock-free with the machine's queues; only the buffer releases of the last two rounds are left over
      const res = checkTokenBalance(p.code, { queues: cfg.queues });
      expect(res.fetched).toBe(p.code.length);
      expect(res.leftover['load->compute']).toBe(0);
      expect(res.leftover['compute->store']).toBe(0);
      expect(res.leftover['compute->load']).toBeLessThanOrEqual(2);
      expect(res.leftover['store->compute']).toBeLessThanOrEqual(2);
      expect(p.outputs.length).toBeGreaterThan(0);
    }
  });

  it('cover the machine: overlap, stalls of every kind, every opcode', () => {
    const ops = new Set<string>();
    let overlapGemms = 0;
    let queueFull = 0;
    let tokenStalls = 0;
    for (let seed = 1; seed <= 100; seed++) {
      const p = randomProgram(seed, randomConfig(seed));
      p.code.forEach((i) => ops.add(i.op));
      const r = simulate(p, { engine: 'timing' });
      if (r.counters.fetch.stallQueueFull > 0) queueFull++;
      if (r.counters.load.stallToken + r.counters.compute.stallToken + r.counters.store.stallToken > 0) tokenStalls++;
      let prevGemmEnd = -1;
      p.code.forEach((inst, i) => {
        if (inst.op !== 'GEMM') return;
        if (r.start[i]! < prevGemmEnd) overlapGemms++;
        prevGemmEnd = r.end[i]!;
      });
    }
    // every opcode of the ISA table: a new opcode needs a random generator in its module (sim/ops/<op>.ts)
    expect([...ops].sort()).toEqual([...MNEMONICS].sort());
    expect(overlapGemms).toBeGreaterThan(20);
    expect(queueFull).toBeGreaterThan(50);
    expect(tokenStalls).toBeGreaterThan(50);
  });
});
