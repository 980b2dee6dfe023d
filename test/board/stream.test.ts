/**
 * The streaming shell (docs/board.md, "Streaming instructions") against the
 * simulator's model of its instruction ring (sim/bus/stream-ring.ts): under
 * the deterministic bus every instruction's D/S/E-1, T and the counters equal
 * the Verilator run, for programs longer than the ring; under seeded random
 * timing the DRAM matches and the run finishes; an error response on the
 * refill ends the run with ERROR.FETCH_RESP and the interrupt, no hang.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, configHash, presetConfig, resolveConfig, RtlError, type ArchConfig } from '../../arch/index.js';
import { alignProgram, shellImage, verifyShellProgram, type VerifyShellResult } from '../../cosim/index.js';
import type { Program } from '../../isa/index.js';
import { ERROR_BITS, shellParams } from '../../rtl-gen/index.js';
import { randomProgram, simulate } from '../../sim/index.js';
import { thrownMessage } from '../thrown.js';
import { A_WGT, CFG4, CFG8, directedPrograms, halt, load, nop } from '../rtl/programs.js';
import { haveTools } from '../rtl/tools-required.js';

const HAVE_VERILATOR = haveTools('test/board/stream.test.ts', ['verilator']);

/** The board's machine (1-byte bus: 16 beats a word) and a 4x4 on an 8-byte bus, each with a 64-word ring. */
const BOARD = presetConfig('ice40-board');
const RING = { stream: true, insnWords: 64 };
const STREAM4 = resolveConfig({ ...structuredClone(CFG4), bus: { fetchWords: 64, stream: true, readLatency: 7 } });

/** An 8x8 on a 2-byte bus (8 beats a word, 32-word bursts) with a 64-word ring, or a 4096-word one (same bursts). */
const stream8 = (fetchWords: number) => resolveConfig({ ...structuredClone(CFG8), bus: { fetchWords, stream: true } });

/** A 1,000-beat LOAD that holds fetch (its queue fills), then 150 NOPs that drain the ring faster than it refills. */
function drainProgram(cfg: ArchConfig): Program {
  const d = directedPrograms(cfg)['load-gemm-requant-store']!;
  const code = [load(1, 0, A_WGT, 100, 5, 400), ...Array.from({ length: 150 }, () => nop(0)), halt()];
  return { ...d, config: cfg, configHash: configHash(cfg), code };
}

function longProgram(seed: number, cfg: ArchConfig): Program {
  return alignProgram(randomProgram(seed, cfg, { tapPacking: false, rounds: 14, nopRate: 0.6 }), 64);
}

function expectOk(r: VerifyShellResult, what: string): void {
  if (!r.ok) throw new Error(`${what}: streaming shell RTL != simulator: ${r.mismatch}`);
}

const bit = (name: string) => 1 << ERROR_BITS.findIndex(([n]) => n === name);

