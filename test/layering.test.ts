/**
 * Layering: the packages (top-level folders) depend on each other without
 * cycles, source files import each other without cycles, and a file reaches
 * another package only through its index.ts (sub-folders inside one package
 * are that package's own business). Every import counts: static and
 * type-only imports, re-exports, import() and any relative `*.js` string
 * literal (the lazily loaded parts in cli/modules.ts, `new URL(..., import.meta.url)`).
 * Tests are excluded. There are no exceptions: a lazily loaded sub-package
 * goes through its package's index.ts too (models/index.ts `loadTraining`).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../arch/index.js';

const ROOT = packageRoot();
/** top-level folders that are not source packages */
const NOT_SOURCE = new Set(['node_modules', 'dist', 'test', 'out', 'docs']);

function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(relative(ROOT, p).split(sep).join('/'));
    }
  };
  for (const e of readdirSync(ROOT)) {
    if (e.startsWith('.') || NOT_SOURCE.has(e) || !statSync(join(ROOT, e)).isDirectory()) continue;
    walk(join(ROOT, e));
  }
  return out.sort();
}

const IMPORT =
  /\b(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|['"`](\.\.?\/[^'"`\s]+\.js)['"`]/g;

/** The source files `file` imports (relative specifiers that resolve to a .ts file in the tree). */
function importsOf(file: string, text: string, known: ReadonlySet<string>): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const out = new Set<string>();
  for (const m of code.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3]!;
    if (!spec.startsWith('.')) continue;
    const target = relative(ROOT, resolve(ROOT, dirname(file), spec))
      .split(sep)
      .join('/')
      .replace(/\.js$/, '.ts');
    if (known.has(target)) out.add(target);
  }
  return [...out];
}

const pkg = (file: string) => file.split('/')[0]!;

/** Strongly connected components with more than one node (Tarjan). */
function cycles(nodes: readonly string[], next: (n: string) => readonly string[]): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next(v)) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1) out.push(c.sort());
    }
  };
  for (const n of nodes) if (!index.has(n)) visit(n);
  return out;
}

const files = sourceFiles();
const known = new Set(files);
const graph = new Map(files.map((f) => [f, importsOf(f, readFileSync(join(ROOT, f), 'utf8'), known)]));

describe('layering (imports of every source file, tests excluded)', () => {
  it('finds the packages and their imports', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(graph.get('cosim/verify.ts')).toContain('sim/index.ts');
    expect(graph.get('cli/modules.ts')).toContain('rtl-gen/index.ts'); // a lazily loaded part
    expect(graph.get('models/index.ts')).toContain('models/training/index.ts'); // its lazy entry
  });

  it('no file reaches past another package’s index.ts', () => {
    const bad = [...graph].flatMap(([f, ts]) =>
      ts.filter((t) => pkg(t) !== pkg(f) && t !== `${pkg(t)}/index.ts`).map((t) => `${f} -> ${t}`),
    );
    expect(bad).toEqual([]);
  });

  it('no import cycle between packages', () => {
    const pkgs = [...new Set(files.map(pkg))];
    const next = (p: string) => [
      ...new Set(
        [...graph]
          .filter(([f]) => pkg(f) === p)
          .flatMap(([, ts]) => ts.map(pkg))
          .filter((q) => q !== p),
      ),
    ];
    expect(cycles(pkgs, next)).toEqual([]);
  });

  it('no import cycle between files', () => {
    expect(cycles(files, (f) => graph.get(f) ?? [])).toEqual([]);
  });

  it('co-simulation sits above sim/ and rtl-gen/, which do not import it or each other', () => {
    const pkgImports = (p: string) =>
      new Set([...graph].filter(([f]) => pkg(f) === p).flatMap(([, ts]) => ts.map(pkg)));
    expect([...pkgImports('cosim')]).toEqual(expect.arrayContaining(['sim', 'rtl-gen']));
    for (const [a, b] of [
      ['sim', 'cosim'],
      ['rtl-gen', 'cosim'],
      ['sim', 'rtl-gen'],
      ['rtl-gen', 'sim'],
    ])
      expect(pkgImports(a!).has(b!), `${a} imports ${b}`).toBe(false);
  });
});

describe('the checks find what they should', () => {
  it('import forms: static, type-only, re-export, import(), lazily loaded paths; comments do not count', () => {
    const k = new Set(['a/index.ts', 'a/x.ts', 'b/index.ts', 'b/y.ts', 'c/index.ts', 'd/index.ts', 'e/z.ts']);
    const text = [
      "import { p } from '../a/index.js';",
      "import type { Q } from '../b/y.js';",
      "export { r } from '../c/index.js';",
      "const m = await import('../d/index.js');",
      "const PARTS = { e: { path: '../e/z.js' } };",
      "// import { no } from '../a/x.js';",
      "import { ext } from 'node:fs';",
    ].join('\n');
    expect(importsOf('f/w.ts', text, k).sort()).toEqual(['a/index.ts', 'b/y.ts', 'c/index.ts', 'd/index.ts', 'e/z.ts']);
  });

  it('cycles: a two-node and a three-node cycle, not a chain', () => {
    const g: Record<string, string[]> = { a: ['b'], b: ['a'], c: ['d'], d: ['e'], e: ['c'], x: ['y'], y: [] };
    expect(cycles(Object.keys(g), (n) => g[n]!)).toEqual([
      ['a', 'b'],
      ['c', 'd', 'e'],
    ]);
  });
});
