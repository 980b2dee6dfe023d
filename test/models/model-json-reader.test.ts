/**
 * The fast model-JSON reader (models/model-json-reader.ts) against the strict
 * reader it stands in front of: on every document it either gives exactly the
 * strict reader's value (weights arrays as Int8Array) or declines, and it
 * declines every document the strict reader refuses, so a malformed model's
 * message is still the strict reader's, placed at file:line:col. Its weights
 * loop runs in WebAssembly (models/model-json-weights.wat) and, as the
 * fallback and the oracle, in JavaScript: both are checked.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ModelError, parseJsonStrict } from '../../arch/index.js';
import { loadModelJson, saveModelJson } from '../../models/model-json.js';
import { readModelJsonFast } from '../../models/model-json-reader.js';
import { zooNetwork } from '../../models/zoo.js';
import { randomCaseArb } from './random-networks.js';
import { thrownMessage } from '../thrown.js';

/** The strict reader's value with every weights array an Int8Array (the fast reader's form), or its error. */
function strict(text: string): { value: unknown } | { error: string } {
  try {
    return { value: typed(parseJsonStrict(text, 'x', ModelError)) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

function typed(v: unknown): unknown {
  if (v instanceof Int8Array) return v;
  if (Array.isArray(v)) return v.map(typed);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(
    Object.entries(v).map(([k, x]) => [
      k,
      k === 'weights' && Array.isArray(x) && x.every((n) => Number.isInteger(n) && n >= -128 && n <= 127)
        ? Int8Array.from(x as number[])
        : typed(x),
    ]),
  );
}

/** The fast reader agrees with the strict one: the same value, or it declines (always when the strict one refuses). */
function agrees(text: string): void {
  const s = strict(text);
  // its weights loop in WebAssembly and in JavaScript (the fallback when the .wasm file is not built)
  for (const wasm of [true, false]) {
    const fast = readModelJsonFast(text, undefined, { wasm });
    if ('error' in s) expect(fast, s.error).toBeUndefined();
    // a weights array the fast reader declines stays a plain array (the loader reads both forms alike)
    else if (fast !== undefined) expect(typed(fast)).toEqual(s.value);
  }
}

const cifarText = saveModelJson(zooNetwork('cifar10'));
const mnistText = saveModelJson(zooNetwork('mnist'));

describe('fast model-JSON reader', () => {
  it('reads what saveModelJson writes, as the strict reader does (random networks)', () => {
    fc.assert(
      fc.property(randomCaseArb, ({ net }) => {
        const text = saveModelJson(net);
        agrees(text);
        expect(loadModelJson(text)).toEqual(net);
      }),
      { numRuns: 15, seed: 11 },
    );
    // CIFAR10NET_INT (2.3 M weights): compared as JSON text, which is quicker than a deep comparison
    const plain = (_: string, v: unknown) => (v instanceof Int8Array ? Array.from(v) : v);
    const expected = JSON.stringify(JSON.parse(cifarText));
    for (const wasm of [true, false]) {
      const fast = readModelJsonFast(cifarText, undefined, { wasm });
      expect(fast).toBeDefined();
      expect(JSON.stringify(fast, plain) === expected, `wasm: ${wasm}`).toBe(true);
    }
  });

  it('declines or agrees on every corruption of a model file (deleted, inserted and replaced characters)', () => {
    const at = mnistText.indexOf('"weights"');
    const arb = fc.record({
      pos: fc.integer({ min: 0, max: 400 }),
      len: fc.integer({ min: 0, max: 3 }),
      insert: fc.string({ unit: fc.constantFrom(...'[]{},:"-0123456789.eE \n\\xu'.split('')), maxLength: 3 }),
      where: fc.constantFrom(0, at - 100, at, mnistText.length - 300),
    });
    fc.assert(
      fc.property(arb, ({ pos, len, insert, where }) => {
        const i = Math.max(0, where + pos);
        agrees(mnistText.slice(0, i) + insert + mnistText.slice(i + len));
      }),
      { numRuns: 60, seed: 5 },
    );
  });

  it('declines what only the strict reader may decide: duplicate keys, deep nesting, placeholders in strings', () => {
    const w = `[${new Array(64).fill(1).join(', ')}]`;
    const mark = JSON.stringify('\u0000nibble-int-array-0');
    for (const text of [
      `{"weights": ${w}, "weights": ${w}}`,
      `{"a": {"weights": ${w}, "b": 1, "b": 2}}`,
      `${'['.repeat(255)}{"weights": ${w}}${']'.repeat(255)}`,
      `{"weights": ${w}, "name": ${mark}}`,
      `{"name": ${mark}, "weights": ${w}}`,
      `{"s": "a\\"weights\\": ${w}"}`,
      `{"weights": ${w.replace('1,', '1.5,')}}`,
      `{"weights": ${w.replace('1,', '300,')}}`,
      `{"weights": ${w.replace('1,', '01,')}}`,
      `{"weights": ${w.replace('1,', '1,,')}}`,
    ])
      agrees(text);
    expect(readModelJsonFast(`{"s": "a\\"weights\\": ${w}"}`)).toBeUndefined();
    expect(readModelJsonFast(`{"a": [1, 2], "weights": ${w}}`)).toEqual({
      a: [1, 2],
      weights: new Int8Array(64).fill(1),
    });
  });

  it('leaves a malformed weights array to the strict reader: the message names line and column', () => {
    const cut = cifarText.replace(/("weights": \[(?:-?\d+, ){50}-?\d+)/, '$1,]');
    const where = thrownMessage(() => parseJsonStrict(cut, 'net.json', ModelError), ModelError);
    expect(where).toMatch(/^net\.json:\d+:\d+: not valid JSON: a trailing comma before '\]'$/);
    expect(thrownMessage(() => loadModelJson(cut, 'net.json'), ModelError)).toBe(where);
    const wide = cifarText.replace(/("weights": \[)-?\d+/, '$1200');
    expect(thrownMessage(() => loadModelJson(wide, 'net.json'), ModelError)).toMatch(
      /^net\.json: layer 0 'conv1': field weights\[0\]: value 200 is outside \[-7, 7\] for weightBits 4$/,
    );
  });
});
