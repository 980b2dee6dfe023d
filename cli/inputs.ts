/**
 * Reading the files a user names on the command line: configs, models,
 * programs and input tensors (through io/, so devices, FIFOs, directories and
 * oversized files are refused with one line), and checking the output paths
 * before any work starts. Every failure is a NibbleError naming the file.
 */
import { closeSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import {
  configErrorIn,
  configHash,
  DEFAULT_CONFIG,
  configFromPresetReference,
  isPresetReference,
  parseConfigJson,
  parseJsonStrict,
  resolveConfig,
  type ArchConfig,
  DatasetError,
  IsaError,
  ModelError,
  NibbleError,
  type DiagnosticCode,
} from '../arch/index.js';
import {
  checkInputFile,
  checkOutputTarget,
  FileError,
  readInputBytes,
  readInputText,
  writeOutputFile,
  type OutputKind,
} from '../io/index.js';
import type { Network, WithHost } from '../models/index.js';
import { isaLayout, PROGRAM_FILE_MAGIC, type Program } from '../isa/index.js';
import { isaApi, modelsApi, requirePart } from './modules.js';
import { Terminal } from './terminal.js';

export { FileError };

/** A text input file (UTF-8, regular, size-capped). */
export function readText(path: string, what: string): string {
  return readInputText(path, what);
}

/** A JSON input file read strictly (duplicate keys, syntax errors at line:col), errors as `errorClass`. */
export function readJsonFile(path: string, what: string, errorClass: typeof NibbleError = DatasetError): unknown {
  return parseJsonStrict(readInputText(path, what), path, errorClass);
}

/** Options naming files a command writes (yargs also sets their camelCase and alias keys). */
export const OUTPUT_OPTIONS = ['output', 'listing', 'trace', 'vcd', 'save-outputs', 'log-dir'] as const;
export type OutputOption = (typeof OUTPUT_OPTIONS)[number];

/**
 * Refuses, before any work starts, a command line whose output file is one of
 * its input files (`nibble sim p.nbl --trace p.nbl`, `-o` onto the model) or
 * names the same file for two outputs: the input would be lost.
 */
export function checkOutputPaths(
  args: Record<string, unknown>,
  kinds: Partial<Record<OutputOption, OutputKind>> = {},
): void {
  const identity = (p: string): string => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  const outputs = new Map<string, string>();
  for (const opt of OUTPUT_OPTIONS) {
    const v = args[opt];
    if (typeof v !== 'string' || v === '') continue;
    const id = identity(v);
    const other = outputs.get(id);
    if (other !== undefined) throw new FileError(`--${opt} and --${other} name the same file`, v);
    outputs.set(id, opt);
  }
  if (!outputs.size) return;
  // Each output can be written (parent directory exists, not a directory where a file goes, ...).
  for (const opt of OUTPUT_OPTIONS) {
    const v = args[opt];
    if (typeof v === 'string' && v !== '') checkOutputTarget(v, kinds[opt] ?? 'file');
  }
  const skip = new Set<string>([...OUTPUT_OPTIONS, 'o', 'saveOutputs', 'logDir', '$0', '_']);
  const values = Object.entries(args).flatMap(([k, v]) =>
    skip.has(k)
      ? []
      : typeof v === 'string'
        ? [v]
        : Array.isArray(v)
          ? v.filter((x): x is string => typeof x === 'string')
          : [],
  );
  values.push(...(Array.isArray(args['_']) ? args['_'].filter((x): x is string => typeof x === 'string') : []));
  for (const v of values) {
    if (v === '' || !isFile(v)) continue;
    const opt = outputs.get(identity(v));
    if (opt !== undefined)
      throw new FileError(`--${opt} would overwrite an input file of this command; write the output elsewhere`, v);
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The --config file, a machine preset (`preset:NAME`, arch/presets.ts), or the default configuration. */
export function loadConfig(path: string | undefined): ArchConfig {
  if (path === undefined) return resolveConfig(structuredClone(DEFAULT_CONFIG));
  if (isPresetReference(path)) return configFromPresetReference(path);
  const cfg = parseConfigJson(readText(path, 'config file'), path);
  try {
    isaLayout(cfg); // every instruction must still fit the 128-bit word
  } catch (e) {
    throw configErrorIn(e, path);
  }
  return cfg;
}

export type ModelFormat = 'integernet' | 'json' | 'nbm' | 'onnx';
export const MODEL_FORMATS: readonly ModelFormat[] = ['integernet', 'json', 'nbm', 'onnx'];

const EXTENSIONS: Record<string, ModelFormat> = {
  '.txt': 'integernet',
  '.json': 'json',
  '.nbm': 'nbm',
  '.onnx': 'onnx',
};

/**
 * A regular file's first 64 bytes (fewer for a shorter file; none when it cannot be read or is no regular
 * file: opening a FIFO would wait for a writer, and its reader refuses it with the reason).
 */
function fileHead(path: string): Buffer {
  if (!isFile(path)) return Buffer.alloc(0);
  try {
    const fd = openSync(path, 'r');
    try {
      const head = Buffer.alloc(64);
      return head.subarray(0, readSync(fd, head, 0, 64, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    return Buffer.alloc(0);
  }
}

/** The model format a file's first bytes show (undefined when they do not tell). */
function modelFormatOf(head: Buffer): ModelFormat | undefined {
  if (head.toString('latin1', 0, 8) === 'NIBBLEM2') return 'nbm';
  const text = head.toString('latin1').trimStart();
  if (text.startsWith('{')) return 'json';
  if (/^(CONV|FC|POOL|RELU|UNSIGNEDQUAN|SIGNEDQUAN)\b/.test(text)) return 'integernet';
  // an ONNX ModelProto starts with field 1 (ir_version, varint) or another small field tag
  if (head.length > 2 && (head[0] === 0x08 || head[0] === 0x12 || head[0] === 0x3a || head[0] === 0x42)) return 'onnx';
  return undefined;
}

/** The format a model file's first bytes show (undefined when they do not tell, or the file is unreadable). */
export function sniffModelFormat(path: string): ModelFormat | undefined {
  return modelFormatOf(fileHead(path));
}

/**
 * Whether a command that takes a program or a model (`nibble sim`) got a
 * model, to compile first: not when the extension (.nbl, .s, .asm) or the
 * first bytes (the program file's magic) say program; yes when --format is
 * given, or the first bytes or the extension say model. Anything else (a
 * missing file, a directory, bytes of no known format) is taken for a
 * program, whose reader names what is wrong with it.
 */
export function isModelInput(path: string, format: string | undefined): boolean {
  if (looksLikeProgramFile(path)) return false;
  const head = fileHead(path);
  if (head.toString('latin1', 0, PROGRAM_FILE_MAGIC.length) === PROGRAM_FILE_MAGIC) return false;
  return (
    format !== undefined || modelFormatOf(head) !== undefined || EXTENSIONS[extname(path).toLowerCase()] !== undefined
  );
}

export function detectModelFormat(path: string, format: string | undefined): ModelFormat {
  if (format !== undefined) {
    if ((MODEL_FORMATS as readonly string[]).includes(format)) return format as ModelFormat;
    throw new ModelError(`unknown model format '${format}' (known: ${MODEL_FORMATS.join(', ')})`, path);
  }
  const sniffed = sniffModelFormat(path);
  if (sniffed) return sniffed;
  const ext = extname(path).toLowerCase();
  const byExt = EXTENSIONS[ext];
  if (byExt) return byExt;
  throw new ModelError(
    `cannot tell the model format from the content or the extension '${ext}': pass --format ${MODEL_FORMATS.join('|')}`,
    path,
  );
}

interface ModelsJsonApi {
  loadModelJson(text: string, source?: string): Network;
}

/**
 * A model file of any format. `cfg` is the machine the command targets: an
 * ONNX file is imported for its weight and activation widths.
 */
export async function loadModel(
  path: string,
  format: string | undefined,
  cfg?: ArchConfig,
): Promise<Network & WithHost> {
  // A missing file, a directory or a device is named before the format is looked at (sniffing opens the file).
  checkInputFile(path, 'model file');
  const fmt = detectModelFormat(path, format);
  if (fmt === 'integernet') {
    const m = await modelsApi('reading an IntegerNet model', ['parseIntegerNet']);
    // named after its file so reports and listings say which model they describe
    return m.parseIntegerNet(readText(path, 'model file'), {
      file: path,
      name: basename(path).replace(/\.[^.]*$/, ''),
    });
  }
  if (fmt === 'nbm') {
    const api = await modelsApi('reading a binary model', ['loadModelBinaryFile']);
    return api.loadModelBinaryFile(path);
  }
  if (fmt === 'onnx') return importOnnxModel(path, cfg);
  const api = await requirePart<ModelsJsonApi>('models', ['loadModelJson'], 'reading a JSON model');
  return api.loadModelJson(readText(path, 'model file'), path);
}

/**
 * An ONNX file where a model is expected: imported with the default options
 * for the command's machine widths (`nibble import` gives the choices and the
 * full report). A converted import says so on stderr, so a result never
 * silently differs from the model.
 */
async function importOnnxModel(path: string, cfg = DEFAULT_CONFIG): Promise<Network & WithHost> {
  const api = await modelsApi('importing an ONNX model', ['readOnnxFile', 'importOnnxGraph']);
  const graph = api.readOnnxFile(path);
  const name = graph.producer.startsWith('nibble') && graph.name ? graph.name : basename(path, extname(path));
  const lowered = api.importOnnxGraph(graph, {
    name,
    weightBits: cfg.bits.weight,
    activationBits: cfg.bits.activation,
  });
  if (!lowered.exact) {
    new Terminal(false).warn({
      code: 'NB-M101',
      message: `${path} was imported with converted (inexact) steps; see nibble import ${path} --report --check`,
    });
  }
  return { ...lowered.network, host: lowered.host };
}

/**
 * A program file fixes its machine: a --config naming another one is an
 * error (the figures would silently be the program's config, not the one asked for).
 */
export function checkProgramConfig(path: string, program: Program, configPath: string | undefined, cfg: ArchConfig) {
  if (configPath === undefined) return;
  const hash = configHash(cfg);
  if (hash !== program.configHash)
    throw new CliUsageError(
      `--config ${configPath} is config ${hash}, but ${path} was compiled for config ${program.configHash}: recompile the model for that config, or drop --config`,
    );
}

const MODEL_ONLY: Record<string, string> = {
  batch: 'the batch of a program is fixed when it is compiled (nibble compile --batch N)',
  images:
    'a program runs on the inputs it is given (seeded random ones here); give the model file to verify on test images',
  format: 'it names a model file format',
};

/** Options that only apply to a model target are refused for a program file, not ignored. */
export function refuseModelOptions(
  args: Record<string, unknown>,
  path: string,
  program: Program,
  options: readonly (keyof typeof MODEL_ONLY)[],
): void {
  for (const o of options) {
    if (args[o] === undefined) continue;
    const batch = o === 'batch' ? ` (its batch is ${program.inputs[0]?.shape[0] ?? 1})` : '';
    throw new CliUsageError(`--${o} applies to a model, and ${path} is a compiled program${batch}: ${MODEL_ONLY[o]}`);
  }
}

/** Extensions of program assembly text (isa/program-text.ts). */
const ASSEMBLY_EXTENSIONS = ['.s', '.asm'];

/** True if the file is a program (a .nbl file, or its assembly text) rather than a model. */
export function looksLikeProgramFile(path: string): boolean {
  const ext = extname(path).toLowerCase();
  return ext === '.nbl' || ASSEMBLY_EXTENSIONS.includes(ext);
}

/**
 * Assemble a program text file: segment `file=` paths are read relative to
 * the text, `config` is the machine when the text has no `.config`. The
 * program keeps its source lines, so errors name `file:line`.
 */
export async function assembleProgramFile(path: string, config: ArchConfig | undefined): Promise<Program> {
  const api = await isaApi('reading program assembly', ['assembleProgramText']);
  return api.assembleProgramText(readText(path, 'assembly file'), {
    file: path,
    ...(config ? { config } : {}),
    readFile: (rel, where) => {
      const full = join(dirname(path), rel);
      try {
        return readInputBytes(full, 'segment data file');
      } catch (e) {
        if (e instanceof NibbleError) throw new FileError(e.message, where);
        throw e;
      }
    },
    defaultMeta: { source: path, tool: 'nibble asm' },
  });
}

/** A program from a .nbl file, or from its assembly text (`.s`: assembled for `config` when it has no `.config`). */
export async function loadProgram(path: string, config?: ArchConfig): Promise<Program> {
  if (ASSEMBLY_EXTENSIONS.includes(extname(path).toLowerCase())) {
    const program = await assembleProgramFile(path, config ?? structuredClone(DEFAULT_CONFIG));
    const diff = config
      ? (await isaApi('reading program assembly', ['configDifferences'])).configDifferences(program.config, config)
      : [];
    if (diff.length) throw new IsaError(`written for a different machine (text vs expected): ${diff.join(', ')}`, path);
    return program;
  }
  const api = await isaApi('reading a program file', ['readProgramFile']);
  const bytes = readInputBytes(path, 'program file');
  return api.readProgramFile(bytes, { file: path, ...(config ? { config } : {}) });
}

/** A program's file bytes (checked: a program that would not read back is an error here). */
export async function programFileBytes(path: string, program: Program): Promise<Uint8Array> {
  const api = await isaApi('writing a program file', ['writeProgramFile']);
  return api.writeProgramFile(program, path);
}

export async function saveProgram(path: string, program: Program): Promise<void> {
  writeOutputFile(path, await programFileBytes(path, program));
}

/**
 * Input tensors for `nibble sim --input FILE.json`: an object mapping input
 * names to flat arrays of integers (logical NCHW order), or a bare array for
 * a program with a single input.
 */
export function loadInputTensors(path: string, program: Program): Record<string, Int32Array> {
  const parsed = readJsonFile(path, 'input file', DatasetError);
  const names = program.inputs.map((d) => d.name);
  let obj: Record<string, unknown>;
  if (Array.isArray(parsed)) {
    if (names.length !== 1) {
      throw new DatasetError(
        `the program has ${names.length} inputs (${names.join(', ') || 'none'}): give an object keyed by input name`,
        path,
      );
    }
    obj = { [names[0]!]: parsed };
  } else if (typeof parsed === 'object' && parsed !== null) {
    obj = parsed as Record<string, unknown>;
  } else {
    throw new DatasetError('expected an object mapping input names to arrays of integers', path);
  }
  const out: Record<string, Int32Array> = {};
  for (const [name, value] of Object.entries(obj)) {
    const desc = program.inputs.find((d) => d.name === name);
    if (!desc)
      throw new DatasetError(`unknown input '${name}' (the program's inputs: ${names.join(', ') || 'none'})`, path);
    const flat = Array.isArray(value) ? (value as unknown[]).flat(Infinity) : undefined;
    if (!flat) throw new DatasetError(`input '${name}' must be an array of integers`, path);
    const size = desc.shape.reduce((a, b) => a * b, 1);
    if (flat.length !== size) {
      throw new DatasetError(
        `input '${name}' needs ${size} values (shape ${desc.shape.join('x')}), got ${flat.length}`,
        path,
      );
    }
    const arr = integerValues(flat, `input '${name}'`, desc.bits, desc.signed, path);
    out[name] = arr;
  }
  return out;
}

/**
 * The values of a flattened JSON array as integers of a `bits`-wide tensor,
 * each checked (an integer, in range) before Int32Array storage would wrap
 * e.g. 1e300 to 0 silently; errors name `label[i]` and the file.
 */
export function integerValues(
  flat: readonly unknown[],
  label: string,
  bits: number,
  signed: boolean,
  path: string,
): Int32Array {
  const arr = new Int32Array(flat.length);
  const lo = signed ? -(2 ** (bits - 1)) : 0;
  const hi = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i];
    if (typeof v !== 'number' || !Number.isInteger(v))
      throw new DatasetError(`${label}[${i}] is not an integer: ${JSON.stringify(v)}`, path);
    if (v < lo || v > hi)
      throw new DatasetError(
        `${label}[${i}] = ${v} is outside the ${bits}-bit ${signed ? 'signed' : 'unsigned'} range [${lo}, ${hi}]`,
        path,
      );
    arr[i] = v;
  }
  return arr;
}

/**
 * Input images for a model from `--input FILE.json`: the network's own input
 * values (no transform), as an array of images (each any nesting of C*H*W
 * integers) or one flat array of N*C*H*W; `{"input": [...]}` is accepted too.
 */
export function loadModelInputFile(
  path: string,
  shape: { c: number; h: number; w: number },
  bits: number,
): { values: Int32Array; count: number } {
  let parsed = readJsonFile(path, 'input file', DatasetError);
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
    const keys = Object.keys(parsed);
    if (keys.length !== 1 || keys[0] !== 'input')
      throw new DatasetError(`expected an array of images or {"input": [...]}, got keys ${keys.join(', ')}`, path);
    parsed = (parsed as Record<string, unknown>)['input'];
  }
  if (!Array.isArray(parsed)) throw new DatasetError('expected an array of images (arrays of integers)', path);
  const size = shape.c * shape.h * shape.w;
  const dims = `${shape.c}x${shape.h}x${shape.w}`;
  const nested = parsed.length > 0 && parsed.every((x) => Array.isArray(x));
  const flat = (parsed as unknown[]).flat(Infinity);
  if (nested) {
    parsed.forEach((img, i) => {
      const n = (img as unknown[]).flat(Infinity).length;
      if (n !== size)
        throw new DatasetError(`image ${i} has ${n} values but the model's input is ${dims} (${size})`, path);
    });
  } else if (flat.length === 0 || flat.length % size !== 0) {
    throw new DatasetError(
      `${flat.length} values are not a whole number of ${dims} images (${size} values each)`,
      path,
    );
  }
  return { values: integerValues(flat, 'input', bits, false, path), count: flat.length / size };
}

export function parsePositiveInt(value: unknown, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new CliUsageError(
      `--${option} must be a positive integer, got ${typeof value === 'number' ? String(value) : JSON.stringify(value)}`,
    );
  return n;
}

export function parseNonNegativeInt(value: unknown, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new CliUsageError(
      `--${option} must be a non-negative integer, got ${typeof value === 'number' ? String(value) : JSON.stringify(value)}`,
    );
  return n;
}

/** Bad command-line usage found after parsing (exit 1, like a yargs usage error). */
export class CliUsageError extends NibbleError {
  static override readonly defaultCode: DiagnosticCode = 'NB-U000';
}
