/**
 * The `nibble` program: yargs set-up, command registry and the exit-code
 * policy. cli/main.ts is only the executable entry point, so tests (and other
 * tools) can run the CLI with extra or replaced commands.
 */
import yargs from 'yargs';
import { isNibbleError } from '../arch/index.js';
import type { CommandSpec } from './command.js';
import { EXIT_INTERNAL_ERROR, EXIT_OK, EXIT_USER_ERROR, ExitCodeError } from './exit.js';
import { CliUsageError, checkOutputPaths } from './inputs.js';
import { packageVersion } from './version.js';

/**
 * Every command by name, in --help order. A command module is loaded only when
 * it runs (or for the command list of `nibble --help`), so `nibble sim` does
 * not pay for the compiler, the models, the report renderer or rtl-gen.
 * Each key is the first word of its spec's `command` (test/cli/startup.test.ts).
 */
export const COMMAND_LOADERS: Readonly<Record<string, () => Promise<CommandSpec>>> = {
  demo: async () => (await import('./commands/demo.js')).demoCommand,
  run: async () => (await import('./commands/run.js')).runCommand,
  compile: async () => (await import('./commands/compile.js')).compileCommand,
  import: async () => (await import('./commands/import.js')).importCommand,
  export: async () => (await import('./commands/export.js')).exportCommand,
  sim: async () => (await import('./commands/sim.js')).simCommand,
  asm: async () => (await import('./commands/asm.js')).asmCommand,
  disasm: async () => (await import('./commands/disasm.js')).disasmCommand,
  rtl: async () => (await import('./commands/rtl.js')).rtlCommand,
  verify: async () => (await import('./commands/verify.js')).verifyCommand,
  report: async () => (await import('./commands/report.js')).reportCommand,
  zoo: async () => (await import('./commands/zoo.js')).zooCommand,
  config: async () => (await import('./commands/config.js')).configCommand,
};

/** Load command specs (default: all of them, in --help order). */
export function loadCommands(names: readonly string[] = Object.keys(COMMAND_LOADERS)): Promise<CommandSpec[]> {
  return Promise.all(names.map((n) => COMMAND_LOADERS[n]!()));
}

/** The commands a command line needs: the one it names, or all (help, version, an unknown or missing command). */
function commandsFor(argv: readonly string[]): Promise<CommandSpec[]> {
  const name = argv[0];
  const only = name !== undefined && Object.hasOwn(COMMAND_LOADERS, name);
  return loadCommands(only ? [name] : undefined);
}

function oneLine(message: string): string {
  return message
    .replace(/:\s*\n\s*/g, ': ')
    .replace(/\s*\n\s*/g, '; ')
    .trim();
}

/** Run the CLI on `argv` (without node and script); returns the exit code. Never throws. */
export async function runNibble(argv: string[], given?: readonly CommandSpec[]): Promise<number> {
  const commands = given ?? (await commandsFor(argv));
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
