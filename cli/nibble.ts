/**
 * The `nibble` program: yargs set-up, command registry and the exit-code
 * policy. cli/main.ts is only the executable entry point, so tests (and other
 * tools) can run the CLI with extra or replaced commands.
 */
import yargs, { type Argv } from 'yargs';
import { didYouMean, isNibbleError } from '../arch/index.js';
import type { CommandSpec } from './command.js';
import { EXIT_INTERNAL_ERROR, EXIT_OK, EXIT_USER_ERROR, ExitCodeError } from './exit.js';
import { CliUsageError, checkOutputPaths } from './inputs.js';
import { errorLine, parseSuppressions } from './diagnostics.js';
import { sourceMappedStack } from './stack.js';
import { setSuppressed, setVerbosity } from './terminal.js';
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
  fpga: async () => (await import('./commands/fpga.js')).fpgaCommand,
  verify: async () => (await import('./commands/verify.js')).verifyCommand,
  report: async () => (await import('./commands/report.js')).reportCommand,
  zoo: async () => (await import('./commands/zoo.js')).zooCommand,
  config: async () => (await import('./commands/config.js')).configCommand,
  sweep: async () => (await import('./commands/sweep.js')).sweepCommand,
  worker: async () => (await import('./commands/worker.js')).workerCommand,
  compare: async () => (await import('./commands/compare.js')).compareCommand,
  explain: async () => (await import('./commands/explain.js')).explainCommand,
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

/**
 * yargs's "Unknown arguments: batc, engin" as "unknown option --batc (did you
 * mean --batch?)" for the ones typed as options; undefined if none was.
 */
function unknownOptions(msg: string, argv: readonly string[], known: readonly string[]): string | undefined {
  const m = /^Unknown arguments?: (.+)$/.exec(msg);
  if (!m) return undefined;
  const names = m[1]!.split(', ');
  const typed = (n: string) => argv.some((a) => a === `--${n}` || a.startsWith(`--${n}=`) || a === `-${n}`);
  if (!names.some(typed)) return undefined;
  const parts = names.map((n) =>
    typed(n)
      ? `unknown option ${n.length === 1 ? '-' : '--'}${n}${didYouMean(n, known).replace(/mean (\S+)\?/, 'mean --$1?')}`
      : `unexpected argument '${n}'`,
  );
  return parts.join('; ');
}

/** yargs's "Invalid values: Argument: engine, Given: "cycl", Choices: ..." as one line with a suggestion. */
function invalidChoice(msg: string): string | undefined {
  const m = /^Invalid values:\s*Argument: (\S+), Given: "(.*)", Choices: (.*)$/s.exec(msg.trim());
  if (!m) return undefined;
  const choices = [...m[3]!.matchAll(/"([^"]*)"/g)].map((c) => c[1]!);
  return `--${m[1]} ${JSON.stringify(m[2])} is not one of ${choices.join(', ')}${didYouMean(m[2]!, choices)}`;
}

/** What skipHelpCache reaches of yargs's internals (not in @types/yargs). */
interface YargsInternals {
  getInternalMethods?(): { getUsageInstance?(): { cacheHelpMessage?: () => void } };
}

/**
 * yargs renders a command's whole help text before running its handler, to
 * show it should the handler fail later (about 15 ms and most of a small
 * run's garbage: string-width on every word). nibble never shows help on a
 * failure (its fail() turns every failure into one line), so that rendering
 * is skipped; `--help` renders as before.
 */
function skipHelpCache(y: Argv): void {
  const usage = (y as unknown as YargsInternals).getInternalMethods?.().getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => undefined;
}

