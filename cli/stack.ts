/**
 * Stack traces of internal errors in terms of the TypeScript sources: the
 * bundled executable (cli/build-bundle.mjs) runs from a few chunk files, and
 * tsc's modules are JavaScript too, so each frame is looked up in the source
 * map next to its file. Done only when an internal error is printed, so start-up
 * never pays for reading maps (what `node --enable-source-maps` would do).
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const maps = new Map<string, SourceMap | undefined>();

function mapOf(file: string): SourceMap | undefined {
  if (!maps.has(file)) {
    let map: SourceMap | undefined;
    try {
      if (existsSync(`${file}.map`)) map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')));
    } catch {
      // an unreadable map: the frame stays as it is
    }
    maps.set(file, map);
  }
  return maps.get(file);
}

/** One frame location `file:///x.js:L:C` (or a path) as `/src/x.ts:L:C` when a source map covers it. */
function mapLocation(url: string, line: number, col: number): string | undefined {
  const file = url.startsWith('file://') ? fileURLToPath(url) : url;
  const map = mapOf(file);
  const entry = map?.findEntry(line - 1, col - 1) as
    { originalSource?: string; originalLine?: number; originalColumn?: number } | undefined;
  if (!entry?.originalSource || entry.originalLine === undefined || entry.originalColumn === undefined)
    return undefined;
  const source = entry.originalSource.startsWith('file://')
    ? fileURLToPath(entry.originalSource)
    : resolve(dirname(file), entry.originalSource);
  return `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
}

/** `stack` with every frame that a source map covers pointing into the TypeScript sources. */
export function sourceMappedStack(stack: string): string {
  return stack.replace(/((?:file:\/\/)?\/[^\s():]+\.m?js):(\d+):(\d+)/g, (all, url: string, l: string, c: string) => {
    try {
      return mapLocation(url, Number(l), Number(c)) ?? all;
    } catch {
      return all;
    }
  });
}
