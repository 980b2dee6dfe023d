#!/usr/bin/env node
/**
 * Entry point of the `nibble` executable (package.json "bin"). Exit codes:
 * 0 ok, 1 user error (one line on stderr), 2 internal error (stack trace).
 * The program itself is in cli/nibble.ts.
 */
import { hideBin } from 'yargs/helpers';
import { runNibble } from './nibble.js';
import { stdoutFailed } from './terminal.js';

// A closed pipe (`| head`) ends quietly; a full disk is one error line.
process.stdout.on('error', stdoutFailed);

// Set the code rather than exit, so pending stdout writes (large --json documents to a pipe) drain.
process.exitCode = await runNibble(hideBin(process.argv));
