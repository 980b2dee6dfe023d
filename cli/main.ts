#!/usr/bin/env node
/**
 * Entry point of the `nibble` executable (package.json "bin"). Exit codes:
 * 0 ok, 1 user error (one line on stderr), 2 internal error (stack trace).
 * The program itself is in cli/nibble.ts, loaded only when there is more to
 * do than print the version (start-up time: yargs alone costs more than Node).
 */
import type { NibbleProgram } from './code-cache.js';
import { stdoutFailed } from './stdout.js';
import { packageVersion } from './version.js';

// A closed pipe (`| head`) ends quietly; a full disk is one error line.
process.stdout.on('error', stdoutFailed);

const args = process.argv.slice(2);
if (args.length === 1 && args[0] === '--version') {
  process.stdout.write(`${packageVersion()}\n`);
} else {
  // From V8's code cache when the build wrote one (cli/code-cache.ts), else from the ES module chunks.
  const { runNibble, hideBin }: NibbleProgram =
    (await import('./code-cache.js')).loadProgram()?.program ??
    (await Promise.all([import('./nibble.js'), import('yargs/helpers')]).then(([n, h]) => ({
      runNibble: (argv: string[]) => n.runNibble(argv),
      hideBin: h.hideBin,
    })));
  // Set the code rather than exit, so pending stdout writes (large --json documents to a pipe) drain.
  process.exitCode = await runNibble(hideBin(process.argv));
}
