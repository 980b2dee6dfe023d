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
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import process from 'node:process';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'cli');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
// yargs (about 45 modules) is what start-up pays for; the other packages load only in the commands that use them
const external = Object.keys(pkg.dependencies).filter((d) => d !== 'yargs' && d !== 'chalk');

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
    // CommonJS inside the bundle (yargs's helpers) calls require()
    banner: {
      js: "import { createRequire as __nibbleRequire } from 'node:module'; const require = __nibbleRequire(import.meta.url);",
    },
    logLevel: 'silent',
  });
} catch (e) {
  const errors = e.errors ?? [];
  for (const m of errors)
    process.stderr.write(
      `cli/build-bundle.mjs: ${m.location ? `${m.location.file}:${m.location.line}: ` : ''}${m.text}\n`,
    );
  if (errors.length === 0)
    process.stderr.write(`cli/build-bundle.mjs: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
const meta = {};
for (const [out, o] of Object.entries(result.metafile.outputs)) {
  if (out.endsWith('.map')) continue;
  meta[out.slice(out.lastIndexOf('/') + 1)] = Object.keys(o.inputs);
}
writeFileSync(join(outdir, 'bundle-meta.json'), `${JSON.stringify(meta, null, 1)}\n`);
