/** formatNumber (cli/terminal.ts) prints what toLocaleString('en-US') does, without starting Intl. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatNumber } from '../../cli/terminal.js';

/** The Intl-based formatting formatNumber replaced: the oracle. */
function viaIntl(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x)) return x.toLocaleString('en-US');
  const abs = Math.abs(x);
  if (abs >= 100) return x.toLocaleString('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 });
  if (abs >= 1) return x.toFixed(3);
  return x.toPrecision(3);
}

describe('formatNumber', () => {
  it('matches toLocaleString on integers, halves, ties and large values', () => {
    const cases = [
      0,
      -0,
      7,
      -7,
      999,
      1000,
      -1000,
      1234567,
      2 ** 53,
      -(2 ** 53),
      1e15,
      1e21,
      1.5e22,
      100.05,
      100.25,
      100.95,
      999.95,
      99999.95,
      -100.05,
      -999.95,
      123.45,
      0.5,
      1.0005,
      3.14159,
      NaN,
      Infinity,
      -Infinity,
      1e14 + 0.5,
      902996913977941.1,
      99999999999999.95,
    ];
    for (const x of cases) expect(formatNumber(x), String(x)).toBe(viaIntl(x));
  });

  it('matches toLocaleString on random doubles and integers', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double({ noNaN: true }), fc.integer(), fc.double({ min: 100, max: 1e16 })), (x) => {
        expect(formatNumber(x)).toBe(viaIntl(x));
      }),
      { numRuns: 5000 },
    );
  });
});
