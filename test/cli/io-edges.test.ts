/**
 * The file-system and stream edges of issue 16, each reproduced case as a
 * test: outputs under files, devices, FIFOs, /proc, full and read-only disks,
 * broken and full stdout, deep nesting, and all-or-none multi-output commands.
 * Full and read-only disks are small tmpfs mounts inside a private user and
 * mount namespace (unshare -rm), so nothing outside the test is touched.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_CONFIG } from '../../arch/index.js';
import { generateVerilog } from '../../rtl-gen/index.js';
import { AUTHORS_MODEL, BIN, ensureBuilt, expectUserError, nibble, type RunResult } from './nibble.js';

let tmp: string;
let prog: string;

beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'nibble-io-edges-'));
  prog = join(tmp, 'm.nbl');
  expect((await nibble(['compile', AUTHORS_MODEL, '-o', prog])).code).toBe(0);
  writeFileSync(join(tmp, 'afile'), 'x');
});

const noTemps = (dir: string) => expect(readdirSync(dir).filter((f) => f.includes('nibble-tmp'))).toEqual([]);

/** Can this machine give a test its own tmpfs mounts? */
const NAMESPACES =
  spawnSync('unshare', ['-rm', 'sh', '-c', 'mount -t tmpfs -o size=16k tmpfs /mnt'], {
    encoding: 'utf8',
  }).status === 0;
if (!NAMESPACES)
  console.warn(
    '[test/cli/io-edges] the full-disk and read-only-disk runs need unshare -rm (user namespaces); ENOSPC is still tested with /dev/full and an injected disk (test/io)',
  );

/**
 * Run nibble with DISK (in its arguments, $D in `setup`) a 16 KiB tmpfs, read-only when `readOnly`,
 * after the `setup` shell commands; `show` names a file on the disk whose text is returned.
 */
function onSmallDisk(
  args: string[],
  opts: { readOnly?: boolean; setup?: string; show?: string } = {},
): RunResult & { ls: string; shown: string } {
  const disk = join(tmp, `disk-${Math.random().toString(36).slice(2)}`);
  mkdirSync(disk);
  const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  const script = [
    `D=${quote(disk)}`,
    'mount -t tmpfs -o size=16k tmpfs "$D"',
    opts.setup ?? 'true',
    opts.readOnly ? 'mount -o remount,ro "$D"' : 'true',
    `{ NO_COLOR=1 ${quote(process.execPath)} ${quote(BIN)} ${args.map((a) => quote(a.replace('DISK', disk))).join(' ')} 2>"$D.err"; echo $? > "$D.code"; }`,
    'ls -RA "$D" > "$D.ls"',
    opts.show ? `cat "$D/${opts.show}" > "$D.shown"` : 'true',
  ].join(' && ');
  spawnSync('unshare', ['-rm', 'sh', '-c', script], { encoding: 'utf8', timeout: 60_000 });
  const read = (ext: string) => (existsSync(`${disk}.${ext}`) ? readFileSync(`${disk}.${ext}`, 'utf8') : '');
  return { code: Number(read('code')), stdout: '', stderr: read('err'), ls: read('ls'), shown: read('shown') };
}

