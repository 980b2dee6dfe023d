/**
 * rtl-gen/shell/build-cache.ts, the one cache of every Verilator build: a
 * failed build keeps its tool log and the error names where (issue 16, item
 * 5); the core build (rtl-gen/verilator.ts) goes through it too, with its
 * stamp and the sweep of killed builds' temporary directories (issue 11).
 * The core build runs a stand-in `verilator` put first on PATH, so no real
 * build runs here.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, configHash } from '../../arch/index.js';
import { spawn, spawnSync } from 'node:child_process';
import { RtlError } from '../../arch/index.js';
import { buildVerilator, cachedBuild, cxxOptimization, runTool, verilatorBuildArgs } from '../../rtl-gen/index.js';
import { thrownMessage } from '../thrown.js';

const root = mkdtempSync(join(tmpdir(), 'nibble-build-cache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('cachedBuild', () => {
  it('keeps a failed build log beside the cache, names it in the error, and leaves no temporary directory', () => {
    const sources = [{ name: 'a.v', text: 'module a; endmodule\n' }];
    let message = '';
    try {
      cachedBuild(
        'demo',
        sources,
        () => false,
        (tmp) => runTool('sh', ['-c', 'echo the tool says why; exit 3'], tmp, 'a failing build'),
        root,
      );
    } catch (e) {
      message = (e as Error).message;
    }
    const kept = readdirSync(root);
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatch(/^demo-[0-9a-f]{16}\.failed\.sh\.log$/);
    const log = join(root, kept[0]!);
    expect(readFileSync(log, 'utf8')).toContain('the tool says why');
    expect(message).toContain(`(log: ${log})`);
    expect(message).not.toContain('.tmp-');
  });

  it('a successful build is renamed into place and reused', () => {
    const sources = [{ name: 'b.v', text: 'module b; endmodule\n' }];
    const first = cachedBuild(
      'ok',
      sources,
      (d) => existsSync(join(d, 'b.v')),
      () => undefined,
      root,
    );
    expect(first.built).toBe(true);
    const again = cachedBuild(
      'ok',
      sources,
      (d) => existsSync(join(d, 'b.v')),
      () => undefined,
      root,
    );
    expect(again).toEqual({ dir: first.dir, built: false, buildMs: 0 });
  });
});

describe('cachedBuild under parallel workers', () => {
  const sources = [{ name: 'p.v', text: 'module p; endmodule\n' }];
  const done = (d: string) => existsSync(join(d, 'p.v'));

  it('keeps the directory a parallel worker finished first (it may be running from it) and drops its own', () => {
    const dir = mkdtempSync(join(root, 'par-'));
    const first = cachedBuild('x', sources, done, () => undefined, dir);
    rmSync(first.dir, { recursive: true });
    const r = cachedBuild(
      'x',
      sources,
      done,
      () => {
        // the other worker lands the same build while this one compiles
        mkdirSync(first.dir);
        writeFileSync(join(first.dir, 'p.v'), sources[0]!.text);
        writeFileSync(join(first.dir, 'theirs'), '');
      },
      dir,
    );
    expect(r.dir).toBe(first.dir);
    expect(existsSync(join(r.dir, 'theirs'))).toBe(true);
    expect(readdirSync(dir)).toEqual([r.dir.slice(dir.length + 1)]);
  });

  it('waits while a live process holds the build lock, then uses what it built', async () => {
    const dir = mkdtempSync(join(root, 'lock-'));
    const probe = cachedBuild('y', sources, done, () => undefined, dir);
    rmSync(probe.dir, { recursive: true });
    const lock = `${probe.dir}.lock`;
    mkdirSync(lock);
    // the other builder: lands the build after a moment, then lets go of the lock
    const other = spawn('sh', ['-c', `sleep 1; mkdir "${probe.dir}"; echo x > "${probe.dir}/p.v"; rm -rf "${lock}"`], {
      stdio: 'ignore',
    });
    writeFileSync(join(lock, 'pid'), String(other.pid));
    const exited = new Promise((r) => other.on('exit', r));
    let built = 0;
    const r = cachedBuild('y', sources, done, () => void built++, dir);
    await exited;
    expect(built).toBe(0);
    expect(r).toEqual({ dir: probe.dir, built: false, buildMs: 0 });
  });

  it('takes over the lock of a process that died, builds, and lets go', () => {
    const dir = mkdtempSync(join(root, 'dead-'));
    const gone = spawnSync('true').pid;
    const probe = cachedBuild('z', sources, done, () => undefined, dir);
    rmSync(probe.dir, { recursive: true });
    mkdirSync(`${probe.dir}.lock`);
    writeFileSync(join(`${probe.dir}.lock`, 'pid'), String(gone));
    const r = cachedBuild('z', sources, done, () => undefined, dir);
    expect(r.built).toBe(true);
    expect(readdirSync(dir)).toEqual([r.dir.slice(dir.length + 1)]);
  });
});

describe('the C++ optimization of the Verilator models (NIBBLE_VERILATOR_OPT)', () => {
  it('run by default, build on request, anything else one line naming the variable', () => {
    expect(cxxOptimization({})).toBe('run');
    expect(cxxOptimization({ NIBBLE_VERILATOR_OPT: 'build' })).toBe('build');
    expect(thrownMessage(() => cxxOptimization({ NIBBLE_VERILATOR_OPT: 'fast' }), RtlError)).toBe(
      "NIBBLE_VERILATOR_OPT: must be run or build, got 'fast'",
    );
  });
});

describe('cachedBuild in place (the core build) and the stale-temp sweep', () => {
  it('one directory per name, rebuilt when the sources change (stamp), reused while they do not', () => {
    const builds: string[] = [];
    const run = (text: string) =>
      cachedBuild(
        'core',
        [{ name: 'c.v', text }],
        (d) => existsSync(join(d, 'c.v')),
        (tmp) => builds.push(tmp),
        root,
        {
          inPlace: true,
        },
      );
    const first = run('module c; endmodule\n');
    expect(first.dir).toBe(join(root, 'core'));
    expect(run('module c; endmodule\n').built).toBe(false);
    const changed = run('module c2; endmodule\n');
    expect(changed).toMatchObject({ dir: join(root, 'core'), built: true });
    expect(readFileSync(join(changed.dir, 'c.v'), 'utf8')).toBe('module c2; endmodule\n');
    expect(builds).toHaveLength(2);
  });

  it('a build removes temporary directories of killed builds older than an hour, and no others', () => {
    const old = join(root, 'killed.tmp-old');
    const fresh = join(root, 'running.tmp-new');
    mkdirSync(old);
    mkdirSync(fresh);
    const twoHoursAgo = (Date.now() - 7_200_000) / 1000;
    utimesSync(old, twoHoursAgo, twoHoursAgo);
    cachedBuild(
      'sweep',
      [{ name: 's.v', text: 'x' }],
      () => false,
      () => undefined,
      root,
    );
    expect(existsSync(old)).toBe(false);
    expect(existsSync(fresh)).toBe(true);
    rmSync(fresh, { recursive: true });
  });
});

describe('buildVerilator goes through cachedBuild', () => {
  /** runs fn with a stand-in `verilator` (a shell script) first on PATH */
  function withFakeVerilator<T>(script: string, fn: () => T): T {
    const bin = mkdtempSync(join(tmpdir(), 'nibble-fake-verilator-'));
    writeFileSync(join(bin, 'verilator'), `#!/bin/sh\n${script}\n`);
    chmodSync(join(bin, 'verilator'), 0o755);
    const path = process.env['PATH'];
    process.env['PATH'] = `${bin}:${path ?? ''}`;
    try {
      return fn();
    } finally {
      process.env['PATH'] = path;
      rmSync(bin, { recursive: true, force: true });
    }
  }
  const hash = configHash(DEFAULT_CONFIG);

  it('a failed build keeps its log as <configHash>.failed.verilator.log, names it, and leaves no temporary directory', () => {
    const cacheDir = mkdtempSync(join(root, 'core-fail-'));
    const logDir = mkdtempSync(join(root, 'core-logs-'));
    let message = '';
    withFakeVerilator('echo "%Error: nibble_top.v:1: the stand-in fails"; exit 1', () => {
      try {
        buildVerilator(DEFAULT_CONFIG, { cacheDir, logDir });
      } catch (e) {
        message = (e as Error).message;
      }
    });
    const kept = join(cacheDir, `${hash}.failed.verilator.log`);
    expect(readdirSync(cacheDir)).toEqual([`${hash}.failed.verilator.log`]);
    expect(readFileSync(kept, 'utf8')).toContain('the stand-in fails');
    expect(message).toContain(`verilator exited with 1 (log: ${kept})`);
    expect(message).toContain('the stand-in fails');
    expect(readFileSync(join(logDir, `verilator-${hash}.failed.log`), 'utf8')).toContain('the stand-in fails');
  });

  it('a build is stamped in <configHash>/ with its log, and reused', () => {
    const cacheDir = mkdtempSync(join(root, 'core-ok-'));
    const build = () =>
      withFakeVerilator('echo built; mkdir -p obj && touch obj/Vnibble_top', () =>
        buildVerilator(DEFAULT_CONFIG, { cacheDir }),
      );
    const first = build();
    expect(first).toMatchObject({
      dir: join(cacheDir, hash),
      binary: join(cacheDir, hash, 'obj', 'Vnibble_top'),
      built: true,
    });
    expect(readFileSync(join(first.dir, 'verilator.log'), 'utf8')).toContain('built');
    expect(existsSync(join(first.dir, 'stamp'))).toBe(true);
    expect(build().built).toBe(false);
    expect(readdirSync(cacheDir)).toEqual([hash]);
  });

  it('the tool versions and the command line are part of the key: another optimization level rebuilds', () => {
    const cacheDir = mkdtempSync(join(root, 'core-key-'));
    const build = () =>
      withFakeVerilator('mkdir -p obj && touch obj/Vnibble_top', () => buildVerilator(DEFAULT_CONFIG, { cacheDir }));
    const level = process.env['NIBBLE_VERILATOR_OPT'];
    try {
      process.env['NIBBLE_VERILATOR_OPT'] = 'run';
      expect(build().built).toBe(true);
      expect(build().built).toBe(false);
      process.env['NIBBLE_VERILATOR_OPT'] = 'build';
      const quick = build();
      expect(quick.built).toBe(true);
      const key = readFileSync(join(quick.dir, 'build-key.txt'), 'utf8');
      expect(key).toContain(verilatorBuildArgs('nibble_top', []).join(' '));
      expect(key).toContain('OPT_FAST=-O1');
      expect(key.split('\n')[1]).toMatch(/^g\+\+ /);
    } finally {
      if (level === undefined) delete process.env['NIBBLE_VERILATOR_OPT'];
      else process.env['NIBBLE_VERILATOR_OPT'] = level;
    }
  });
});
