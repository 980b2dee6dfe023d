import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { configHash, contentKey, DEFAULT_CONFIG } from '../../arch/index.js';

describe('contentKey (the caches’ directory names: must not change)', () => {
  it('is the first 16 hex digits of the SHA-256 of the parts hashed in order', () => {
    const text = 'nibble_core.v\nmodule nibble_core; endmodule\n';
    expect(contentKey(text)).toBe(createHash('sha256').update(text).digest('hex').slice(0, 16));
    expect(contentKey('nibble_core.v', '\nmodule ', 'nibble_core; endmodule\n')).toBe(contentKey(text));
    expect(contentKey('µ', 'x')).toBe(createHash('sha256').update('µ').update('x').digest('hex').slice(0, 16));
  });

  it('keeps its values (a change would orphan every cache and rename the configs)', () => {
    expect(contentKey('')).toBe('e3b0c44298fc1c14');
    expect(contentKey('nibble')).toBe('32a4c20f8b4b39d7');
    // the default machine before GEMMs beside REQUANTs keeps its hash; with them (config gemmBeside) it is another
    const before = { fastPreload: false, weightBanks: 2 } as const;
    expect(configHash({ ...DEFAULT_CONFIG, ...before, gemmBeside: false })).toBe('90b53b8444bdf957');
    // and before the fast weight preload and the third weight bank (config fastPreload, weightBanks)
    expect(configHash({ ...DEFAULT_CONFIG, ...before })).toBe('d561d764d6457905');
    expect(configHash({ ...DEFAULT_CONFIG, weightBanks: 2 })).toBe('2422810e6e872dd7');
    expect(configHash(DEFAULT_CONFIG)).toBe('f9765646d11e98f6');
  });
});
