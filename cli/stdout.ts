/**
 * What happens when stdout fails. `nibble ... | head` closing the pipe early is
 * not an error (exit 0, nothing printed); anything else (`> /dev/full`) is one
 * line on stderr and exit 1. Kept apart from terminal.ts so the entry point
 * loads nothing more than it needs (`nibble --version`).
 */
import { EXIT_OK, EXIT_USER_ERROR } from './exit.js';

let failed = false;

export function stdoutFailed(e: NodeJS.ErrnoException): void {
  if (e.code === 'EPIPE') process.exit(EXIT_OK);
  if (failed) return; // later writes fail the same way: one line is enough
  failed = true;
  void import('../io/index.js').then(({ errnoDiagnostic, errnoReason }) => {
    process.stderr.write(`nibble: error[${errnoDiagnostic(e)}]: cannot write to standard output: ${errnoReason(e)}\n`);
    process.exit(EXIT_USER_ERROR);
  });
}