describe('an output that cannot be written is one line, before any work', () => {
  test('a parent that is a regular file (ENOTDIR), for every writer', async () => {
    const under = join(tmp, 'afile', 'out');
    const reason = /afile\/out: cannot write: .*afile is a file, not a directory/;
    expectUserError(await nibble(['config', '-o', under]), reason);
    expectUserError(await nibble(['compile', AUTHORS_MODEL, '-o', under]), reason);
    expectUserError(await nibble(['compile', AUTHORS_MODEL, '-o', join(tmp, 'ok.nbl'), '--listing', under]), reason);
    expectUserError(await nibble(['sim', prog, '--trace', under]), reason);
    expectUserError(await nibble(['disasm', prog, '-o', under]), reason);
    expectUserError(await nibble(['zoo', 'export', 'mnist', '-o', under]), reason);
    expectUserError(await nibble(['report', prog, '-o', under]), reason);
    expectUserError(
      await nibble(['rtl', '-o', join(under, 'rtl')]),
      /afile\/out\/rtl: cannot create the directory: .*afile is a file, not a directory/,
    );
    expect(existsSync(join(tmp, 'ok.nbl'))).toBe(false);
  });

  test('rtl -o onto a file (EEXIST)', async () =>
    expectUserError(
      await nibble(['rtl', '-o', join(tmp, 'afile')]),
      /afile: cannot write the output directory: a file of this name already exists \(EEXIST\)/,
    ));

  test('a missing directory is named, never created (not even under /proc, where mkdir -p hung)', async () => {
    expectUserError(
      await nibble(['config', '-o', join(tmp, 'nodir', 'c.json')], { timeoutMs: 20_000 }),
      /nodir\/c\.json: cannot write: the directory .*nodir does not exist \(create it first\)/,
    );
    expect(existsSync(join(tmp, 'nodir'))).toBe(false);
    expectUserError(
      await nibble(['compile', AUTHORS_MODEL, '-o', '/proc/nonexistent/x.nbl'], { timeoutMs: 20_000 }),
      /\/proc\/nonexistent\/x\.nbl: cannot write: the directory \/proc\/nonexistent does not exist/,
    );
    expectUserError(
      await nibble(['rtl', '-o', '/proc/nonexistent/rtl'], { timeoutMs: 20_000 }),
      /\/proc\/nonexistent\/rtl: cannot create a directory in \/proc/,
    );
  });

  test('a directory output is created with its missing parents, as one piece, and says so', async () => {
    const r = await nibble(['rtl', '-o', join(tmp, 'build', 'rtl')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/written to .*build\/rtl \(created .*build\)/);
    const expected = generateVerilog(DEFAULT_CONFIG).files.map((f) => f.name);
    expect(readdirSync(join(tmp, 'build', 'rtl')).sort()).toEqual(expected.sort());
    noTemps(tmp);
  });

  test('devices as outputs: /dev/null takes it, /dev/full is one line', async () => {
    expect((await nibble(['config', '-o', '/dev/null'])).code).toBe(0);
    expectUserError(
      await nibble(['config', '-o', '/dev/full']),
      /\/dev\/full: cannot write: no space left on the device \(ENOSPC\)/,
    );
  });

  test.skipIf(!NAMESPACES)('a full disk (ENOSPC): nothing half-written, an old file kept', () => {
    const r = onSmallDisk(['rtl', '-o', 'DISK/rtl']);
    expectUserError(
      r,
      /rtl\/nibble_\w+\.v: cannot write: no space left on the device \(ENOSPC\); no output was written/,
      'NB-F005',
    );
    expect(r.ls.trim()).toMatch(/:$/); // the disk is empty: no directory, no temporary file
    const z = onSmallDisk(['zoo', 'export', 'mnist', '-o', 'DISK/m.json'], {
      setup: 'echo old > "$D/m.json"',
      show: 'm.json',
    });
    expectUserError(z, /m\.json: cannot write: no space left on the device \(ENOSPC\)/);
    expect(z.shown).toBe('old\n');
    expect(z.ls).not.toMatch(/nibble-tmp/);
  });

  test.skipIf(!NAMESPACES)('a read-only file system (EROFS)', () => {
    expectUserError(
      onSmallDisk(['rtl', '-o', 'DISK/rtl'], { readOnly: true }),
      /disk-.*\/rtl: cannot write into .*: the file system is read-only \(EROFS\)/,
    );
    expectUserError(
      onSmallDisk(['config', '-o', 'DISK/c.json'], { readOnly: true }),
      /c\.json: cannot write into .*: the file system is read-only \(EROFS\)/,
    );
  });
});

describe('several outputs: all or none', () => {
  test('compile -o out.nbl --listing BAD keeps the old out.nbl', async () => {
    const out = join(tmp, 'keep.nbl');
    writeFileSync(out, 'old');
    expectUserError(
      await nibble(['compile', AUTHORS_MODEL, '-o', out, '--listing', join(tmp, 'nodir', 'x.s')]),
      /nodir\/x\.s: cannot write: the directory/,
    );
    expect(readFileSync(out, 'utf8')).toBe('old');
    // a listing path that is a directory: refused before compiling, nothing replaced
    mkdirSync(join(tmp, 'listing.s'));
    expectUserError(
      await nibble(['compile', AUTHORS_MODEL, '-o', out, '--listing', join(tmp, 'listing.s')]),
      /listing\.s: cannot write: this is a directory/,
    );
    expect(readFileSync(out, 'utf8')).toBe('old');
    noTemps(tmp);
  });

  test('sim --trace t.json --vcd BAD keeps the old t.json', async () => {
    const t = join(tmp, 't.json');
    writeFileSync(t, 'old trace');
    expectUserError(
      await nibble(['sim', prog, '--trace', t, '--vcd', '/dev/full', '--engine', 'cycle']),
      /\/dev\/full: cannot write: no space left on the device/,
    );
    expect(readFileSync(t, 'utf8')).toBe('old trace');
    noTemps(tmp);
  });

  test.skipIf(!NAMESPACES)('rtl -o over an existing directory on a full disk keeps every old file whole', () => {
    const r = onSmallDisk(['rtl', '-o', 'DISK/rtl'], {
      setup:
        'mkdir "$D/rtl" && for f in nibble_pe nibble_queue nibble_sdp_ram nibble_top; do echo old > "$D/rtl/$f.v"; done',
      show: 'rtl/nibble_top.v',
    });
    expectUserError(r, /no space left on the device \(ENOSPC\); no output was written/);
    expect(r.shown).toBe('old\n');
    expect(r.ls).not.toMatch(/nibble-tmp/);
  });
});

describe('standard output', () => {
  test('stdout to a full disk is one line and exit 1; a closed pipe stays quiet', () => {
    const full = spawnSync('sh', ['-c', `${process.execPath} ${BIN} config > /dev/full`], { encoding: 'utf8' });
    expect(full.status).toBe(1);
    expect(full.stderr).toBe(
      'nibble: error[NB-F005]: cannot write to standard output: no space left on the device (ENOSPC)\n',
    );
    const pipe = spawnSync('bash', ['-c', `${process.execPath} ${BIN} zoo list | head -1; exit \${PIPESTATUS[0]}`], {
      encoding: 'utf8',
    });
    expect(pipe.status).toBe(0);
    expect(pipe.stderr).toBe('');
    expect(pipe.stdout.split('\n').length).toBe(2);
  });
});

describe('inputs that are not regular files, too big, or too deep', () => {
  test('/dev/zero, /dev/urandom and a FIFO are refused as any input, at once', async () => {
    const fifo = join(tmp, 'fifo');
    spawnSync('mkfifo', [fifo]);
    const cases: [string[], RegExp][] = [
      [['config', '/dev/zero'], /\/dev\/zero: cannot read config file: a character device, not a regular file/],
      [
        ['compile', '/dev/urandom', '--format', 'json', '-o', join(tmp, 'z.nbl')],
        /cannot read model file: a character/,
      ],
      [['run', '--model', fifo, '--format', 'integernet'], /fifo: cannot read model file: a FIFO \(named pipe\)/],
      [['sim', fifo], /fifo: cannot read program file: a FIFO/],
      [['sim', fifo, '--format', 'json'], /fifo: cannot read model file: a FIFO/],
      [['sim', prog, '--input', '/dev/zero'], /\/dev\/zero: cannot read input file: a character device/],
      [['sim', prog, '--energy', fifo], /fifo: cannot read energy table: a FIFO/],
      [['report', prog, '--resources', '/dev/zero', '-o', join(tmp, 'r.html')], /cannot read resources file/],
      [['asm', fifo, '-o', join(tmp, 'a.nbl')], /fifo: cannot read assembly file: a FIFO/],
      [['compile', AUTHORS_MODEL, '--config', '/dev/urandom', '-o', join(tmp, 'z.nbl')], /cannot read config file/],
    ];
    for (const [args, re] of cases) expectUserError(await nibble(args, { timeoutMs: 20_000 }), re);
  });

  test('--input nested 10,000 deep and a model with residual blocks nested 2,000 deep are errors, not stack overflows', async () => {
    const deep = join(tmp, 'deep.json');
    writeFileSync(deep, `{"input": ${'['.repeat(10_000)}${']'.repeat(10_000)}}`);
    expectUserError(
      await nibble(['sim', prog, '--input', deep]),
      /deep\.json:1:\d+: not valid JSON: nested deeper than 256 levels/,
    );
    let layers = '[{"kind": "flatten", "name": "f"}]';
    for (let i = 0; i < 2000; i++)
      layers = `[{"kind": "residual", "name": "r${i}", "main": ${layers}, "shortcut": []}]`;
    const model = join(tmp, 'nested.json');
    writeFileSync(
      model,
      `{"format": "nibble-model", "version": 1, "name": "n", "weightBits": 4, "accumulatorBits": 32, "input": {"channels": 1, "height": 2, "width": 2, "bits": 4, "signed": false}, "layers": ${layers}}`,
    );
    expectUserError(
      await nibble(['compile', model, '-o', join(tmp, 'n.nbl')]),
      /nested\.json:1:\d+: not valid JSON: nested deeper than 256 levels/,
    );
  });
});

test.sequential('cleanup', () => rmSync(tmp, { recursive: true, force: true }));
