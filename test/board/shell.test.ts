/**
 * The AXI shell under Verilator, driven by the generated C driver against
 * nibble's AXI slave model and protocol checker: cycle-exact under the
 * deterministic bus (every instruction's D/S/E-1, T, counters), bit-exact under
 * seeded random timing, long bursts cut at 256 beats and 4 KiB, error
 * responses turned into ERROR bits and an interrupt, and the bad inputs the
 * shell refuses. Needs Verilator (CI installs it).
 */
import { describe, expect, it } from 'vitest';
import { configHash, DEFAULT_CONFIG, RtlError, validateConfig, type ArchConfig } from '../../arch/index.js';
import type { Program } from '../../isa/index.js';
import {
  alignProgram,
  buildShellVerilator,
  runShellHarness,
  shellImage,
  shellRandomConfig,
  shellRandomProgram,
  verifyShellProgram,
  verifyShellRandom,
  type VerifyShellResult,
} from '../../cosim/index.js';
import { lintShell, shellParams } from '../../rtl-gen/index.js';
import { randomProgram } from '../../sim/index.js';
import { CFG4, CFG8, A_OUT, A_WGT, directedPrograms, halt, load, overflowProgram, store } from '../rtl/programs.js';
import { thrownMessage } from '../thrown.js';
import { haveTools } from '../rtl/tools-required.js';

const HAVE_VERILATOR = haveTools('test/board/shell.test.ts', ['verilator']);

function expectOk(r: VerifyShellResult, what: string): void {
  if (!r.ok) throw new Error(`${what}: shell RTL != simulator: ${r.mismatch}`);
}

/** One long row each way: a 400-beat LOAD and a 400-beat STORE, on a 2-byte bus. */
function longBursts(cfg: ArchConfig): Program {
  const d = directedPrograms(cfg)['load-gemm-requant-store']!;
  const code = [load(1, 0, A_WGT, 200, 1, 0), store(0, A_OUT, 200, 1, 0), halt()];
  return { ...d, code };
}

describe('shell: argument and config checks', () => {
  it('refuses a bus width that does not divide an entry, naming the field and the widths that work', () => {
    const cfg = validateConfig({ ...structuredClone(CFG8), bits: { weight: 4, activation: 3, accumulator: 24 } });
    expect(thrownMessage(() => shellParams(cfg), RtlError)).toBe(
      'config.dram.busBytes: the AXI data bus of 2 bytes does not divide the 3-byte INP entry, so its beats would straddle entries: set dram.busBytes to 1',
    );
    const wide = validateConfig({
      ...structuredClone(DEFAULT_CONFIG),
      dram: { ...DEFAULT_CONFIG.dram, busBytes: 256 },
    });
    expect(thrownMessage(() => shellParams(wide), RtlError)).toMatch(
      /^config\.dram\.busBytes: 256 bytes is wider than AXI4's/,
    );
  });

  it('refuses a program longer than the instruction memory, naming the size to generate', () => {
    const p = shellParams(CFG4, { insnWords: 4 });
    const prog = directedPrograms(CFG4)['load-gemm-requant-store']!;
    expect(thrownMessage(() => shellImage(prog, p), RtlError)).toMatch(
      /^program: the program has \d+ instruction words \(\d+ bytes\) but the shell's instruction memory holds 4: generate the shell with insnWords >= \d+/,
    );
  });

  it('refuses a DMA row off its AXI beat, naming the instruction', () => {
    const odd = (x: Program) => x.code.some((i) => (i.op === 'LOAD' || i.op === 'STORE') && i.dram_addr % 2 !== 0);
    const prog = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((s) => randomProgram(s, CFG4)).find(odd)!;
    const p = shellParams(CFG4);
    expect(thrownMessage(() => shellImage(prog, p), RtlError)).toMatch(
      /^instruction \d+: (LOAD|STORE) dram_addr \d+ is not a multiple of its \d+-byte AXI beat/,
    );
    expect(() => shellImage(alignProgram(prog, 64), p)).not.toThrow();
  });

  it('refuses the deterministic bus when dram.latency is below the shell overhead', () => {
    const cfg = validateConfig({ ...structuredClone(CFG4), dram: { ...CFG4.dram, latency: 2 } });
    const prog = shellRandomProgram(1, cfg);
    expect(thrownMessage(() => verifyShellProgram(prog), RtlError)).toMatch(
      /^config\.dram\.latency: dram\.latency 2 is below what the AXI shell adds on its own \(3 cycles\) plus one/,
    );
  });
});

describe.skipIf(!HAVE_VERILATOR)('shell: lint', () => {
  const tiny = shellRandomConfig(11);
  for (const [label, cfg, opts] of [
    ['4x4, 64-bit addresses', CFG4, {}],
    ['8x8, 32-bit addresses', CFG8, { addrBits: 32 }],
    ['default 16x16', DEFAULT_CONFIG, {}],
    [
      `random machine ${configHash(tiny)}, 16-bit addresses, 16-word instruction memory`,
      tiny,
      { addrBits: 20, insnWords: 16 },
    ],
  ] as [string, ArchConfig, object][]) {
    it(`verilator -Wall is clean: ${label}`, () => {
      const r = lintShell(cfg, opts);
      expect(r.messages).toEqual([]);
    });
  }
});

