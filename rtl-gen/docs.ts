/**
 * The generated tables of docs/rtl.md: the core's named constants (coreFacts)
 * and its modules. Drift-tested by test/rtl/docs.test.ts.
 */
import { DEFAULT_CONFIG, type ArchConfig } from '../arch/index.js';
import { coreFacts } from './core-facts.js';
import { coreModules } from './generate.js';

/** Markdown table of every named constant, with its value for `cfg` (default: DEFAULT_CONFIG). */
export function renderRtlConstants(cfg: ArchConfig = DEFAULT_CONFIG): string {
  const f = coreFacts(cfg);
  const modules = coreModules(f);
  const users = (name: string) =>
    modules
      .filter((m) => !m.params.some((p) => p.name === name)) // a generic module's own parameter of that name
      .filter((m) => new RegExp(`\\b(?:parameter|localparam) ${name} =`).test(m.renderModule()))
      .map((m) => m.name.replace(/^nibble_/, ''));
  const rows = [...f.c].map((c) => `| \`${c.name}\` | ${c.value} | ${c.doc} | ${users(c.name).join(', ')} |`);
  return ['| constant | default machine | derivation | declared in (nibble_...) |', '|---|---|---|---|', ...rows].join(
    '\n',
  );
}

/** Markdown table of the core's modules: file and the first line of each module's description. */
export function renderRtlModules(cfg: ArchConfig = DEFAULT_CONFIG): string {
  const rows = coreModules(coreFacts(cfg)).map(
    (m) => `| \`${m.name}.v\` | ${m.doc.split('\n').join(' ').replace(/\|/g, '\\|')} |`,
  );
  return ['| file | what |', '|---|---|', ...rows].join('\n');
}
