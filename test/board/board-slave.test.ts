/**
 * The simulator's model of the iCE40 boards' own AXI slave (bus.slave 'board', sim/bus/board-slave.ts;
 * docs/board.md, "Cycle-exact on the board"): the three engines agree on it, the flash's cycles are the ones the
 * board top's reader takes (BOARD_SLAVE in arch/bus.ts), the open read is carried from one run to the next, and a
 * config the board slave cannot serve is one located error. The Verilator runs of the board design against it are
 * in board-model.test.ts and fpga.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  BOARD_SLAVE,
  ConfigError,
  configHash,
  flashByteCycles,
  flashNewReadCycles,
  presetConfig,
  resolveConfig,
  SimError,
} from '../../arch/index.js';
import { boardByName, boardProgram } from '../../fpga/index.js';
import type { Instruction, Program } from '../../isa/index.js';
import { randomProgram, simulate, type SimResult } from '../../sim/index.js';
import { thrownMessage } from '../thrown.js';
import { A_INP, directedPrograms, halt, load } from '../rtl/programs.js';

const board = boardByName('hx8k-breakout');
const CFG = presetConfig('ice40-board');
/** the program in the flash, past the bitstream; the data in the block RAM or in the flash window below it */
const IN_FLASH = { programBase: 0x40000, dataBase: 0x7c000, flashNext: null };

function onBoard(prog: Program): Program {
  return boardProgram(prog, board);
}

function expectSameTiming(a: SimResult, b: SimResult, what: string): void {
  expect([...a.dispatch], what).toEqual([...b.dispatch]);
  expect([...a.start], what).toEqual([...b.start]);
  expect([...a.end], what).toEqual([...b.end]);
  expect(a.cycles, what).toBe(b.cycles);
  expect(a.board, what).toEqual(b.board);
}

