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
import { errnoCode, errnoDiagnostic, errnoReason, FileError } from './errors.js';

/**
 * What an output file holds: text, bytes, or a stream of byte chunks (a large
 * binary model written in pieces, never one buffer; each chunk is written
 * before the next is asked for, so a producer may reuse its buffer).
 */
export type OutputData = string | Uint8Array | OutputChunks;

export interface OutputChunks {
  chunks(): Iterable<Uint8Array>;
}

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
  if (typeof data === 'object' && !(data instanceof Uint8Array)) {
    for (const chunk of data.chunks()) writeAll(fd, chunk);
    return;
  }
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
  /** `name` may hold subdirectories (`rtl/top.v`): they are created with the directory, or staged like it */
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
    throw new FileError(`cannot write: ${errnoReason(e)}`, path, errnoDiagnostic(e));
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
      if (code !== 'ENOENT' && code !== 'ENOTDIR')
        throw new FileError(`cannot write: ${errnoReason(e)}`, parent, errnoDiagnostic(e));
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
        throw new FileError(`cannot write: ${existing} is a file, not a directory`, target, 'NB-F002');
      throw new FileError(`cannot write: the directory ${dir} does not exist (create it first)`, target, 'NB-F001');
    }
    throw new FileError(`cannot write: ${errnoReason(e)}`, target, errnoDiagnostic(e));
  }
  if (!s.isDirectory()) throw new FileError(`cannot write: ${dir} is a file, not a directory`, target, 'NB-F002');
  try {
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new FileError(`cannot write into ${dir}: ${errnoReason(e)}`, target, errnoDiagnostic(e));
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
      throw new FileError('cannot write: this is a directory; give a file name', path, 'NB-F002');
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
      throw new FileError(`cannot write into the directory: ${errnoReason(e)}`, path, errnoDiagnostic(e));
    }
    return;
  }
  const { existing } = existingAncestor(path);
  if (!statSync(existing).isDirectory())
    throw new FileError(`cannot create the directory: ${existing} is a file, not a directory`, path, 'NB-F002');
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

/** Create the subdirectories of `name` inside the (temporary, new) directory `root`. */
function writeInside(fs: OutputFs, root: string, name: string): void {
  let dir = root;
  for (const part of name.split(/[/\\]/).slice(0, -1)) {
    dir = join(dir, part);
    if (!lstatOrUndefined(dir)) fs.mkdir(dir);
  }
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
    throw new FileError(`cannot write: ${errnoReason(e)}; no output was written`, current, errnoDiagnostic(e));
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
        // a missing subdirectory is built under a temporary name like a missing directory output
        const subRoots = new Map<string, string>();
        for (const f of d.files) {
          const target = join(d.path, f.name);
          current = target;
          const sub = f.name.split(/[/\\]/).slice(0, -1);
          const missing = sub.findIndex((_, k) => !lstatOrUndefined(join(d.path, ...sub.slice(0, k + 1))));
          if (missing < 0) {
            const tmp = tempNameFor(target);
            staged.push({ tmp, target });
            fs.writeNewFile(tmp, f.data);
            continue;
          }
          const top = join(d.path, ...sub.slice(0, missing + 1));
          let root = subRoots.get(top);
          if (root === undefined) {
            root = tempNameFor(top);
            fs.mkdir(root);
            subRoots.set(top, root);
            staged.push({ tmp: root, target: top });
          }
          writeInside(fs, root, relative(top, target));
          fs.writeNewFile(join(root, relative(top, target)), f.data);
        }
        continue;
      }
      // Build the whole missing chain under a temporary name, then rename it into place.
      const { topMissing } = existingAncestor(d.path);
      const tmpRoot = tempNameFor(topMissing);
      try {
        fs.mkdir(tmpRoot);
      } catch (e) {
        throw new FileError(
          `cannot create a directory in ${dirname(topMissing)}: ${errnoReason(e)}`,
          d.path,
          errnoDiagnostic(e),
        );
      }
      staged.push({ tmp: tmpRoot, target: topMissing });
      let inner = tmpRoot;
      for (const part of relative(topMissing, resolve(d.path)).split(/[/\\]/).filter(Boolean)) {
        inner = join(inner, part);
        fs.mkdir(inner);
      }
      for (const f of d.files) {
        current = join(d.path, f.name);
        writeInside(fs, inner, f.name);
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
          errnoDiagnostic(e),
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

/**
 * A directory other outputs are copied into as they appear (tool logs): used
 * if it exists, else created, one level only (a missing parent is an error,
 * never created silently).
 */
export function ensureOutputDirectory(path: string): void {
  checkOutputTarget(path, 'directory');
  if (lstatOrUndefined(path)) return;
  if (lstatOrUndefined(dirname(resolve(path))) === undefined)
    throw new FileError(`cannot create the directory: ${dirname(resolve(path))} does not exist`, path);
  try {
    mkdirSync(path);
  } catch (e) {
    throw new FileError(`cannot create the directory: ${errnoReason(e)}`, path);
  }
}
