/**
 * The paper's MNIST model on the board (docs/board.md, "Running a model from
 * the flash"): its flash image and block-RAM layout, the located errors for a
 * model that does not fit, the streaming shell and the board design lint-clean,
 * and end to end in Verilator: the flash model holds the image, the unchanged
 * host program (`nibble_run classify`, the C driver over the UART) classifies
 * MNIST test images, and every output byte, each image's cycles and every
 * instruction's D, S, E-1 equal the simulator's with the board slave
 * (bus.slave 'board', the flash's open read carried from image to image).
 * Also a random program of more than twice the instruction ring, streamed.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { presetConfig, RtlError } from '../../arch/index.js';
import { compileNetwork } from '../../compiler/index.js';
import { alignProgram, shellImage } from '../../cosim/index.js';
import {
  BOARD_MAP,
  boardByName,
  boardImages,
  boardModelImage,
  boardTimingMismatch,
  boardTopModule,
  buildBoardSim,
  FpgaError,
  runBoardModel,
  runBoardSim,
  simulateOnBoard,
} from '../../fpga/index.js';
import type { Instruction, Program } from '../../isa/index.js';
import { datasetInputsFor, loadDataset, loadModelJsonFile } from '../../models/index.js';
import { generateShell, lintShell, shellParams } from '../../rtl-gen/index.js';
import { randomProgram, simulate } from '../../sim/index.js';
import { ensureBuilt, expectUserError, nibble } from '../cli/nibble.js';
import { thrownMessage } from '../thrown.js';
import { haveTools } from '../rtl/tools-required.js';

const HAVE_VERILATOR = haveTools('test/board/board-model.test.ts', ['verilator']);

const MODEL = new URL('../../models/embedded/mnist-4bit.json', import.meta.url).pathname;
const board = boardByName('hx8k-breakout');
const cfg = presetConfig('ice40-board');
const net = loadModelJsonFile(MODEL);
let program: Program;
beforeAll(() => {
  // what `nibble fpga model` compiles: tap packing where the board's machine gains from it
  program = compileNetwork(net, cfg, { batch: 1 });
});

const nop: Instruction = { op: 'NOP', pop_prev: 0, pop_next: 0, push_prev: 0, push_next: 0, unit: 0 } as Instruction;

describe('the MNIST model laid out for the board', () => {
  it('puts the program and the weights in flash past the bitstream, the activations in the block RAM', () => {
    const img = boardModelImage(program, board);
    const l = img.layout;
    expect(l.programWords).toBe(program.code.length);
    expect(l.dataBase + l.rwStart).toBe(BOARD_MAP.bramBase);
    expect(l.roEnd).toBeLessThanOrEqual(l.rwStart);
    expect(l.rwEnd - l.rwStart).toBeLessThanOrEqual(board.memBytes);
    expect(img.flashOffset).toBe(l.programBase);
    expect(l.programBase % 256).toBe(0);
    expect(l.programBase).toBeGreaterThanOrEqual(board.flash.imageStart);
    expect(l.dataBase + l.roEnd).toBeLessThanOrEqual(BOARD_MAP.flashWindow);
    // the flash image: the code first, the segments where DATA_BASE + dramAddr puts them
    const code = shellImage(program, generateShell(board.config, board.shell).params).code;
    expect(img.flash.subarray(0, code.length)).toEqual(code);
    const seg = program.segments[3]!;
    const at = l.dataBase - l.programBase + seg.dramAddr;
    expect(img.flash.subarray(at, at + seg.bytes.length)).toEqual(seg.bytes);
    expect(img.manifest).toMatch(new RegExp(`^program_words ${program.code.length}$`, 'm'));
    expect(img.manifest).toMatch(new RegExp(`^data_base 0x${l.dataBase.toString(16)}$`, 'm'));
    expect(img.manifest.match(/^class \d+ \d+ [04]$/gm)).toHaveLength(10);
  });

  it('refuses a program for another machine, naming the preset to compile with', () => {
    const other = compileNetwork(net, presetConfig('default'), { tapPacking: false });
    expect(thrownMessage(() => boardModelImage(other, board, 'm.nbl'), FpgaError)).toMatch(
      /^m\.nbl: the program was compiled for config [0-9a-f]{16}, the hx8k-breakout board runs the ice40-board machine \([0-9a-f]{16}\): compile with --config preset:ice40-board$/,
    );
  });

  it('refuses read-write data larger than the block RAM, with the span', () => {
    const { rwStart } = boardModelImage(program, board).layout;
    const far = { ...program, outputs: program.outputs.map((o) => ({ ...o, dramAddr: 20_032 })) };
    const end = 20_032 + far.outputs[0]!.imageStrideBytes * far.outputs[0]!.shape[0]!;
    expect(thrownMessage(() => boardModelImage(far, board), FpgaError)).toBe(
      `program: the model's read-write data (input, output, activations) spans ${end - rwStart} bytes [${rwStart}, ${end}) of its DRAM; the hx8k-breakout's block RAM holds 4096: a model with smaller activations (or fewer channels per layer) fits`,
    );
  });

  it('refuses a read-only tensor above the read-write data, naming the segment', () => {
    const { rwStart } = boardModelImage(program, board).layout;
    const k = program.segments.findIndex((s) => s.name === 'fc2.params');
    const n = program.segments[k]!.bytes.length;
    const segs = program.segments.map((s, i) => (i === k ? { ...s, dramAddr: 17_600 } : s));
    expect(thrownMessage(() => boardModelImage({ ...program, segments: segs }, board), FpgaError)).toMatch(
      new RegExp(
        `^program: segment 'fc2\\.params' \\[17600, ${17_600 + n}\\) lies at or above the first read-write byte ${rwStart} `,
      ),
    );
  });

  it('refuses a program and tensors larger than the flash region, with both sizes', () => {
    const long = { ...program, code: [...Array.from({ length: 12_000 }, () => nop), ...program.code] };
    expect(thrownMessage(() => boardModelImage(long, board), FpgaError)).toMatch(
      new RegExp(
        `^program: the program \\(${long.code.length} words, [\\d.]+ KiB\\) and the read-only tensors \\([\\d.]+ KiB\\) need [\\d.]+ KiB of flash; ` +
          "the hx8k-breakout's flash region for them is 256\\.0 KiB \\(0x40000 to 0x80000, past the bitstream\\)$",
      ),
    );
  });

  it('the streaming refill and the shell refuse what they cannot run', () => {
    const withBus = {
      ...cfg,
      bus: {
        readLatency: 1,
        writeLatency: 1,
        readBurst: 16,
        writeBurst: 4,
        readOutstanding: 1,
        writeOutstanding: 1,
        fetchWords: 64,
      },
    };
    expect(thrownMessage(() => shellParams(withBus, { stream: true }), RtlError)).toMatch(
      /^shell options: stream true differs from config\.bus\.stream false: a config with a bus section sets it/,
    );
    expect(thrownMessage(() => shellParams(cfg, { stream: true, addrBits: 16 }), RtlError)).toBe(
      'shell options: stream: addrBits 16 cannot address a program of 2^16 words: use addrBits >= 20',
    );
    expect(thrownMessage(() => boardTopModule(board, shellParams(cfg, { addrBits: 20 }), 8), FpgaError)).toMatch(
      /^board config: the board design needs a 1-byte bus, a streaming shell and 20-bit AXI addresses/,
    );
  });
});

describe.skipIf(!HAVE_VERILATOR)('the board design with the flash path (Verilator)', () => {
  it('the streaming shell and the board top are verilator -Wall clean', () => {
    expect(lintShell(cfg, board.shell).messages).toEqual([]);
    const g = generateShell(board.config, board.shell);
    const dir = mkdtempSync(join(tmpdir(), 'nibble-board-lint-'));
    try {
      for (const f of g.files) writeFileSync(join(dir, f.name), f.text);
      const top = boardTopModule(board, g.params, g.registers.addrBits);
      writeFileSync(join(dir, 'nibble_board_top.v'), `\`default_nettype none\n${top}\n\`default_nettype wire\n`);
      const files = [...g.files.map((f) => f.name), 'nibble_board_top.v'];
      const r = spawnSync('verilator', ['--lint-only', '-Wall', '--top-module', 'nibble_board_top', ...files], {
        cwd: dir,
        encoding: 'utf8',
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it(
    'classifies MNIST test images from the flash with nibble_run classify; outputs, cycles and every instruction == simulator',
    { timeout: 900_000 },
    async () => {
      const build = buildBoardSim('hx8k-breakout');
      const img = boardModelImage(program, board);
      const count = 3;
      const data = loadDataset('mnist-test', count);
      const values = datasetInputsFor(net, data).values;
      const run = await runBoardModel(build, img, boardImages(img, values, count, cfg));
      expect(run.classes).toHaveLength(count);
      expect(run.traces).toHaveLength(count);
      const o = img.output;
      const l = img.layout;
      // the flash is closed after reset; each later image starts with the read the one before left open
      let flashNext: number | null = null;
      for (let i = 0; i < count; i++) {
        const inputs = { input: values.subarray(i * 784, (i + 1) * 784) };
        const sim = simulateOnBoard(
          program,
          board,
          { programBase: l.programBase, dataBase: l.dataBase, flashNext },
          inputs,
        );
        const want = sim.dram!.subarray(o.dramAddr, o.dramAddr + o.imageStrideBytes);
        expect(run.outputs.subarray(i * o.imageStrideBytes, (i + 1) * o.imageStrideBytes), `image ${i}`).toEqual(want);
        expect(run.classes[i], `image ${i}`).toBe(data.labels[i]);
        expect(boardTimingMismatch(program, sim, run.cycles[i]!, run.traces[i]), `image ${i}`).toBeUndefined();
        flashNext = sim.board!.flashNext;
      }
      console.log(
        `MNIST on the simulated hx8k-breakout: classes ${run.classes.join(' ')}, ${run.cycles.join(' ')} core cycles (== simulator with the board slave; core model ${simulate(program, { engine: 'timing' }).cycles}), ${run.wallMs} ms for ${count} images; ${run.simLog}`,
      );
    },
  );

  it(
    'streams a random program of more than twice its 64-word instruction ring; DRAM, cycles and every instruction == simulator',
    {
      timeout: 900_000,
    },
    async () => {
      const build = buildBoardSim('hx8k-breakout');
      const prog = alignProgram(randomProgram(24, cfg, { tapPacking: false, rounds: 14, nopRate: 0.6 }), 64);
      expect(shellImage(prog, shellParams(cfg, board.shell)).words).toBeGreaterThan(2 * 64);
      const r = await runBoardSim(build, prog);
      if (!r.ok) throw new Error(`${r.mismatch}\n${r.hostOutput}`);
    },
  );
});

describe('nibble fpga model', () => {
  it('writes the flash image, model.txt and the images; a program for another machine is one located error', async () => {
    await ensureBuilt();
    const dir = mkdtempSync(join(tmpdir(), 'nibble-fpga-model-'));
    try {
      const out = join(dir, 'mnist');
      const r = await nibble(['fpga', 'model', MODEL, '--board', 'hx8k-breakout', '-o', out, '--images', '5']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/flash it +iceprog -o 0x[0-9a-f]+ .*flash\.bin/);
      expect(readFileSync(join(out, 'images.bin')).length).toBe(5 * 1600);
      expect(readFileSync(join(out, 'labels.bin')).length).toBe(5);
      expect(readFileSync(join(out, 'model.txt'), 'utf8')).toMatch(
        new RegExp(`^program_words ${program.code.length}$`, 'm'),
      );
      // the host program's driver is the board shell's: it streams, so it takes a program longer than its ring
      expect(readFileSync(join(out, 'driver', 'nibble_regs.h'), 'utf8')).toMatch(/#define NIBBLE_INSN_STREAM +1 /);
      mkdirSync(join(dir, 'p'));
      const nbl = join(dir, 'p', 'default.nbl');
      expect((await nibble(['compile', MODEL, '-o', nbl, '-q', '--no-tap-packing'])).code).toBe(0);
      expectUserError(
        await nibble(['fpga', 'model', nbl, '--board', 'hx8k-breakout', '-o', join(dir, 'x')]),
        /^nibble: error\[NB-P000\]: .*default\.nbl: the program was compiled for config [0-9a-f]+, the hx8k-breakout board runs the ice40-board machine/,
      );
      // nibble fpga build --model refuses it before minutes of synthesis, place and route
      expectUserError(
        await nibble(['fpga', 'build', '--board', 'hx8k-breakout', '--model', nbl, '-o', join(dir, 'b')]),
        /^nibble: error\[NB-P000\]: .*default\.nbl: the program was compiled for config [0-9a-f]+, the hx8k-breakout board runs the ice40-board machine/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
