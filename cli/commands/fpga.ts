/**
 * `nibble fpga`: board flows with the open tools (docs/board.md).
 *   nibble fpga boards                      the boards and their machines
 *   nibble fpga build --board NAME [-o DIR] [--config F] [--clock-from-pnr] [--program P.nbl]
 *   nibble fpga image PROGRAM.nbl -o DIR    code.bin + data.bin for the C driver (nibble_run)
 *   nibble fpga model MODEL --board NAME -o DIR   flash.bin, model.txt, images.bin: a model run from the board's flash
 *   nibble fpga build --board NAME --model MODEL  the bitstream and those files together
 *   nibble fpga synth --part NAME [--config F]   Yosys synth_xilinx resources and a clock estimate
 */
import { join } from 'node:path';
import { configHash, type ArchConfig } from '../../arch/index.js';
import { bool, str, withConfig, withJson, type CommandSpec } from '../command.js';
import { writeOutputFile, writeOutputs } from '../../io/index.js';
import { CliUsageError, loadConfig, loadModel, loadProgram, parsePositiveInt } from '../inputs.js';
import { compiler } from '../engines.js';
import { datasetInputsFor, loadDataset } from '../../models/index.js';
import type { Program } from '../../isa/index.js';
import { cosimApi, requirePart, shellApi } from '../modules.js';
import { colour, formatNumber, Terminal } from '../terminal.js';
import { showToolProgress } from '../tool-progress.js';

type FpgaApi = typeof import('../../fpga/index.js');
type SimApi = typeof import('../../sim/index.js');

const fpgaApi = (feature: string) => requirePart<FpgaApi>('fpga', ['buildBoard', 'boardByName'], feature);

/**
 * The files that run a model from a board's flash: the flash image (program and read-only tensors, for
 * `iceprog -o OFFSET`), model.txt for `nibble_run classify`, and the first --images MNIST test images in the
 * program's input layout with their labels. A model is compiled for the board's machine; a .nbl must be.
 */
async function boardModel(args: Record<string, unknown>, api: FpgaApi, target: string, out: string) {
  const board = api.boardByName(str(args, 'board')!);
  const data = loadDataset('mnist-test', parsePositiveInt(args['images'], 'images') ?? 100);
  let program: Program;
  let values: Uint8Array;
  if (target.endsWith('.nbl')) {
    program = await loadProgram(target);
    const bits = Math.min(8, program.inputs[0]?.bits ?? 8);
    values = data.images.map((v) => v >> (8 - bits));
  } else {
    const net = await loadModel(target, str(args, 'format'), board.config);
    // compiled as `nibble compile --config preset:ice40-board` would: tap packing where the board's machine gains
    // from it (the board's core has it; test/board/board-model.test.ts runs that program end to end)
    program = (await compiler('nibble fpga model')).compileNetwork(net, board.config, { batch: 1 });
    values = datasetInputsFor(net, data).values;
  }
  const img = api.boardModelImage(program, board, target);
  const images = api.boardImages(img, values, data.count, board.config);
  const offset = `0x${img.flashOffset.toString(16)}`;
  const driver = (await shellApi('nibble fpga model', ['driverFiles'])).driverFiles(board.config, board.shell);
  const files = [
    ...driver.map((f) => ({ name: `driver/${f.name}`, data: f.text })),
    { name: 'flash.bin', data: img.flash },
    { name: 'model.txt', data: img.manifest },
    { name: 'images.bin', data: images },
    { name: 'labels.bin', data: data.labels },
  ];
  const l = img.layout;
  const summary: [string, string][] = [
    [
      'flash image',
      `${join(out, 'flash.bin')}: ${formatNumber(img.flash.length)} bytes at flash ${offset} (program ${formatNumber(l.programWords)} words, read-only tensors ${formatNumber(l.roEnd)} bytes)`,
    ],
    [
      'block RAM',
      `DRAM [${l.rwStart}, ${l.rwEnd}): ${formatNumber(l.rwEnd - l.rwStart)} of ${formatNumber(board.memBytes)} bytes (input, output, activations)`,
    ],
    ['images', `${join(out, 'images.bin')}: ${data.count} MNIST test images, labels in labels.bin`],
    ['flash it', `iceprog -o ${offset} ${join(out, 'flash.bin')}   (after the bitstream: iceprog nibble.bin)`],
    [
      'host program',
      `${join(out, 'driver')}: gcc -std=c99 -o nibble_run nibble_run.c nibble_driver.c nibble_io_linux.c nibble_io_uart.c`,
    ],
    ['run it', `nibble_run classify /dev/ttyUSB1 ${join(out, 'model.txt')} ${join(out, 'images.bin')} outputs.bin`],
  ];
  const doc = { flash: join(out, 'flash.bin'), flashOffset: img.flashOffset, layout: l, images: data.count };
  /** write the files (all or none) and say what they are */
  const write = (term: Terminal) => {
    writeOutputs({ directories: [{ path: out, files }] });
    term.pairs(summary);
    return doc;
  };
  return { write };
}

