/**
 * The `.nbl` program file: a binary container for a Program (isa/program.ts).
 * Byte layout (docs/program-file.md):
 *
 *   0   4  magic "NBL1"
 *   4   4  u32 LE format version (2)
 *   8   4  u32 LE header length H (multiple of 16; JSON padded with spaces)
 *   12  4  u32 LE payload length P
 *   16  H  UTF-8 JSON header
 *   16+H P payload: code (16 bytes per instruction), then the segment bytes
 *   end-4 4 u32 LE CRC-32 of every byte before it
 *
 * Sizes are in the fixed prefix so truncation and corruption are detected
 * before the JSON is trusted. Every reader-side check is also run by the
 * writer, so a file that is written can always be read back.
 */
import { crc32 } from 'node:zlib';
import {
  DEFAULT_CONFIG,
  canonicalConfigJson,
  configHash,
  resolveConfig,
  BEFORE_FIELD,
  type ArchConfig,
  IsaError,
  NibbleError,
  parseJsonStrict,
} from '../arch/index.js';
import { decodeInstruction, encodeProgramCode } from './encoding.js';
import { tensorImageBytes } from './layout.js';
import type { DramSegment, LayerInfo, Program, TensorDescriptor } from './program.js';
import type { Instruction } from './table.js';
import { INSTRUCTION_BYTES } from './word.js';

export const PROGRAM_FILE_MAGIC = 'NBL1';
/** 2: GEMM out_h/out_w sized to ACC, tap packing fields (GEMM taps, nibble_lanes; LOAD replicate) */
export const PROGRAM_FILE_VERSION = 2;
/** magic, version, header length, payload length */
export const PROGRAM_FILE_PREFIX_BYTES = 16;
export const PROGRAM_FILE_CRC_BYTES = 4;

/** One segment's entry in the header's segment table. */
export interface SegmentEntry {
  name: string;
  dramAddr: number;
  size: number;
  /** byte offset of the segment's bytes from the start of the payload */
  offset: number;
}

/** The JSON header, as stored. */
export interface ProgramFileHeader {
  config: ArchConfig;
  configHash: string;
  /** the code is at payload offset 0 */
  code: { instructions: number };
  segments: SegmentEntry[];
  inputs: TensorDescriptor[];
  outputs: TensorDescriptor[];
  layers: LayerInfo[];
  meta: Record<string, string | number>;
}

export interface ReadProgramOptions {
  /** the machine the program must run on: any differing field is an error */
  config?: ArchConfig;
  /** name used in error messages */
  file?: string;
}

const U32_MAX = 0xffffffff;

/** Field-by-field differences between two configs, as `path: a vs b`. */
export function configDifferences(a: ArchConfig, b: ArchConfig): string[] {
  const ja = JSON.parse(canonicalConfigJson(a)) as Record<string, unknown>;
  const jb = JSON.parse(canonicalConfigJson(b)) as Record<string, unknown>;
  const out: string[] = [];
  for (const [k, va] of Object.entries(ja)) {
    const vb = jb[k];
    if (typeof va === 'object' && va !== null) {
      for (const [kk, vva] of Object.entries(va as Record<string, unknown>)) {
        const vvb = (vb as Record<string, unknown>)[kk];
        if (vva !== vvb) out.push(`${k}.${kk}: ${JSON.stringify(vva)} vs ${JSON.stringify(vvb)}`);
      }
    } else if (va !== vb) out.push(`${k}: ${JSON.stringify(va)} vs ${JSON.stringify(vb)}`);
  }
  return out;
}

// ---- header shape checks: each names the JSON path of the bad value ----

