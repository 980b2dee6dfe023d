/**
 * The `nibble` program: yargs set-up, command registry and the exit-code
 * policy. cli/main.ts is only the executable entry point, so tests (and other
 * tools) can run the CLI with extra or replaced commands.
 */
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { isNibbleError } from '../arch/index.js';
import type { CommandSpec } from './command.js';
import { asmCommand } from './commands/asm.js';
import { compileCommand } from './commands/compile.js';
import { configCommand } from './commands/config.js';
import { demoCommand } from './commands/demo.js';
import { disasmCommand } from './commands/disasm.js';
import { exportCommand } from './commands/export.js';
import { importCommand } from './commands/import.js';
import { reportCommand } from './commands/report.js';
import { rtlCommand } from './commands/rtl.js';
import { runCommand } from './commands/run.js';
import { simCommand } from './commands/sim.js';
import { verifyCommand } from './commands/verify.js';
import { zooCommand } from './commands/zoo.js';
import { EXIT_INTERNAL_ERROR, EXIT_OK, EXIT_USER_ERROR, ExitCodeError } from './exit.js';
import { CliUsageError, checkOutputPaths } from './inputs.js';

export const COMMANDS: readonly CommandSpec[] = [
  demoCommand,
  runCommand,
  compileCommand,
  importCommand,
  exportCommand,
  simCommand,
  asmCommand,
  disasmCommand,
  rtlCommand,
  verifyCommand,
  reportCommand,
  zooCommand,
  configCommand,
];

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function oneLine(message: string): string {
  return message
    .replace(/:\s*\n\s*/g, ': ')
    .replace(/\s*\n\s*/g, '; ')
    .trim();
}

/** Run the CLI on `argv` (without node and script); returns the exit code. Never throws. */
export async function runNibble(argv: string[], commands: readonly CommandSpec[] = COMMANDS): Promise<number> {
  let cli = yargs(argv)
    .scriptName('nibble')
    .usage('$0 <command> [options]\n\nCo-design toolkit for 4-bit integer-only neural-network accelerators.')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .strict()
    .recommendCommands()
    .demandCommand(1, 'give a command')
    .version(packageVersion())
    .help()
    .alias('h', 'help')
    // Usage errors become CliUsageError (exit 1, one line); errors from handlers pass through.
    .fail((msg, err) => {
      if (err) throw err;
      const name = argv[0] ?? '';
      const known = commands.some((c) => c.command.split(' ')[0] === name);
      const text = /^Did you mean/.test(msg)
        ? `unknown command '${name}': ${msg.charAt(0).toLowerCase()}${msg.slice(1)}`
        : msg;
      throw new CliUsageError(`${text} (see nibble ${known ? `${name} ` : ''}--help)`);
    })
    .epilogue(
      'Exit codes: 0 ok, 1 user error (bad file, config, model, program, or usage; one line on stderr), 2 internal error (a bug: please report it).\nDocs: docs/cli.md',
    );
  for (const c of commands) {
    cli = cli.command(c.command, c.describe, c.builder, async (args) => {
      checkOutputPaths(args as Record<string, unknown>);
      return c.handler(args as Record<string, unknown>);
    });
  }
  try {
    await cli.parseAsync();
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (e) {
    if (e instanceof ExitCodeError) {
      if (e.line) process.stderr.write(`nibble: error: ${oneLine(e.line)}\n`);
      return e.code;
    }
    if (isNibbleError(e)) {
      process.stderr.write(`nibble: error: ${oneLine(e.message)}\n`);
      return EXIT_USER_ERROR;
    }
    const stack = e instanceof Error ? (e.stack ?? e.message) : String(e);
    process.stderr.write(
      `nibble: internal error: ${stack}\nThis is a bug in nibble. Please report it with the command line you ran.\n`,
    );
    return EXIT_INTERNAL_ERROR;
  }
}
