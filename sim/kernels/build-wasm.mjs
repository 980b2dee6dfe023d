// Assemble every sim/kernels/*.wat and models/*.wat into dist/<dir>/*.wasm with wabt's
// wat2wasm (an npm devDependency: no system compiler, no committed binary).
// Run by `npm run build` after tsc.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import process from 'node:process';
import initWabt from 'wabt';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const wabt = await initWabt();
// SIMD (the arithmetic), bulk memory (memory.fill), threads (a shared memory for the worker threads)
const FEATURES = { simd: true, bulk_memory: true, threads: true };
// the GEMM kernel and units, and the model-JSON reader's weights loop
for (const dir of ['sim/kernels', 'models']) {
  const outDir = join(root, 'dist', dir);
  mkdirSync(outDir, { recursive: true });
  for (const file of readdirSync(join(root, dir)).filter((f) => f.endsWith('.wat'))) {
    const source = readFileSync(join(root, dir, file), 'utf8');
    let bytes;
    try {
      const mod = wabt.parseWat(file, source, FEATURES);
      mod.validate(FEATURES);
      bytes = mod.toBinary({}).buffer;
      mod.destroy();
    } catch (e) {
      process.stderr.write(`${dir}/${file}: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    }
    writeFileSync(join(outDir, file.replace(/\.wat$/, '.wasm')), bytes);
  }
}
