/**
 * Board and synthesis flows run in a work directory of their own (the cache
 * entry, or a temporary directory) and deliver the finished directory to the
 * user's output through io/: checked before the tools start, written all or
 * none, missing parents created only as part of the output itself, a user's
 * directory never removed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkOutputTarget, writeOutputs } from '../io/index.js';

/** Throws FileError unless `out` can become (or be rewritten as) an output directory; call before minutes of tool runs. */
export function checkOutputDirectory(out: string): void {
  checkOutputTarget(out, 'directory');
}

/** Every regular file under `dir`, as paths relative to it. */
function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) => {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) return filesUnder(dir, rel);
    return e.isFile() ? [rel] : [];
  });
}

/** Copy the finished directory `src` to the output directory `out` (io/ writeOutputs: all or none). */
export function deliverDirectory(src: string, out: string): void {
  const files = filesUnder(src).map((name) => ({ name, data: readFileSync(join(src, name)) }));
  writeOutputs({ directories: [{ path: out, files }] });
}
