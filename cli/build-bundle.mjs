// Bundle the nibble executable (cli/main.ts, every command and every part it
// loads, and yargs) with esbuild into dist/cli/: main.js (the package's bin,
// replacing tsc's) and bundle-*.js chunks. Each command and part stays a chunk
// of its own (code splitting on their import()s), so a command still loads only
// what it needs, from a handful of files instead of hundreds of modules.
// The chunks sit in dist/cli/ as tsc's cli/ modules do, so every path taken
// relative to a module (package.json, worker files) stays valid. Run by
// `npm run build` after tsc; dist/cli/bundle-meta.json lists each chunk's
// sources (test/cli/startup.test.ts reads it), the .map files map stack
// traces back to the TypeScript sources (cli/stack.ts).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import process from 'node:process';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'cli');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
// yargs (about 45 modules) is what start-up pays for; the other packages load only in the commands that use them
const external = Object.keys(pkg.dependencies).filter((d) => d !== 'yargs' && d !== 'chalk');

function fail(e) {
  const errors = e.errors ?? [];
  for (const m of errors)
    process.stderr.write(
      `cli/build-bundle.mjs: ${m.location ? `${m.location.file}:${m.location.line}: ` : ''}${m.text}\n`,
    );
  if (errors.length === 0)
    process.stderr.write(`cli/build-bundle.mjs: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}

// Modules the bundled packages import, replaced by nibble's stand-ins: each would load Node modules no command needs
// (cli/supports-color-none.ts, cli/assert-invariants.ts). Package imports (`#name`) are not aliases, hence a plugin.
const STAND_INS = [
  { filter: /^#supports-color$/, importer: /[\\/]node_modules[\\/]chalk[\\/]/, path: 'cli/supports-color-none.ts' },
  { filter: /^assert$/, importer: /[\\/]node_modules[\\/]yargs[\\/]/, path: 'cli/assert-invariants.ts' },
];
const standIns = {
  name: 'nibble-stand-ins',
  setup(b) {
    for (const s of STAND_INS)
      b.onResolve({ filter: s.filter }, (args) =>
        s.importer.test(args.importer) ? { path: join(root, s.path) } : undefined,
      );
  },
};

for (const f of readdirSync(outdir)) if (/^bundle-.*\.js(\.map)?$/.test(f)) rmSync(join(outdir, f));
let result;
try {
  result = await build({
    absWorkingDir: root,
    entryPoints: { main: 'cli/main.ts' },
    outdir,
    entryNames: '[name]',
    chunkNames: 'bundle-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    // less text for V8 to scan at start-up; identifiers keep their names (messages and stacks show some)
    minifyWhitespace: true,
    minifySyntax: true,
    metafile: true,
    external,
    // measured only for help text: see cli/string-width-fast.ts
    alias: { 'string-width': './cli/string-width-fast.ts' },
    plugins: [standIns],
    // CommonJS inside the bundle (yargs's helpers) calls require()
    banner: {
      js: "import { createRequire as __nibbleRequire } from 'node:module'; const require = __nibbleRequire(import.meta.url);",
    },
    logLevel: 'silent',
  });
} catch (e) {
  fail(e);
}
// The same program as one CommonJS script for V8's code cache (cli/code-cache.ts): a function expression, which
// cli/code-cache.ts runs with CommonJS's arguments; import.meta.url is the script's own URL, in dist/cli/ as the
// chunks are.
const scriptFile = join(outdir, 'nibble-cjs.js');
rmSync(`${scriptFile}.cache`, { force: true });
try {
  await build({
    absWorkingDir: root,
    stdin: {
      contents: "export { runNibble } from './cli/nibble.ts'; export { hideBin } from 'yargs/helpers';",
      resolveDir: root,
      sourcefile: 'cli/code-cache-entry.ts',
      loader: 'ts',
    },
    outfile: scriptFile,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    minifyWhitespace: true,
    minifySyntax: true,
    external,
    alias: { 'string-width': './cli/string-width-fast.ts' },
    plugins: [standIns],
    define: { 'import.meta.url': '__nibbleScriptUrl' },
    banner: {
      js: "(function (exports, require, module, __filename, __dirname) { const __nibbleScriptUrl = require('node:url').pathToFileURL(__filename).href;",
    },
    footer: { js: '})' },
    logLevel: 'silent',
  });
} catch (e) {
  fail(e);
}
const meta = {};
for (const [out, o] of Object.entries(result.metafile.outputs)) {
  if (out.endsWith('.map')) continue;
  meta[out.slice(out.lastIndexOf('/') + 1)] = Object.keys(o.inputs);
}
writeFileSync(join(outdir, 'bundle-meta.json'), `${JSON.stringify(meta, null, 1)}\n`);

// The code cache: the commands of issue 17's pipeline on a small model (`nibble compile` from JSON, `nibble sim` of
// the program on the timing engine, `nibble sim` of the .nbm model, which compiles it), run from the script in a
// process of its own (the output discarded), then checked in a fresh process: V8 takes it only from the same Node
// binary with the same flags. A cache that cannot be made or is not taken is left out (the CLI then compiles from
// source) with a note, not a failed build.
const work = mkdtempSync(join(tmpdir(), 'nibble-code-cache-'));
const dist = (p) => JSON.stringify(pathToFileURL(join(root, 'dist', p)).href);
const interruptBudget = /--interrupt-budget=(\d+)/.exec(
  spawnSync(process.execPath, ['--v8-options'], { encoding: 'utf8' }).stdout ?? '',
);
const train = [
  `import { saveModelBinary, saveModelJson, zooNetwork } from ${dist('models/index.js')};`,
  `import { writeFileSync } from 'node:fs';`,
  `import { writeCodeCache } from ${dist('cli/code-cache.js')};`,
  `const net = zooNetwork('mnist', { inputSize: 16 });`,
  `writeFileSync('small.json', saveModelJson(net));`,
  `saveModelBinary('small.nbm', net);`,
  `await writeCodeCache(${JSON.stringify([
    ['compile', 'small.json', '-o', 'small.nbl'],
    ['sim', 'small.nbl', '--engine', 'timing'],
    ['sim', 'small.nbm', '--engine', 'timing'],
  ])}, ${JSON.stringify(interruptBudget ? [`--interrupt-budget=${interruptBudget[1]}`] : [])});`,
].join('\n');
const check = `import { loadProgram } from ${dist('cli/code-cache.js')}; process.stdout.write(String(loadProgram()?.cacheUsed));`;
try {
  const made = spawnSync(process.execPath, ['--input-type=module', '-e', train], {
    cwd: work,
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  const taken =
    made.status === 0 && spawnSync(process.execPath, ['--input-type=module', '-e', check], { encoding: 'utf8' }).stdout;
  if (taken !== 'true') {
    rmSync(`${scriptFile}.cache`, { force: true });
    const why = made.status !== 0 ? (made.stderr ?? '').trim().split('\n')[0] : 'V8 did not take it';
    process.stderr.write(`cli/build-bundle.mjs: note: no code cache for the CLI (${why}); it starts a little slower\n`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
