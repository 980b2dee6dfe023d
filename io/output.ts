/**
 * Writing a command's outputs so that no failure loses or half-writes data:
 *
 * - every output is first written in full to a temporary name next to its
 *   target and renamed over it only when all outputs have been written, so a
 *   command with several outputs writes all of them or none, and an old file
 *   is never truncated;
 * - a directory output that does not exist yet is built under a temporary name
 *   and renamed into place: it appears whole or not at all;
 * - missing parent directories of a file are an error, never created silently;
 * - every failure is one FileError naming the path and the reason (ENOTDIR,
 *   EEXIST, ENOENT, ENOSPC, EROFS, ...).
 *
 * The file-system calls go through `OutputFs`, so tests can inject a failing
 * disk.
 */
import {
  accessSync,
  closeSync,
  constants,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { errnoCode, errnoReason, FileError } from './errors.js';

export type OutputData = string | Uint8Array;

/** The file-system operations output writing uses (injectable for tests). */
export interface OutputFs {
  /** create `path` exclusively and write all of `data`, durably */
  writeNewFile(path: string, data: OutputData): void;
  /** write to an existing non-regular file (a device such as /dev/null, a FIFO) */
  writeDevice(path: string, data: OutputData): void;
  mkdir(path: string): void;
  rename(from: string, to: string): void;
  remove(path: string): void;
}

function writeAll(fd: number, data: OutputData): void {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off, buf.length - off);
}

export const NODE_OUTPUT_FS: OutputFs = {
  writeNewFile(path, data) {
    const fd = openSync(path, 'wx', 0o666);
    try {
      writeAll(fd, data);
      // A full disk may only show at flush time (delayed allocation, network file systems).
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  },
  writeDevice(path, data) {
    // Blocking, like a shell redirection: a FIFO waits for its reader.
    const fd = openSync(path, constants.O_WRONLY);
    try {
      writeAll(fd, data);
    } finally {
      closeSync(fd);
    }
  },
  mkdir(path) {
    mkdirSync(path);
  },
  rename(from, to) {
    renameSync(from, to);
  },
  remove(path) {
    rmSync(path, { recursive: true, force: true });
  },
};

export interface OutputFile {
  path: string;
  data: OutputData;
}

export interface OutputDirectory {
  path: string;
  files: { name: string; data: OutputData }[];
}

export interface WrittenOutputs {
  /** directories this call created (the topmost missing one of each directory output) */
  createdDirectories: string[];
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (e) {
    // ENOTDIR: a parent is a file; the parent check names it.
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return undefined;
    throw new FileError(`cannot write: ${errnoReason(e)}`, path);
  }
}

/** The nearest ancestor of `path` that exists, and the topmost one that does not. */
function existingAncestor(path: string): { existing: string; topMissing: string } {
  let missing = resolve(path);
  for (let i = 0; i < 4096; i++) {
    const parent = dirname(missing);
    if (parent === missing) break;
    try {
      lstatSync(parent);
      return { existing: parent, topMissing: missing };
    } catch (e) {
      const code = errnoCode(e);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new FileError(`cannot write: ${errnoReason(e)}`, parent);
      missing = parent;
    }
  }
  return { existing: '/', topMissing: missing };
}

/** Throws unless `dir` is an existing, writable directory. `target` is the output being checked (for the message). */
function checkWritableDirectory(dir: string, target: string): void {
  let s: Stats;
  try {
    s = statSync(dir);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      const { existing } = existingAncestor(dir);
      if (!statSync(existing).isDirectory())
        throw new FileError(`cannot write: ${existing} is a file, not a directory`, target);
      throw new FileError(`cannot write: the directory ${dir} does not exist (create it first)`, target);
    }
    throw new FileError(`cannot write: ${errnoReason(e)}`, target);
  }
  if (!s.isDirectory()) throw new FileError(`cannot write: ${dir} is a file, not a directory`, target);
  try {
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new FileError(`cannot write into ${dir}: ${errnoReason(e)}`, target);
  }
}

export type OutputKind = 'file' | 'directory';

/**
 * Checks, before any work starts, that `path` can be written as an output of
 * the given kind: a file needs an existing writable parent directory and must
 * not be a directory; a directory output must not be a file (its missing
 * parents are created with it, as one piece).
 */
