import type { DiagnosticCode } from '../arch/index.js';

/** Exit codes of `nibble` (documented in docs/cli.md). */
export const EXIT_OK = 0;
/** A NibbleError, a usage error, or a failed verification: one line on stderr. */
export const EXIT_USER_ERROR = 1;
/** Anything else: a bug in nibble (stack trace printed). */
export const EXIT_INTERNAL_ERROR = 2;

/**
 * Thrown by a handler that has already reported its result (e.g. verify with
 * mismatches) and only needs a non-zero exit code, with an optional one-line message
 * and its diagnostic code (default NB-V000, a failed check).
 */
export class ExitCodeError extends Error {
  constructor(
    readonly code: number,
    readonly line?: string,
    readonly diagnostic: DiagnosticCode = 'NB-V000',
  ) {
    super(line ?? `exit ${code}`);
  }
}
