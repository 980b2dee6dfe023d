/**
 * The opcode registries are complete by construction: a program in which an
 * opcode of the ISA table lacks any piece of its engine module, or its ISA
 * module lacks a rule, or a cycle engine unit forgets a kind of instruction,
 * does not type-check, and the diagnostic names the place. Checked by
 * compiling the real sources with the TypeScript compiler API, with a new
 * opcode (RELU, test/sim/fixtures/) added in memory.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const fixture = (name: string) => readFileSync(join(root, 'test/sim/fixtures', name), 'utf8');
const source = (path: string) => readFileSync(join(root, path), 'utf8');

/** Replace `from` (which must occur) by `to` in one file's text. */
function edit(path: string, from: string, to: string): [string, string] {
  const text = source(path);
  expect(text, `${path} contains the edited text`).toContain(from);
  return [path, text.replace(from, to)];
}

/** The new opcode's one line in each registry (and its import). */
const tableWithRelu = edit(
  'isa/table.ts',
  "import { STORE } from './ops/store.js';",
  "import { STORE } from './ops/store.js';\nimport { RELU } from './ops/relu.js';",
)[1].replace('REQUANT, POOL, HALT }', 'REQUANT, POOL, HALT, RELU }');
const registryWithRelu = edit(
  'sim/ops/index.ts',
  '  HALT: HALT_SIM,\n',
  '  HALT: HALT_SIM,\n  RELU: RELU_SIM,\n',
)[1].replace(
  "import { STORE_SIM } from './store.js';",
  "import { STORE_SIM } from './store.js';\nimport { RELU_SIM } from './relu.js';",
);

interface Found {
  file: string;
  code: number;
  message: string;
}

let previous: ts.Program | undefined;

/**
 * Type-check the simulator (and what it imports, and `extraRoots`) with some
 * files replaced or added; the errors found in every file, or only in `only`.
 */
function typeErrors(files: Record<string, string>, extraRoots: string[] = [], only?: string[]): Found[] {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noUnusedLocals: true,
    noUnusedParameters: true,
    noFallthroughCasesInSwitch: true,
    resolveJsonModule: true,
    skipLibCheck: true,
    types: ['node'],
    noEmit: true,
  };
  const virtual = new Map(Object.entries(files).map(([p, t]) => [join(root, p), t]));
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (f) => virtual.has(resolve(f)) || fileExists.call(host, f);
  host.readFile = (f) => virtual.get(resolve(f)) ?? readFile.call(host, f);
  host.getSourceFile = (f, lang, ...rest) => {
    const text = virtual.get(resolve(f));
    return text !== undefined ? ts.createSourceFile(f, text, lang) : getSourceFile.call(host, f, lang, ...rest);
  };
  // reuse the unchanged files' syntax trees of the previous check
  const roots = ['sim/index.ts', ...extraRoots].map((f) => join(root, f));
  const program = ts.createProgram(roots, options, host, previous);
  previous = program;
  const diagnostics = only
    ? only.flatMap((f) => {
        const sf = program.getSourceFile(join(root, f))!;
        return [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
      })
    : ts.getPreEmitDiagnostics(program);
  return diagnostics.map((d) => ({
    file: d.file ? d.file.fileName.slice(root.length + 1) : '',
    code: d.code,
    message: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
  }));
}

const PIECES = ['timing', 'execute', 'cycle', 'access', 'laneActions', 'random', 'naive'] as const;

/** The engine module without one piece: from the piece's line to the next property at the same indentation. */
function withoutPiece(piece: string): string {
  const full = fixture('relu-sim.ts.txt');
  const cut = full.replace(new RegExp(`^  ${piece}\\b[\\s\\S]*?(?=^  \\w|^\\};)`, 'm'), '');
  expect(cut.length, piece).toBeLessThan(full.length);
  return cut;
}

describe('opcode registries are checked by the type checker', () => {
  it('a complete new opcode type-checks; its engine module without any one piece fails there, naming the piece', () => {
    const variants = Object.fromEntries(
      PIECES.map((piece) => [`sim/ops/relu-without-${piece}.ts`, withoutPiece(piece)]),
    );
    const errors = typeErrors(
      {
        'isa/ops/relu.ts': fixture('relu-isa.ts.txt'),
        'isa/table.ts': tableWithRelu,
        'sim/ops/relu.ts': fixture('relu-sim.ts.txt'),
        'sim/ops/index.ts': registryWithRelu,
        ...variants,
      },
      Object.keys(variants),
    );
    // nothing but the incomplete variants fails: the complete opcode (two modules, one line in each registry) is accepted
    expect(new Set(errors.map((e) => e.file))).toEqual(new Set(Object.keys(variants)));
    for (const piece of PIECES) {
      const found = errors.filter((e) => e.file === `sim/ops/relu-without-${piece}.ts`);
      // TS2741: Property 'x' is missing in type ... but required in type 'SimOp<"RELU">'
      expect(
        found.map((e) => e.code),
        piece,
      ).toContain(2741);
      expect(found.find((e) => e.code === 2741)!.message, piece).toMatch(
        new RegExp(`^Property '${piece}' is missing in type .* but required in type 'SimOp<"RELU">'`),
      );
    }
  });

  it('an opcode in the ISA table without an engine module fails in the engine registry', () => {
    const errors = typeErrors(
      { 'isa/ops/relu.ts': fixture('relu-isa.ts.txt'), 'isa/table.ts': tableWithRelu },
      [],
      ['isa/ops/relu.ts', 'isa/table.ts', 'sim/ops/index.ts', 'sim/random-program.ts'],
    );
    // TS1360: the registry does not satisfy Record<Mnemonic, SimOp>; the registry's users fail with it
    const registry = errors.find((e) => e.code === 1360);
    expect(registry).toMatchObject({ file: 'sim/ops/index.ts' });
    expect(registry!.message).toMatch(/Property 'RELU' is missing in type/);
    expect(new Set(errors.map((e) => e.file))).toEqual(new Set(['sim/ops/index.ts', 'sim/random-program.ts']));
  });

  it('an ISA module missing a rule fails in that module', () => {
    const isa = fixture('relu-isa.ts.txt').replace('    checkRanges: NO_RANGES,\n', '').replace('NO_RANGES, ', '');
    const errors = typeErrors({ 'isa/ops/relu.ts': isa, 'isa/table.ts': tableWithRelu }, [], ['isa/ops/relu.ts']);
    const rule = errors.find((e) => e.file === 'isa/ops/relu.ts');
    expect(rule).toMatchObject({ code: 2345 });
    expect(rule!.message).toMatch(/Property 'checkRanges' is missing in type/);
  });

  it('a new kind of cycle behaviour fails at the assertNever of every cycle unit that dispatches on it', () => {
    const [path, text] = edit(
      'sim/ops/define.ts',
      "  | { unit: 'fetch' }; // HALT",
      "  | { unit: 'fetch' } // HALT\n  | { unit: 'scatter' };",
    );
    const units = ['fetch', 'dma-unit', 'load', 'array', 'vector', 'store', 'tokens', 'context', 'engine'];
    const errors = typeErrors({ [path]: text }, [], [path, ...units.map((u) => `sim/cycle/${u}.ts`)]);
    // the LOAD and STORE units share one dispatch (dma-unit.ts); the REQUANT / POOL unit has its own
    expect(errors.map((e) => `${e.file} ${e.code}`).sort()).toEqual([
      'sim/cycle/dma-unit.ts 2345',
      'sim/cycle/vector.ts 2345',
    ]);
    for (const e of errors) expect(e.message).toMatch(/not assignable to parameter of type 'never'/);
  });
});
