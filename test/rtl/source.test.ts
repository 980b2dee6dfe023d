/** Source habits of rtl-gen/ and cosim/: every function fits on a few screens (at most 150 lines). */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../arch/index.js';

const MAX_LINES = 150;

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every function-like node longer than `max` lines, as `file:line name (n lines)`. */
function longFunctions(file: string, max: number): string[] {
  const text = readFileSync(file, 'utf8');
  const src = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const out: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = src.getLineAndCharacterOfPosition(node.getStart(src)).line;
      const last = src.getLineAndCharacterOfPosition(node.getEnd()).line;
      const name = (node as ts.FunctionLikeDeclaration).name?.getText(src) ?? '(anonymous)';
      if (last - first + 1 > max)
        out.push(`${relative(packageRoot(), file)}:${first + 1} ${name} (${last - first + 1} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(src);
  return out;
}

describe('source habits', () => {
  it(`no function in rtl-gen/ or cosim/ is longer than ${MAX_LINES} lines`, () => {
    const files = ['rtl-gen', 'cosim'].flatMap((d) => tsFiles(join(packageRoot(), d)));
    expect(files.length).toBeGreaterThan(10);
    expect(files.flatMap((f) => longFunctions(f, MAX_LINES))).toEqual([]);
  });

  it('the check finds a long function', () => {
    const file = join(packageRoot(), 'rtl-gen', 'units', 'gemm.ts');
    expect(longFunctions(file, 10).length).toBeGreaterThan(0);
  });
});
