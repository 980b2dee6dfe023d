// Assemble every sim/kernels/*.wat into dist/sim/kernels/*.wasm with wabt's
// wat2wasm (an npm devDependency: no system compiler, no committed binary).
// Run by `npm run build` after tsc.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import process from 'node:process';
import initWabt from 'wabt';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, '..', '..', 'dist', 'sim', 'kernels');
const wabt = await initWabt();
// SIMD (the arithmetic), bulk memory (memory.fill), threads (a shared memory for the worker threads)
const FEATURES = { simd: true, bulk_memory: true, threads: true };
mkdirSync(outDir, { recursive: true });
for (const file of readdirSync(here).filter((f) => f.endsWith('.wat'))) {
  const source = readFileSync(join(here, file), 'utf8');
  let bytes;
  try {
    const mod = wabt.parseWat(file, source, FEATURES);
    mod.validate(FEATURES);
    bytes = mod.toBinary({}).buffer;
    mod.destroy();
  } catch (e) {
    process.stderr.write(`sim/kernels/${file}: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
  const out = join(outDir, file.replace(/\.wat$/, '.wasm'));
  writeFileSync(out, bytes);
}
