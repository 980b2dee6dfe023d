/**
 * Model format version 2 (`.nbm`, docs/model-format.md section 10): the JSON
 * model's structure in a small header, every integer array bit-packed at the
 * width its values need (4-bit weights two per byte), each array a
 * CRC-32-checked section. Written and read in chunks through a file
 * descriptor, so a VGG-16 with 138 M weights never exists as one buffer, a
 * JSON string or a number array: peak memory is the network's own typed
 * arrays plus a 1 MiB chunk.
 *
 *   bytes 0..7    magic "NIBBLEM2"
 *   u32 LE        format version (2)
 *   u32 LE        header length H
 *   u32 LE        CRC-32 of the header
 *   H bytes       header, UTF-8 JSON: the network (and host stages) with every
 *                 typed array replaced by {"$section": k}, plus the section table
 *   sections      each at its recorded offset from the end of the header
 *
 * The header is walked generically (any layer kind whose fields are JSON
 * values and typed arrays round-trips), and the result is validated by
 * analyzeNetwork and checkHostStages like any other model.
 */
import { closeSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { crc32 } from 'node:zlib';
import { ModelError } from '../arch/index.js';
import { errnoReason, FileError, openInputFile, writeOutputFile, type OutputChunks } from '../io/index.js';
import { checkHostStages, type HostStages, type WithHost } from './host.js';
import { layerWhere, tensorSize, type Network } from './ir.js';
import { analyzeNetwork } from './analysis.js';
import { Fields } from './layers/json-fields.js';
import { layerModule } from './layers/index.js';

export const BINARY_MAGIC = 'NIBBLEM2';
export const BINARY_VERSION = 2;
const PREFIX_BYTES = 20;
const CHUNK = 1 << 20;
const MAX_HEADER_BYTES = 64 << 20;

type ArrayType = 'i8' | 'i32' | 'f64';

interface Section {
  type: ArrayType;
  count: number;
  /** bit width of each packed value (integers; two's complement); 64 for f64 */
  bits: number;
  offset: number;
  bytes: number;
  crc: number;
}

type Typed = Int8Array | Int32Array | Float64Array;

function typeOf(v: unknown): ArrayType | undefined {
  if (v instanceof Int8Array) return 'i8';
  if (v instanceof Int32Array) return 'i32';
  if (v instanceof Float64Array) return 'f64';
  return undefined;
}

/** Two's-complement width that holds every value (1 for an all-zero array). */
function widthOf(a: Int8Array | Int32Array): number {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (v < lo) lo = v;
    else if (v > hi) hi = v;
  }
  let b = 1;
  while (-(2 ** (b - 1)) > lo || 2 ** (b - 1) - 1 < hi) b++;
  return b;
}

/** Replaces typed arrays by section references, collecting them. */
function toHeader(value: unknown, arrays: Typed[]): unknown {
  if (typeOf(value)) {
    arrays.push(value as Typed);
    return { $section: arrays.length - 1 };
  }
  if (Array.isArray(value)) return value.map((v) => toHeader(v, arrays));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toHeader(v, arrays)]));
  }
  return value;
}

function fromHeader(value: unknown, arrays: Typed[], where: string): unknown {
  if (Array.isArray(value)) return value.map((v) => fromHeader(v, arrays, where));
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === '$section') {
      const k = (value as { $section: unknown }).$section;
      if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k >= arrays.length) {
        throw new ModelError(`header refers to section ${String(k)}, which does not exist`, where);
      }
      return arrays[k];
    }
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, fromHeader(v, arrays, where)]));
  }
  return value;
}

