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
