import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CONFIG,
  configHash,
  deriveArch,
  parseConfigJson,
  resolveConfig,
  validateConfig,
  type ArchConfig,
} from '../../arch/config.js';
import { ConfigError } from '../../arch/errors.js';

function configError(edit: (c: ArchConfig) => void): string {
  const c = structuredClone(DEFAULT_CONFIG);
  edit(c);
  try {
    validateConfig(c);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('config accepted');
}

describe('ArchConfig validation', () => {
  it('accepts the default config', () => {
    const cfg = structuredClone(DEFAULT_CONFIG);
    expect(validateConfig(cfg)).toBe(cfg);
    expect(resolveConfig(undefined)).toEqual(DEFAULT_CONFIG);
  });

  it('rejects zero', () => {
    expect(configError((c) => (c.scratchpad.accEntries = 0))).toBe(
      'config.scratchpad.accEntries: must be in [2, 1048576], got 0',
    );
    expect(configError((c) => (c.queues.load = 0))).toBe('config.queues.load: must be in [1, 256], got 0');
  });

  it('rejects non-powers of two', () => {
    expect(configError((c) => (c.scratchpad.inputEntries = 1000))).toMatch(
      /^config\.scratchpad\.inputEntries: must be a power of two/,
    );
    expect(configError((c) => (c.dram.sizeBytes = 3 << 20))).toMatch(
      /^config\.dram\.sizeBytes: must be a power of two/,
    );
  });

  it('rejects a weight buffer too small for one tile', () => {
    expect(configError((c) => (c.scratchpad.weightEntries = 8))).toBe(
      'config.scratchpad.weightEntries: 8 entries cannot hold one 16x16 weight tile (needs 16)',
    );
  });

  it('accepts rectangular arrays and derives each side where it belongs', () => {
    const cfg = resolveConfig({ array: { rows: 32, cols: 8 } });
    expect(deriveArch(cfg)).toMatchObject({
      rows: 32,
      cols: 8,
      dramLanes: 32,
      dramEntryBytes: 16,
      inpEntryBytes: 16,
      wgtEntryBytes: 4,
      outEntryBytes: 4,
      accEntryBytes: 32,
      paramEntryBytes: 64,
      gemmDepth: 42,
    });
    expect(configError((c) => (c.array.cols = 12))).toMatch(/^config\.array\.cols: must be a power of two/);
    expect(configError((c) => ((c.array.rows = 2), (c.bits.activation = 3)))).toBe(
      'config.bits.activation: array.rows x bits.activation = 6 bits is not a whole number of bytes',
    );
    expect(configError((c) => ((c.array.cols = 2), (c.bits.weight = 8), (c.bits.activation = 3)))).toBe(
      'config.bits.activation: array.cols x bits.activation = 6 bits is not a whole number of bytes',
    );
    expect(configError((c) => ((c.array.rows = 64), (c.scratchpad.weightEntries = 32)))).toBe(
      'config.scratchpad.weightEntries: 32 entries cannot hold one 64x16 weight tile (needs 64)',
    );
  });

  it('rejects non-integers, wrong types and missing groups', () => {
    expect(configError((c) => (c.dram.latency = 2.5))).toBe('config.dram.latency: must be an integer, got 2.5');
    expect(configError((c) => ((c.bits as unknown as Record<string, unknown>).weight = '4'))).toBe(
      'config.bits.weight: must be an integer, got "4"',
    );
    expect(configError((c) => delete (c as Partial<ArchConfig>).queues)).toBe('config.queues: must be an object');
    expect(configError((c) => ((c as { gemmBeside: unknown }).gemmBeside = 1))).toBe(
      'config.gemmBeside: must be true or false, got 1',
    );
    expect(configError((c) => ((c as { techNodeNm: number }).techNodeNm = 7))).toMatch(
      /^config\.techNodeNm: must be 45, 28 or 22/,
    );
  });

  it('rejects unknown fields', () => {
    expect(() => resolveConfig({ scratchpad: { inputEntrys: 4096 } }, 'my.json')).toThrow(
      /^my\.json: scratchpad\.inputEntrys: unknown field 'inputEntrys' \(did you mean inputEntries\?\) \(known: inputEntries, weightEntries/,
    );
    expect(() => resolveConfig({ arrays: {} })).toThrow(/^config\.arrays: unknown field 'arrays'/);
    expect(() => parseConfigJson('{ "array": ', 'c.json')).toThrow(/^c\.json:1:12: not valid JSON/);
  });

  it('rejects duplicate keys, names the file in range errors, and bounds clockMHz', () => {
    expect(() => parseConfigJson('{"clockMHz": 100,\n "clockMHz": 200}', 'c.json')).toThrow(
      /^c\.json:2:2: not valid JSON: duplicate key "clockMHz" in the top-level object/,
    );
    expect(() => parseConfigJson('{"array": {"rows": 16, "rows": 8}}', 'c.json')).toThrow(
      /^c\.json:1:24: not valid JSON: duplicate key "rows" in array/,
    );
    expect(() => parseConfigJson('{"dram": {"latency": 0}}', 'c.json')).toThrow(
      /^c\.json: dram\.latency: must be in \[1, 1000\], got 0$/,
    );
    for (const bad of ['5e-324', '0', '-1', '1e400', '20000'])
      expect(() => parseConfigJson(`{"clockMHz": ${bad}}`, 'c.json')).toThrow(
        /^c\.json: clockMHz: must be a number of MHz in \[0\.001, 10000\]/,
      );
    expect(() => resolveConfig({ clockMhz: 100 }, 'c.json')).toThrow(
      /unknown field 'clockMhz' \(did you mean clockMHz\?\)/,
    );
  });

  it('derives widths and hashes stably', () => {
    const a = deriveArch(DEFAULT_CONFIG);
    expect(a).toMatchObject({
      rows: 16,
      cols: 16,
      inpAddrBits: 11,
      accAddrBits: 10,
      dramAddrBits: 28,
      dimBits: 12,
      gemmDepth: 34,
      inpEntryBytes: 8,
      paramEntryBytes: 128,
    });
    const reordered = JSON.parse(JSON.stringify({ ...DEFAULT_CONFIG, array: { cols: 16, rows: 16 } })) as ArchConfig;
    expect(configHash(reordered)).toBe(configHash(DEFAULT_CONFIG));
    expect(configHash({ ...DEFAULT_CONFIG, requantStages: 2 })).not.toBe(configHash(DEFAULT_CONFIG));
    expect(configHash(DEFAULT_CONFIG)).toMatch(/^[0-9a-f]{16}$/);
  });
});
