/**
 * The board design end to end in Verilator, with the host code a user runs:
 * the Verilator model of nibble_board_top (its UART pins driven at the bit
 * level) is bridged to a pseudo-terminal, and the unchanged host program
 * (nibble_run.c with the driver and its UART transport, compiled with gcc for
 * the board's config) opens that pseudo-terminal as it would /dev/ttyUSB1,
 * loads the program image into the board's memory, runs it, reads the counters
 * and the DRAM back. The outputs must equal the simulator's.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configHash, type ArchConfig, type BusRun } from '../arch/index.js';
import type { Program } from '../isa/index.js';
import { firstTimingMismatch, shellImage } from '../cosim/index.js';
import { cachedBuild, driverFiles, generateShell, runTool, shellParams, verilatorBuildArgs } from '../rtl-gen/index.js';

import { simulate, type SimResult } from '../sim/index.js';
import { boardTopModule } from './board-top.js';
import { BOARD_MAP, boardByName, FpgaError, type Board } from './boards.js';
import type { BoardModelImage } from './flash-image.js';

/** UART clocks per bit in the simulation build (the board's real rate would cost 104 clocks a bit). */
export const SIM_CLOCKS_PER_BIT = 16;

function harness(flashBytes: number): string {
  return `// Verilator bench for nibble_board_top: its UART bridged to a pseudo-terminal (fpga/board-sim.ts)
#include "Vnibble_board_top.h"
#include "verilated.h"
#define FLASH_BYTES ${flashBytes}u
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <unistd.h>
#include <vector>
static volatile sig_atomic_t stop = 0;
static void onTerm(int) { stop = 1; }

// A behavioural SPI flash (mode 0): READ 0x03 and FAST READ 0x0B (8 dummy clocks) from any 24-bit address,
// sequential until CS rises; other commands (0xAB release from power-down, ...) are taken and ignored.
// MOSI is taken on SCK's rising edge, MISO changes after its falling edge, MSB first; unprogrammed bytes are 0xFF.
struct SpiFlash {
  std::vector<unsigned char> mem;
  enum Phase { CMD, ADDR, DUMMY, DATA, IGNORE } phase = CMD;
  unsigned sh = 0, bits = 0, addr = 0, cmd = 0;
  int outBit = 7;
  bool sck = false;
  unsigned long long reads = 0, bytes = 0;
  explicit SpiFlash(size_t size) : mem(size, 0xFF) {}
  unsigned char at(unsigned a) const { return mem[a % mem.size()]; }
  // after every clock edge of the design: its outputs; returns MISO
  int step(bool csb, bool nsck, bool mosi, int miso) {
    if (csb) { phase = CMD; sh = bits = 0; sck = nsck; return miso; }
    if (!sck && nsck) {  // rising: take MOSI
      if (phase == CMD || phase == ADDR || phase == DUMMY) { sh = (sh << 1) | (mosi ? 1u : 0u); bits++; }
      if (phase == CMD && bits == 8) {
        cmd = sh & 0xFF; sh = bits = 0;
        phase = (cmd == 0x03 || cmd == 0x0B) ? ADDR : IGNORE;
      } else if (phase == ADDR && bits == 24) {
        addr = sh & 0xFFFFFF; sh = bits = 0; outBit = 7; reads++;
        phase = cmd == 0x0B ? DUMMY : DATA;
      } else if (phase == DUMMY && bits == 8) { phase = DATA; sh = bits = 0; }
    } else if (sck && !nsck && phase == DATA) {  // falling: the next bit out
      miso = (at(addr) >> outBit) & 1;
      if (--outBit < 0) { outBit = 7; addr = (addr + 1) & 0xFFFFFF; bytes++; }
    }
    sck = nsck;
    return miso;
  }
};

int main(int argc, char** argv) {
  if (argc < 4) { fprintf(stderr, "usage: sim pty-path-file max-cycles clocks-per-bit [flash.bin offset]\\n"); return 3; }
  Verilated::commandArgs(argc, argv);
  signal(SIGTERM, onTerm);
  int m = posix_openpt(O_RDWR | O_NOCTTY);
  if (m < 0 || grantpt(m) || unlockpt(m)) { perror("pty"); return 3; }
  const char* name = ptsname(m);
  int keep = open(name, O_RDWR | O_NOCTTY);  // keeps the line up between host opens
  fcntl(m, F_SETFL, O_NONBLOCK);
  FILE* f = fopen(argv[1], "w");
  if (!f) return 3;
  fprintf(f, "%s\\n", name);
  fclose(f);
  unsigned long long maxCycles = strtoull(argv[2], nullptr, 10);
  int cpb = atoi(argv[3]);
  SpiFlash flash(FLASH_BYTES);
  if (argc >= 6) {
    FILE* img = fopen(argv[4], "rb");
    unsigned long off = strtoul(argv[5], nullptr, 0);
    if (!img) { perror(argv[4]); return 3; }
    int ch;
    for (unsigned long a = off; (ch = fgetc(img)) != EOF; a++) {
      if (a >= flash.mem.size()) { fprintf(stderr, "board sim: %s does not fit the %zu-byte flash at 0x%lx\\n", argv[4], flash.mem.size(), off); return 3; }
      flash.mem[a] = (unsigned char)ch;
    }
    fclose(img);
  }
  // the core's trace, per run (a line "run" at each core start), in core cycles as cosim/shell.ts reads them
  FILE* tr = fopen("trace.txt", "w");
  if (!tr) return 3;
  long long coreStart = -1;
  Vnibble_board_top* top = new Vnibble_board_top;
  top->rx = 1;
  top->flash_miso = 1;
  int txBit = -1, txCnt = 0; unsigned char txByte = 0;  // host -> board
  int rxBit = -1, rxCnt = 0; unsigned char rxByte = 0;  // board -> host
  unsigned long long bytesIn = 0, bytesOut = 0, cyc = 0;
  for (; cyc < maxCycles && !stop; cyc++) {
    if (txBit < 0 && (cyc & 63) == 0 && cyc >= 256) {  // after the power-on reset
      unsigned char b;
      if (read(m, &b, 1) == 1) { txByte = b; txBit = 0; txCnt = cpb; bytesIn++; }
    }
    if (txBit >= 0) {
      top->rx = txBit == 0 ? 0 : txBit <= 8 ? (txByte >> (txBit - 1)) & 1 : 1;
      if (--txCnt == 0) { txCnt = cpb; if (++txBit > 9) txBit = -1; }
    } else top->rx = 1;
    top->clk = 0; top->eval();
    if (top->tr_core_start) { coreStart = (long long)cyc; fputs("run\\n", tr); }
    if (coreStart >= 0) {
      long long t = (long long)cyc - coreStart - 1;
      if (top->tr_disp) fprintf(tr, "D %u %lld\\n", (unsigned)top->tr_disp_idx, t);
      if (top->tr_ld_start) fprintf(tr, "S %u %lld\\n", (unsigned)top->tr_ld_start_idx, t);
      if (top->tr_cp_start) fprintf(tr, "S %u %lld\\n", (unsigned)top->tr_cp_start_idx, t);
      if (top->tr_st_start) fprintf(tr, "S %u %lld\\n", (unsigned)top->tr_st_start_idx, t);
      if (top->tr_ld_ret) fprintf(tr, "R %u %lld\\n", (unsigned)top->tr_ld_ret_idx, t);
      if (top->tr_cp_ret) fprintf(tr, "R %u %lld\\n", (unsigned)top->tr_cp_ret_idx, t);
      if (top->tr_st_ret) fprintf(tr, "R %u %lld\\n", (unsigned)top->tr_st_ret_idx, t);
    }
    if (rxBit < 0) { if (!top->tx && cyc >= 256) { rxBit = 0; rxCnt = cpb / 2; } }
    else if (--rxCnt == 0) {
      rxCnt = cpb;
      if (rxBit >= 1 && rxBit <= 8) rxByte = (unsigned char)((rxByte >> 1) | (top->tx ? 0x80 : 0));
      if (++rxBit > 9) { rxBit = -1; while (write(m, &rxByte, 1) != 1) usleep(100); bytesOut++; }
    }
    top->clk = 1; top->eval();
    top->flash_miso = flash.step(top->flash_csb, top->flash_sck, top->flash_mosi, top->flash_miso);
  }
  fprintf(stderr, "board sim: %llu cycles, %llu bytes in, %llu bytes out, %llu flash reads, %llu flash bytes\\n", cyc,
          bytesIn, bytesOut, flash.reads, flash.bytes);
  fclose(tr);
  top->final();
  delete top;
  close(keep);
  close(m);
  return 0;
}
`;
}

