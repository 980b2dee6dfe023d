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

describe.skipIf(!haveModel)("nibble run --engine reference (authors' MNIST model)", () => {
  test('--json: accuracy on the first 500 test images, outputs saved', async () => {
    const out = join(tmp, 'outputs.json');
    const r = await nibble([
      'run',
      '--model',
      AUTHORS_MODEL,
      '--format',
      'integernet',
      '--dataset',
      'mnist-test',
      '--limit',
      '500',
      '--engine',
      'reference',
      '--json',
      '--save-outputs',
      out,
    ]);
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

  test(
    '--engine sim: worker threads give the same outputs and cycles as one thread; batches and a partial last batch',
    { timeout: 180_000 },
    async () => {
      const args = ['run', '--model', AUTHORS_MODEL, '--engine', 'sim', '--limit', '520', '--batch', '7', '--json'];
      const one = join(tmp, 'one.json');
      const many = join(tmp, 'many.json');
      const a = await nibble([...args, '--save-outputs', one], { env: { NIBBLE_WORKERS: '1' } });
      const b = await nibble([...args, '--save-outputs', many], { env: { NIBBLE_WORKERS: '2' } });
      expect(a.code, a.stderr).toBe(0);
      expect(b.code, b.stderr).toBe(0);
      const da = JSON.parse(a.stdout);
      const db = JSON.parse(b.stdout);
      expect(da.sim.workers).toBe(1);
      expect(db.sim.workers).toBe(2);
      expect(db.correct).toBe(da.correct);
      expect(db.sim.cycles).toBe(da.sim.cycles);
      expect(db.sim.energyUj).toBeCloseTo(da.sim.energyUj, 6);
      expect(readFileSync(many, 'utf8')).toBe(readFileSync(one, 'utf8'));
      // bit-exact with the reference executor
      const ref = join(tmp, 'ref.json');
      expect((await nibble(['run', '--model', AUTHORS_MODEL, '--limit', '520', '--save-outputs', ref])).code).toBe(0);
      expect(readFileSync(ref, 'utf8')).toBe(readFileSync(one, 'utf8'));
      expect(da.sim.batch).toBe(7);
      expect(da.sim.latencyUs).toBeCloseTo(da.sim.batchCycles / 500, 6);
      expect(da.sim.energyPerInferenceUj).toBeGreaterThan(0);
      expect(da.sim.requantPerInference.multiplierPj).toBeGreaterThan(da.sim.requantPerInference.shiftPj);
      // --check runs the reference next to the simulator and requires identical outputs
      const c = await nibble([
        'run',
        '--model',
        AUTHORS_MODEL,
        '--engine',
        'sim',
        '--limit',
        '60',
        '--batch',
        '7',
        '--check',
        '--json',
      ]);
      expect(c.code, c.stderr).toBe(0);
      expect(JSON.parse(c.stdout).check).toEqual({ bitExact: true, mismatchedImages: 0, firstMismatches: [] });
    },
  );

  test('--check needs --engine sim', async () => {
    expectUserError(await nibble(['run', '--model', AUTHORS_MODEL, '--limit', '3', '--check']), /--engine sim/);
  });

  test('--limit 0 is a usage error', async () => {
    expectUserError(await nibble(['run', '--model', AUTHORS_MODEL, '--limit', '0']), /limit/);
  });
});
