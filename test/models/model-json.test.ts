import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ModelError } from '../../arch/errors.js';
import { loadIntegerNetFile } from '../../models/integernet.js';
import { LAYER_KINDS } from '../../models/layers/index.js';
import { loadModelJson, loadModelJsonFile, saveModelJson } from '../../models/model-json.js';
import { runReferenceLayers } from '../../models/reference.js';
import { randomCaseArb } from './random-networks.js';
import { AUTHORS_MODEL } from '../reference-data.js';
import { thrownMessage } from '../thrown.js';

const modelError = (f: () => unknown): string => thrownMessage(f, ModelError);

describe('JSON model round trip', () => {
  it('save -> load gives the same network, and saving again the same text (random networks)', () => {
    fc.assert(
      fc.property(randomCaseArb, ({ net }) => {
        const text = saveModelJson(net);
        const back = loadModelJson(text);
        expect(back).toEqual(net);
        expect(saveModelJson(back)).toBe(text);
      }),
      { numRuns: 200, seed: 7 },
    );
  });

  it("round-trips the authors' MNIST model", () => {
    const net = loadIntegerNetFile(AUTHORS_MODEL);
    expect(loadModelJson(saveModelJson(net))).toEqual(net);
  });
});

/** A valid document to corrupt: conv -> requant -> residual -> requant -> flatten -> dense -> requant. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a loose document that the tests corrupt field by field
function doc(): any {
  const conv = (name: string, ci: number, co: number, k: number, s: number, p: number) => ({
    kind: 'conv2d',
    name,
    inChannels: ci,
    outChannels: co,
    kernelH: k,
    kernelW: k,
    strideH: s,
    strideW: s,
    padH: p,
    padW: p,
    weights: new Array(co * ci * k * k).fill(1),
  });
  const requant = (name: string, c: number, signed = false) => ({
    kind: 'requant',
    name,
    signed,
    bits: 4,
    bias: new Array(c).fill(0),
    shift: new Array(c).fill(3),
  });
  return {
    format: 'nibble-model',
    version: 1,
    name: 'doc',
    weightBits: 4,
    accumulatorBits: 32,
    input: { channels: 1, height: 4, width: 4, bits: 8, signed: false },
    layers: [
      conv('conv1', 1, 2, 3, 1, 1),
      requant('rq1', 2),
      {
        kind: 'residual',
        name: 'block1',
        main: [conv('b1', 2, 2, 3, 2, 1), requant('b_rq', 2), conv('b2', 2, 2, 3, 1, 1)],
        shortcut: conv('b_sc', 2, 2, 1, 2, 0),
      },
      requant('rq2', 2),
      { kind: 'maxpool', name: 'pool1', kernel: 2, stride: 2 },
      { kind: 'flatten', name: 'flat' },
      { kind: 'dense', name: 'fc1', inFeatures: 2, outFeatures: 3, weights: [1, -1, 2, -2, 3, -3] },
      requant('rq3', 3, true),
    ],
  };
}

const load = (d: unknown) => loadModelJson(JSON.stringify(d, null, 1), 'net.json');

describe('loadModelJson rejects bad files, naming the place', () => {
  it('accepts the base document', () => {
    expect(load(doc()).layers.length).toBe(8);
  });

  it('not JSON at all', () => {
    expect(modelError(() => loadModelJson('hello', 'net.json'))).toBe(
      "net.json:1:1: not valid JSON: expected a value, got 'h'",
    );
  });

  it('syntax error with line and column', () => {
    expect(modelError(() => loadModelJson('{\n  "format": "nibble-model",\n  "version" 1\n}', 'net.json'))).toBe(
      "net.json:3:13: not valid JSON: expected ':' after the key, got '1'",
    );
    expect(modelError(() => loadModelJson('[1, 2,]', 'net.json'))).toBe(
      "net.json:1:7: not valid JSON: a trailing comma before ']'",
    );
  });

  it('truncated file', () => {
    const text = saveModelJson(load(doc()));
    const cut = text.slice(0, text.lastIndexOf(',', 300) + 1);
    const lines = cut.split('\n');
    expect(modelError(() => loadModelJson(cut, 'net.json'))).toBe(
      `net.json:${lines.length}:${lines[lines.length - 1]!.length + 1}: not valid JSON: unexpected end of the file (is it truncated?)`,
    );
  });

  it('pathologically deep nesting is a located syntax error, not a stack overflow', () => {
    expect(modelError(() => loadModelJson('['.repeat(100_000), 'net.json'))).toBe(
      'net.json:1:257: not valid JSON: nested deeper than 256 levels of arrays and objects',
    );
  });

  it('duplicate keys are an error, not last-one-wins', () => {
    const text = JSON.stringify(doc(), null, 1).replace('"name": "', '"name": "first", "name": "');
    expect(modelError(() => loadModelJson(text, 'net.json'))).toMatch(
      /^net\.json:\d+:\d+: not valid JSON: duplicate key "name" in the top-level object/,
    );
  });

  it('a layer without a kind says the kind is missing', () => {
    const d = doc();
    delete (d.layers[0] as Record<string, unknown>)['kind'];
    expect(modelError(() => load(d))).toMatch(/layer 0 .*kind.*missing: every layer names its kind \(conv2d, /);
  });

  it('not a model object', () => {
    expect(modelError(() => loadModelJson('[1,2]', 'net.json'))).toBe(
      'net.json: expected a nibble model (a JSON object), got an array',
    );
  });

  it('wrong format', () => {
    expect(modelError(() => load({ ...doc(), format: 'onnx' }))).toBe(
      'net.json: field format: expected "nibble-model", got the string "onnx" (not a nibble model file?)',
    );
  });

  it('wrong version', () => {
    expect(modelError(() => load({ ...doc(), version: 2 }))).toBe(
      'net.json: field version: unsupported version number 2: this build reads version 1',
    );
  });

  it('missing and extra top-level fields', () => {
    const d = doc();
    delete d.accumulatorBits;
    expect(modelError(() => load(d))).toBe('net.json: field accumulatorBits: missing (required for a nibble model)');
    expect(modelError(() => load({ ...doc(), comment: 'x' }))).toMatch(
      /^net.json: field comment: unknown field for a nibble model/,
    );
  });

  it('bad input description', () => {
    const d = doc();
    d.input.bits = 6;
    expect(modelError(() => load(d))).toBe('net.json: input: field bits: must be 4 or 8, got 6');
    const e = doc();
    e.input.depth = 1;
    expect(modelError(() => load(e))).toMatch(/^net.json: input: field depth: unknown field for the input description/);
  });

  it('missing file', () => {
    expect(modelError(() => loadModelJsonFile('/nonexistent/net.json'))).toBe('/nonexistent/net.json: file not found');
  });
});

describe('loadModelJson rejects bad layers, naming the layer and field', () => {
  // the registry's kinds in registry order (test/models/layer-registry.test.ts pins the list itself)
  const kinds = LAYER_KINDS.join(', ');
  it('unknown layer kind', () => {
    const d = doc();
    d.layers[4].kind = 'avgpool';
    expect(modelError(() => load(d))).toBe(
      `net.json: layer 4 'pool1': field kind: unknown layer kind the string "avgpool" (expected one of ${kinds})`,
    );
  });

  it('a kind named like an Object property is unknown too (not a TypeError)', () => {
    for (const kind of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const d = doc();
      d.layers[4].kind = kind;
      expect(modelError(() => load(d))).toBe(
        `net.json: layer 4 'pool1': field kind: unknown layer kind the string "${kind}" (expected one of ${kinds})`,
      );
    }
  });

  it('missing layer parameter', () => {
    const d = doc();
    delete d.layers[0].strideW;
    expect(modelError(() => load(d))).toBe(
      "net.json: layer 0 'conv1': field strideW: missing (required for a conv2d layer)",
    );
  });

  it('extra layer parameter', () => {
    const d = doc();
    d.layers[4].padding = 0;
    expect(modelError(() => load(d))).toBe(
      "net.json: layer 4 'pool1': field padding: unknown field for a maxpool layer (allowed: kind, name, kernel, stride)",
    );
  });

  it('wrong types', () => {
    const d = doc();
    d.layers[4].stride = '2';
    expect(modelError(() => load(d))).toBe(
      'net.json: layer 4 \'pool1\': field stride: expected an integer, got the string "2"',
    );
    const b = doc();
    b.layers[1].signed = 0;
    expect(modelError(() => load(b))).toBe(
      "net.json: layer 1 'rq1': field signed: expected true or false, got number 0",
    );
    const w = doc();
    w.layers[6].weights = '1,2,3';
    expect(modelError(() => load(w))).toBe(
      'net.json: layer 6 \'fc1\': field weights: expected an array of integers, got the string "1,2,3"',
    );
    const f = doc();
    f.layers[6].weights[2] = 1.5;
    expect(modelError(() => load(f))).toBe(
      "net.json: layer 6 'fc1': field weights[2]: expected an integer, got number 1.5",
    );
    const n = doc();
    n.layers[5].name = 7;
    expect(modelError(() => load(n))).toBe(
      'net.json: layer 5 (unnamed): field name: expected a non-empty string, got number 7',
    );
  });

  it('weight count does not match the shape', () => {
    const d = doc();
    d.layers[0].weights.pop();
    expect(modelError(() => load(d))).toBe(
      "net.json: layer 0 'conv1': field weights: expected 18 values (outChannels x inChannels x kernelH x kernelW = 2x1x3x3), got 17",
    );
  });

  it('weight out of range', () => {
    const d = doc();
    d.layers[6].weights[4] = -8;
    expect(modelError(() => load(d))).toBe(
      "net.json: layer 6 'fc1': field weights[4]: value -8 is outside [-7, 7] for weightBits 4",
    );
  });

  it('requant bias/shift mismatch and shift range', () => {
    const d = doc();
    d.layers[3].shift.push(1);
    expect(modelError(() => load(d))).toBe(
      "net.json: layer 3 'rq2': field shift: expected 2 values (one per channel, as many as bias), got 3",
    );
    const s = doc();
    s.layers[3].shift[1] = 40;
    expect(modelError(() => load(s))).toBe("net.json: layer 3 'rq2': field shift[1]: value 40 is outside [-31, 31]");
  });

  it('shape errors found by network analysis keep the file name', () => {
    const d = doc();
    d.layers[6].inFeatures = 3;
    d.layers[6].weights.push(0, 0, 0);
    expect(modelError(() => load(d))).toBe(
      "net.json: layer 6 'fc1': field inFeatures: is 3 but the input has 2 features",
    );
    const c = doc();
    c.layers[1].bias.push(0);
    c.layers[1].shift.push(0);
    expect(modelError(() => load(c))).toBe(
      "net.json: layer 1 'rq1': field bias: expected 2 values (one per channel), got 3",
    );
  });

  it('errors inside a residual name the nested layer', () => {
    const d = doc();
    d.layers[2].main[2].weights[0] = 9;
    expect(modelError(() => load(d))).toBe(
      "net.json: layer 2 'block1' main[2] 'b2': field weights[0]: value 9 is outside [-7, 7] for weightBits 4",
    );
    const s = doc();
    s.layers[2].shortcut.kind = 'dense';
    expect(modelError(() => load(s))).toMatch(
      /^net.json: layer 2 'block1' shortcut 'b_sc': field inFeatures: missing \(required for a dense layer\)/,
    );
  });
});

describe('docs/model-format.md', () => {
  const docText = readFileSync(fileURLToPath(new URL('../../docs/model-format.md', import.meta.url)), 'utf8');

  it('has an example that loads and produces the documented per-layer values', () => {
    const json = /```json\n([\s\S]*?)```/.exec(docText)![1]!;
    const net = loadModelJson(json, 'docs example');
    expect(saveModelJson(net)).toBe(json);
    const image = Uint8Array.from({ length: 16 }, (_, i) => 10 * i);
    const traces = runReferenceLayers(net, image, 1).layers;
    for (const t of traces) {
      const row = new RegExp(`^\\| ${t.name} \\| (act|acc)[^|]*\\| (\\d+)x(\\d+)x(\\d+) \\| (.*) \\|$`, 'm').exec(
        docText,
      );
      expect(row, `table row for ${t.name}`).not.toBeNull();
      expect(row![1]).toBe(t.value.kind);
      const documented = row![5]!.replace(/[`/]/g, ' ').trim().split(/\s+/).map(Number);
      expect(documented, t.name).toEqual(Array.from(t.data));
    }
  });
});
