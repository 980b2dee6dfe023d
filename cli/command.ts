/** The shape every subcommand module exports, so main.ts can register them uniformly. */
import type { Argv } from 'yargs';
import type { OutputKind } from '../io/index.js';

export interface CommandSpec {
  /** yargs command string, e.g. 'compile <model>' */
  command: string;
  describe: string;
  builder: (y: Argv) => Argv;
  // yargs hands over the parsed options; each command narrows them itself.
  handler: (args: Record<string, unknown>) => Promise<void>;
  /** output options that name a directory rather than a file (checked before the handler runs) */
  outputKinds?: Partial<Record<'output' | 'log-dir', OutputKind>>;
}

/** Options shared by most commands. */
export function withJson(y: Argv): Argv {
  return y.option('json', {
    type: 'boolean',
    default: false,
    describe: 'print one JSON document on stdout (and nothing else there)',
  });
}

export function withConfig(
  y: Argv,
  describe = 'ArchConfig JSON file or preset:NAME (arch/presets.ts; default: the built-in default config)',
): Argv {
  return y.option('config', { type: 'string', describe, normalize: true });
}

export function withFormat(y: Argv): Argv {
  return y.option('format', {
    type: 'string',
    choices: ['integernet', 'json', 'nbm', 'onnx'],
    describe: 'model file format (default: from the content, else the extension: .txt, .json, .nbm, .onnx)',
  });
}

/** Typed accessors for the parsed options (yargs has already checked types and choices). */
export function str(args: Record<string, unknown>, key: string): string | undefined {
  const v = args[key];
  return v === undefined || v === null ? undefined : String(v);
}

export function bool(args: Record<string, unknown>, key: string): boolean {
  return args[key] === true;
}
