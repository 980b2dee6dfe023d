/**
 * The simulator's model of the AXI shell's memory path (config.bus, sim/bus/):
 * with binding limits (short bursts, few outstanding transactions, slow slave)
 * the simulator's cycles equal the Verilator run of the shell per instruction
 * under the deterministic bus, and the bus model's schedule (fast, timing
 * engines) equals its cycle engine. Needs Verilator for the co-simulation.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig, RtlError, SimError, type ArchConfig } from '../../arch/index.js';
import { shellRandomConfig, shellRandomProgram, verifyShellProgram, verifyShellRandom } from '../../cosim/index.js';
import { shellParams } from '../../rtl-gen/index.js';
import { randomProgram, simulate } from '../../sim/index.js';
import { thrownMessage } from '../thrown.js';
import { CFG4, CFG8, directedPrograms } from '../rtl/programs.js';
import { haveTools } from '../rtl/tools-required.js';

const HAVE_VERILATOR = haveTools('test/board/bus-model.test.ts', ['verilator']);

/** A config with a bus section whose limits bind. */
function withBus(cfg: ArchConfig, bus: Record<string, number>): ArchConfig {
  return resolveConfig({ ...structuredClone(cfg), bus });
}

const TIGHT4 = withBus(CFG4, {
  readLatency: 9,
  writeLatency: 6,
  readBurst: 2,
  writeBurst: 2,
  readOutstanding: 1,
  writeOutstanding: 1,
});
/** A random machine the shell can run with a random bus section (small limits, so they bind). */
function randomBusMachine(seed: number): ArchConfig {
  const r = (k: number, lo: number, hi: number) => lo + ((seed * 7919 + k * 104729) % (hi - lo + 1));
  const pow2 = (k: number, maxLog: number) => 2 ** r(k, 0, maxLog);
  return withBus(shellRandomConfig(seed), {
    readLatency: r(1, 1, 20),
    writeLatency: r(2, 1, 20),
    readBurst: pow2(3, 3),
    writeBurst: Math.max(2, pow2(4, 3)),
    readOutstanding: r(5, 1, 4),
    writeOutstanding: r(6, 1, 4),
  });
}

const TIGHT8 = withBus(CFG8, {
  readLatency: 3,
  writeLatency: 14,
  readBurst: 4,
  writeBurst: 4,
  readOutstanding: 2,
  writeOutstanding: 2,
});

