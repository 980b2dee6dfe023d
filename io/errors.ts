/** File-system failures as one clear line: the path and what is wrong, never a raw errno dump. */
import { NibbleError, type DiagnosticCode } from '../arch/index.js';

/** A file or directory the user named could not be read or written. */
export class FileError extends NibbleError {
  static override readonly defaultCode: DiagnosticCode = 'NB-F000';
}

const REASONS: Record<string, string> = {
  ENOENT: 'does not exist',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EISDIR: 'is a directory',
  EEXIST: 'already exists',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links (a link loop?)',
  EIO: 'input/output error',
  EFBIG: 'the file is too large for the file system',
  EXDEV: 'cannot move across file systems',
  EBUSY: 'the file is busy',
  ENXIO: 'no such device',
};

/** The reason of a Node file-system error in words, with its code for searching. */
export function errnoReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code === 'string') return REASONS[code] ? `${REASONS[code]} (${code})` : code;
  return e instanceof Error ? e.message : String(e);
}

/** The diagnostic code of a file-system error (arch/diagnostics.ts), by its errno code. */
export function errnoDiagnostic(e: unknown): DiagnosticCode {
  switch (errnoCode(e)) {
    case 'ENOENT':
    case 'ENOTDIR':
      return 'NB-F001';
    case 'EISDIR':
      return 'NB-F002';
    case 'EFBIG':
      return 'NB-F003';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'NB-F005';
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return 'NB-F006';
    default:
      return 'NB-F000';
  }
}

/** The errno code of an error, if it is a file-system error. */
export function errnoCode(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException)?.code;
  return typeof code === 'string' ? code : undefined;
}
