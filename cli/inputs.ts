/**
 * Reading the files a user names on the command line: configs, models,
 * programs and input tensors. Every failure is a NibbleError naming the file.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import {
  DEFAULT_CONFIG,
  parseConfigJson,
  resolveConfig,
  type ArchConfig,
  ConfigError,
  DatasetError,
  IsaError,
  ModelError,
  NibbleError,
} from '../arch/index.js';
import { type Network, type WithHost, loadIntegerNetFile } from '../models/index.js';
import type { Program } from '../isa/index.js';
import { isaApi, modelsApi, requirePart } from './modules.js';

/** A file the user named could not be read or written. */
export class FileError extends NibbleError {}

export function readText(path: string, what: string): string {
  if (!existsSync(path)) throw new FileError(`${what} not found`, path);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new FileError(`cannot read ${what}: ${(e as Error).message}`, path);
  }
}

export function readBytes(path: string, what: string): Uint8Array {
  if (!existsSync(path)) throw new FileError(`${what} not found`, path);
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new FileError(`cannot read ${what}: ${(e as Error).message}`, path);
  }
}

export function writeOutput(path: string, data: string | Uint8Array): void {
  // Written next to the target and renamed over it, so a failure (disk full,
  // a directory in the way) never leaves a half-written file or destroys the old one.
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.tmp`);
  try {
    if (existsSync(path) && statSync(path).isDirectory()) throw new Error('it is a directory');
    if (dir && !existsSync(dir)) mkdirSync(dir, { recursive: true });
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new FileError(`cannot write: ${(e as Error).message}`, path);
  }
}

/** Options naming files a command writes (yargs also sets their camelCase and alias keys). */
const OUTPUT_OPTIONS = ['output', 'listing', 'trace', 'vcd', 'save-outputs'] as const;

/**
 * Refuses, before any work starts, a command line whose output file is one of
 * its input files (`nibble sim p.nbl --trace p.nbl`, `-o` onto the model) or
 * names the same file for two outputs: the input would be lost.
 */
export function checkOutputPaths(args: Record<string, unknown>): void {
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
  const skip = new Set<string>([...OUTPUT_OPTIONS, 'o', 'saveOutputs', '$0', '_']);
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
    if (v === '' || !existsSync(v) || statSync(v).isDirectory()) continue;
    const opt = outputs.get(identity(v));
    if (opt !== undefined)
      throw new FileError(`--${opt} would overwrite an input file of this command; write the output elsewhere`, v);
  }
}

/** The --config file, or the default configuration. */
export function loadConfig(path: string | undefined): ArchConfig {
  if (path === undefined) return resolveConfig(structuredClone(DEFAULT_CONFIG));
  const text = readText(path, 'config file');
  try {
    return parseConfigJson(text, path);
  } catch (e) {
    if (e instanceof NibbleError) throw e;
    throw new ConfigError(`invalid config: ${(e as Error).message}`, path);
  }
}

export type ModelFormat = 'integernet' | 'json' | 'nbm' | 'onnx';
export const MODEL_FORMATS: readonly ModelFormat[] = ['integernet', 'json', 'nbm', 'onnx'];

const EXTENSIONS: Record<string, ModelFormat> = {
  '.txt': 'integernet',
  '.json': 'json',
  '.nbm': 'nbm',
  '.onnx': 'onnx',
};

/** The format a model file's first bytes show (undefined when they do not tell, or the file is unreadable). */
export function sniffModelFormat(path: string): ModelFormat | undefined {
  let head: Buffer;
  try {
    const fd = openSync(path, 'r');
    try {
      head = Buffer.alloc(64);
      head = head.subarray(0, readSync(fd, head, 0, 64, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  if (head.toString('latin1', 0, 8) === 'NIBBLEM2') return 'nbm';
  const text = head.toString('latin1').trimStart();
  if (text.startsWith('{')) return 'json';
  if (/^(CONV|FC|POOL|RELU|UNSIGNEDQUAN|SIGNEDQUAN)\b/.test(text)) return 'integernet';
  // an ONNX ModelProto starts with field 1 (ir_version, varint) or another small field tag
  if (head.length > 2 && (head[0] === 0x08 || head[0] === 0x12 || head[0] === 0x3a || head[0] === 0x42)) return 'onnx';
  return undefined;
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

export async function loadModel(path: string, format: string | undefined): Promise<Network & WithHost> {
  const fmt = detectModelFormat(path, format);
  if (!existsSync(path)) throw new ModelError('model file not found', path);
  if (fmt === 'integernet') return loadIntegerNetFile(path);
  if (fmt === 'nbm') {
    const api = await modelsApi('reading a binary model', ['loadModelBinaryFile']);
    return api.loadModelBinaryFile(path);
  }
  if (fmt === 'onnx') return importOnnxModel(path);
  const api = await requirePart<ModelsJsonApi>('models', ['loadModelJson'], 'reading a JSON model');
  return api.loadModelJson(readText(path, 'model file'), path);
}

/**
 * An ONNX file where a model is expected: imported with the default options
 * (`nibble import` gives the choices and the full report). A converted
 * import says so on stderr, so a result never silently differs from the model.
 */
async function importOnnxModel(path: string): Promise<Network & WithHost> {
  const api = await modelsApi('importing an ONNX model', ['readOnnxFile', 'importOnnxGraph']);
  const graph = api.readOnnxFile(path);
  const name = graph.producer.startsWith('nibble') && graph.name ? graph.name : basename(path, extname(path));
  const lowered = api.importOnnxGraph(graph, { name });
  if (!lowered.exact) {
    process.stderr.write(
      `nibble: note: ${path} was imported with converted (inexact) steps; see nibble import ${path} --report --check\n`,
    );
  }
  return { ...lowered.network, host: lowered.host };
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
      if (!existsSync(full)) throw new FileError('segment data file not found', `${where}: ${full}`);
      return readBytes(full, 'segment data file');
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
  const bytes = readBytes(path, 'program file');
  return api.readProgramFile(bytes, { file: path, ...(config ? { config } : {}) });
}

export async function saveProgram(path: string, program: Program): Promise<void> {
  const api = await isaApi('writing a program file', ['writeProgramFile']);
  writeOutput(path, api.writeProgramFile(program, path));
}

/**
 * Input tensors for `nibble sim --input FILE.json`: an object mapping input
 * names to flat arrays of integers (logical NCHW order), or a bare array for
 * a program with a single input.
 */
export function loadInputTensors(path: string, program: Program): Record<string, Int32Array> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readText(path, 'input file'));
  } catch (e) {
    if (e instanceof NibbleError) throw e;
    throw new DatasetError(`not valid JSON (${(e as Error).message})`, path);
  }
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
  let parsed: unknown;
  try {
    parsed = JSON.parse(readText(path, 'input file'));
  } catch (e) {
    if (e instanceof NibbleError) throw e;
    throw new DatasetError(`not valid JSON (${(e as Error).message})`, path);
  }
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
export class CliUsageError extends NibbleError {}
