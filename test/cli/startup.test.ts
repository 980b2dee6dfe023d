/**
 * Start-up: a command loads only what it needs (issue 17). Which modules a
 * process loads is read from a module-resolution hook on the ES module chunks
 * (NIBBLE_CODE_CACHE=0), and which modules the code-cached CommonJS script
 * (cli/code-cache.ts) evaluates from V8's function coverage, not from a
 * timing; the start-up times themselves are figures of `npm run bench -- startup`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../arch/index.js';
import { COMMAND_LOADERS, loadCommands } from '../../cli/nibble.js';
import { compileNetwork } from '../../compiler/index.js';
import { writeProgramFile } from '../../isa/index.js';
import { saveModelJson, zooNetwork } from '../../models/index.js';
import { BIN, ensureBuilt, REPO } from './nibble.js';

let dir: string;
let register: string;

beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'nibble-startup-'));
  const hooks = join(dir, 'hooks.mjs');
  // every module URL the process resolves, one per line on stderr; written synchronously (the hooks run on a
  // thread of their own, whose process.stderr output can be lost when the process exits right after its last import)
  writeFileSync(
    hooks,
    "import { writeSync } from 'node:fs';\nexport async function resolve(s, c, next) { const r = await next(s, c); writeSync(2, 'LOADED ' + r.url + '\\n'); return r; }\n",
  );
  register = join(dir, 'register.mjs');
  writeFileSync(
    register,
    `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
  );
  const program = compileNetwork(zooNetwork('mnist', { inputSize: 16 }), DEFAULT_CONFIG, { batch: 1 });
  writeFileSync(join(dir, 'small.nbl'), writeProgramFile(program));
  writeFileSync(join(dir, 'small.json'), saveModelJson(zooNetwork('mnist', { inputSize: 16 })));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What a folder-relative source path (cli/inputs.ts, node_modules/yargs/...) counts as: its folder, or its package. */
function partOf(source: string): string {
  const rel = source.split('/');
  if (rel[0] === 'node_modules') return `npm:${rel[1]!.startsWith('@') ? `${rel[1]}/${rel[2]}` : rel[1]}`;
  return rel[0] === 'cli' && rel.length > 2 ? `cli/${rel[1]}` : rel[0]!;
}

/**
 * The sources in each chunk of the bundled executable (cli/build-bundle.mjs writes the list): a chunk that
 * loads stands for the modules bundled into it.
 */
function bundledSources(): Record<string, string[]> {
  return JSON.parse(readFileSync(join(REPO, 'dist/cli/bundle-meta.json'), 'utf8')) as Record<string, string[]>;
}

/** The repository folders (arch, cli, isa, ...) and packages whose modules `nibble args` loads from the chunks. */
function loadedParts(args: string[]): { parts: Set<string>; stdout: string; code: number | null } {
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, BIN, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', NIBBLE_CODE_CACHE: '0' },
  });
  const parts = new Set<string>();
  const dist = pathToFileURL(join(REPO, 'dist')).href + '/';
  const modules = pathToFileURL(join(REPO, 'node_modules')).href + '/';
  const chunks = bundledSources();
  for (const m of r.stderr.matchAll(/^LOADED (\S+)$/gm)) {
    const url = m[1]!;
    if (url.startsWith(dist)) {
      const rel = url.slice(dist.length);
      const chunk = rel.startsWith('cli/') ? chunks[rel.slice(4)] : undefined;
      if (chunk) for (const s of chunk) parts.add(partOf(s));
      else parts.add(partOf(rel));
    } else if (url.startsWith(modules)) parts.add(partOf(`node_modules/${url.slice(modules.length)}`));
  }
  return { parts, stdout: r.stdout, code: r.status };
}

/**
 * The parts whose modules the code-cached script evaluates in `nibble args`: esbuild wraps each module that is
 * reached only through import() or require() in a function named by its source path, run on first use. (The
 * entry's static imports are not wrapped and always run, as the entry chunk's modules do.)
 */
function evaluatedParts(args: string[]): { parts: Set<string>; code: number | null } {
  const cov = mkdtempSync(join(dir, 'coverage-'));
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', NODE_V8_COVERAGE: cov },
  });
  const parts = new Set<string>();
  let scripts = 0;
  for (const f of readdirSync(cov)) {
    const report = JSON.parse(readFileSync(join(cov, f), 'utf8')) as {
      result: { url: string; functions: { functionName: string; ranges: { count: number }[] }[] }[];
    };
    for (const s of report.result) {
      if (!s.url.endsWith('/dist/cli/nibble-cjs.js')) continue;
      scripts++;
      for (const fn of s.functions)
        if (/^[\w@.-]+\/.*\.(ts|js|json)$/.test(fn.functionName) && fn.ranges[0]!.count > 0)
          parts.add(partOf(fn.functionName));
    }
  }
  rmSync(cov, { recursive: true, force: true });
  expect(scripts).toBe(1);
  return { parts, code: r.status };
}

