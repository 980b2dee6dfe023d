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
    // tap packing: tap-packed GEMMs (with and without nibble lanes), fed by replicating LOADs
    const tap = { gemms: 0, nibble: 0, replicate: 0, rectangular: 0 };
    for (let seed = 1; seed <= 100; seed++) {
      const cfg = randomConfig(seed);
      const p = randomProgram(seed, cfg);
      p.code.forEach((i) => ops.add(i.op));
      for (const i of p.code) {
        if (i.op === 'GEMM' && i.taps) {
          tap.gemms++;
          if (i.nibble_lanes) tap.nibble++;
          if (cfg.array.rows !== cfg.array.cols) tap.rectangular++;
        }
        if (i.op === 'LOAD' && i.replicate > 0) tap.replicate++;
      }
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
    expect(tap.gemms).toBeGreaterThan(100);
    expect(tap.nibble).toBeGreaterThan(20);
    expect(tap.replicate).toBeGreaterThan(100);
    expect(tap.rectangular).toBeGreaterThan(20);
  });
});