describe('stream: the ring model', () => {
  it('engines agree on a streamed program, and streaming costs cycles the loading shell does not', () => {
    for (const seed of [1, 2, 3]) {
      const prog = longProgram(seed, STREAM4);
      expect(prog.code.length).toBeGreaterThan(2 * 64);
      const fast = simulate(prog, { engine: 'fast', energy: false });
      const cyc = simulate(prog, { engine: 'cycle', energy: false });
      const tim = simulate(prog, { engine: 'timing', energy: false });
      expect([...cyc.dispatch]).toEqual([...fast.dispatch]);
      expect([...cyc.end]).toEqual([...fast.end]);
      expect(tim.cycles).toBe(fast.cycles);
      expect(cyc.counters).toEqual(fast.counters);
      const loading = resolveConfig({ ...structuredClone(CFG4), bus: { fetchWords: 4096, readLatency: 7 } });
      const asLoaded = { ...prog, config: loading, configHash: configHash(loading) };
      expect(fast.cycles).toBeGreaterThan(simulate(asLoaded, { engine: 'timing' }).cycles);
    }
  });

  it('a full ring holds the refill: a 64-word ring costs cycles a 4096-word one does not', () => {
    const small = simulate(drainProgram(stream8(64)), { engine: 'cycle', energy: false });
    const big = simulate(drainProgram(stream8(4096)), { engine: 'cycle', energy: false });
    expect(small.cycles).toBeGreaterThan(big.cycles + 100);
    const fast = simulate(drainProgram(stream8(64)), { engine: 'fast', energy: false });
    expect([...fast.dispatch]).toEqual([...small.dispatch]);
  });

  it('bad input: stream against the bus section, a bus too wide for the refill, a non-boolean', () => {
    expect(thrownMessage(() => shellParams(STREAM4, { stream: false }), RtlError)).toMatch(
      /^shell options: stream false differs from config\.bus\.stream true: a config with a bus section sets it/,
    );
    expect(shellParams(STREAM4).streaming).toBe(true);
    const wide = { ...structuredClone(CFG4), dram: { ...CFG4.dram, busBytes: 32 } };
    expect(thrownMessage(() => resolveConfig({ ...wide, bus: { stream: true } }), ConfigError)).toMatch(
      /^config\.dram\.busBytes: the streaming refill \(bus\.stream\) assembles 128-bit instruction words from beats of at most 16 bytes, the bus has 32/,
    );
    expect(thrownMessage(() => resolveConfig({ ...structuredClone(CFG4), bus: { stream: 1 } }), ConfigError)).toBe(
      'config.bus.stream: must be true or false, got 1',
    );
  });
});

describe.skipIf(!HAVE_VERILATOR)('stream: co-simulation with the streaming shell', () => {
  it(
    'programs of more than twice the 64-word ring: cycle-exact per instruction (deterministic bus)',
    { timeout: 900_000 },
    () => {
      for (const [label, prog, shell] of [
        ['ice40-board, 1-byte bus', longProgram(24, BOARD), RING],
        ['4x4 with a bus section', longProgram(5, STREAM4), {}],
        ['8x8, a LOAD then 150 NOPs (the ring fills)', drainProgram(stream8(64)), {}],
      ] as [string, Program, object][]) {
        const p = shellParams(prog.config, shell);
        expect(shellImage(prog, p).words, label).toBeGreaterThan(2 * 64);
        const r = verifyShellProgram(prog, { shell });
        expectOk(r, label);
        expect(r.rtlCycles, label).toBe(r.simCycles);
        expect(r.run.bus['insn_ar'], label).toBe(Math.ceil(r.instructions / p.streamBurstWords));
      }
    },
  );

  it('random bus timing: bit-exact and finished', { timeout: 900_000 }, () => {
    for (const busSeed of [41, 42])
      expectOk(verifyShellProgram(longProgram(7, BOARD), { shell: RING, bus: busSeed }), `bus seed ${busSeed}`);
  });

  it('an SLVERR or DECERR on the refill: ERROR.FETCH_RESP, the interrupt, no hang', { timeout: 900_000 }, () => {
    const prog = longProgram(24, BOARD);
    const programBase = 0x1_0000_8000;
    for (const resp of [2, 3] as const) {
      // the fault covers the third burst of the program: the core runs the first two, then stops
      const lo = programBase + 2 * 32 * 16;
      const r = verifyShellProgram(prog, {
        shell: RING,
        programBase,
        irq: true,
        faults: [{ lo, hi: lo + 16, resp }],
      });
      expect(r.ok).toBe(false);
      expect(r.run.errorBits & bit('FETCH_RESP'), `resp ${resp}`).not.toBe(0);
      expect(r.run.errorBits & bit('ILLEGAL'), `resp ${resp}`).not.toBe(0);
      expect(r.run.errorResp).toBe(resp);
      expect(r.run.errorAddr).toBe(lo);
      expect(r.run.coreStarted).toBe(true);
      // NIBBLE_E_RUN: the run ended (the interrupt rose) with ERROR bits, not NIBBLE_E_TIMEOUT
      expect(r.run.driverStatus, r.mismatch).toBe(-10);
      // the core ran the words of the first two bursts; the third's first word read as an illegal opcode and fetch stopped
      expect(r.run.dispatch.has(63)).toBe(true);
      expect(r.run.dispatch.has(65)).toBe(false);
    }
  });
});
