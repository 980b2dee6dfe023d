/** docs/rtl.md's generated tables (regenerate: UPDATE_DOCS=1 npx vitest run test/rtl/docs.test.ts). */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderRtlConstants, renderRtlModules } from '../../rtl-gen/index.js';

const path = new URL('../../docs/rtl.md', import.meta.url);

/** The text with the section between `<!-- name:begin -->` and `<!-- name:end -->` replaced by `body`. */
function withSection(text: string, name: string, body: string): string {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`docs/rtl.md has no ${begin} ... ${end} section`);
  return `${text.slice(0, a + begin.length)}\n${body}\n${text.slice(b)}`;
}

describe('docs/rtl.md', () => {
  it('its module and constant tables match the generator', () => {
    const text = readFileSync(path, 'utf8');
    const fresh = withSection(
      withSection(text, 'rtl-modules', renderRtlModules()),
      'rtl-constants',
      renderRtlConstants(),
    );
    if (process.env['UPDATE_DOCS']) writeFileSync(path, fresh);
    expect(text).toBe(fresh);
  });

  it('the constants table names every constant with its value', () => {
    const t = renderRtlConstants();
    expect(t).toMatch(/\| `DIMB` \| 12 \| .* \| .*load.*\|/);
    expect(t).toMatch(/\| `CLAMP_W` \| 5 \|/);
  });
});
