#!/usr/bin/env node
/**
 * Entry point of the `nibble` executable (package.json "bin"). Exit codes:
 * 0 ok, 1 user error (one line on stderr), 2 internal error (stack trace).
 * The program itself is in cli/nibble.ts.
 */
import { hideBin } from 'yargs/helpers';
import { EXIT_OK } from './exit.js';
import { runNibble } from './nibble.js';

// `nibble ... | head` closes stdout early: that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(EXIT_OK);
  throw e;
});

// Set the code rather than exit, so pending stdout writes (large --json documents to a pipe) drain.
process.exitCode = await runNibble(hideBin(process.argv));