/** `a` packed at `bits` per value (LSB first), in chunks (one reused buffer: consume each before the next). */
function* packed(a: Typed, bits: number): Generator<Uint8Array> {
  if (a instanceof Float64Array) {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    for (let o = 0; o < bytes.length; o += CHUNK) yield bytes.subarray(o, o + CHUNK);
    return;
  }
  const buf = new Uint8Array(CHUNK);
  if (bits === 4) {
    // the common case (4-bit weights), a byte at a time
    for (let i = 0; i < a.length;) {
      let n = 0;
      for (; n < CHUNK && i < a.length; n++, i += 2)
        buf[n] = (a[i]! & 0xf) | (i + 1 < a.length ? (a[i + 1]! & 0xf) << 4 : 0);
      yield buf.subarray(0, n);
    }
    return;
  }
  let acc = 0;
  let filled = 0;
  let n = 0;
  const mask = bits === 32 ? 0xffffffff : 2 ** bits - 1;
  for (let i = 0; i < a.length; i++) {
    let v = a[i]! & mask;
    let left = bits;
    while (left > 0) {
      const take = Math.min(8 - filled, left);
      acc |= (v & ((1 << take) - 1)) << filled;
      v = Math.floor(v / 2 ** take);
      filled += take;
      left -= take;
      if (filled === 8) {
        buf[n++] = acc;
        acc = 0;
        filled = 0;
        if (n === CHUNK) {
          yield buf;
          n = 0;
        }
      }
    }
  }
  if (filled > 0) buf[n++] = acc;
  if (n > 0) yield buf.subarray(0, n);
}

function byteLength(type: ArrayType, count: number, bits: number): number {
  return type === 'f64' ? count * 8 : Math.ceil((count * bits) / 8);
}

/**
 * The network (with its host stages) as format-v2 bytes, produced chunk by
 * chunk when written (writeOutputFile): the checksums are computed in a first
 * pass, so no more than one chunk of packed data exists at a time.
 */
