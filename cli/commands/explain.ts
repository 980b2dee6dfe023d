/** `nibble explain CODE`: what a diagnostic code means and what to do; `--list` (or no code) lists them all. */
import { DIAGNOSTICS, diagnosticCodes } from '../../arch/index.js';
import { bool, str, withJson, type CommandSpec } from '../command.js';
import { parseDiagnosticCode } from '../diagnostics.js';
import { Terminal } from '../terminal.js';

export const explainCommand: CommandSpec = {
  command: 'explain [code]',
  describe: 'explain a diagnostic code (the NB-... in error[...] and warning[...] lines)',
  builder: (y) =>
    withJson(y)
      .positional('code', { type: 'string', describe: 'a code such as NB-S004 (or S004)' })
      .option('list', { type: 'boolean', default: false, describe: 'list every code with its severity and summary' })
      .example('$0 explain NB-S004', 'what an accumulator overflow is and what to do')
      .example('$0 explain --list', 'every code (docs/diagnostics.md)'),
  handler: async (args) => {
    const term = new Terminal(bool(args, 'json'));
    const typed = str(args, 'code');
    if (typed === undefined || bool(args, 'list')) {
      const rows = diagnosticCodes().map((code) => ({ code, ...DIAGNOSTICS[code] }));
      if (term.json) return term.document({ diagnostics: rows });
      term.table(
        ['code', 'severity', 'summary'],
        rows.map((r) => [r.code, r.severity, r.summary]),
      );
      term.line();
      term.line('nibble explain CODE explains one; warnings can be suppressed with --suppress CODE.');
      return;
    }
    const code = parseDiagnosticCode(typed, 'nibble explain');
    const d = DIAGNOSTICS[code];
    if (term.json) return term.document({ code, ...d });
    term.heading(`${code} (${d.severity}): ${d.summary}`);
    term.line();
    term.line(d.explanation);
    term.line();
    term.line(
      d.severity !== 'error'
        ? `Suppress it with --suppress ${code} or NIBBLE_SUPPRESS=${code}.`
        : 'An error: it cannot be suppressed.',
    );
  },
};