async function build(term: Terminal, args: Record<string, unknown>): Promise<void> {
  const api = await fpgaApi('nibble fpga build');
  const name = str(args, 'board');
  if (!name) throw new CliUsageError('nibble fpga build needs --board NAME (see nibble fpga boards)');
  const board = api.boardByName(name);
  const cfg: ArchConfig = str(args, 'config') ? loadConfig(str(args, 'config')) : board.config;
  const out = str(args, 'output') ?? join('build', 'fpga', board.name);
  const model = str(args, 'model');
  // a model that cannot run on the board is refused before minutes of tool runs
  if (model && str(args, 'config'))
    throw new CliUsageError("--model runs on the board's own machine (preset:ice40-board): leave out --config");
  const modelFiles = model ? await boardModel(args, api, model, out) : undefined;
  if (process.stderr.isTTY) term.note(`synthesizing, placing and routing for ${board.description}; minutes...`);
  await showToolProgress(term, 'nibble fpga build');
  const r = api.buildBoard({ board: board.name, out, config: cfg, seed: parsePositiveInt(args['seed'], 'seed') ?? 1 });
  const clock = bool(args, 'clock-from-pnr') ? Math.floor(r.fmaxMHz * 100) / 100 : cfg.clockMHz;
  const doc: Record<string, unknown> = { ...r, reportClockMHz: clock };
  term.heading(`${board.description}: config ${r.configHash}${r.cached ? ' (cached build)' : ''}`);
  term.pairs([
    ['bitstream', r.bitstream],
    ['Fmax', `${r.fmaxMHz.toFixed(2)} MHz (board clock ${r.boardClockMHz} MHz)`],
    ...Object.entries(r.utilisation)
      .filter(([, [u]]) => u > 0)
      .map(([k, [u, a]]) => [k, `${u} / ${a} (${((100 * u) / a).toFixed(0)} %)`] as [string, string]),
    ['logs', r.files.logs.join(', ')],
    ['timing', r.files.timing],
    ['tools', r.tools.map((t) => `${t.name} (${t.via})`).join(', ')],
  ]);
  // --clock-from-pnr takes the clock from the placed design, so the config clock's warning does not apply
  for (const w of r.warnings) if (!(bool(args, 'clock-from-pnr') && w.code === 'NB-P101')) term.warn(w);
  const prog = str(args, 'program');
  if (prog) {
    const program = await loadProgram(prog);
    const sim = await requirePart<SimApi>('sim', ['simulate'], 'nibble fpga build --program');
    const cycles = sim.simulate(program, { engine: 'timing', energy: false }).cycles;
    doc['program'] = { file: prog, cycles, clockMHz: clock, latencyUs: cycles / clock };
    // every board design streams its program through the board's slave (one burst at a time, the SPI flash), which
    // the simulator does not model: the run takes longer on the board
    const model = " (the simulator's core memory model; streamed from the board's flash it takes more, docs/board.md)";
    term.pairs([
      ['program', `${prog}: ${formatNumber(cycles)} cycles${model}`],
      [
        'latency',
        `${formatNumber(cycles / clock)} us at ${clock} MHz${bool(args, 'clock-from-pnr') ? ' (the placed Fmax)' : ''}`,
      ],
    ]);
  }
  if (bool(args, 'clock-from-pnr')) {
    const placed = { ...cfg, clockMHz: clock };
    writeOutputFile(join(out, 'config.json'), `${JSON.stringify(placed, null, 2)}\n`);
    doc['placedConfig'] = { file: join(out, 'config.json'), configHash: configHash(placed) };
    term.line(`config with clockMHz = ${clock} (the placed Fmax) written to ${join(out, 'config.json')}`);
  }
  if (modelFiles) doc['model'] = modelFiles.write(term);
  if (term.json) term.document(doc);
}

async function synth(term: Terminal, args: Record<string, unknown>): Promise<void> {
  const api = await requirePart<FpgaApi>('fpga', ['synthXilinx'], 'nibble fpga synth');
  const part = str(args, 'part');
  if (!part)
    throw new CliUsageError(`nibble fpga synth needs --part NAME (${Object.keys(api.XILINX_PARTS).join(', ')})`);
  const cfg = loadConfig(str(args, 'config'));
  const out = str(args, 'output') ?? join('build', 'xilinx', part);
  if (process.stderr.isTTY) term.note(`synthesizing the AXI shell for ${part} with yosys synth_xilinx; minutes...`);
  await showToolProgress(term, 'nibble fpga synth');
  const r = api.synthXilinx(cfg, part, out);
  term.heading(`AXI shell on ${r.part} (yosys synth_xilinx), config ${r.configHash}`);
  term.pairs([
    ...Object.entries(r.utilisation).map(
      ([k, [u, a]]) => [k, `${u} / ${a} (${((100 * u) / a).toFixed(1)} %)`] as [string, string],
    ),
    ['logic levels', `${r.logicLevels} (longest register-to-register path)`],
    ['clock estimate', `${r.estimatedMHz} MHz (from the logic depth; Vivado's timing report decides)`],
    ['log', r.log],
  ]);
  if (cfg.clockMHz > r.estimatedMHz)
    term.warn({
      code: 'NB-P103',
      message: `config.clockMHz ${cfg.clockMHz} MHz is above the ${r.estimatedMHz} MHz estimate for ${r.part}`,
    });
  if (term.json) term.document(r);
}

