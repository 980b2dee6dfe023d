import { describe, expect, test } from 'vitest';
import {
  configFromPresetReference,
  configHash,
  DEFAULT_CONFIG,
  isPresetReference,
  presetConfig,
  presetNames,
  PRESETS,
  validateConfig,
} from '../../arch/index.js';

describe('machine presets', () => {
  test('every preset is a valid config with a distinct hash and a description', () => {
    const hashes = new Set<string>();
    for (const p of PRESETS) {
      const cfg = presetConfig(p.name);
      expect(() => validateConfig(cfg)).not.toThrow();
      expect(p.description.length).toBeGreaterThan(10);
      hashes.add(configHash(cfg));
    }
    expect(hashes.size).toBe(PRESETS.length);
    expect(presetNames()).toContain('default');
    expect(presetConfig('default')).toEqual(DEFAULT_CONFIG);
  });

  test('preset:NAME references resolve; each call returns a fresh copy', () => {
    expect(isPresetReference('preset:edge')).toBe(true);
    expect(isPresetReference('edge.json')).toBe(false);
    const a = configFromPresetReference('preset:edge');
    a.array.rows = 2;
    expect(presetConfig('edge').array.rows).toBe(8);
  });

  test('an unknown preset names the known ones', () => {
    expect(() => configFromPresetReference('preset:egde')).toThrow(
      /^preset:egde: unknown preset 'egde' \(known: default, edge, large, xl, ice40-board\)$/,
    );
  });
});