describe('start-up', () => {
  it('the build writes a code cache that V8 takes', () => {
    const script = `import { loadProgram } from ${JSON.stringify(pathToFileURL(join(REPO, 'dist/cli/code-cache.js')).href)}; process.stdout.write(String(loadProgram()?.cacheUsed));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.stdout).toBe('true');
  });

  it('the code-cached timing-engine run evaluates the simulator, not the compiler, models, reports or rtl-gen', () => {
    const r = evaluatedParts(['sim', 'small.nbl', '--engine', 'timing']);
    expect(r.code).toBe(0);
    for (const p of ['isa', 'sim']) expect(r.parts).toContain(p);
    for (const p of ['compiler', 'models', 'rtl-gen', 'cli/report', 'npm:cli-progress'])
      expect(r.parts).not.toContain(p);
    const c = evaluatedParts(['compile', 'small.json', '-o', 'small-compiled.nbl']);
    expect(c.code).toBe(0);
    for (const p of ['models', 'compiler']) expect(c.parts).toContain(p);
  });

  it('the bundled executable prints the same help as the modules tsc built (string-width stand-in, cli/string-width-fast.ts)', () => {
    const tscBuilt = pathToFileURL(join(REPO, 'dist/cli/nibble.js')).href;
    for (const args of [['--help'], ['sim', '--help'], ['compile', '--help']]) {
      const env = { ...process.env, NO_COLOR: '1' };
      const bundled = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env });
      const script = `import { runNibble } from ${JSON.stringify(tscBuilt)}; process.exitCode = await runNibble(${JSON.stringify(args)});`;
      const modules = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env });
      expect(bundled.status).toBe(0);
      expect(bundled.stdout).toBe(modules.stdout);
      expect(bundled.stdout).toContain('Options:');
    }
  }, 60_000);

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

  it('a timing-engine run, and a model compiled and simulated in one command, load no Node module they do not use', () => {
    // node:tty (chalk's supports-color), node:assert (yargs), node:worker_threads (the fast engine's
    // helper thread), node:perf_hooks (the clock of progress lines nobody sees): cli/build-bundle.mjs's stand-ins
    const preload = join(dir, 'builtins.mjs');
    writeFileSync(
      preload,
      "import { writeSync } from 'node:fs';\nprocess.on('exit', () => writeSync(2, 'BUILTINS ' + process.moduleLoadList.join(',') + '\\n'));\n",
    );
    const unused = ['tty', 'assert', 'worker_threads', 'perf_hooks'];
    for (const args of [
      ['sim', 'small.nbl', '--engine', 'timing'],
      ['sim', 'small.json', '--engine', 'timing'],
    ]) {
      const r = spawnSync(process.execPath, ['--import', pathToFileURL(preload).href, BIN, ...args], {
        cwd: dir,
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      const loaded = /^BUILTINS (.*)$/m.exec(r.stderr)![1]!.split(',');
      expect(loaded).toContain('NativeModule vm'); // the list is Node's own
      for (const m of unused) expect(loaded, `${args.join(' ')} loads node:${m}`).not.toContain(`NativeModule ${m}`);
    }
  });

  it('compiling a JSON model loads the models and the compiler, not protobufjs (ONNX only)', () => {
    const r = loadedParts(['compile', 'small.json', '-o', 'small-compiled.nbl']);
    expect(r.code).toBe(0);
    for (const p of ['models', 'compiler']) expect(r.parts).toContain(p);
    expect(r.parts).not.toContain('npm:protobufjs');
    // protobufjs is require()d on first use, which the resolve hook does not see: Node's module debug log does
    const env = { ...process.env, NODE_DEBUG: 'module' };
    const c = spawnSync(process.execPath, [BIN, 'compile', 'small.json', '-o', 'small-compiled.nbl'], {
      cwd: dir,
      env,
      encoding: 'utf8',
    });
    expect(c.status).toBe(0);
    expect(c.stderr).toMatch(/^MODULE \d+:/m);
    expect(c.stderr).not.toMatch(/protobufjs/);
  });
});