describe.skipIf(!HAVE_VERILATOR)('shell: co-simulation', () => {
  for (const [label, cfg] of [
    ['4x4 (narrow entries on an 8-byte bus)', CFG4],
    ['8x8 (multi-beat entries on a 2-byte bus)', CFG8],
  ] as [string, ArchConfig][]) {
    it(`${label}: directed programs, deterministic bus: cycle-exact`, { timeout: 600_000 }, () => {
      // load-gemm-requant-store reads rows at odd bytes on purpose (a core DMA corner): not an AXI program
      const programs = Object.entries(directedPrograms(cfg)).filter(([name]) => name !== 'load-gemm-requant-store');
      expect(programs.length).toBeGreaterThanOrEqual(4);
      for (const [name, prog] of programs) {
        const r = verifyShellProgram(prog, { irq: name.length % 2 === 0 });
        expectOk(r, name);
        expect(r.rtlCycles).toBe(r.simCycles);
      }
    });
    it(`${label}: 20 random programs, deterministic bus: cycle-exact`, () => {
      const r = verifyShellRandom({ count: 20, seed: 500, config: cfg });
      expect(r.failures).toEqual([]);
    });
    it(`${label}: 20 random programs, random bus timing: bit-exact, always finishing`, () => {
      const r = verifyShellRandom({ count: 20, seed: 700, config: cfg, busSeed: 40 });
      expect(r.failures).toEqual([]);
    });
  }

  it('random machines (both bus models)', { timeout: 900_000 }, () => {
    for (const seed of [21, 22]) {
      const cfg = shellRandomConfig(seed);
      const prog = shellRandomProgram(seed, cfg);
      expectOk(verifyShellProgram(prog), `seed ${seed} deterministic`);
      expectOk(verifyShellProgram(prog, { bus: seed * 3 }), `seed ${seed} random bus`);
    }
  });

  it('cuts long transfers at 256 beats and at 4 KiB boundaries, reads and writes alike', () => {
    const prog = longBursts(CFG8);
    for (const bus of ['deterministic', 5, 6] as const) {
      // the data straddles a 4 KiB page of the bus: the cut lands inside the 400-beat rows
      const r = verifyShellProgram(prog, { bus, dataBase: 0x1_0000_0000 + 0x1000 - 0x200 });
      expectOk(r, `long bursts, bus ${bus}`);
      expect(r.run.bus['max_ar_len']).toBe(256);
      expect(r.run.bus['at_4k']).toBeGreaterThan(0);
      expect(r.run.bus['max_aw_len']).toBeLessThanOrEqual(16);
    }
  });

  it('turns SLVERR and DECERR into ERROR bits, ERROR_RESP and the interrupt, and still finishes', () => {
    const prog = directedPrograms(CFG4)['conv-pool']!;
    const dataBase = 0x1_0000_3000;
    // reads of the weights answer SLVERR: the run finishes (wrong data), READ_RESP is set
    const rd = verifyShellProgram(prog, {
      irq: true,
      dataBase,
      faults: [{ lo: dataBase + A_WGT, hi: dataBase + A_WGT + 16, resp: 2 }],
    });
    expect(rd.ok).toBe(false);
    expect(rd.run.driverStatus).toBe(-10);
    expect(rd.run.errorBits).toBe(1);
    expect(rd.run.errorResp).toBe(2);
    expect(rd.run.coreStarted).toBe(true);
    expect(rd.run.counters['cycles']).toBe(rd.simCycles);
    // writes of the outputs answer DECERR
    const wr = verifyShellProgram(prog, {
      dataBase,
      faults: [{ lo: dataBase + A_OUT, hi: dataBase + A_OUT + 0x800, resp: 3 }],
    });
    expect(wr.run.errorBits).toBe(2);
    expect(wr.run.errorResp).toBe(4 | 3);
    // the program fetch fails: the core is never started
    const img = shellImage(prog, shellParams(CFG4));
    const programBase = dataBase + 0x10000;
    const f = verifyShellProgram(prog, {
      dataBase,
      programBase,
      faults: [{ lo: programBase, hi: programBase + img.code.length, resp: 2 }],
    });
    expect(f.run.errorBits).toBe(4);
    expect(f.run.coreStarted).toBe(false);
    expect(f.run.counters['cycles']).toBe(0);
  });

  it("reports the core's accumulator overflow as ERROR.ACC_OVF and the interrupt, with the simulator's timing", () => {
    // 420 << 6 = 26880 fits 16 bits: no ERROR bit; 420 << 7 does not: the simulator refuses, the shell sets ACC_OVF
    const fits = verifyShellProgram(overflowProgram([{ pshift: 6 }]), { irq: true });
    expectOk(fits, 'a sum that just fits');
    expect(fits.run.errorBits).toBe(0);
    const over = verifyShellProgram(overflowProgram([{ pshift: 7 }]), { irq: true });
    expectOk(over, 'the shift overflows');
    expect(over.accOverflow).toMatch(/^accumulator overflow: ACC entry 0 lane 0 would become 53760/);
    expect(over.run.errorBits).toBe(1 << 6);
    expect(over.run.driverStatus).toBe(-10);
    expect(over.run.driverMessage).toBe('the run finished with errors (see the ERROR register)');
    expect(over.rtlCycles).toBe(over.simCycles);
  });

  it('the driver itself refuses a program larger than the instruction memory, before touching the hardware', () => {
    const build = buildShellVerilator(CFG4);
    const words = build.params.insnWords + 1;
    const r = runShellHarness(build, {
      code: new Uint8Array(words * 16),
      data: new Uint8Array(64),
      regions: [],
      maxCycles: 100_000,
      bus: 'deterministic',
      memBase: 0x1_0000_0000,
      memSize: 0x100000,
      programBase: 0x1_0001_0000,
      dataBase: 0x1_0000_0000,
    });
    expect(r.driverStatus).toBe(-5);
    expect(r.driverMessage).toBe('the program is longer than the shell runs (NIBBLE_MAX_PROGRAM_WORDS)');
    expect(r.coreStarted).toBe(false);
  });
});
