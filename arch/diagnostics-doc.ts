/**
 * Generates docs/diagnostics.md from the registry (arch/diagnostics.ts), so the
 * reference a user looks a code up in can never drift from what nibble prints.
 */
import { DIAGNOSTIC_AREAS, DIAGNOSTICS, diagnosticCodes } from './diagnostics.js';

const cell = (s: string) => s.replace(/\|/g, '\\|');

export function renderDiagnosticsMarkdown(): string {
  const out: string[] = [
    '# Diagnostics',
    '',
    '<!-- generated from arch/diagnostics.ts by test/arch/diagnostics.test.ts (UPDATE_DOCS=1 npx vitest run test/arch/diagnostics.test.ts); do not edit -->',
    '',
    'Every error, warning and note nibble prints carries a stable code, in one line on stderr (real output):',
    '',
    '```',
    '$ nibble sim missing.nbl',
    'nibble: error[NB-F001]: missing.nbl: program file not found',
    '$ nibble asm leftover.s -o leftover.nbl   # NOP unit=load push_next; HALT',
    'nibble: warning[NB-I103]: tokens pushed but never popped: 1 on load->compute',
    '```',
    '',
    "A code is `NB-`, an area letter and three digits: `x000` is the area's general",
    'code, `0xx` are errors, `1xx` warnings, `2xx` notes (something you may not expect,',
    'but nothing wrong; a note inside a report reads `  note[CODE]: ...`). A code keeps its meaning for good, so',
    'scripts and tests can match on it. `nibble explain CODE` prints the explanation',
    'below; `nibble explain --list` lists every code.',
    '',
    "Warnings can be suppressed by code, as Verilator's `-Wno-CODE`: `--suppress CODE`",
    '(repeatable, or `CODE,CODE`) on any command, or `NIBBLE_SUPPRESS=CODE,CODE` in the',
    'environment. An unknown code, or the code of an error, is a usage error (NB-U001,',
    'NB-U002): an error always stops the command. `--quiet` hides every warning.',
    '',
    '## Areas',
    '',
    '| letter | area |',
    '|---|---|',
    ...Object.entries(DIAGNOSTIC_AREAS).map(([k, v]) => `| ${k} | ${v} |`),
    '',
    '## Codes',
    '',
    '| code | severity | summary |',
    '|---|---|---|',
    ...diagnosticCodes().map(
      (c) => `| [${c}](#${c.toLowerCase()}) | ${DIAGNOSTICS[c].severity} | ${cell(DIAGNOSTICS[c].summary)} |`,
    ),
    '',
  ];
  for (const c of diagnosticCodes()) {
    const d = DIAGNOSTICS[c];
    out.push(`### ${c}`, '', `**${d.severity}**: ${d.summary}.`, '', d.explanation, '');
  }
  return out.join('\n');
}