describe('the board slave model', () => {
  it('the three engines agree on it, with the program and the data in the flash or the block RAM', () => {
    for (const seed of [11, 12]) {
      const prog = onBoard(randomProgram(seed, CFG, { tapPacking: false, rounds: 4, nopRate: 0.4 }));
      for (const run of [{}, IN_FLASH]) {
        const what = `seed ${seed}, run ${JSON.stringify(run)}`;
        const fast = simulate(prog, { engine: 'fast', energy: false, busRun: run });
        const cyc = simulate(prog, { engine: 'cycle', energy: false, busRun: run });
        const tim = simulate(prog, { engine: 'timing', energy: false, busRun: run });
        expectSameTiming(cyc, fast, what);
        expectSameTiming(tim, fast, what);
        expect(cyc.counters, what).toEqual(fast.counters);
        expect(cyc.dram, what).toEqual(fast.dram);
      }
    }
  });

  it('a flash burst costs its command once, a hand-over, then flashByteCycles() a byte; the open read carries over', () => {
    expect(flashByteCycles()).toBe(16);
    expect(flashNewReadCycles(true)).toBe(65);
    expect(flashNewReadCycles(false)).toBe(64);
    const d = directedPrograms(CFG)['load-gemm-requant-store']!;
    // one 16-entry INP row (16 bytes) from DRAM address 0, then HALT
    const code: Instruction[] = [load(0, 0, A_INP, 16, 1, 0), halt()];
    const prog = onBoard({ ...d, config: CFG, configHash: configHash(CFG), code });
    const sim = (run: object) => simulate(prog, { engine: 'timing', busRun: run });
    const bram = sim({});
    const flash = { programBase: 0x80000, dataBase: 0x40000 };
    const closed = sim({ ...flash, flashNext: null });
    const open = sim({ ...flash, flashNext: 0x12345 });
    const continued = sim({ ...flash, flashNext: 0x40000 });
    // the block RAM: first beat 2 cycles after AR, then a beat a cycle; the flash: its command (64 cycles: the read
    // is closed), the first byte 1 + 18 cycles after AR, then 16 a byte: 15 x 15 + 64 + 19 - 2 = 306 more
    expect(closed.cycles - bram.cycles).toBe(
      15 * (flashByteCycles() - 1) + flashNewReadCycles(false) + 1 + flashByteCycles() + 2 - BOARD_SLAVE.bramFirstBeat,
    );
    expect(closed.cycles - bram.cycles).toBe(306);
    expect(open.cycles - closed.cycles).toBe(1);
    expect(open.cycles - continued.cycles).toBe(flashNewReadCycles(true));
    expect(closed.board).toEqual({ flashNext: 0x40000 + 16, flashBytes: 16, flashCommands: 1 });
    expect(continued.board?.flashCommands).toBe(0);
    expect(bram.board).toEqual({ flashNext: null, flashBytes: 0, flashCommands: 0 });
    // the board's address map is the one the board top generator takes (fpga BOARD_MAP)
    expect(BOARD_SLAVE.flashWindow).toBe(0x80000);
  });

  it('a bus section the board slave cannot serve is one located error', () => {
    const bus = { fetchWords: 64, stream: true, slave: 'board' };
    expect(
      thrownMessage(() => resolveConfig({ ...structuredClone(CFG), bus: { ...bus, slave: 'fpga' } }), ConfigError),
    ).toBe("config.bus.slave: must be 'deterministic' or 'board', got \"fpga\"");
    expect(
      thrownMessage(() => resolveConfig({ ...structuredClone(CFG), bus: { ...bus, stream: false } }), ConfigError),
    ).toBe('config.bus.slave: the board slave serves a streaming shell: set bus.stream to true');
    const wide = { ...structuredClone(CFG), dram: { ...CFG.dram, busBytes: 2 }, bus };
    expect(thrownMessage(() => resolveConfig(wide), ConfigError)).toBe(
      "config.dram.busBytes: the board slave (bus.slave 'board') moves one flash byte a beat, the bus has 2: set dram.busBytes to 1",
    );
  });
  it("a board run's bases or flash state the board cannot have is one located error, on every engine", () => {
    const prog = onBoard(directedPrograms(CFG)['load-gemm-requant-store']!);
    const ok = { programBase: 0x40000, dataBase: 0x7c000, flashNext: 0x40100 };
    expect(simulate(prog, { engine: 'timing', energy: false, busRun: ok }).cycles).toBeGreaterThan(0);
    const bad: [object, string][] = [
      [
        { programBase: 0x40010 },
        'options.busRun.programBase: 0x40010 is not a multiple of 256: the shell refuses the run (ERROR.ALIGN)',
      ],
      [
        { programBase: -256 },
        "options.busRun.programBase: must be an integer byte address on the board's 20-bit bus [0, 0x100000), got -256",
      ],
      [
        { programBase: 0xfffc0 },
        "options.busRun.programBase: the program's 112 bytes from 0xfffc0 run past the end of the bus (0x100000)",
      ],
      [{ dataBase: 1.5 }, 'options.busRun.dataBase: must be an integer byte address on the board'],
      [{ dataBase: 0x100000 }, 'got 1048576'],
      [
        { flashNext: 0x80001 },
        'options.busRun.flashNext: must be null (closed) or a flash byte address in [0, 524288], got 524289',
      ],
      [{ flashnext: 0 }, "options.busRun: unknown field 'flashnext' (use programBase, dataBase, flashNext)"],
    ];
    for (const engine of ['fast', 'cycle', 'timing'] as const)
      for (const [run, message] of bad)
        expect(thrownMessage(() => simulate(prog, { engine, energy: false, busRun: run }), SimError)).toContain(
          message,
        );
    const plain = directedPrograms(CFG)['load-gemm-requant-store']!;
    expect(thrownMessage(() => simulate(plain, { engine: 'timing', busRun: {} }), SimError)).toBe(
      "options.busRun: applies only to a config with bus.slave 'board' simulated with its bus (memory 'bus')",
    );
    expect(thrownMessage(() => simulate(prog, { engine: 'timing', memory: 'core', busRun: {} }), SimError)).toContain(
      'applies only to a config',
    );
  });
});
