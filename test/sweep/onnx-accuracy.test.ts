/**
 * Sweeps over ONNX and .nbm models, and the accuracy objective: an ONNX file
 * is imported at each point's own widths (a width it cannot be lowered to is
 * a failed point naming the config field), accuracy is the network's top-1 on
 * the spec's dataset, measured once per network.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ModelError } from '../../arch/index.js';
import {
  datasetAccuracy,
  exportQonnx,
  importOnnxGraph,
  loadDataset,
  readOnnxGraph,
  saveModelBinary,
  zooNetwork,
} from '../../models/index.js';
import {
  LocalExecutor,
  ModelCache,
  parseSpec,
  runSweep,
  SweepSpecError,
  type SweepRunOptions,
} from '../../sweep/index.js';
import { thrownMessage } from '../thrown.js';

const inline: SweepRunOptions['executor'] = (opts) => new LocalExecutor(1, opts);

function folder() {
  const dir = mkdtempSync(join(tmpdir(), 'nibble-sweep-onnx-'));
  const net = zooNetwork('mnist', { seed: 3 });
  const onnx = exportQonnx(net);
  writeFileSync(join(dir, 'net.onnx'), onnx);
  saveModelBinary(join(dir, 'net.nbm'), net);
  return { dir, net, onnx };
}

describe('ONNX and .nbm models in a sweep', () => {
  test('imported per point for its widths; accuracy on the dataset; a machine too narrow fails that point only', async () => {
    const { dir, onnx } = folder();
    const file = join(dir, 'space.yaml');
    const text = [
      'models: [net.onnx, {file: net.nbm}]',
      'axes:',
      '  array.size: [8, 16]',
      '  bits.weight: [2, 4]',
      'dataset: mnist-test:200',
      'objectives: [latency, accuracy]',
      '',
    ].join('\n');
    writeFileSync(file, text);
    const spec = parseSpec(text, file);
    expect(spec.models.map((m) => (m.kind === 'file' ? m.format : m.kind))).toEqual(['onnx', 'nbm']);
    expect(spec.dataset).toEqual({ name: 'mnist-test', limit: 200 });
    const run = await runSweep(spec, { outDir: join(dir, 'out'), executor: inline });
    expect(run.records).toHaveLength(8);
    const lowered = importOnnxGraph(readOnnxGraph(onnx, 'net.onnx'), { weightBits: 4, activationBits: 4 });
    const expected = datasetAccuracy({ ...lowered.network, host: lowered.host }, loadDataset('mnist-test', 200));
    const of = (label: string, w: number) =>
      run.records.filter((r) => r.model === label && r.params['bits.weight'] === w);
    for (const [label, w] of [
      ['net.onnx', 4],
      ['net.onnx', 2],
      ['net.nbm', 4],
      ['net.nbm', 2],
    ] as const)
      expect(of(label, w), `${label} at ${w}-bit weights`).toHaveLength(2);
    for (const r of of('net.onnx', 4)) {
      expect(r.status).toBe('ok');
      expect(r.metrics.accuracy).toBe(expected.accuracy);
      expect(r.metrics.latency).toBeGreaterThan(0);
    }
    // 4-bit weights do not fit a 2-bit machine: the config field to raise
    for (const r of [...of('net.onnx', 2), ...of('net.nbm', 2)]) {
      expect(r.status).toBe('failed');
      expect(r.stage).toBe('compile');
      expect(r.reason).toBe(
        "network 'mnist-28': weights are 4 bits (weightBits) but bits.weight is 2: raise bits.weight to 4",
      );
    }
    // the same network from .nbm: the same accuracy (its integer semantics)
    for (const r of of('net.nbm', 4)) expect(r.metrics.accuracy).toBe(expected.accuracy);
  });

  test('an ONNX file that changed since the sweep started is a failed point, never a wrong one', () => {
    const { dir } = folder();
    const ref = { kind: 'file' as const, path: join(dir, 'net.onnx'), format: 'onnx' as const };
    expect(
      thrownMessage(() => new ModelCache().get(ref, 'deadbeefdeadbeef', { weight: 4, activation: 4 }), ModelError),
    ).toMatch(/^net\.onnx: the model changed since the sweep started \(hash [0-9a-f]{16}, expected deadbeefdeadbeef\)/);
  });

  test('spec errors: accuracy without a dataset, an unknown dataset, a bad limit, an unknown format', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'nibble-spec-')), 'space.yaml');
    const err = (t: string) => thrownMessage(() => parseSpec(t, file), SweepSpecError);
    expect(err('models: [mnist]\nobjectives: [latency, accuracy]\n')).toBe(
      `${file}:2:23: objectives.1: accuracy needs a dataset to measure it on: add dataset: mnist-test[:LIMIT]`,
    );
    expect(err('models: [mnist]\nconstraints: ["accuracy >= 0.9"]\n')).toMatch(
      /:2:15: constraints\.0: accuracy needs a dataset to measure it on/,
    );
    expect(err('models: [mnist]\ndataset: mnist-tset\n')).toBe(
      `${file}:2:10: dataset: unknown dataset "mnist-tset" (did you mean mnist-test?); datasets: mnist-test, mnist-train`,
    );
    expect(err('models: [mnist]\ndataset: {name: mnist-test, limit: 0}\n')).toMatch(
      /dataset\.limit: the limit must be a positive integer, got 0$/,
    );
    expect(err('models: [{file: net.bin, format: onxx}]\n')).toMatch(
      /models\.0\.format: unknown model format "onxx"; formats: json, integernet, nbm, onnx$/,
    );
  });
});
