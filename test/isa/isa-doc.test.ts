import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../arch/config.js';
import { assembleProgram, checkTokenBalance, renderIsaMarkdown } from '../../isa/index.js';

const path = new URL('../../docs/isa.md', import.meta.url);

describe('docs/isa.md', () => {
  it('is up to date with the ISA table (regenerate: UPDATE_DOCS=1 npx vitest run test/isa/isa-doc.test.ts)', () => {
    const fresh = renderIsaMarkdown();
    if (process.env['UPDATE_DOCS']) writeFileSync(path, fresh);
    expect(readFileSync(path, 'utf8')).toBe(fresh);
  });

  it('its assembly example assembles', () => {
    const md = renderIsaMarkdown();
    const blocks = [...md.matchAll(/```\n([\s\S]*?)```/g)].map((m) => m[1]!);
    const example = blocks.find((b) => b.includes('HALT'))!;
    const code = assembleProgram(example, DEFAULT_CONFIG);
    expect(code).toHaveLength(7);
    expect(checkTokenBalance(code, { queues: DEFAULT_CONFIG.queues, strict: true }).warnings).toEqual([]);
  });

  it('renders for other configs too', () => {
    const cfg = structuredClone(DEFAULT_CONFIG);
    cfg.scratchpad.inputEntries = 256;
    expect(renderIsaMarkdown(cfg)).toMatch(/\| inp_addr \| \[\d+:\d+\] \| 8 \|/);
  });
});
