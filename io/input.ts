/**
 * Reading the files a user names. Only regular files are read (a device such
 * as /dev/zero or a FIFO would feed a reader forever), sizes are capped, a
 * missing file or a directory is named before anything looks at the format,
 * and binary data is never echoed back as if it were text.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { errnoCode, errnoDiagnostic, errnoReason, FileError } from './errors.js';

const MiB = 1024 * 1024;
/** Largest text file read: V8 strings stop at 2^29 - 24 characters. */
export const MAX_TEXT_BYTES = 512 * MiB;
/** Largest binary file read (a program file's payload is limited to 4 GiB by its format; memory sets the cap). */
export const MAX_BINARY_BYTES = 2048 * MiB;

export interface ReadInputOptions {
  /** refuse files larger than this (default MAX_TEXT_BYTES for text, MAX_BINARY_BYTES for bytes) */
  maxBytes?: number;
}

function kindOf(s: Stats): string {
  if (s.isDirectory()) return 'a directory';
  if (s.isFIFO()) return 'a FIFO (named pipe)';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isSocket()) return 'a socket';
  return 'not a regular file';
}

function sizeText(bytes: number): string {
  return bytes >= MiB ? `${(bytes / MiB).toFixed(1)} MiB` : `${bytes} bytes`;
}

/** Why `path` cannot be read as an input file, or undefined if it is a regular file. */
function notReadable(path: string, what: string): FileError | undefined {
  let s: Stats;
  try {
    s = statSync(path);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') {
      const dir = dirname(path);
      let parentMissing = false;
      try {
        statSync(dir);
      } catch {
        parentMissing = true;
      }
      return new FileError(
        parentMissing ? `${what} not found (the directory ${dir} does not exist)` : `${what} not found`,
        path,
        'NB-F001',
      );
    }
    return new FileError(`cannot read ${what}: ${errnoReason(e)}`, path, errnoDiagnostic(e));
  }
  if (s.isFile()) return undefined;
  if (s.isDirectory()) return new FileError(`${what} expected, but this is a directory`, path, 'NB-F002');
  return new FileError(`cannot read ${what}: ${kindOf(s)}, not a regular file`, path, 'NB-F002');
}

/** Throws FileError unless `path` names a readable regular file. Cheap: for checks before format detection. */
export function checkInputFile(path: string, what: string): void {
  const err = notReadable(path, what);
  if (err) throw err;
}

/**
 * An open regular file of at most `maxBytes`, for readers that take a large
 * file in pieces (the binary model format): its descriptor and size. The
 * caller closes `fd`.
 */
export function openInputFile(path: string, what: string, opts: ReadInputOptions = {}): { fd: number; size: number } {
  checkInputFile(path, what);
  const max = opts.maxBytes ?? MAX_BINARY_BYTES;
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO swapped in after the check must not block the open.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new FileError(`cannot read ${what}: ${errnoReason(e)}`, path, errnoDiagnostic(e));
  }
  try {
    const s = fstatSync(fd);
    if (!s.isFile()) throw new FileError(`cannot read ${what}: ${kindOf(s)}, not a regular file`, path, 'NB-F002');
    if (s.size > max)
      throw new FileError(`${what} is too large: ${sizeText(s.size)} (the limit is ${sizeText(max)})`, path, 'NB-F003');
    return { fd, size: s.size };
  } catch (e) {
    closeSync(fd);
    if (e instanceof FileError) throw e;
    throw new FileError(`cannot read ${what}: ${errnoReason(e)}`, path, errnoDiagnostic(e));
  }
}

/** The bytes of a regular file, at most `maxBytes`. */
export function readInputBytes(path: string, what: string, opts: ReadInputOptions = {}): Buffer {
  const max = opts.maxBytes ?? MAX_BINARY_BYTES;
  const { fd, size } = openInputFile(path, what, opts);
  try {
    // Read at most max + 1 bytes: a file that grows while being read is still capped.
    const buf = Buffer.allocUnsafe(Math.min(max + 1, Math.max(size, 64 * 1024)));
    let n = 0;
    for (;;) {
      if (n === buf.length) break;
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
    }
    if (n > max)
      throw new FileError(`${what} is too large: over ${sizeText(max)} (it grew while being read)`, path, 'NB-F003');
    return buf.subarray(0, n);
  } catch (e) {
    if (e instanceof FileError) throw e;
    throw new FileError(`cannot read ${what}: ${errnoReason(e)}`, path, errnoDiagnostic(e));
  } finally {
    closeSync(fd);
  }
}

const MAGIC: [string, string][] = [
  ['NBL1', 'a nibble program file (.nbl): give it to sim, disasm, verify or report'],
  ['\x7fELF', 'an executable (ELF)'],
  ['PK\x03\x04', 'a zip archive'],
  ['\x1f\x8b', 'a gzip file'],
  ['\x89PNG', 'a PNG image'],
  ['%PDF', 'a PDF document'],
];

/** What a binary file looks like, for the message. */
export function describeBinary(bytes: Uint8Array): string {
  const head = Buffer.from(bytes.subarray(0, 8)).toString('latin1');
  for (const [m, what] of MAGIC) if (head.startsWith(m)) return what;
  return 'binary data';
}

/**
 * The text of a regular UTF-8 file. A file with NUL bytes or invalid UTF-8 is
 * refused as binary (its bytes are never quoted in a message).
 */
export function readInputText(path: string, what: string, opts: ReadInputOptions = {}): string {
  const bytes = readInputBytes(path, what, { maxBytes: opts.maxBytes ?? MAX_TEXT_BYTES });
  const probe = bytes.subarray(0, 64 * 1024);
  if (probe.includes(0))
    throw new FileError(`${what} expected as text, but this is ${describeBinary(bytes)}`, path, 'NB-F004');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new FileError(`${what} expected as UTF-8 text, but this is ${describeBinary(bytes)}`, path, 'NB-F004');
  }
}
