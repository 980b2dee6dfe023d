/**
 * Where the nibble package lives on disk, found from a module's own location so
 * it works the same from the TypeScript sources (vitest) and from dist/: the
 * embedded model, the RTL build cache and the bench's default inputs are all
 * located relative to it.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NibbleError } from './errors.js';

export function packageRoot(start: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir)
      throw new NibbleError('no package.json above this module: cannot locate the nibble package', start);
    dir = parent;
  }
}

/**
 * A file tsc builds into dist/ (a worker's entry, the WebAssembly kernel), for
 * the module at `moduleUrl`: next to it when it runs from its own dist/ folder,
 * else at dist/`path` of the package (the module runs from its TypeScript
 * source under vitest, or from a chunk of the bundled executable in dist/cli/).
 * Undefined when neither exists.
 */
export function builtFile(path: string, moduleUrl: string): string | undefined {
  const candidates = [fileURLToPath(new URL(`./${path.slice(path.lastIndexOf('/') + 1)}`, moduleUrl))];
  try {
    candidates.push(join(packageRoot(), 'dist', path));
  } catch {
    // no package.json above: only the file next to the module counts
  }
  return candidates.find((f) => existsSync(f));
}