/** Run the CLI on `argv` (without node and script); returns the exit code. Never throws. */
export async function runNibble(argv: string[], given?: readonly CommandSpec[]): Promise<number> {
  const commands = given ?? (await commandsFor(argv));
  let cli = yargs(argv)
    .scriptName('nibble')
    .usage('$0 <command> [options]\n\nCo-design toolkit for 4-bit integer-only neural-network accelerators.')
    // Numbers stay as typed, so a bad one is echoed verbatim ("--images abc", not NaN).
    .parserConfiguration({ 'parse-numbers': false, 'parse-positional-numbers': false })
    .wrap(process.stdout.columns ? Math.min(process.stdout.columns, 140) : 100)
    .strict()
    .recommendCommands()
    .demandCommand(1, 'give a command')
    .option('quiet', {
      alias: 'q',
      type: 'boolean',
      global: true,
      describe: 'print results and errors only (no progress, steps or notes)',
    })
    .option('verbose', {
      alias: 'v',
      type: 'boolean',
      global: true,
      describe: 'also print every step with its time, even when stderr is not a terminal',
    })
    .option('suppress', {
      type: 'string',
      requiresArg: true,
      global: true,
      describe: 'do not print warnings with this code (repeat, or CODE,CODE; also NIBBLE_SUPPRESS); see nibble explain',
    })
    .version(packageVersion())
    .help()
    .alias('h', 'help')
    // Usage errors become CliUsageError (exit 1, one line); errors from handlers pass through.
    .fail((msgIn, err) => {
      // yargs's own usage errors (YError, e.g. "Not enough arguments following: seed") are usage errors too.
      if (err && err.name !== 'YError') throw err;
      const msg = msgIn ?? err?.message ?? 'bad usage';
      const name = argv[0] ?? '';
      const known = commands.some((c) => c.command.split(' ')[0] === name);
      const text = /^Did you mean/.test(msg)
        ? `unknown command '${name}': ${msg.charAt(0).toLowerCase()}${msg.slice(1)}`
        : (unknownOptions(msg, argv, activeOptions) ??
          invalidChoice(msg) ??
          msg.replace(/^Not enough arguments following: (\S+)$/, (_, o: string) => `--${o} needs a value`));
      throw new CliUsageError(`${text} (see nibble ${known ? `${name} ` : ''}--help)`);
    })
    .epilogue(
      'Exit codes: 0 ok, 1 user error (bad file, config, model, program, or usage; one line on stderr), 2 internal error (a bug: please report it).\nDocs: docs/cli.md',
    );
  // The options of the command being parsed, for did-you-mean on a mistyped one.
  let activeOptions: string[] = [];
  for (const c of commands) {
    const builder = (y: Argv): Argv => {
      const built = c.builder(y);
      // getOptions() is public yargs API that @types/yargs does not declare.
      const opts = (built as unknown as { getOptions(): { key: Record<string, unknown> } }).getOptions();
      activeOptions = Object.keys(opts.key).filter((k) => k.length > 1);
      skipHelpCache(built);
      return built;
    };
    cli = cli.command(c.command, c.describe, builder, async (args) => {
      setVerbosity(args['quiet'] ? 'quiet' : args['verbose'] ? 'verbose' : 'normal');
      setSuppressed(parseSuppressions([args['suppress'] ?? []].flat().map(String), process.env['NIBBLE_SUPPRESS']));
      checkOutputPaths(args as Record<string, unknown>, c.outputKinds);
      return c.handler(args as Record<string, unknown>);
    });
  }
  try {
    await cli.parseAsync();
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (e) {
    if (e instanceof ExitCodeError) {
      if (e.line) process.stderr.write(`${errorLine(e.diagnostic, oneLine(e.line))}\n`);
      return e.code;
    }
    if (isNibbleError(e)) {
      process.stderr.write(`${errorLine(e.code, oneLine(e.message))}\n`);
      return EXIT_USER_ERROR;
    }
    const stack = e instanceof Error ? sourceMappedStack(e.stack ?? e.message) : String(e);
    process.stderr.write(
      `nibble: internal error: ${stack}\nThis is a bug in nibble. Please report it with the command line you ran.\n`,
    );
    return EXIT_INTERNAL_ERROR;
  }
}