export interface BoardSimBuild {
  dir: string;
  sim: string;
  host: string;
  board: Board;
}

/** Build the board's Verilator model (UART at SIM_CLOCKS_PER_BIT) and the host program for its config; cached. */
export function buildBoardSim(boardName: string, cfg?: ArchConfig, cacheDir?: string): BoardSimBuild {
  const real = boardByName(boardName);
  const board: Board = { ...real, baud: (real.clockMHz * 1e6) / SIM_CLOCKS_PER_BIT, ...(cfg ? { config: cfg } : {}) };
  // the shell with its trace ports (the core's events, per instruction), which the board top passes out
  const g = generateShell(board.config, { ...board.shell, trace: true });
  const top = boardTopModule(board, g.params, g.registers.addrBits);
  const rtl = [
    ...g.files,
    { name: 'nibble_board_top.v', text: `\`default_nettype none\n${top}\n\`default_nettype wire\n` },
  ];
  const driver = driverFiles(board.config, { ...board.shell, trace: true });
  const sources = [...rtl, { name: 'bench.cpp', text: harness(board.flash.bytes) }, ...driver];
  const b = cachedBuild(
    `board-${board.name}`,
    sources,
    (dir) => existsSync(join(dir, 'obj', 'Vnibble_board_top')) && existsSync(join(dir, 'nibble_run')),
    (tmp) => {
      const files = [...rtl.map((f) => f.name), 'bench.cpp'];
      runTool(
        'verilator',
        verilatorBuildArgs('nibble_board_top', files),
        tmp,
        `verilator build of the ${board.name} board design`,
        { phases: 'verilator' },
      );
      const c = ['nibble_run.c', 'nibble_driver.c', 'nibble_io_linux.c', 'nibble_io_uart.c'];
      runTool('gcc', ['-std=c99', '-O2', '-Wall', '-o', 'nibble_run', ...c], tmp, 'gcc (the host program)');
    },
    ...(cacheDir ? [cacheDir] : []),
  );
  return { dir: b.dir, sim: join(b.dir, 'obj', 'Vnibble_board_top'), host: join(b.dir, 'nibble_run'), board };
}

