import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { ensureBuilt, expectUserError, nibble, REPO } from './nibble.js';

const COMMANDS = ['demo', 'run', 'compile', 'sim', 'asm', 'disasm', 'rtl', 'verify', 'report', 'zoo', 'config'];
let tmp: string;

beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'nibble-cli-'));
});

describe('help', () => {
  test('top-level help lists every command and the exit codes', async () => {
    const r = await nibble(['--help']);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toContain(`nibble ${c}`);
    expect(r.stdout).toMatch(/Exit codes: 0 ok, 1 user error/);
  });

  test.each(COMMANDS)('nibble %s --help has usage and examples', async (cmd) => {
    const r = await nibble([cmd, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`nibble ${cmd}`);
    expect(r.stdout).toContain('Examples:');
    expect(r.stderr).toBe('');
  });

  test('--version prints the package version', async () => {
    const r = await nibble(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('usage errors: exit 1, one line', () => {
  test('no command', async () => expectUserError(await nibble([]), /give a command/));
  test('unknown command', async () => expectUserError(await nibble(['bogus']), /Unknown argument: bogus/));
  test('a typo suggests the command', async () =>
    expectUserError(await nibble(['demoo']), /unknown command 'demoo': did you mean demo\?/));
  test("missing positional points at the command's help", async () =>
    expectUserError(await nibble(['sim']), /see nibble sim --help/));
  test('missing required option', async () =>
    expectUserError(await nibble(['run']), /Missing required argument: model/));
  test('bad choice', async () =>
    expectUserError(await nibble(['run', '--model', 'x.txt', '--engine', 'nope']), /engine/));
  test('bad --limit', async () => expectUserError(await nibble(['run', '--model', 'x.txt', '--limit', '-3']), /limit/));
  test('rtl without an action', async () => expectUserError(await nibble(['rtl']), /needs at least one of/));
  test('verify without --rtl', async () => expectUserError(await nibble(['verify', 'x.nbl']), /--rtl/));
});

describe('config', () => {
  test('default config as JSON', async () => {
    const r = await nibble(['config', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.valid).toBe(true);
    expect(doc.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(doc.config.array).toEqual({ rows: 16, cols: 16 });
    expect(doc.summary.peakMacsPerCycle).toBe(256);
    expect(doc.derived.gemmDepth).toBe(34);
  });

  test('human output shows hash and derived numbers', async () => {
    const r = await nibble(['config']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/default config: valid, hash [0-9a-f]{16}/);
    expect(r.stdout).toContain('GEMM pipeline depth');
  });

  test('a partial config validates and changes the hash; -o writes the full config', async () => {
    const f = join(tmp, 'small.json');
    writeFileSync(f, JSON.stringify({ array: { rows: 8, cols: 8 } }));
    const out = join(tmp, 'full.json');
    const r = await nibble(['config', f, '--json', '-o', out]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.config.array.rows).toBe(8);
    const def = JSON.parse((await nibble(['config', '--json'])).stdout);
    expect(doc.hash).not.toBe(def.hash);
    const again = JSON.parse((await nibble(['config', out, '--json'])).stdout);
    expect(again.hash).toBe(doc.hash);
  });

  test('bad config: exit 1 naming the field', async () => {
    const f = join(tmp, 'bad.json');
    writeFileSync(f, JSON.stringify({ array: { rows: 3, cols: 3 } }));
    expectUserError(await nibble(['config', f]), /array\.rows.*power of two/);
  });

  test('unknown config field', async () => {
    const f = join(tmp, 'typo.json');
    writeFileSync(f, JSON.stringify({ arrray: {} }));
    expectUserError(await nibble(['config', f]), /unknown field 'arrray'/);
  });

  test('config that is not JSON', async () => {
    const f = join(tmp, 'notjson.json');
    writeFileSync(f, '{ rows: 3');
    expectUserError(await nibble(['config', f]), /not valid JSON/);
  });

  test('missing config file', async () =>
    expectUserError(await nibble(['config', join(tmp, 'nope.json')]), /not found/));

  test('--json with an error prints nothing on stdout', async () => {
    const r = await nibble(['config', join(tmp, 'nope.json'), '--json']);
    expectUserError(r, /not found/);
    expect(r.stdout).toBe('');
  });
});

describe('bad inputs', () => {
  test('missing model file', async () =>
    expectUserError(await nibble(['run', '--model', join(tmp, 'missing.txt')]), /not found/));

  test('bad model file names the line', async () => {
    const f = join(tmp, 'bad-model.txt');
    writeFileSync(f, 'CONV CO 2 CI 1 H 4 W 4\n1 2 3\n');
    expectUserError(await nibble(['run', '--model', f, '--limit', '2']), /bad-model\.txt/);
  });

  test('model format not recognisable from the extension', async () => {
    const f = join(tmp, 'model.bin');
    writeFileSync(f, 'x');
    expectUserError(await nibble(['run', '--model', f]), /--format/);
  });

  test('bad program file', async () => {
    const f = join(tmp, 'garbage.nbl');
    writeFileSync(f, 'this is not a program file at all');
    expectUserError(await nibble(['disasm', f]), /garbage\.nbl/);
  });

  test('missing program file', async () => expectUserError(await nibble(['sim', join(tmp, 'none.nbl')]), /not found/));
});

describe('outputs never destroy inputs', () => {
  test('an output onto an input file, or two outputs onto one file, is refused before any work', async () => {
    const model = join(tmp, 'clobber.json');
    expect((await nibble(['zoo', 'export', 'mnist', '--input-size', '8', '-o', model])).code).toBe(0);
    const before = readFileSync(model, 'utf8');
    expectUserError(
      await nibble(['compile', model, '-o', model]),
      /clobber\.json: --output would overwrite an input file of this command/,
    );
    expectUserError(
      await nibble(['run', '--model', model, '--limit', '1', '--save-outputs', model]),
      /--save-outputs would overwrite an input file/,
    );
    const prog = join(tmp, 'clobber.nbl');
    expectUserError(
      await nibble(['compile', model, '-o', prog, '--listing', prog]),
      /clobber\.nbl: --listing and --output name the same file/,
    );
    expect(existsSync(prog)).toBe(false);
    expect((await nibble(['compile', model, '-o', prog])).code).toBe(0);
    const progBytes = readFileSync(prog);
    expectUserError(await nibble(['sim', prog, '--trace', prog]), /--trace would overwrite an input file/);
    expectUserError(await nibble(['disasm', prog, '-o', prog]), /--output would overwrite an input file/);
    expect(readFileSync(model, 'utf8')).toBe(before);
    expect(readFileSync(prog).equals(progBytes)).toBe(true);
  });

  test('-o onto a directory is an error and leaves no temporary file behind', async () => {
    const dir = join(tmp, 'outdir');
    mkdirSync(dir);
    expectUserError(await nibble(['config', '-o', dir]), /outdir: cannot write: this is a directory; give a file name/);
    expect(readdirSync(tmp).filter((f) => f.includes('.tmp'))).toEqual([]);
  });
});

describe('internal errors', () => {
  test('a bug (a non-NibbleError) exits 2 with the stack trace and a request to report it', () => {
    const program = pathToFileURL(join(REPO, 'dist/cli/nibble.js')).href;
    const script = `
      import { runNibble, loadCommands } from ${JSON.stringify(program)};
      const boom = { command: 'boom', describe: 'throws a TypeError', builder: (y) => y, handler: async () => { const o = undefined; o.field; } };
      process.exitCode = await runNibble(["boom"], [...(await loadCommands()), boom]);
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^nibble: internal error: TypeError/);
    expect(r.stderr).toMatch(/\n\s+at /);
    // frames point into the TypeScript sources (source maps, cli/stack.ts)
    expect(r.stderr).toMatch(/cli\/nibble\.ts:\d+:\d+/);
    expect(r.stderr).toMatch(/This is a bug in nibble/);
    expect(r.stdout).toBe('');
  });
});
