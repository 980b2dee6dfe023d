/**
 * RTL == simulator, bits and cycles: directed programs for every instruction
 * and for token-synchronised overlap, 200 random valid programs on two
 * machines, and a few random machines. Needs Verilator (CI installs it).
 */
import { describe, expect, it } from 'vitest';
import { configHash, type ArchConfig } from '../../arch/index.js';
import { verifyProgram, verifyRandom, type VerifyResult } from '../../cosim/index.js';
import { haveTools } from './tools-required.js';
import { randomConfig } from '../../sim/index.js';
import { CFG4, CFG8, directedPrograms, overflowProgram } from './programs.js';

const HAVE_VERILATOR = haveTools('test/rtl/cosim.test.ts', ['verilator']);

function expectOk(r: VerifyResult, what: string): void {
  if (!r.ok) throw new Error(`${what}: RTL != simulator: ${r.mismatch}`);
  expect(r.rtlCycles).toBe(r.simCycles);
  expect(r.perf['cycles']).toBe(r.rtlCycles);
}

describe.skipIf(!HAVE_VERILATOR)('co-simulation: directed programs', () => {
  for (const [label, cfg] of [
    ['4x4', CFG4],
    ['8x8', CFG8],
  ] as [string, ArchConfig][]) {
    const programs = directedPrograms(cfg);
    for (const [name, prog] of Object.entries(programs)) {
      it(`${label} ${name}`, () => {
        const r = verifyProgram(prog);
        expectOk(r, `${label} ${name}`);
        if (name !== 'nop-each-unit') expect(r.perf['busy_compute']).toBeGreaterThan(0);
      });
    }
  }

  it('a mismatch names the first differing instruction and both values', () => {
    // the simulator assumes a DRAM one cycle slower than the machine the RTL is built for (reuses the 4x4 build)
    const prog = directedPrograms(CFG4)['load-gemm-requant-store']!;
    const slower = { ...CFG4, dram: { ...CFG4.dram, latency: CFG4.dram.latency + 1 } };
    const r = verifyProgram({ ...prog, config: slower, configHash: configHash(slower) }, { rtlConfig: CFG4 });
    expect(r.ok).toBe(false);
    expect(r.mismatch).toMatch(/^instruction 0 \(LOAD\): retire cycle E-1: simulator (\d+), RTL (\d+)$/);
    const [, a, b] = /simulator (\d+), RTL (\d+)/.exec(r.mismatch!)!;
    expect(Number(a) - Number(b)).toBe(1);
  });
});

describe.skipIf(!HAVE_VERILATOR)('co-simulation: random valid programs', () => {
  for (const [label, cfg, seed] of [
    ['4x4', CFG4, 1000],
    ['8x8', CFG8, 2000],
  ] as [string, ArchConfig, number][]) {
    it(`100 random programs on ${label} (seeds ${seed}..${seed + 99})`, () => {
      console.log(`random co-simulation on ${label}: seeds ${seed}..${seed + 99}`);
      // 8x8 also starts from random register and RAM contents before reset (+verilator+rand+reset+2)
      const r = verifyRandom({ count: 100, seed, config: cfg, randomInit: label === '8x8' });
      expect(r.failures).toEqual([]);
      expect(r.passed).toBe(100);
    });
  }

  it('random machines (randomConfig; seed 5 is a rectangular 4 x 16), 4 programs each', { timeout: 900_000 }, () => {
    for (const s of [3, 5]) {
      const cfg = randomConfig(s);
      console.log(
        `random machine seed ${s}: ${configHash(cfg)} ${cfg.array.rows}x${cfg.array.cols} bus=${cfg.dram.busBytes} L=${cfg.dram.latency}`,
      );
      const r = verifyRandom({ count: 4, seed: 100 * s, config: cfg });
      expect(r.failures).toEqual([]);
    }
  });
});

describe.skipIf(!HAVE_VERILATOR)('co-simulation: accumulator overflow is one outcome on both sides', () => {
  // a column sum is 4 x 15 x 7 = 420; the 16-bit range ends at 32767
  it('a sum that just fits (420 << 6 = 26880): no overflow on either side', () => {
    const r = verifyProgram(overflowProgram([{ pshift: 6 }]));
    expectOk(r, 'fits');
    expect(r.accOverflow).toBeUndefined();
  });

  it('the shift overflows (420 << 7): the simulator refuses, the RTL raises acc_ovf, the timing agrees', () => {
    const r = verifyProgram(overflowProgram([{ pshift: 7 }]));
    expect(r.mismatch).toBeUndefined();
    expect(r.ok).toBe(true);
    expect(r.accOverflow).toBe(
      'accumulator overflow: ACC entry 0 lane 0 would become 53760, outside the 16-bit range [-32768, 32767]',
    );
  });

  it('the accumulation overflows (26880 + 26880): the same', () => {
    const r = verifyProgram(overflowProgram([{ pshift: 6 }, { pshift: 6, accumulate: 1 }]));
    expect(r.ok, r.mismatch).toBe(true);
    expect(r.accOverflow).toMatch(/^accumulator overflow: ACC entry 0 lane 0 would become 53760/);
  });
});
