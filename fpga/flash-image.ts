/**
 * A compiled model as the board runs it (docs/board.md, "Running a model from
 * the flash"): the program and the read-only tensors (the program's DRAM
 * segments: weights and requant parameters) in the board's SPI flash, the
 * read-write tensors (the input, the output and every activation a STORE
 * writes) in its block RAM. The core's DRAM is one address space at
 * DATA_BASE, so DATA_BASE is chosen to put the first read-write byte at the
 * block RAM's bus address (BOARD_MAP.bramBase); the read-only tensors then lie
 * just below it, in the flash window, and the program just below them. Every
 * condition this needs is checked here with a located error: the program for
 * the board's machine, read-only tensors below every read-write byte, the
 * read-write span within the block RAM, program and tensors within the flash
 * region past the bitstream.
 */
import { configHash } from '../arch/index.js';
import { packTensor, type Instruction, type Program, type TensorDescriptor } from '../isa/index.js';
import { shellImage } from '../cosim/index.js';
import { generateShell, type ShellParams } from '../rtl-gen/index.js';
import { BOARD_MAP, FpgaError, type Board } from './boards.js';

export interface BoardModelLayout {
  programBase: number;
  programWords: number;
  dataBase: number;
  /** core DRAM addresses: read-only tensors in [0, roEnd), read-write data in [rwStart, rwEnd) */
  roEnd: number;
  rwStart: number;
  rwEnd: number;
}

export interface BoardModelImage {
  /** the bytes to write into the flash at `flashOffset` (= PROGRAM_BASE: the flash window maps bus address = flash byte) */
  flash: Uint8Array;
  flashOffset: number;
  layout: BoardModelLayout;
  input: TensorDescriptor;
  output: TensorDescriptor;
  /** model.txt: what `nibble_run classify` needs */
  manifest: string;
}

type Dma = Extract<Instruction, { op: 'LOAD' | 'STORE' }>;

/** [start, end) of the DRAM bytes a LOAD or STORE touches. */
function dmaExtent(inst: Dma, p: ShellParams): [number, number] {
  const entry = inst.op === 'STORE' ? p.entries[3]! : p.entries[(inst as Extract<Dma, { op: 'LOAD' }>).buf]!;
  return [inst.dram_addr, inst.dram_addr + (inst.y_count - 1) * inst.dram_stride + inst.x_count * entry.bytes];
}

const tensorEnd = (t: TensorDescriptor) => t.dramAddr + t.shape[0] * t.imageStrideBytes;
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

/** Where the read-only tensors end and the read-write data lies; throws FpgaError when the two interleave. */
function splitDram(
  program: Program,
  p: ShellParams,
  where: string,
): Pick<BoardModelLayout, 'roEnd' | 'rwStart' | 'rwEnd'> {
  const dma = program.code.filter((i): i is Dma => i.op === 'LOAD' || i.op === 'STORE');
  const stores = dma.filter((i) => i.op === 'STORE').map((i) => dmaExtent(i, p));
  const tensors = [...program.inputs, ...program.outputs].map((t) => [t.dramAddr, tensorEnd(t)] as [number, number]);
  const written = [...stores, ...tensors];
  if (written.length === 0) throw new FpgaError('the program has no input, output or STORE', where);
  const rwStart = Math.min(...written.map(([a]) => a));
  const roEnd = Math.max(0, ...program.segments.map((s) => s.dramAddr + s.bytes.length));
  const inside = program.segments.find((s) => s.dramAddr + s.bytes.length > rwStart);
  if (inside)
    throw new FpgaError(
      `segment '${inside.name}' [${inside.dramAddr}, ${inside.dramAddr + inside.bytes.length}) lies at or above the first read-write byte ${rwStart} (an input, output or STORE): ` +
        'the board keeps read-only tensors in flash below the read-write data in block RAM; compile so that the DRAM segments come first (nibble compile does)',
      where,
    );
  const reads = dma.map((i) => dmaExtent(i, p)).filter(([a]) => a >= rwStart);
  const rwEnd = Math.max(...[...written, ...reads].map(([, e]) => e));
  return { roEnd, rwStart, rwEnd };
}