export function modelBinaryData(net: Network & WithHost): OutputChunks {
  analyzeNetwork(net);
  const arrays: Typed[] = [];
  const { host, ...plain } = net;
  const body = toHeader({ ...plain, ...(host ? { host } : {}) }, arrays);
  const sections: Section[] = [];
  let offset = 0;
  for (const a of arrays) {
    const type = typeOf(a)!;
    const bits = type === 'f64' ? 64 : widthOf(a as Int8Array | Int32Array);
    const bytes = byteLength(type, a.length, bits);
    let crc = 0;
    for (const chunk of packed(a, bits)) crc = crc32(chunk, crc);
    sections.push({ type, count: a.length, bits, offset, bytes, crc });
    offset += Math.ceil(bytes / 8) * 8;
  }
  const header = Buffer.from(
    JSON.stringify({ format: 'nibble-model', version: BINARY_VERSION, network: body, sections }),
  );
  const prefix = Buffer.alloc(PREFIX_BYTES);
  prefix.write(BINARY_MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(BINARY_VERSION, 8);
  prefix.writeUInt32LE(header.length, 12);
  prefix.writeUInt32LE(crc32(header), 16);
  return {
    *chunks() {
      yield prefix;
      yield header;
      let written = 0;
      const pad = new Uint8Array(8);
      for (let k = 0; k < arrays.length; k++) {
        const s = sections[k]!;
        if (written < s.offset) yield pad.subarray(0, s.offset - written);
        yield* packed(arrays[k]!, s.bits);
        written = s.offset + s.bytes;
      }
    },
  };
}

/**
 * Writes the network as format v2 through the io discipline (a temporary file
 * renamed into place: a failure, a full disk included, never leaves a
 * half-written model; devices such as /dev/null are written directly).
 */
export function saveModelBinary(path: string, net: Network & WithHost): void {
  writeOutputFile(path, modelBinaryData(net));
}

/** True if the bytes start with the format-2 magic. */
export function isModelBinary(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && Buffer.from(bytes.subarray(0, 8)).toString('latin1') === BINARY_MAGIC;
}

function readExactly(fd: number, into: Uint8Array, position: number, path: string, what: string): void {
  let got = 0;
  while (got < into.length) {
    let n: number;
    try {
      n = readSync(fd, into, got, into.length - got, position + got);
    } catch (e) {
      throw new FileError(`cannot read ${what}: ${errnoReason(e)}`, path);
    }
    if (n === 0)
      throw new ModelError(
        `truncated: ${what} ends at byte ${position + into.length} but the file ends at byte ${position + got}`,
        path,
      );
    got += n;
  }
}

/**
 * Each byte's two sign-extended nibbles as the 16-bit pair an Int16Array view of the output stores
 * (low nibble first in memory); undefined on a big-endian machine, which takes the per-nibble loop.
 */
const NIBBLE_PAIRS: Int16Array | undefined =
  endianness() === 'LE'
    ? Int16Array.from({ length: 256 }, (_, byte) => (((byte << 28) >> 28) & 0xff) | (((byte << 24) >> 28) << 8))
    : undefined;

function unpack(
  type: ArrayType,
  count: number,
  bits: number,
  chunks: (emit: (bytes: Uint8Array) => void) => void,
): Typed {
  if (type === 'f64') {
    const out = new Float64Array(count);
    const view = new Uint8Array(out.buffer);
    let o = 0;
    chunks((b) => {
      view.set(b, o);
      o += b.length;
    });
    return out;
  }
  const out = type === 'i8' ? new Int8Array(count) : new Int32Array(count);
  let i = 0;
  if (bits === 4 && out instanceof Int8Array && NIBBLE_PAIRS) {
    // one table load and one 16-bit store per byte: the loop runs mostly before V8 optimizes it
    // (2.3 M weights of CIFAR10NET_INT in a one-shot nibble compile)
    const pairs = new Int16Array(out.buffer, 0, count >> 1);
    const table = NIBBLE_PAIRS;
    chunks((b) => {
      const whole = Math.min(b.length, (count - i) >> 1);
      const at = i >> 1;
      for (let k = 0; k < whole; k++) pairs[at + k] = table[b[k]!]!;
      i += 2 * whole;
      if (whole < b.length && i < count) out[i++] = (b[whole]! << 28) >> 28;
    });
    return out;
  }
  if (bits === 4) {
    chunks((b) => {
      // whole bytes: sign-extend each nibble with shifts (no branches in the hot loop)
      const whole = Math.min(b.length, (count - i) >> 1);
      for (let k = 0; k < whole; k++, i += 2) {
        const byte = b[k]!;
        out[i] = (byte << 28) >> 28;
        out[i + 1] = (byte << 24) >> 28;
      }
      if (whole < b.length && i < count) out[i++] = (b[whole]! << 28) >> 28;
    });
    return out;
  }
  let acc = 0;
  let have = 0;
  const sign = 2 ** (bits - 1);
  chunks((b) => {
    for (let k = 0; k < b.length; k++) {
      let byte = b[k]!;
      let avail = 8;
      while (avail > 0 && i < count) {
        const take = Math.min(avail, bits - have);
        acc += (byte & ((1 << take) - 1)) * 2 ** have;
        byte >>= take;
        avail -= take;
        have += take;
        if (have === bits) {
          out[i++] = acc >= sign ? acc - 2 * sign : acc;
          acc = 0;
          have = 0;
        }
      }
    }
  });
  return out;
}

function checkSections(raw: unknown, dataStart: number, fileSize: number, path: string): Section[] {
  if (!Array.isArray(raw)) throw new ModelError('header: sections must be an array', path);
  let end = 0;
  return raw.map((s: Partial<Section>, k) => {
    const where = `${path}: section ${k}`;
    const ok =
      (s.type === 'i8' || s.type === 'i32' || s.type === 'f64') &&
      Number.isSafeInteger(s.count) &&
      s.count! >= 0 &&
      Number.isInteger(s.bits) &&
      Number.isSafeInteger(s.offset) &&
      Number.isSafeInteger(s.bytes) &&
      Number.isInteger(s.crc);
    if (!ok) throw new ModelError('malformed section entry in the header', where);
    const maxBits = s.type === 'i8' ? 8 : s.type === 'i32' ? 32 : 64;
    if (s.bits! < 1 || s.bits! > maxBits || (s.type === 'f64' && s.bits !== 64))
      throw new ModelError(`bit width ${s.bits} does not fit ${s.type}`, where);
    if (s.bytes !== byteLength(s.type!, s.count!, s.bits!))
      throw new ModelError(`holds ${s.bytes} bytes for ${s.count} values of ${s.bits} bits`, where);
    if (s.offset! < end) throw new ModelError('overlaps the previous section', where);
    end = s.offset! + s.bytes!;
    if (dataStart + end > fileSize) {
      throw new ModelError(
        `truncated: the section ends at byte ${dataStart + end} but the file has ${fileSize} bytes`,
        where,
      );
    }
    return s as Section;
  });
}

/** Reads a format-2 model file in chunks, verifying every checksum, then validates it. */
export function loadModelBinaryFile(path: string): Network & WithHost {
  const { fd, size } = openInputFile(path, 'model file');
  try {
    const prefix = Buffer.alloc(PREFIX_BYTES);
    readExactly(fd, prefix, 0, path, 'the file prefix');
    if (prefix.toString('latin1', 0, 8) !== BINARY_MAGIC)
      throw new ModelError('not a nibble binary model (bad magic)', path);
    const version = prefix.readUInt32LE(8);
    if (version !== BINARY_VERSION)
      throw new ModelError(
        `unsupported binary model version ${version}: this build reads version ${BINARY_VERSION}`,
        path,
      );
    const hlen = prefix.readUInt32LE(12);
    if (hlen > MAX_HEADER_BYTES) throw new ModelError(`header length ${hlen} is not plausible (corrupt file?)`, path);
    if (PREFIX_BYTES + hlen > size)
      throw new ModelError(
        `truncated: the header ends at byte ${PREFIX_BYTES + hlen} but the file has ${size} bytes`,
        path,
      );
    const header = Buffer.alloc(hlen);
    readExactly(fd, header, PREFIX_BYTES, path, 'the header');
    if (crc32(header) !== prefix.readUInt32LE(16))
      throw new ModelError('header checksum mismatch (the file is corrupt)', path);
    let doc: { format?: unknown; version?: unknown; network?: unknown; sections?: unknown };
    try {
      doc = JSON.parse(header.toString('utf8')) as typeof doc;
    } catch (e) {
      throw new ModelError(`header is not valid JSON: ${(e as Error).message}`, path);
    }
    if (doc.format !== 'nibble-model' || doc.version !== BINARY_VERSION)
      throw new ModelError('header is not a nibble model v2 header', path);
    const dataStart = PREFIX_BYTES + hlen;
    const sections = checkSections(doc.sections, dataStart, size, path);
    const arrays = sections.map((s, k) => {
      let crc = 0;
      const buf = new Uint8Array(Math.min(CHUNK, Math.max(1, s.bytes)));
      const arr = unpack(s.type, s.count, s.bits, (emit) => {
        for (let o = 0; o < s.bytes; o += CHUNK) {
          const n = Math.min(CHUNK, s.bytes - o);
          const view = buf.subarray(0, n);
          readExactly(fd, view, dataStart + s.offset + o, path, `section ${k}`);
          crc = crc32(view, crc);
          emit(view);
        }
      });
      if (crc !== s.crc) throw new ModelError(`section ${k}: checksum mismatch (the file is corrupt)`, path);
      return arr;
    });
    return networkFrom(fromHeader(doc.network, arrays, path), path);
  } finally {
    closeSync(fd);
  }
}

/**
 * Every layer object holds exactly its kind's fields (optional ones may be
 * absent), as in the JSON format: a file from a later version with a field
 * this build does not know is refused, never misread without it.
 */
function checkLayerFields(layers: unknown, parent?: string): void {
  if (!Array.isArray(layers)) return; // analyzeNetwork names the problem
  layers.forEach((l: unknown, i) => checkLayerObject(l, layerWhere(i, (l as { name?: unknown })?.name, parent)));
}

function checkLayerObject(l: unknown, where: string): void {
  if (typeof l !== 'object' || l === null) return;
  const module = layerModule((l as { kind?: unknown }).kind);
  if (!module) return;
  const f = new Fields(l as Record<string, unknown>, where);
  for (const k of Object.keys(f.obj)) {
    if (!module.fields.includes(k as never))
      f.fail(k, `unknown field for a ${module.kind} layer (allowed: ${module.fields.join(', ')})`);
  }
  for (const [k, v] of Object.entries(f.obj)) {
    if (Array.isArray(v) && v.some((x) => typeof x === 'object' && x !== null && 'kind' in x))
      checkLayerFields(v, where);
    else if (typeof v === 'object' && v !== null && 'kind' in v)
      checkLayerObject(v, `${where} ${k} '${String((v as { name?: unknown }).name)}'`);
  }
}

function networkFrom(value: unknown, path: string): Network & WithHost {
  if (typeof value !== 'object' || value === null) throw new ModelError('header: network must be an object', path);
  const net = value as Network & WithHost;
  try {
    checkLayerFields(net.layers);
    const a = analyzeNetwork(net);
    if (net.host) checkHostStages(net.host as HostStages, net.input.channels, tensorSize(a.output.shape), path);
  } catch (e) {
    if (e instanceof ModelError) {
      const reason = e.where === undefined ? e.message : e.message.slice(e.where.length + 2);
      throw new ModelError(reason, e.where === undefined || e.where === path ? path : `${path}: ${e.where}`);
    }
    throw e;
  }
  return net;
}