describe('bus model: bad input', () => {
  const base = { array: { rows: 4, cols: 4 }, dram: { busBytes: 8, latency: 5, sizeBytes: 1 << 20 } };
  it('a bus section out of range, mistyped or of the wrong shape is one line naming the field', () => {
    const msg = (bus: unknown) => thrownMessage(() => resolveConfig({ ...base, bus }), ConfigError);
    expect(msg({ readBurst: 3 })).toBe('config.bus.readBurst: must be a power of two, got 3');
    expect(msg({ readLatncy: 3 })).toMatch(
      /^config\.bus\.readLatncy: unknown field 'readLatncy' \(did you mean readLatency\?\)/,
    );
    expect(msg({ writeOutstanding: 0 })).toBe('config.bus.writeOutstanding: must be in [1, 256], got 0');
    expect(msg({ fetchWords: 'x' })).toBe('config.bus.fetchWords: must be an integer, got "x"');
    expect(msg(5)).toBe('config.bus: must be an object');
    expect(
      thrownMessage(
        () => resolveConfig({ ...base, dram: { busBytes: 256, latency: 5, sizeBytes: 1 << 20 }, bus: {} }),
        ConfigError,
      ),
    ).toMatch(/^config\.dram\.busBytes: 256 bytes is wider than AXI4's widest data bus .*drop the bus section\)$/);
  });
  it('a shell option that contradicts the bus section, a program longer than its instruction memory, an unknown memory model', () => {
    const cfg = resolveConfig({ ...base, bus: { fetchWords: 4 } });
    expect(thrownMessage(() => shellParams(cfg, { insnWords: 64 }), RtlError)).toMatch(
      /^shell options: insnWords 64 differs from config\.bus\.fetchWords 4: a config with a bus section sets it/,
    );
    const prog = randomProgram(3, cfg);
    for (const engine of ['fast', 'cycle', 'timing'] as const)
      expect(thrownMessage(() => simulate(prog, { engine, energy: false }), SimError)).toMatch(
        /^config\.bus\.fetchWords: the program has \d+ instruction words, more than the shell's instruction memory of config\.bus\.fetchWords = 4: raise bus\.fetchWords to at least \d+/,
      );
    expect(simulate(prog, { engine: 'fast', energy: false, memory: 'core' }).cycles).toBeGreaterThan(0);
    expect(thrownMessage(() => simulate(prog, { engine: 'fast', memory: 'dram' as 'core' }), SimError)).toBe(
      "options.memory: unknown memory model 'dram' (use bus or core)",
    );
  });
});

describe('bus model: engines agree', () => {
  for (const [label, cfg] of [
    ['4x4 tight', TIGHT4],
    ['8x8 tight', TIGHT8],
  ] as [string, ArchConfig][]) {
    it(`${label}: fast, timing and cycle engines give the same cycles and counters`, () => {
      for (let s = 1; s <= 10; s++) {
        const prog = shellRandomProgram(s, cfg);
        const fast = simulate(prog, { engine: 'fast', seed: s, energy: false });
        const cyc = simulate(prog, { engine: 'cycle', seed: s, energy: false });
        const tim = simulate(prog, { engine: 'timing', seed: s, energy: false });
        expect(cyc.cycles, `seed ${s}`).toBe(fast.cycles);
        expect(tim.cycles, `seed ${s}`).toBe(fast.cycles);
        expect(cyc.counters).toEqual(fast.counters);
        expect(Buffer.from(cyc.dram!).equals(Buffer.from(fast.dram!))).toBe(true);
      }
    });
  }
});

describe('bus model: against the core model', () => {
  it('limits that bind cost cycles; the default bus section (limits that do not bind) costs none', () => {
    for (let s = 1; s <= 10; s++) {
      for (const base of [CFG4, CFG8]) {
        const prog = shellRandomProgram(s, withBus(base, {}));
        const core = simulate(prog, { engine: 'fast', seed: s, energy: false, memory: 'core' }).cycles;
        const free = simulate(prog, { engine: 'fast', seed: s, energy: false }).cycles;
        expect(free, `seed ${s}`).toBe(core);
      }
      const prog = shellRandomProgram(s, TIGHT4);
      const bus = simulate(prog, { engine: 'fast', seed: s, energy: false });
      const core = simulate(prog, { engine: 'fast', seed: s, energy: false, memory: 'core' });
      expect(bus.cycles).toBeGreaterThan(core.cycles);
      expect(Buffer.from(bus.dram!).equals(Buffer.from(core.dram!))).toBe(true);
    }
  });
});

describe.skipIf(!HAVE_VERILATOR)('bus model: co-simulation with the shell, limits binding', () => {
  for (const [label, cfg] of [
    ['4x4 tight', TIGHT4],
    ['8x8 tight', TIGHT8],
  ] as [string, ArchConfig][]) {
    it(`${label}: directed and random programs are cycle-exact per instruction`, { timeout: 900_000 }, () => {
      const programs = Object.entries(directedPrograms(cfg)).filter(([name]) => name !== 'load-gemm-requant-store');
      for (const [name, prog] of programs) {
        const r = verifyShellProgram(prog);
        if (!r.ok) throw new Error(`${name}: ${r.mismatch}`);
        expect(r.rtlCycles).toBe(r.simCycles);
      }
      const r = verifyShellRandom({ count: 10, seed: 900, config: cfg });
      expect(r.failures).toEqual([]);
    });
  }

  it('random machines with random bus sections: cycle-exact', { timeout: 900_000 }, () => {
    for (const seed of [31, 32]) {
      const cfg = randomBusMachine(seed);
      const r = verifyShellProgram(shellRandomProgram(seed, cfg));
      if (!r.ok) throw new Error(`seed ${seed} (${JSON.stringify(cfg.bus)}): ${r.mismatch}`);
    }
  });
});