/** Lay a compiled model out for the board's flash and block RAM; throws FpgaError when it does not fit. */
export function boardModelImage(program: Program, board: Board, where = 'program'): BoardModelImage {
  const want = configHash(board.config);
  if (program.configHash !== want)
    throw new FpgaError(
      `the program was compiled for config ${program.configHash}, the ${board.name} board runs the ice40-board machine (${want}): compile with --config preset:ice40-board`,
      where,
    );
  if (program.inputs.length !== 1 || program.outputs.length !== 1 || program.inputs[0]!.shape[0] !== 1)
    throw new FpgaError(
      `the board runs a model with one input and one output, one image per run; this program has ${program.inputs.length} inputs, ${program.outputs.length} outputs (compile with --batch 1)`,
      where,
    );
  const p = generateShell(board.config, board.shell).params;
  const img = shellImage(program, p);
  const { roEnd, rwStart, rwEnd } = splitDram(program, p, where);
  if (rwEnd - rwStart > board.memBytes)
    throw new FpgaError(
      `the model's read-write data (input, output, activations) spans ${rwEnd - rwStart} bytes [${rwStart}, ${rwEnd}) of its DRAM; the ${board.name}'s block RAM holds ${board.memBytes}: ` +
        'a model with smaller activations (or fewer channels per layer) fits',
      where,
    );
  const dataBase = BOARD_MAP.bramBase - rwStart;
  const programBase = Math.floor((dataBase - img.code.length) / p.programAlign) * p.programAlign;
  const region = BOARD_MAP.flashWindow - board.flash.imageStart;
  const need = dataBase + roEnd - programBase;
  if (programBase < board.flash.imageStart)
    throw new FpgaError(
      `the program (${img.words} words, ${kib(img.code.length)}) and the read-only tensors (${kib(roEnd)}) need ${kib(need)} of flash; ` +
        `the ${board.name}'s flash region for them is ${kib(region)} (0x${board.flash.imageStart.toString(16)} to 0x${BOARD_MAP.flashWindow.toString(16)}, past the bitstream)`,
      where,
    );
  const flash = new Uint8Array(need);
  flash.set(img.code, 0);
  flash.set(img.data.subarray(0, roEnd), dataBase - programBase);
  const layout = { programBase, programWords: img.words, dataBase, roEnd, rwStart, rwEnd };
  const input = program.inputs[0]!;
  const output = program.outputs[0]!;
  return { flash, flashOffset: programBase, layout, input, output, manifest: manifest(program, board, layout) };
}

/** Byte and bit of each output channel (lane) in the output tensor's bytes, found by packing a probe. */
function classPlaces(program: Program, output: TensorDescriptor): [number, number][] {
  const [, c, h, w] = output.shape;
  const bits = program.config.bits.activation;
  const places: [number, number][] = [];
  for (let k = 0; k < c * h * w; k++) {
    const probe = new Int32Array(c * h * w);
    probe[k] = 1;
    const bytes = packTensor({ ...output, signed: true }, probe, program.config);
    const at = bytes.findIndex((b) => b !== 0);
    const shift = Math.log2(bytes[at]!);
    if (at < 0 || !Number.isInteger(shift) || shift + bits > 8)
      throw new FpgaError(`output channel ${k} does not sit in one byte of the output tensor`, 'program');
    places.push([at, shift]);
  }
  return places;
}

function manifest(program: Program, board: Board, l: BoardModelLayout): string {
  const output = program.outputs[0]!;
  const input = program.inputs[0]!;
  const hex = (n: number) => `0x${n.toString(16)}`;
  return [
    `# nibble fpga build --model: ${program.meta?.['model'] ?? 'model'} on ${board.name} (nibble_run classify)`,
    `# flash: ${l.programWords} instruction words at ${hex(l.programBase)}, read-only tensors [${hex(l.dataBase)}, ${hex(l.dataBase + l.roEnd)}); block RAM: DRAM [${l.rwStart}, ${l.rwEnd})`,
    `config_hash ${program.configHash}`,
    `mem_bus ${hex(BOARD_MAP.bramBase)}`,
    `mem_size ${board.memBytes}`,
    `program_base ${hex(l.programBase)}`,
    `program_words ${l.programWords}`,
    `data_base ${hex(l.dataBase)}`,
    `rw_addr ${l.rwStart}`,
    `rw_bytes ${l.rwEnd - l.rwStart}`,
    `input_addr ${input.dramAddr}`,
    `input_bytes ${input.imageStrideBytes}`,
    `output_addr ${output.dramAddr}`,
    `output_bytes ${output.imageStrideBytes}`,
    `class_bits ${output.bits}`,
    ...classPlaces(program, output).map(([b, s], k) => `class ${k} ${b} ${s}`),
    '',
  ].join('\n');
}

/** images.bin: each image's input tensor bytes (the layout the program reads), one after another. */
export function boardImages(
  image: BoardModelImage,
  values: ArrayLike<number>,
  count: number,
  cfg: Board['config'],
): Uint8Array {
  const t = image.input;
  const size = t.shape[1] * t.shape[2] * t.shape[3];
  const out = new Uint8Array(count * t.imageStrideBytes);
  for (let i = 0; i < count; i++) {
    const one = Array.from({ length: size }, (_, j) => values[i * size + j]!);
    out.set(packTensor(t, one, cfg), i * t.imageStrideBytes);
  }
  return out;
}
