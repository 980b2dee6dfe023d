/**
 * The `naive` piece of every opcode's engine module is an independent oracle
 * (sim/ops/naive.ts): it may use its module's other `naive*` functions, type
 * imports and the isa/ lane codecs, and nothing else of the module or of the
 * engines, so a bug in `execute`, `timing` or `cycle` (or in sim/memory.ts,
 * the kernels) cannot hide in the oracle. Checked on the syntax of each module.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { MNEMONICS } from '../../isa/index.js';

const OPS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../sim/ops');
/** the values a naive piece may import: isa/'s lane codecs (the word layout, not an engine) */
const ALLOWED_IMPORTS = new Set(['packEntry', 'unpackEntry', 'unpackParamEntry']);

/** What the `naive` piece of the engine module in `text` refers to that it may not (empty: independent). */
function naiveViolations(file: string, text: string): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const imports = new Map<string, { typeOnly: boolean }>();
  const locals = new Map<string, ts.Node>();
  let piece: ts.Node | undefined;
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st) && st.importClause) {
      const c = st.importClause;
      if (c.name) imports.set(c.name.text, { typeOnly: c.isTypeOnly });
      if (c.namedBindings && ts.isNamedImports(c.namedBindings))
        for (const e of c.namedBindings.elements) imports.set(e.name.text, { typeOnly: c.isTypeOnly || e.isTypeOnly });
    } else if (ts.isFunctionDeclaration(st) && st.name) locals.set(st.name.text, st);
    else if (ts.isVariableStatement(st))
      for (const d of st.declarationList.declarations) {
        if (!ts.isIdentifier(d.name)) continue;
        locals.set(d.name.text, d);
        if (d.initializer && ts.isObjectLiteralExpression(d.initializer) && /_SIM$/.test(d.name.text))
          piece = d.initializer.properties.find((p) => p.name && ts.isIdentifier(p.name) && p.name.text === 'naive');
      }
  }
  if (!piece) return [`${file}: no naive piece in its *_SIM module`];
  const bad = new Set<string>();
  const seen = new Set<ts.Node>();
  const walk = (n: ts.Node): void => {
    if (ts.isTypeNode(n)) return;
    if (ts.isPropertyAccessExpression(n)) return walk(n.expression);
    if (ts.isIdentifier(n) && !(ts.isPropertyAssignment(n.parent) && n.parent.name === n)) {
      const name = n.text;
      const imp = imports.get(name);
      if (imp && !imp.typeOnly && !ALLOWED_IMPORTS.has(name)) bad.add(`${file}: naive piece uses ${name} (imported)`);
      const local = locals.get(name);
      if (local && name.startsWith('naive')) {
        if (!seen.has(local)) {
          seen.add(local);
          ts.forEachChild(local, walk);
        }
      } else if (local) bad.add(`${file}: naive piece uses ${name} (of its module, not a naive function)`);
    }
    ts.forEachChild(n, walk);
  };
  ts.forEachChild(piece, walk);
  return [...bad];
}

const modules = MNEMONICS.map((op) => `${op.toLowerCase()}.ts`);

describe('the naive pieces are independent of the engines', () => {
  it('every opcode has an engine module with a naive piece that uses only naive functions and lane codecs', () => {
    expect(readdirSync(OPS_DIR)).toEqual(expect.arrayContaining(modules));
    const found = modules.flatMap((f) => naiveViolations(f, readFileSync(join(OPS_DIR, f), 'utf8')));
    expect(found).toEqual([]);
  });

  it('a naive piece that calls the engine or a shared helper is found', () => {
    const requant = readFileSync(join(OPS_DIR, 'requant.ts'), 'utf8');
    const viaExecute = requant.replace('naive: naiveRequant,', 'naive: (r, m) => executeRequant(m as never, r),');
    expect(naiveViolations('requant.ts', viaExecute)).toEqual([
      'requant.ts: naive piece uses executeRequant (of its module, not a naive function)',
    ]);
    const viaArithmetic = requant.replace('let q = s >= 0', 'let q = requantValue(0, 0, 0, 0, 0) && s >= 0');
    expect(viaArithmetic).not.toBe(requant);
    expect(naiveViolations('requant.ts', viaArithmetic)).toEqual([
      'requant.ts: naive piece uses requantValue (imported)',
    ]);
    const pool = readFileSync(join(OPS_DIR, 'pool.ts'), 'utf8');
    expect(naiveViolations('pool.ts', pool.replace('  naive: naivePool,\n', ''))).toEqual([
      'pool.ts: no naive piece in its *_SIM module',
    ]);
  });
});
