import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { AUTHORS_MODEL, ensureBuilt, expectUserError, nibble } from './nibble.js';

const haveModel = existsSync(AUTHORS_MODEL);
if (!haveModel) console.warn(`[test/cli/run] SKIPPED: the authors' model is not at ${AUTHORS_MODEL}`);
let tmp: string;

beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'nibble-run-'));
});

describe.skipIf(!haveModel)('nibble run --engine reference (authors\' MNIST model)', () => {
  test('--json: accuracy on the first 500 test images, outputs saved', async () => {
    const out = join(tmp, 'outputs.json');
    const r = await nibble(['run', '--model', AUTHORS_MODEL, '--format', 'integernet', '--dataset', 'mnist-test', '--limit', '500', '--engine', 'reference', '--json', '--save-outputs', out]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.images).toBe(500);
    expect(doc.correct).toBeGreaterThan(490);
    expect(doc.accuracy).toBeCloseTo(doc.correct / 500, 10);
    expect(doc.reference.macsPerInference).toBe(697088);
    const outputs = JSON.parse(readFileSync(out, 'utf8')) as number[][];
    expect(outputs).toHaveLength(500);
    expect(outputs[0]).toHaveLength(10);
    for (const row of outputs) for (const v of row) expect(Number.isInteger(v) && v >= -7 && v <= 7).toBe(true);
  });

  test('human output, format from the extension', async () => {
    const r = await nibble(['run', '--model', AUTHORS_MODEL, '--limit', '100']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/top-1 accuracy\s+\d+\.\d\d %/);
  });

  test('--limit 0 is a usage error', async () => {
    expectUserError(await nibble(['run', '--model', AUTHORS_MODEL, '--limit', '0']), /limit/);
  });
});