export interface BoardSimResult {
  ok: boolean;
  mismatch?: string;
  /** the host program's output (counters) */
  hostOutput: string;
  counters: Record<string, number>;
  /** the simulator's T with the board slave (boardProgram), and the board's (its CYCLES counter) */
  simCycles: number;
  boardCycles: number;
  wallMs: number;
}

/** The core's events of one run on the board (trace.txt), in core cycles. */
export interface BoardTrace {
  dispatch: Map<number, number>;
  start: Map<number, number>;
  retire: Map<number, number>;
}

/** The runs of the board bench's trace file, in order; the first event per instruction and kind counts. */
function readTraces(file: string): BoardTrace[] {
  const runs: BoardTrace[] = [];
  if (!existsSync(file)) return runs;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line === 'run') runs.push({ dispatch: new Map(), start: new Map(), retire: new Map() });
    const [k, a, b] = line.split(' ');
    const r = runs[runs.length - 1];
    if (!r || (k !== 'D' && k !== 'S' && k !== 'R')) continue;
    const m = k === 'D' ? r.dispatch : k === 'S' ? r.start : r.retire;
    if (!m.has(Number(a))) m.set(Number(a), Number(b));
  }
  return runs;
}

/**
 * The program as the simulator models the board (docs/board.md, "Cycle-exact on the board"): the board shell's
 * memory path (its limits, the ring) with the board slave (bus.slave 'board') behind it.
 */