async function modelAction(term: Terminal, args: Record<string, unknown>): Promise<void> {
  const target = str(args, 'target');
  const out = str(args, 'output');
  if (!target || !out || !str(args, 'board'))
    throw new CliUsageError('nibble fpga model needs a model (or .nbl) file, --board NAME and -o DIR');
  const api = await requirePart<FpgaApi>('fpga', ['boardModelImage', 'boardByName'], 'nibble fpga model');
  const doc = (await boardModel(args, api, target, out)).write(term);
  if (term.json) term.document(doc);
}

async function image(term: Terminal, args: Record<string, unknown>): Promise<void> {
  const target = str(args, 'target');
  const out = str(args, 'output');
  if (!target || !out) throw new CliUsageError('nibble fpga image needs a program file and -o DIR');
  const program = await loadProgram(target);
  const api = await shellApi('nibble fpga image', ['shellParams']);
  const cosim = await cosimApi('nibble fpga image', ['shellImage']);
  const img = cosim.shellImage(program, api.shellParams(program.config));
  writeOutputFile(join(out, 'code.bin'), img.code);
  writeOutputFile(join(out, 'data.bin'), img.data);
  const outputs = program.outputs.map((o) => ({
    name: o.name,
    dramAddr: o.dramAddr,
    bytes: o.imageStrideBytes * o.shape[0],
  }));
  writeOutputFile(
    join(out, 'image.json'),
    `${JSON.stringify({ words: img.words, dataBytes: img.data.length, outputs }, null, 2)}\n`,
  );
  term.line(
    `${img.words} instruction words and ${img.data.length} data bytes written to ${out} (code.bin, data.bin, image.json)`,
  );
  if (term.json) term.document({ dir: out, words: img.words, dataBytes: img.data.length, outputs });
}

export const fpgaCommand: CommandSpec = {
  command: 'fpga <action> [target]',
  describe:
    'board flows with open tools: build a bitstream for a board, list boards, write a program image, Xilinx resources',
  builder: (y) =>
    withJson(withConfig(y))
      .positional('action', {
        type: 'string',
        choices: ['build', 'boards', 'image', 'model', 'synth'],
        describe: 'what to do',
      })
      .positional('target', {
        type: 'string',
        describe:
          'image: the program file (.nbl); model: the model (or a .nbl compiled with --config preset:ice40-board)',
        normalize: true,
      })
      .option('board', { type: 'string', describe: 'build: the board (nibble fpga boards)' })
      .option('output', { alias: 'o', type: 'string', describe: 'output directory', normalize: true })
      .option('clock-from-pnr', {
        type: 'boolean',
        default: false,
        describe: 'build: report cycles and latency at the placed Fmax, and write the config with that clock',
      })
      .option('program', {
        type: 'string',
        describe: "build: report this program's cycles and latency at the clock",
        normalize: true,
      })
      .option('seed', { type: 'number', describe: 'build: nextpnr placement seed (default 1)' })
      .option('model', {
        type: 'string',
        describe: "build: also write this model's flash image, model.txt and test images (as nibble fpga model)",
        normalize: true,
      })
      .option('images', { type: 'number', describe: 'model: MNIST test images to write (default 100)' })
      .option('format', { type: 'string', describe: 'model: the model file format (default: from the content)' })
      .option('part', { type: 'string', describe: 'synth: a Xilinx part (xc7a35t, xc7z020, xczu3eg)' })
      .example(
        '$0 fpga build --board hx8k-breakout --clock-from-pnr',
        'bitstream, logs and timing in build/fpga/hx8k-breakout',
      )
      .example('$0 fpga image mnist.nbl -o img', 'the files nibble_run (the C driver example) loads')
      .example(
        '$0 fpga model models/embedded/mnist-4bit.json --board hx8k-breakout -o mnist',
        'flash image and files for nibble_run classify',
      ),
  handler: async (args) => {
    const term = new Terminal(bool(args, 'json'));
    const action = str(args, 'action');
    if (action === 'build') return build(term, args);
    if (action === 'image') return image(term, args);
    if (action === 'model') return modelAction(term, args);
    if (action === 'synth') return synth(term, args);
    const api = await fpgaApi('nibble fpga boards');
    const rows = Object.values(api.BOARDS).map((b) => [
      b.name,
      `iCE40${b.device.toUpperCase()}-${b.package.toUpperCase()}`,
      `${b.config.array.rows}x${b.config.array.cols}`,
      `${b.memBytes} B`,
      b.description,
    ]);
    if (term.json) term.document({ boards: Object.values(api.BOARDS) });
    else {
      term.table(['board', 'device', 'array', 'memory', 'description'], rows);
      term.line(colour.dim('build one: nibble fpga build --board NAME'));
    }
  },
};
