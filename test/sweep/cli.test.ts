/**
 * nibble sweep / compare / --config preset:NAME end to end (the built CLI):
 * the summary and top-N table, the results files, bad input as one line,
 * a sweep killed mid-run that resumes without recomputing or duplicating, a
 * full disk, and area in config / sim / compare.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { configHash, presetConfig } from '../../arch/index.js';
import { ensureBuilt, expectUserError, nibble, BIN } from '../cli/nibble.js';
import { expectEachPointOnce, resultLines, specDir, startNibble, waitFor } from './helpers.js';

beforeAll(async () => {
  await ensureBuilt();
}, 600_000);

const SMALL =
  'name: small\nmodels: [mnist]\naxes:\n  array.size: [4, 8, 16]\n  dram.busBytes: [4, 16]\n  scratchpad.inputEntries: [64, 2048]\nbatch: [1, 2]\n';

describe('nibble sweep', () => {
  test('runs every point on a thread pool: summary, top-N table, failed points, results files, report', async () => {
    const { dir, file, out } = specDir(SMALL);
    const r = await nibble(['sweep', file, '--out', out, '--workers', '2', '--top', '4'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^sweep small: 24 points \(3 axes, 1 model, timing engine\)/);
    expect(r.stdout).toMatch(
      /ran +24 points in [\d.]+ s on 2 workers, [\d.]+ points\/s per worker; 0 from results\.jsonl/,
    );
    expect(r.stdout).toMatch(/outcome +12 ok, 12 failed, 0 break a constraint, 0 excluded before running/);
    expect(r.stdout).toMatch(
      /top 4 by Pareto rank \(\* = on the Pareto front\)\n +rank +point +batch +latency \(us\) +energy \(uJ\) +area \(mm2\)/,
    );
    expect(r.stdout).toMatch(
      /failed points \(12\)\n +12 x compile: layer 0 'conv1': .* raise scratchpad\.inputEntries \(e\.g\. array\.size=\d+ dram\.busBytes=\d+ scratchpad\.inputEntries=64\)/,
    );
    const table = r.stdout.slice(r.stdout.indexOf('top 4'), r.stdout.indexOf('failed points'));
    expect(table.trim().split('\n')).toHaveLength(6);
    expect(resultLines(out)).toHaveLength(24);
    const csv = readFileSync(join(out, 'results.csv'), 'utf8').trimEnd().split('\n');
    expect(csv).toHaveLength(25);
    expect(existsSync(join(out, 'report.html'))).toBe(true);

    const j = await nibble(['sweep', file, '--out', out, '--json', '--top', '3', '--sort', 'energy'], { cwd: dir });
    expect(j.code, j.stderr).toBe(0);
    const doc = JSON.parse(j.stdout) as {
      ran: number;
      reused: number;
      top: { metrics: { energy: number } }[];
      pareto: unknown[];
      failures: { count: number; stage: string }[];
    };
    expect(doc.ran).toBe(0);
    expect(doc.reused).toBe(24);
    expect(doc.top).toHaveLength(3);
    expect(doc.top[0]!.metrics.energy).toBeLessThanOrEqual(doc.top[1]!.metrics.energy);
    expect(doc.pareto.length).toBeGreaterThan(0);
    expect(doc.failures).toEqual([expect.objectContaining({ count: 12, stage: 'compile' })]);
  });

  test('bad input: one line naming the place and the reason, exit 1, nothing written', async () => {
    const bad = specDir('models: [mnist]\naxes:\n  array.size: [8]\n  scratchpad.inputEntrys: [1024]\n');
    const r1 = await nibble(['sweep', bad.file, '--out', bad.out], { cwd: bad.dir });
    expectUserError(
      r1,
      /space\.yaml:4:3: axes\.scratchpad\.inputEntrys: unknown ArchConfig field 'scratchpad\.inputEntrys' \(did you mean scratchpad\.inputEntries\?\)/,
    );
    expect(existsSync(bad.out)).toBe(false);
    const imp = specDir('models: [mnist]\naxes:\n  dram.busBytes: [8, 24]\n');
    expectUserError(
      await nibble(['sweep', imp.file], { cwd: imp.dir }),
      /space\.yaml:3:22: axes\.dram\.busBytes\.1: 24 is impossible: must be a power of two/,
    );
    const empty = specDir('models: [mnist]\naxes:\n  array.size: [8, 16]\nconstraints: ["area <= 0.001"]\n');
    expectUserError(
      await nibble(['sweep', empty.file], { cwd: empty.dir }),
      /space\.yaml: the design space is empty: all 2 points break a constraint before running \('area <= 0\.001' excludes 2/,
    );
    const none = specDir('models: [mnist]\naxes:\n  array.size: []\n');
    expectUserError(
      await nibble(['sweep', none.file], { cwd: none.dir }),
      /axes\.array\.size: has no values: the design space would be empty/,
    );
    expectUserError(await nibble(['sweep', join(bad.dir, 'missing.yaml')]), /missing\.yaml: sweep spec not found/);
    const ok = specDir(SMALL);
    expectUserError(
      await nibble(['sweep', ok.file, '--sort', 'speed'], { cwd: ok.dir }),
      /--sort: unknown metric 'speed' \(metrics: cycles, latency,/,
    );
    expectUserError(
      await nibble(['sweep', ok.file, '--queue', 'redis://x:1', '--slurm', 'd'], { cwd: ok.dir }),
      /give at most one of --queue, --slurm and --collect/,
    );
    expectUserError(
      await nibble(['sweep', ok.file, '--queue', 'http://localhost:6379'], { cwd: ok.dir }),
      /--queue: expected redis:\/\/HOST:PORT\[\/DB\], got 'http:\/\/localhost:6379'/,
    );
  });

  test('a sweep killed mid-run resumes: nothing recomputed, nothing stored twice, no point missing', async () => {
    const { dir, file, out } = specDir(
      'name: killed\nmodels: [cifar10]\nbase: preset:edge\naxes:\n  dram.latency: {range: [8, 400], step: 8}\n',
    );
    const run = startNibble(['sweep', file, '--out', out, '--workers', '1'], { cwd: dir });
    await waitFor(() => resultLines(out).length >= 5 || run.child.exitCode !== null, 'the first results');
    run.child.kill('SIGKILL');
    await run.exited;
    const before = resultLines(out).length;
    expect(before).toBeGreaterThanOrEqual(5);
    expect(before).toBeLessThan(50);
    const r = await nibble(['sweep', file, '--out', out, '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { points: number; ran: number; reused: number; ok: number };
    expect(doc.points).toBe(50);
    expect(doc.reused).toBe(before);
    expect(doc.ran).toBe(50 - before);
    expectEachPointOnce(out, 50);
  });

  test('a full disk while appending: one line, only whole records on disk, the next run completes', async () => {
    const { dir, file, out } = specDir(SMALL.replace('[64, 2048]', '[2048]'));
    // ulimit -f: writes past 8 KiB fail with EFBIG, as on a full disk
    const r = await new Promise<{ code: number | null; stderr: string }>((res) => {
      const p = spawn(
        'bash',
        ['-c', `ulimit -f 16; exec "${process.execPath}" "${BIN}" sweep "${file}" --out "${out}" --workers 1`],
        {
          cwd: dir,
          env: { ...process.env, NO_COLOR: '1' },
        },
      );
      let err = '';
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      p.on('exit', (code) => res({ code, stderr: err }));
    });
    expectUserError(
      { code: r.code ?? -1, stdout: '', stderr: r.stderr },
      /results\.jsonl: cannot append a result \(EFBIG\); \d+ points are saved: fix the cause and run the same command again to resume/,
    );
    const saved = resultLines(out).length;
    expect(saved).toBeGreaterThan(0);
    expect(readFileSync(join(out, 'results.jsonl'), 'utf8').endsWith('}\n')).toBe(true);
    const again = await nibble(['sweep', file, '--out', out, '--json'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { ran: number }).ran).toBe(12 - saved);
    expectEachPointOnce(out, 12);
  });
});

describe('presets, area and compare on the command line', () => {
  test('--config preset:NAME works for config and compile; config and sim show the area', async () => {
    const c = await nibble(['config', 'preset:edge', '--json']);
    expect(c.code, c.stderr).toBe(0);
    const doc = JSON.parse(c.stdout) as { hash: string; area: { totalMm2: number; nodeNm: number } };
    expect(doc.hash).toBe(configHash(presetConfig('edge')));
    expect(doc.area.nodeNm).toBe(28);
    const text = await nibble(['config', 'preset:large']);
    expect(text.stdout).toMatch(/area +[\d.]+ mm2 at 22 nm: PE array [\d.]+, SRAM [\d.]+,/);
    const { dir } = specDir('');
    const prog = join(dir, 'm.nbl');
    const z = await nibble(['zoo', 'export', 'mnist', '-o', join(dir, 'mnist.json')]);
    expect(z.code, z.stderr).toBe(0);
    const k = await nibble(['compile', join(dir, 'mnist.json'), '--config', 'preset:edge', '-o', prog]);
    expect(k.code, k.stderr).toBe(0);
    const s = await nibble(['sim', prog, '--engine', 'timing']);
    expect(s.stdout).toMatch(/area +0\.1\d+ mm2 at 28 nm/);
    expectUserError(
      await nibble(['config', 'preset:tiny']),
      /preset:tiny: unknown preset 'tiny' \(known: default, edge, large, xl, ice40-board\)/,
    );
  });

  test('nibble compare: two machines side by side per layer; bad machines and models are one line', async () => {
    const r = await nibble(['compare', 'preset:default', 'preset:edge', 'mnist']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^mnist-28, batch 1: A = preset:default \([0-9a-f]{16}\) vs B = preset:edge \([0-9a-f]{16}\)/,
    );
    expect(r.stdout).toMatch(
      /layer +kind +MACs +cycles A +cycles B +B\/A +util A +util B +energy A \(nJ\) +energy B \(nJ\)\n +conv1 +conv2d/,
    );
    expect(r.stdout).toMatch(/area B +0\.1\d+ mm2 at 28 nm/);
    const j = await nibble(['compare', 'preset:default', 'preset:large', 'mnist', '--json', '--batch', '2']);
    const doc = JSON.parse(j.stdout) as { batch: number; layers: { a: { cycles: number }; b: { cycles: number } }[] };
    expect(doc.batch).toBe(2);
    expect(doc.layers.length).toBeGreaterThan(3);
    expect(doc.layers.every((l) => l.a.cycles > 0 && l.b.cycles > 0)).toBe(true);
    expectUserError(
      await nibble(['compare', 'preset:default', 'preset:edge', 'mnst']),
      /mnst: neither a model file nor a zoo network \(zoo: mnist, cifar10, vgg16, resnet\)/,
    );
    const { dir } = specDir('');
    const small = join(dir, 'small.json');
    writeFileSync(small, JSON.stringify({ scratchpad: { inputEntries: 64 } }));
    expectUserError(
      await nibble(['compare', 'preset:default', small, 'mnist']),
      /machine B \(.*small\.json\): layer 0 'conv1': .* raise scratchpad\.inputEntries/,
    );
  });
});