export function boardProgram(program: Program, board: Board): Program {
  const p = shellParams(board.config, board.shell);
  const config: ArchConfig = { ...program.config, bus: { ...p.bus, stream: true, slave: 'board' } };
  return { ...program, config, ...(program.configHash ? { configHash: configHash(config) } : {}) };
}

/** Simulate `program` as it runs on the board, from the run's bases and the flash's open read. */
export function simulateOnBoard(
  program: Program,
  board: Board,
  run: Partial<BusRun>,
  inputs?: Record<string, Int32Array | Uint8Array>,
): SimResult {
  return simulate(boardProgram(program, board), {
    engine: 'fast',
    energy: false,
    busRun: run,
    ...(inputs ? { inputs } : {}),
  });
}

/** T and every instruction's D, S, E-1 of a board run against the simulator's; undefined when equal. */
export function boardTimingMismatch(
  program: Program,
  sim: SimResult,
  boardCycles: number,
  trace: BoardTrace | undefined,
): string | undefined {
  if (!trace) return 'the board trace has no run';
  if (boardCycles !== sim.cycles) return `cycles: simulator ${sim.cycles}, board ${boardCycles}`;
  return firstTimingMismatch(program, program.code.length, sim, trace);
}

/**
 * Start the board's Verilator model (optionally with a flash image at its offset), run the host program
 * against its pseudo-terminal in a work directory holding `files`, and stop the model.
 */
