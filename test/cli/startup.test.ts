/**
 * Start-up: a command loads only what it needs (issue 17). Which modules a
 * process loads is read from a module-resolution hook, not from a timing; the
 * start-up times themselves are figures of `npm run bench -- startup`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../arch/index.js';
import { COMMAND_LOADERS, loadCommands } from '../../cli/nibble.js';
import { compileNetwork } from '../../compiler/index.js';
import { writeProgramFile } from '../../isa/index.js';
import { zooNetwork } from '../../models/index.js';
import { BIN, ensureBuilt, REPO } from './nibble.js';

let dir: string;
let register: string;

beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'nibble-startup-'));
  const hooks = join(dir, 'hooks.mjs');
  // every module URL the process resolves, one per line on stderr
  writeFileSync(
    hooks,
    "export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write('LOADED ' + r.url + '\\n'); return r; }\n",
  );
  register = join(dir, 'register.mjs');
  writeFileSync(
    register,
    `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
  );
  const program = compileNetwork(zooNetwork('mnist', { inputSize: 16 }), DEFAULT_CONFIG, { batch: 1 });
  writeFileSync(join(dir, 'small.nbl'), writeProgramFile(program));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The repository folders (arch, cli, isa, ...) and packages whose modules `nibble args` loads. */
function loadedParts(args: string[]): { parts: Set<string>; stdout: string; code: number | null } {
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, BIN, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  const parts = new Set<string>();
  const dist = pathToFileURL(join(REPO, 'dist')).href + '/';
  const modules = pathToFileURL(join(REPO, 'node_modules')).href + '/';
  for (const m of r.stderr.matchAll(/^LOADED (\S+)$/gm)) {
    const url = m[1]!;
    if (url.startsWith(dist)) {
      const rel = url.slice(dist.length).split('/');
      parts.add(rel[0] === 'cli' && rel.length > 2 ? `cli/${rel[1]}` : rel[0]!);
    } else if (url.startsWith(modules)) parts.add(`npm:${url.slice(modules.length).split('/')[0]}`);
  }
  return { parts, stdout: r.stdout, code: r.status };
}

describe('start-up', () => {
  it('every command loader names its command', async () => {
    const specs = await loadCommands();
    expect(specs.map((s) => s.command.split(' ')[0])).toEqual(Object.keys(COMMAND_LOADERS));
  });

  it('nibble --version loads nothing beyond the entry point', () => {
    const r = loadedParts(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect([...r.parts]).toEqual(['cli']);
  });

  it('a timing-engine run loads the ISA and the simulator, not the compiler, models, reports, rtl-gen or progress bars', () => {
    const r = loadedParts(['sim', 'small.nbl', '--engine', 'timing']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('cycles');
    for (const p of ['arch', 'isa', 'sim', 'npm:yargs']) expect(r.parts).toContain(p);
    for (const p of ['compiler', 'models', 'rtl-gen', 'cli/report', 'npm:cli-progress'])
      expect(r.parts).not.toContain(p);
  });
});
