/**
 * The diagnostic registry (arch/diagnostics.ts): well-formed codes, every code
 * used by the source and every error class with its own code, docs/diagnostics.md
 * generated from it, and --suppress parsing.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DIAGNOSTIC_AREAS,
  DIAGNOSTICS,
  ModelError,
  NibbleError,
  SimError,
  diagnosticCodes,
  isWarningCode,
  normalizeDiagnosticCode,
  packageRoot,
  renderDiagnosticsMarkdown,
} from '../../arch/index.js';
import { parseSuppressions } from '../../cli/diagnostics.js';
import { ExitCodeError } from '../../cli/exit.js';
import { thrownDiagnostic } from '../thrown.js';

const ROOT = packageRoot();
const SOURCE_DIRS = [
  'arch',
  'io',
  'isa',
  'sim',
  'compiler',
  'rtl-gen',
  'cosim',
  'fpga',
  'models',
  'cli',
  'bench',
  'sweep',
];

function sources(): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('.d.ts'))
        out.push({ file: relative(ROOT, p), text: readFileSync(p, 'utf8') });
    }
  };
  for (const d of SOURCE_DIRS) walk(join(ROOT, d));
  return out;
}

describe('diagnostic registry', () => {
  const codes = diagnosticCodes();

  it('codes are NB-, a known area letter and three digits: 0xx errors, 1xx warnings, 2xx notes', () => {
    for (const c of codes) {
      const m = /^NB-([A-Z])(\d)\d\d$/.exec(c);
      expect(m, c).not.toBeNull();
      expect(Object.keys(DIAGNOSTIC_AREAS), c).toContain(m![1]);
      expect(DIAGNOSTICS[c].severity, c).toBe(m![2] === '1' ? 'warning' : m![2] === '2' ? 'note' : 'error');
      expect(DIAGNOSTICS[c].summary, c).toMatch(/[^.]$/);
      expect(DIAGNOSTICS[c].explanation.length, c).toBeGreaterThan(40);
    }
  });

  it('every code is used by the source, outside the registry', () => {
    const text = sources()
      .filter((s) => !s.file.startsWith(join('arch', 'diagnostics')))
      .map((s) => s.text)
      .join('\n');
    const unused = codes.filter((c) => !text.includes(`'${c}'`));
    expect(unused).toEqual([]);
  });

  it('every error class names its own default code (no class falls back to NB-E000)', () => {
    const classes: string[] = [];
    for (const { file, text } of sources()) {
      for (const m of text.matchAll(/export class (\w+) extends (\w*Error)\b[^{]*\{([\s\S]*?)\n\}/g)) {
        if (m[2] === 'Error' || m[1] === 'ExitCodeError') continue;
        classes.push(m[1]!);
        expect(m[3], `${file}: class ${m[1]}`).toMatch(
          /static override readonly defaultCode: DiagnosticCode = 'NB-[A-Z]\d{3}'/,
        );
      }
    }
    // the classes of arch/errors.ts and the packages above it
    expect(classes).toEqual(
      expect.arrayContaining(['ModelError', 'SimError', 'FileError', 'CliUsageError', 'QueueError']),
    );
  });

  it('no error, warning or note line is printed without its code', () => {
    // a string or template literal that starts (after spaces, or a `nibble: `-like prefix) with
    // `error:`, `warning:` or `note:` is a diagnostic line without a code: `error[NB-...]:` is the form
    const NOT_DIAGNOSTICS: Record<string, string> = {
      'cli/report/html.ts': "the HTML report page's own script logs the browser's errors into the page",
      'rtl-gen/driver/sources.ts':
        "the generated C driver (nibble_run) names the device's error bits on the board host",
      'bench/report.ts': "`note:` lines of a bench section's report are measurement remarks (docs/performance.md)",
    };
    const uncoded: string[] = [];
    for (const { file, text } of sources()) {
      const posix = file.split('\\').join('/');
      if (Object.hasOwn(NOT_DIAGNOSTICS, posix)) continue;
      text.split('\n').forEach((line, i) => {
        if (/[`'"](?:\s*|[\w:.-]+: )(?:error|warning|note): /.test(line))
          uncoded.push(`${posix}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(uncoded).toEqual([]);
    // the allowance list only shrinks: each entry still matches
    for (const file of Object.keys(NOT_DIAGNOSTICS))
      expect(readFileSync(join(ROOT, file), 'utf8')).toMatch(/[`'"](?:\s*|[\w:.-]+: )(?:error|warning|note): /);
  });

  it('an error carries the code given, else its class default', () => {
    expect(new ModelError('bad').code).toBe('NB-M000');
    expect(new SimError('x', 'instruction 3', 'NB-S004')).toMatchObject({
      code: 'NB-S004',
      message: 'instruction 3: x',
    });
    expect(new NibbleError('x').code).toBe('NB-E000');
    expect(new ExitCodeError(1, 'verification failed').diagnostic).toBe('NB-V000');
  });

  it('docs/diagnostics.md is generated from the registry (regenerate: UPDATE_DOCS=1 npx vitest run test/arch/diagnostics.test.ts)', () => {
    const path = join(ROOT, 'docs/diagnostics.md');
    const fresh = renderDiagnosticsMarkdown();
    if (process.env['UPDATE_DOCS']) writeFileSync(path, fresh);
    expect(readFileSync(path, 'utf8')).toBe(fresh);
    for (const c of codes) expect(fresh).toContain(`### ${c}\n`);
  });
});

describe('--suppress and NIBBLE_SUPPRESS', () => {
  it('take warning codes, in any case, with or without NB-, as lists', () => {
    expect([...parseSuppressions(['nb-i103,I101', 'NB-P101'], 'S101')].sort()).toEqual([
      'NB-I101',
      'NB-I103',
      'NB-P101',
      'NB-S101',
    ]);
    expect(normalizeDiagnosticCode(' s004 ')).toBe('NB-S004');
    expect(isWarningCode('NB-I103')).toBe(true);
    expect(isWarningCode('NB-S004')).toBe(false);
  });

  it('refuse an unknown code (NB-U001) and an error code (NB-U002)', () => {
    expect(thrownDiagnostic(() => parseSuppressions(['NB-I999'], undefined))).toEqual({
      code: 'NB-U001',
      message: "--suppress: unknown diagnostic code 'NB-I999' (nibble explain --list shows them all)",
    });
    expect(thrownDiagnostic(() => parseSuppressions([], 'NB-S004'))).toEqual({
      code: 'NB-U002',
      message: 'NIBBLE_SUPPRESS: NB-S004 is an error (accumulator overflow); only warnings and notes can be suppressed',
    });
  });
});
