import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUS_FIELDS } from '../../arch/bus.js';
import { DEFAULT_CONFIG, deriveArch } from '../../arch/config.js';

const md = readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8');

describe('docs/config.md', () => {
  it('documents every ArchConfig field and every derived number', () => {
    for (const [k, v] of Object.entries(DEFAULT_CONFIG)) {
      if (typeof v === 'object') for (const kk of Object.keys(v)) expect(md).toContain(`| \`${k}.${kk}\` |`);
      else expect(md).toContain(`| \`${k}\` |`);
    }
    for (const k of Object.keys(deriveArch(DEFAULT_CONFIG)))
      if (!['weightBits', 'activationBits', 'accBits'].includes(k)) expect(md).toContain(`\`${k}\``);
    for (const k of BUS_FIELDS) expect(md).toContain(`| \`bus.${k}\` |`);
  });
});
