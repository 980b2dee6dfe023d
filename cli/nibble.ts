/**
 * The `nibble` program: yargs set-up, command registry and the exit-code
 * policy. cli/main.ts is only the executable entry point, so tests (and other
 * tools) can run the CLI with extra or replaced commands.
 */
import { readFileSync } from 'node:fs';
import yargs, { type Argv } from 'yargs';
import { didYouMean, isNibbleError } from '../arch/index.js';
import type { CommandSpec } from './command.js';
import { asmCommand } from './commands/asm.js';
import { compileCommand } from './commands/compile.js';
import { configCommand } from './commands/config.js';
import { demoCommand } from './commands/demo.js';
import { disasmCommand } from './commands/disasm.js';
import { exportCommand } from './commands/export.js';
import { fpgaCommand } from './commands/fpga.js';
import { importCommand } from './commands/import.js';
import { reportCommand } from './commands/report.js';
import { rtlCommand } from './commands/rtl.js';
import { runCommand } from './commands/run.js';
import { simCommand } from './commands/sim.js';
import { sweepCommand } from './commands/sweep.js';
import { workerCommand } from './commands/worker.js';
import { compareCommand } from './commands/compare.js';
import { verifyCommand } from './commands/verify.js';
import { zooCommand } from './commands/zoo.js';
import { EXIT_INTERNAL_ERROR, EXIT_OK, EXIT_USER_ERROR, ExitCodeError } from './exit.js';
import { CliUsageError, checkOutputPaths } from './inputs.js';
import { setVerbosity } from './terminal.js';

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
  fpgaCommand,
  verifyCommand,
  reportCommand,
  zooCommand,
  configCommand,
  sweepCommand,
  workerCommand,
  compareCommand,
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

/** Run the CLI on `argv` (without node and script); returns the exit code. Never throws. */
export async function runNibble(argv: string[], commands: readonly CommandSpec[] = COMMANDS): Promise<number> {
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
      return built;
    };
    cli = cli.command(c.command, c.describe, builder, async (args) => {
      setVerbosity(args['quiet'] ? 'quiet' : args['verbose'] ? 'verbose' : 'normal');
      checkOutputPaths(args as Record<string, unknown>, c.outputKinds);
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
