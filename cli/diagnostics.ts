/**
 * How the CLI shows diagnostics: `nibble: error[NB-S004]: ...` and
 * `nibble: warning[NB-I103]: ...`, `nibble: note[NB-R201]: ...`, one line each,
 * with the stable code of arch/diagnostics.ts that `nibble explain CODE`
 * describes. Warnings and notes can be suppressed by code (`--suppress
 * CODE,...` or NIBBLE_SUPPRESS); errors cannot. They are printed by
 * Terminal.warn / notice / reportNote (cli/terminal.ts), which holds the set.
 */
import {
  DIAGNOSTICS,
  isDiagnosticCode,
  normalizeDiagnosticCode,
  type DiagnosticCode,
  type SuppressibleCode,
} from '../arch/index.js';
import { CliUsageError } from './inputs.js';

export function errorLine(code: DiagnosticCode, message: string): string {
  return `nibble: error[${code}]: ${message}`;
}

/** A code as typed by a user (`s004`, `NB-S004`), checked against the registry. */
export function parseDiagnosticCode(typed: string, where: string): DiagnosticCode {
  const code = normalizeDiagnosticCode(typed);
  if (!isDiagnosticCode(code))
    throw new CliUsageError(
      `${where}: unknown diagnostic code '${typed}' (nibble explain --list shows them all)`,
      undefined,
      'NB-U001',
    );
  return code;
}

/**
 * The warning codes to suppress: the --suppress values (each may be a comma
 * list) and the NIBBLE_SUPPRESS variable. An unknown code or an error's code is
 * a usage error, so a typo never silently suppresses nothing.
 */
export function parseSuppressions(values: readonly string[], env: string | undefined): Set<SuppressibleCode> {
  const out = new Set<SuppressibleCode>();
  const add = (list: string, where: string) => {
    for (const typed of list.split(',')) {
      if (typed.trim() === '') continue;
      const code = parseDiagnosticCode(typed, where);
      if (DIAGNOSTICS[code].severity === 'error')
        throw new CliUsageError(
          `${where}: ${code} is an error (${DIAGNOSTICS[code].summary}); only warnings and notes can be suppressed`,
          undefined,
          'NB-U002',
        );
      out.add(code as SuppressibleCode);
    }
  };
  if (env) add(env, 'NIBBLE_SUPPRESS');
  for (const v of values) add(v, '--suppress');
  return out;
}