async function withBoardSim(
  build: BoardSimBuild,
  files: Record<string, Uint8Array>,
  maxCycles: number,
  hostArgs: (tty: string) => string[],
  flash?: { image: Uint8Array; offset: number },
): Promise<{
  host: SpawnSyncReturns<string>;
  work: string;
  wallMs: number;
  simLog: () => string;
  /** stop the model (its trace file is complete then) */
  stop: () => Promise<void>;
  done: () => Promise<void>;
}> {
  const work = mkdtempSync(join(tmpdir(), 'nibble-board-'));
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(work, name), bytes);
  if (flash) writeFileSync(join(work, 'flash.bin'), flash.image);
  const t0 = Date.now();
  const args = ['pty.txt', String(maxCycles), String(SIM_CLOCKS_PER_BIT)];
  const child = spawn(build.sim, flash ? [...args, 'flash.bin', String(flash.offset)] : args, {
    cwd: work,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let simErr = '';
  child.stderr.on('data', (d: Buffer) => (simErr += d.toString()));
  // 'close': the model has exited and its stderr (the closing statistics line) is read to the end
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  let stopped = false;
  const stop = async () => {
    if (!stopped) child.kill('SIGTERM');
    stopped = true;
    await exited;
  };
  let removed = false;
  const done = async () => {
    await stop();
    if (!removed) rmSync(work, { recursive: true, force: true });
    removed = true;
  };
  try {
    // the model creates pty.txt before it writes the name: wait for the whole line, not the file
    const ptyName = () => {
      const f = join(work, 'pty.txt');
      const text = existsSync(f) ? readFileSync(f, 'utf8') : '';
      return text.endsWith('\n') ? text.trim() : undefined;
    };
    for (let i = 0; i < 200 && ptyName() === undefined; i++) await new Promise((r) => setTimeout(r, 50));
    const tty = ptyName();
    if (tty === undefined) throw new FpgaError(`the board simulation did not start: ${simErr.trim()}`, 'board sim');
    const host = spawnSync(build.host, hostArgs(tty), { cwd: work, encoding: 'utf8', timeout: 1_800_000 });
    return { host, work, wallMs: Date.now() - t0, simLog: () => simErr, stop, done };
  } catch (e) {
    await done();
    throw e;
  }
}

const hostFailure = (host: SpawnSyncReturns<string>) =>
  `the host program exited with ${host.status ?? host.signal}: ${(host.stderr ?? '').trim()}`;

/** Run a program on the simulated board through its UART with the host program; compare with the simulator. */
export async function runBoardSim(
  build: BoardSimBuild,
  program: Program,
  maxCycles = 200_000_000,
): Promise<BoardSimResult> {
  const g = generateShell(build.board.config, build.board.shell);
  const img = shellImage(program, g.params);
  // nibble_run uart: the program at the block RAM's base, the data after it (the board slave's default run)
  const sim = simulateOnBoard(program, build.board, {});
  const r = await withBoardSim(build, { 'code.bin': img.code, 'data.bin': img.data }, maxCycles, (tty) => [
    'uart',
    tty,
    `0x${BOARD_MAP.bramBase.toString(16)}`,
    String(build.board.memBytes),
    'code.bin',
    'data.bin',
    'out.bin',
  ]);
  try {
    const { host } = r;
    const counters: Record<string, number> = {};
    for (const m of (host.stdout ?? '').matchAll(/^(\w+)\s+(\d+)$/gm)) counters[m[1]!] = Number(m[2]);
    const base = {
      hostOutput: `${host.stdout ?? ''}${host.stderr ?? ''}`,
      counters,
      simCycles: sim.cycles,
      boardCycles: counters['cycles'] ?? NaN,
      wallMs: r.wallMs,
    };
    if (host.status !== 0) return { ok: false, ...base, mismatch: hostFailure(host) };
    const dram = new Uint8Array(readFileSync(join(r.work, 'out.bin')));
    for (let i = 0; i < img.data.length; i++) {
      if (dram[i] !== sim.dram![i])
        return {
          ok: false,
          ...base,
          mismatch: `DRAM byte ${i}: simulator 0x${sim.dram![i]!.toString(16)}, board 0x${(dram[i] ?? 0).toString(16)}`,
        };
    }
    await r.stop();
    const timing = boardTimingMismatch(program, sim, base.boardCycles, readTraces(join(r.work, 'trace.txt'))[0]);
    if (timing) return { ok: false, ...base, mismatch: timing };
    return { ok: true, ...base };
  } finally {
    await r.done();
  }
}

export interface BoardModelRun {
  /** per image: the class the host program printed, the core's cycles and the whole run's (TOTAL_CYCLES) */
  classes: number[];
  cycles: number[];
  totalCycles: number[];
  /** the output tensor bytes of every image, as the host read them back */
  outputs: Uint8Array;
  hostOutput: string;
  /** the board model's closing line: cycles, UART bytes, flash reads (commands) and flash bytes */
  simLog: string;
  /** per image: the core's events (boardTimingMismatch compares them) */
  traces: BoardTrace[];
  wallMs: number;
}

/**
 * Classify images on the simulated board: the flash model holds the model's flash image, the unchanged host
 * program (`nibble_run classify`) writes each image into the block RAM, runs it and reads the output back.
 * Throws FpgaError when the host program fails.
 */
export async function runBoardModel(
  build: BoardSimBuild,
  image: BoardModelImage,
  images: Uint8Array,
  maxCycles = 2_000_000_000,
): Promise<BoardModelRun> {
  const enc = new TextEncoder();
  const r = await withBoardSim(
    build,
    { 'model.txt': enc.encode(image.manifest), 'images.bin': images },
    maxCycles,
    (tty) => ['classify', tty, 'model.txt', 'images.bin', 'outputs.bin', '1500000'],
    { image: image.flash, offset: image.flashOffset },
  );
  try {
    const { host } = r;
    if (host.status !== 0) throw new FpgaError(hostFailure(host), 'nibble_run classify');
    const rows = [...(host.stdout ?? '').matchAll(/^image (\d+) class (\d+) cycles (\d+) total_cycles (\d+)$/gm)];
    const outputs = new Uint8Array(readFileSync(join(r.work, 'outputs.bin')));
    await r.stop();
    const traces = readTraces(join(r.work, 'trace.txt'));
    return {
      classes: rows.map((m) => Number(m[2])),
      cycles: rows.map((m) => Number(m[3])),
      totalCycles: rows.map((m) => Number(m[4])),
      outputs,
      hostOutput: `${host.stdout ?? ''}${host.stderr ?? ''}`,
      simLog: r.simLog().trim(),
      traces,
      wallMs: r.wallMs,
    };
  } finally {
    await r.done();
  }
}