class HeaderReader {
  constructor(readonly file: string) {}
  fail(path: string, reason: string): never {
    throw new IsaError(`header ${path}: ${reason}`, this.file);
  }
  object(v: unknown, path: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      this.fail(path, `must be an object, got ${describe(v)}`);
    return v as Record<string, unknown>;
  }
  array(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, `must be an array, got ${describe(v)}`);
    return v;
  }
  string(v: unknown, path: string): string {
    if (typeof v !== 'string') this.fail(path, `must be a string, got ${describe(v)}`);
    return v;
  }
  boolean(v: unknown, path: string): boolean {
    if (typeof v !== 'boolean') this.fail(path, `must be true or false, got ${describe(v)}`);
    return v;
  }
  int(v: unknown, path: string, lo = 0, hi = Number.MAX_SAFE_INTEGER): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) this.fail(path, `must be an integer, got ${describe(v)}`);
    if (v < lo || v > hi) this.fail(path, `must be in [${lo}, ${hi}], got ${v}`);
    return v;
  }
  number(v: unknown, path: string): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(path, `must be a number, got ${describe(v)}`);
    return v;
  }
  /** Rejects missing and unknown keys so a typo or a stripped field never reads as a default. */
  keys(o: Record<string, unknown>, path: string, required: readonly string[]): void {
    for (const k of required) if (!(k in o)) this.fail(`${path}.${k}`, 'missing');
    for (const k of Object.keys(o))
      if (!required.includes(k)) this.fail(`${path}.${k}`, `unknown field (known: ${required.join(', ')})`);
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

const TENSOR_KEYS = ['name', 'dramAddr', 'shape', 'layout', 'bits', 'signed', 'imageStrideBytes'] as const;
const LAYER_KEYS = ['name', 'kind', 'macs', 'firstInstruction', 'lastInstruction'] as const;
const SEGMENT_KEYS = ['name', 'dramAddr', 'size', 'offset'] as const;
const HEADER_KEYS = ['config', 'configHash', 'code', 'segments', 'inputs', 'outputs', 'layers', 'meta'] as const;

function readConfig(h: HeaderReader, v: unknown): ArchConfig {
  const o = { ...BEFORE_FIELD, ...h.object(v, 'config') };
  // Every field must be present (but those of BEFORE_FIELD, for files written before them): resolveConfig
  // alone would fill gaps with defaults.
  const defaults = DEFAULT_CONFIG as unknown as Record<string, unknown>;
  h.keys(o, 'config', Object.keys(defaults));
  for (const [k, dv] of Object.entries(defaults)) {
    if (typeof dv === 'object' && dv !== null) h.keys(h.object(o[k], `config.${k}`), `config.${k}`, Object.keys(dv));
  }
  try {
    return resolveConfig(o, 'config');
  } catch (e) {
    if (e instanceof NibbleError) h.fail('config', e.message);
    throw e;
  }
}

function readTensor(h: HeaderReader, v: unknown, path: string, cfg: ArchConfig): TensorDescriptor {
  const o = h.object(v, path);
  h.keys(o, path, TENSOR_KEYS);
  const shape = h.array(o['shape'], `${path}.shape`);
  if (shape.length !== 4)
    h.fail(`${path}.shape`, `must be [batch, channels, height, width], got ${shape.length} numbers`);
  const layout = h.string(o['layout'], `${path}.layout`);
  if (layout !== 'blocked' && layout !== 'nibble-planes' && layout !== 'nibble-lanes')
    h.fail(`${path}.layout`, `must be 'blocked', 'nibble-planes' or 'nibble-lanes', got '${layout}'`);
  const t: TensorDescriptor = {
    name: h.string(o['name'], `${path}.name`),
    dramAddr: h.int(o['dramAddr'], `${path}.dramAddr`),
    shape: shape.map((x, i) => h.int(x, `${path}.shape[${i}]`, 1)) as [number, number, number, number],
    layout,
    bits: h.int(o['bits'], `${path}.bits`, 1, 32),
    signed: h.boolean(o['signed'], `${path}.signed`),
    imageStrideBytes: h.int(o['imageStrideBytes'], `${path}.imageStrideBytes`),
  };
  checkTensorLayout(h, t, path, cfg);
  return t;
}

function readLayer(h: HeaderReader, v: unknown, path: string): LayerInfo {
  const o = h.object(v, path);
  h.keys(o, path, LAYER_KEYS);
  return {
    name: h.string(o['name'], `${path}.name`),
    kind: h.string(o['kind'], `${path}.kind`),
    macs: h.int(o['macs'], `${path}.macs`),
    firstInstruction: h.int(o['firstInstruction'], `${path}.firstInstruction`),
    lastInstruction: h.int(o['lastInstruction'], `${path}.lastInstruction`, -1),
  };
}

function readMeta(h: HeaderReader, v: unknown): Record<string, string | number> {
  const o = h.object(v, 'meta');
  // fromEntries defines own properties, so a key like "__proto__" stays data.
  return Object.fromEntries(
    Object.entries(o).map(([k, x]) => [k, typeof x === 'string' ? x : h.number(x, `meta.${k}`)]),
  );
}

function parseHeader(h: HeaderReader, text: string): ProgramFileHeader {
  const json = parseJsonStrict(text, `${h.file}: header`, IsaError);
  const o = h.object(json, '(root)');
  h.keys(o, '(root)', HEADER_KEYS);
  const config = readConfig(h, o['config']);
  const code = h.object(o['code'], 'code');
  h.keys(code, 'code', ['instructions']);
  return {
    config,
    configHash: h.string(o['configHash'], 'configHash'),
    code: { instructions: h.int(code['instructions'], 'code.instructions') },
    segments: h.array(o['segments'], 'segments').map((s, i) => {
      const p = `segments[${i}]`;
      const so = h.object(s, p);
      h.keys(so, p, SEGMENT_KEYS);
      return {
        name: h.string(so['name'], `${p}.name`),
        dramAddr: h.int(so['dramAddr'], `${p}.dramAddr`),
        size: h.int(so['size'], `${p}.size`),
        offset: h.int(so['offset'], `${p}.offset`),
      };
    }),
    inputs: h.array(o['inputs'], 'inputs').map((t, i) => readTensor(h, t, `inputs[${i}]`, config)),
    outputs: h.array(o['outputs'], 'outputs').map((t, i) => readTensor(h, t, `outputs[${i}]`, config)),
    layers: h.array(o['layers'], 'layers').map((l, i) => readLayer(h, l, `layers[${i}]`)),
    meta: readMeta(h, o['meta']),
  };
}

/**
 * The host writes every input tensor into the DRAM image next to the segments
 * before the run, so an input that overlaps a segment or another input would
 * silently overwrite it: reject it. (Outputs may reuse DRAM the program no
 * longer needs; that is the compiler's memory planning, not a file error.)
 * Checked per image, since images may be strided with gaps between them.
 */
function checkInputsDisjoint(
  p: Pick<Program, 'config' | 'inputs'> & { segments: { name: string; dramAddr: number; size: number }[] },
  file: string,
): void {
  // Linear in the number of images: each input's images are evenly strided and (stride >= image,
  // checked before) disjoint among themselves, so the first image of input t that meets a region
  // is found in O(1). A batch of 65,536 or a header shape of 1,048,576 takes milliseconds.
  const images = p.inputs.map((t) => ({ t, image: tensorImageBytes(t, p.config) }));
  const firstClash = (k: number, start: number, end: number): number | undefined => {
    const { t, image } = images[k]!;
    const b = Math.max(0, Math.floor((start - image - t.dramAddr) / t.imageStrideBytes) + 1);
    return b < t.shape[0] && t.dramAddr + b * t.imageStrideBytes < end ? b : undefined;
  };
  const span = (k: number, b: number): [number, number] => {
    const { t, image } = images[k]!;
    const start = t.dramAddr + b * t.imageStrideBytes;
    return [start, start + image];
  };
  const fail = (k: number, b: number, what: string, start: number, end: number): never => {
    const [s, e] = span(k, b);
    throw new IsaError(
      `input ${k} '${images[k]!.t.name}' image ${b} [${s}, ${e}) overlaps ${what} [${start}, ${end}): loading the input would overwrite it`,
      file,
    );
  };
  p.segments.forEach((seg, i) => {
    if (seg.size === 0) return;
    const end = seg.dramAddr + seg.size;
    images.forEach((_, k) => {
      const b = firstClash(k, seg.dramAddr, end);
      if (b !== undefined) fail(k, b, `segment ${i} '${seg.name}'`, seg.dramAddr, end);
    });
  });
  for (let k = 1; k < images.length; k++) {
    for (let j = 0; j < k; j++) {
      // walk the input with fewer images, look each one up in the other
      const [few, many] = images[j]!.t.shape[0] <= images[k]!.t.shape[0] ? [j, k] : [k, j];
      for (let b = 0; b < images[few]!.t.shape[0]; b++) {
        const [s, e] = span(few, b);
        const hit = firstClash(many, s, e);
        if (hit === undefined) continue;
        const [hs, he] = span(many, hit);
        if (few === k) fail(k, b, `input ${j} '${images[j]!.t.name}' image ${hit}`, hs, he);
        fail(k, hit, `input ${j} '${images[j]!.t.name}' image ${b}`, s, e);
      }
    }
  }
}

/**
 * A descriptor's element width must fit its layout, or packing would silently
 * cut the values: 'blocked' holds up to config.bits.activation bits per
 * element, 'nibble-planes' splits unsigned values of up to twice that width
 * into two planes, 'nibble-lanes' into two lanes.
 */
function checkTensorLayout(h: HeaderReader, t: TensorDescriptor, path: string, cfg: ArchConfig): void {
  const ab = cfg.bits.activation;
  if (t.layout === 'blocked' && t.bits > ab)
    h.fail(
      `${path}.bits`,
      `${t.bits} bits do not fit the 'blocked' layout of ${ab}-bit activations (config.bits.activation); wider inputs use 'nibble-planes'`,
    );
  if (t.layout === 'nibble-planes') {
    if (t.bits <= ab || t.bits > 2 * ab)
      h.fail(`${path}.bits`, `a 'nibble-planes' tensor holds ${ab + 1} to ${2 * ab} bits, got ${t.bits}`);
  }
  if (t.layout === 'nibble-lanes' && (t.bits <= 4 || t.bits > 8))
    h.fail(`${path}.bits`, `a 'nibble-lanes' tensor holds 5 to 8 bits (two 4-bit nibble lanes), got ${t.bits}`);
  if (t.layout !== 'blocked' && t.signed) h.fail(`${path}.signed`, `a '${t.layout}' tensor is unsigned`);
}

/**
 * Checks shared by writer and reader: the config hash, segments inside DRAM and
 * disjoint, tensors inside DRAM, inputs disjoint from segments and each other,
 * layer ranges inside the code.
 */
function checkProgramShape(
  p: Pick<Program, 'config' | 'configHash' | 'inputs' | 'outputs' | 'layers'> & {
    segments: { name: string; dramAddr: number; size: number }[];
    codeLength: number;
  },
  file: string,
): void {
  const actual = configHash(p.config);
  if (p.configHash !== actual) {
    throw new IsaError(
      `configHash ${p.configHash} does not match the config it is stored with (${actual}): the header was tampered with or the config was edited after compiling`,
      file,
    );
  }
  const dram = p.config.dram.sizeBytes;
  const sorted = [...p.segments].map((s, i) => ({ ...s, i })).sort((a, b) => a.dramAddr - b.dramAddr);
  let prev: (typeof sorted)[number] | undefined;
  for (const s of sorted) {
    if (s.dramAddr + s.size > dram) {
      throw new IsaError(
        `segment ${s.i} '${s.name}' [${s.dramAddr}, ${s.dramAddr + s.size}) lies outside DRAM (${dram} bytes)`,
        file,
      );
    }
    if (s.size === 0) continue;
    if (prev && prev.dramAddr + prev.size > s.dramAddr) {
      throw new IsaError(
        `segments ${prev.i} '${prev.name}' [${prev.dramAddr}, ${prev.dramAddr + prev.size}) and ${s.i} '${s.name}' [${s.dramAddr}, ${s.dramAddr + s.size}) overlap`,
        file,
      );
    }
    prev = s;
  }
  for (const [kind, list] of [
    ['input', p.inputs],
    ['output', p.outputs],
  ] as const) {
    list.forEach((t, i) => {
      const image = tensorImageBytes(t, p.config);
      if (t.imageStrideBytes < image) {
        throw new IsaError(
          `${kind} ${i} '${t.name}': imageStrideBytes ${t.imageStrideBytes} is smaller than one image (${image} bytes)`,
          file,
        );
      }
      const end = t.dramAddr + (t.shape[0] - 1) * t.imageStrideBytes + image;
      if (end > dram)
        throw new IsaError(`${kind} ${i} '${t.name}' [${t.dramAddr}, ${end}) lies outside DRAM (${dram} bytes)`, file);
    });
  }
  checkInputsDisjoint(p, file);
  p.layers.forEach((l, i) => {
    if (l.firstInstruction > l.lastInstruction + 1 || l.lastInstruction >= p.codeLength) {
      throw new IsaError(
        `layer ${i} '${l.name}': instruction range [${l.firstInstruction}, ${l.lastInstruction}] is not inside the code (${p.codeLength} instructions)`,
        file,
      );
    }
  });
}

/** Serialize a program. Throws IsaError if it would not read back (bad instruction, overlapping segments, ...). */
export function writeProgramFile(p: Program, file = '<program>'): Uint8Array {
  const code = encodeProgramCode(p.code, p.config);
  const segments: SegmentEntry[] = [];
  let offset = code.length;
  for (const s of p.segments) {
    segments.push({ name: s.name, dramAddr: s.dramAddr, size: s.bytes.length, offset });
    offset += s.bytes.length;
  }
  checkProgramShape({ ...p, segments, codeLength: p.code.length }, file);
  const payloadBytes = offset;
  if (payloadBytes > U32_MAX)
    throw new IsaError(`payload of ${payloadBytes} bytes exceeds the format's 4 GiB limit`, file);
  const header: ProgramFileHeader = {
    config: JSON.parse(canonicalConfigJson(p.config)) as ArchConfig,
    configHash: p.configHash,
    code: { instructions: p.code.length },
    segments,
    inputs: p.inputs,
    outputs: p.outputs,
    layers: p.layers,
    meta: p.meta,
  };
  const jsonText = JSON.stringify(header);
  // The reader's header checks, run here so a bad field (NaN MACs, a 3-D shape, ...) fails at write time.
  parseHeader(new HeaderReader(file), jsonText);
  let json = Buffer.from(jsonText, 'utf8');
  // Pad with spaces (valid trailing JSON whitespace) so the code starts 16-byte aligned.
  const padded = Math.ceil(json.length / 16) * 16;
  if (padded !== json.length) json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const total = PROGRAM_FILE_PREFIX_BYTES + json.length + payloadBytes + PROGRAM_FILE_CRC_BYTES;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(Buffer.from(PROGRAM_FILE_MAGIC, 'latin1'), 0);
  view.setUint32(4, PROGRAM_FILE_VERSION, true);
  view.setUint32(8, json.length, true);
  view.setUint32(12, payloadBytes, true);
  out.set(json, PROGRAM_FILE_PREFIX_BYTES);
  const payload = PROGRAM_FILE_PREFIX_BYTES + json.length;
  out.set(code, payload);
  p.segments.forEach((s, i) => out.set(s.bytes, payload + segments[i]!.offset));
  view.setUint32(total - 4, crc32(out.subarray(0, total - 4)) >>> 0, true);
  return out;
}

/** Parse and fully validate a program file. Every problem is an IsaError naming the file and the reason. */
export function readProgramFile(bytes: Uint8Array, opts: ReadProgramOptions = {}): Program {
  const file = opts.file ?? '<program>';
  const magic = Buffer.from(bytes.subarray(0, 4)).toString('latin1');
  if (bytes.length < 4 || magic !== PROGRAM_FILE_MAGIC) {
    throw new IsaError(
      `not a nibble program file (expected magic "${PROGRAM_FILE_MAGIC}", found ${JSON.stringify(magic)})`,
      file,
      'NB-I010',
    );
  }
  if (bytes.length < PROGRAM_FILE_PREFIX_BYTES) {
    throw new IsaError(
      `truncated: the fixed prefix needs ${PROGRAM_FILE_PREFIX_BYTES} bytes, the file has ${bytes.length}`,
      file,
      'NB-I012',
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== PROGRAM_FILE_VERSION) {
    throw new IsaError(
      `unsupported format version ${version} (this nibble reads version ${PROGRAM_FILE_VERSION}${version < PROGRAM_FILE_VERSION ? ': compile the model again' : ''})`,
      file,
      'NB-I011',
    );
  }
  const headerBytes = view.getUint32(8, true);
  const payloadBytes = view.getUint32(12, true);
  const expected = PROGRAM_FILE_PREFIX_BYTES + headerBytes + payloadBytes + PROGRAM_FILE_CRC_BYTES;
  if (bytes.length < expected)
    throw new IsaError(`truncated: expected ${expected} bytes, the file has ${bytes.length}`, file, 'NB-I012');
  if (bytes.length > expected) {
    throw new IsaError(
      `expected ${expected} bytes, the file has ${bytes.length} (${bytes.length - expected} unexpected trailing bytes)`,
      file,
    );
  }
  const stored = view.getUint32(expected - 4, true);
  const actual = crc32(bytes.subarray(0, expected - 4)) >>> 0;
  if (stored !== actual) {
    throw new IsaError(
      `corrupted: CRC-32 is 0x${actual.toString(16).padStart(8, '0')}, the file says 0x${stored.toString(16).padStart(8, '0')}`,
      file,
      'NB-I012',
    );
  }

  const h = new HeaderReader(file);
  const headerText = Buffer.from(
    bytes.subarray(PROGRAM_FILE_PREFIX_BYTES, PROGRAM_FILE_PREFIX_BYTES + headerBytes),
  ).toString('utf8');
  const header = parseHeader(h, headerText);
  checkProgramShape({ ...header, codeLength: header.code.instructions }, file);
  if (opts.config) {
    const diff = configDifferences(header.config, opts.config);
    if (diff.length) {
      throw new IsaError(`compiled for a different machine (file vs expected): ${diff.join(', ')}`, file, 'NB-I013');
    }
  }

  const payload = bytes.subarray(PROGRAM_FILE_PREFIX_BYTES + headerBytes, expected - 4);
  const codeBytes = header.code.instructions * INSTRUCTION_BYTES;
  if (codeBytes > payload.length) {
    throw new IsaError(
      `header says ${header.code.instructions} instructions (${codeBytes} bytes) but the payload has ${payload.length} bytes`,
      file,
    );
  }
  const code: Instruction[] = [];
  for (let i = 0; i < header.code.instructions; i++) {
    code.push(decodeInstruction(payload, header.config, i * INSTRUCTION_BYTES, `${file}: instruction ${i}`));
  }
  const segments: DramSegment[] = header.segments.map((s, i) => {
    if (s.offset < codeBytes || s.offset + s.size > payload.length) {
      throw new IsaError(
        `segment ${i} '${s.name}' bytes [${s.offset}, ${s.offset + s.size}) are not inside the payload's data area [${codeBytes}, ${payload.length})`,
        file,
      );
    }
    return { name: s.name, dramAddr: s.dramAddr, bytes: payload.slice(s.offset, s.offset + s.size) };
  });
  return {
    config: header.config,
    configHash: header.configHash,
    code,
    segments,
    inputs: header.inputs,
    outputs: header.outputs,
    layers: header.layers,
    meta: header.meta,
  };
}
