/** randomProgram / randomConfig produce valid inputs for co-simulation. */
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../arch/config.js';
import { encodeProgramCode } from '../../isa/encoding.js';
import { checkTokenBalance } from '../../isa/tokens.js';
import { randomConfig, randomProgram, simulate } from '../../sim/index.js';

describe('random programs', () => {
  it('are deterministic per seed, encodable, pass the strict-enough token checker and end in HALT', () => {
    for (let seed = 1; seed <= 100; seed++) {
      const cfg = randomConfig(seed);
      validateConfig(cfg);
      const p = randomProgram(seed, cfg);
      expect(JSON.stringify(randomProgram(seed, randomConfig(seed)).code)).toBe(JSON.stringify(p.code));
      expect(p.code[p.code.length - 1]!.op).toBe('HALT');
      encodeProgramCode(p.code, cfg);
      const res = checkTokenBalance(p.code, { queues: cfg.queues });
      expect(res).toBeDefined();
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
    expect([...ops].sort()).toEqual(['GEMM', 'HALT', 'LOAD', 'NOP', 'POOL', 'REQUANT', 'STORE']);
    expect(overlapGemms).toBeGreaterThan(20);
    expect(queueFull).toBeGreaterThan(50);
    expect(tokenStalls).toBeGreaterThan(50);
  });
});