export function checkOutputTarget(path: string, kind: OutputKind): void {
  if (path === '') throw new FileError('an empty path cannot be written', "''");
  const s = lstatOrUndefined(path);
  if (kind === 'file') {
    if (s?.isDirectory() || (s === undefined && /[/\\]$/.test(path)))
      throw new FileError('cannot write: this is a directory; give a file name', path);
    if (s && !s.isSymbolicLink() && !s.isFile()) return; // a device or FIFO: written directly
    checkWritableDirectory(dirname(path), path);
    return;
  }
  if (s) {
    if (!statSync(path).isDirectory())
      throw new FileError('cannot write the output directory: a file of this name already exists (EEXIST)', path);
    try {
      accessSync(path, constants.W_OK);
    } catch (e) {
      throw new FileError(`cannot write into the directory: ${errnoReason(e)}`, path);
    }
    return;
  }
  const { existing } = existingAncestor(path);
  if (!statSync(existing).isDirectory())
    throw new FileError(`cannot create the directory: ${existing} is a file, not a directory`, path);
  checkWritableDirectory(existing, path);
}

let tempCounter = 0;
function tempNameFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}-${++tempCounter}.nibble-tmp`);
}

interface Staged {
  tmp: string;
  target: string;
}

/**
 * Write all `files` and `directories`, or none of them. Existing files are
 * replaced only after every output has been written in full.
 */
export function writeOutputs(
  outputs: { files?: readonly OutputFile[]; directories?: readonly OutputDirectory[] },
  fs: OutputFs = NODE_OUTPUT_FS,
): WrittenOutputs {
  const staged: Staged[] = [];
  const devices: OutputFile[] = [];
  const createdDirectories: string[] = [];
  let current = '';
  const fail = (e: unknown): never => {
    for (const s of staged) {
      try {
        fs.remove(s.tmp);
      } catch {
        // best effort: the temporary name starts with a dot and ends in .nibble-tmp
      }
    }
    if (e instanceof FileError) throw e;
    throw new FileError(`cannot write: ${errnoReason(e)}; no output was written`, current);
  };
  try {
    for (const f of outputs.files ?? []) {
      current = f.path;
      checkOutputTarget(f.path, 'file');
      const s = lstatOrUndefined(f.path);
      const target = s?.isSymbolicLink() ? realpathSync(f.path) : f.path;
      const real = s?.isSymbolicLink() ? lstatOrUndefined(target) : s;
      if (real && !real.isFile()) {
        devices.push(f);
        continue;
      }
      const tmp = tempNameFor(target);
      staged.push({ tmp, target });
      fs.writeNewFile(tmp, f.data);
    }
    for (const d of outputs.directories ?? []) {
      current = d.path;
      checkOutputTarget(d.path, 'directory');
      if (lstatOrUndefined(d.path)) {
        for (const f of d.files) {
          const target = join(d.path, f.name);
          current = target;
          const tmp = tempNameFor(target);
          staged.push({ tmp, target });
          fs.writeNewFile(tmp, f.data);
        }
        continue;
      }
      // Build the whole missing chain under a temporary name, then rename it into place.
      const { topMissing } = existingAncestor(d.path);
      const tmpRoot = tempNameFor(topMissing);
      try {
        fs.mkdir(tmpRoot);
      } catch (e) {
        throw new FileError(`cannot create a directory in ${dirname(topMissing)}: ${errnoReason(e)}`, d.path);
      }
      staged.push({ tmp: tmpRoot, target: topMissing });
      let inner = tmpRoot;
      for (const part of relative(topMissing, resolve(d.path)).split(/[/\\]/).filter(Boolean)) {
        inner = join(inner, part);
        fs.mkdir(inner);
      }
      for (const f of d.files) {
        current = join(d.path, f.name);
        fs.writeNewFile(join(inner, f.name), f.data);
      }
      createdDirectories.push(relative(process.cwd(), topMissing) || topMissing);
    }
    for (const f of devices) {
      current = f.path;
      fs.writeDevice(f.path, f.data);
    }
  } catch (e) {
    fail(e);
  }
  // Everything is written: move it into place.
  for (let k = 0; k < staged.length; k++) {
    const s = staged[k]!;
    try {
      fs.rename(s.tmp, s.target);
    } catch (e) {
      const done = staged.slice(0, k).map((x) => x.target);
      staged.splice(0, k);
      current = s.target;
      fail(
        new FileError(
          `cannot replace the file: ${errnoReason(e)}${done.length ? ` (already replaced: ${done.join(', ')})` : ''}`,
          s.target,
        ),
      );
    }
  }
  return { createdDirectories };
}

/** Write one output file (see writeOutputs). */
export function writeOutputFile(path: string, data: OutputData, fs: OutputFs = NODE_OUTPUT_FS): void {
  writeOutputs({ files: [{ path, data }] }, fs);
}
