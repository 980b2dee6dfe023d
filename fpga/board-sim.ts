/**
 * The board design end to end in Verilator, with the host code a user runs:
 * the Verilator model of nibble_board_top (its UART pins driven at the bit
 * level) is bridged to a pseudo-terminal, and the unchanged host program
 * (nibble_run.c with the driver and its UART transport, compiled with gcc for
 * the board's config) opens that pseudo-terminal as it would /dev/ttyUSB1,
 * loads the program image into the board's memory, runs it, reads the counters
 * and the DRAM back. The outputs must equal the simulator's.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArchConfig } from '../arch/index.js';
import type { Program } from '../isa/index.js';
import { shellImage } from '../cosim/index.js';
import { cachedBuild, driverFiles, generateShell, runTool, verilatorBuildArgs } from '../rtl-gen/index.js';

import { simulate } from '../sim/index.js';
import { boardTopModule } from './board-top.js';
import { boardByName, FpgaError, type Board } from './boards.js';

/** UART clocks per bit in the simulation build (the board's real rate would cost 104 clocks a bit). */
export const SIM_CLOCKS_PER_BIT = 16;

function harness(): string {
  return `// Verilator bench for nibble_board_top: its UART bridged to a pseudo-terminal (fpga/board-sim.ts)
#include "Vnibble_board_top.h"
#include "verilated.h"
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <unistd.h>
static volatile sig_atomic_t stop = 0;
static void onTerm(int) { stop = 1; }
int main(int argc, char** argv) {
  if (argc < 4) { fprintf(stderr, "usage: sim pty-path-file max-cycles clocks-per-bit\\n"); return 3; }
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
  Vnibble_board_top* top = new Vnibble_board_top;
  top->rx = 1;
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
    if (rxBit < 0) { if (!top->tx && cyc >= 256) { rxBit = 0; rxCnt = cpb / 2; } }
    else if (--rxCnt == 0) {
      rxCnt = cpb;
      if (rxBit >= 1 && rxBit <= 8) rxByte = (unsigned char)((rxByte >> 1) | (top->tx ? 0x80 : 0));
      if (++rxBit > 9) { rxBit = -1; while (write(m, &rxByte, 1) != 1) usleep(100); bytesOut++; }
    }
    top->clk = 1; top->eval();
  }
  fprintf(stderr, "board sim: %llu cycles, %llu bytes in, %llu bytes out\\n", cyc, bytesIn, bytesOut);
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
  const g = generateShell(board.config, board.shell);
  const top = boardTopModule(board, g.params, g.registers.addrBits);
  const rtl = [
    ...g.files,
    { name: 'nibble_board_top.v', text: `\`default_nettype none\n${top}\n\`default_nettype wire\n` },
  ];
  const driver = driverFiles(board.config, board.shell);
  const sources = [...rtl, { name: 'bench.cpp', text: harness() }, ...driver];
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
  simCycles: number;
  wallMs: number;
}

/** Run a program on the simulated board through its UART with the host program; compare with the simulator. */
export async function runBoardSim(
  build: BoardSimBuild,
  program: Program,
  maxCycles = 200_000_000,
): Promise<BoardSimResult> {
  const g = generateShell(build.board.config, build.board.shell);
  const img = shellImage(program, g.params);
  const sim = simulate(program, { engine: 'fast', energy: false });
  const work = mkdtempSync(join(tmpdir(), 'nibble-board-'));
  const t0 = Date.now();
  const child = spawn(build.sim, ['pty.txt', String(maxCycles), String(SIM_CLOCKS_PER_BIT)], {
    cwd: work,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let simErr = '';
  child.stderr.on('data', (d: Buffer) => (simErr += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  try {
    for (let i = 0; i < 200 && !existsSync(join(work, 'pty.txt')); i++) await new Promise((r) => setTimeout(r, 50));
    if (!existsSync(join(work, 'pty.txt')))
      throw new FpgaError(`the board simulation did not start: ${simErr.trim()}`, 'board sim');
    const tty = readFileSync(join(work, 'pty.txt'), 'utf8').trim();
    writeFileSync(join(work, 'code.bin'), img.code);
    writeFileSync(join(work, 'data.bin'), img.data);
    const host = spawnSync(build.host, ['uart', tty, String(build.board.memBytes), 'code.bin', 'data.bin', 'out.bin'], {
      cwd: work,
      encoding: 'utf8',
      timeout: 600_000,
    });
    const wallMs = Date.now() - t0;
    const counters: Record<string, number> = {};
    for (const m of (host.stdout ?? '').matchAll(/^(\w+)\s+(\d+)$/gm)) counters[m[1]!] = Number(m[2]);
    const base = { hostOutput: `${host.stdout ?? ''}${host.stderr ?? ''}`, counters, simCycles: sim.cycles, wallMs };
    if (host.status !== 0)
      return {
        ok: false,
        ...base,
        mismatch: `the host program exited with ${host.status ?? host.signal}: ${(host.stderr ?? '').trim()}`,
      };
    const dram = new Uint8Array(readFileSync(join(work, 'out.bin')));
    for (let i = 0; i < img.data.length; i++) {
      if (dram[i] !== sim.dram![i])
        return {
          ok: false,
          ...base,
          mismatch: `DRAM byte ${i}: simulator 0x${sim.dram![i]!.toString(16)}, board 0x${(dram[i] ?? 0).toString(16)}`,
        };
    }
    return { ok: true, ...base };
  } finally {
    child.kill('SIGTERM');
    await exited;
    rmSync(work, { recursive: true, force: true });
  }
}
