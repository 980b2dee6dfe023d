/**
 * Adding a layer kind is a type-checked change: a fixture kind is compiled
 * with the TypeScript compiler API together with the project, added the way
 * docs/extending.md ("Adding a layer kind") says, in four files (its two
 * modules and one entry in each registry). Complete, the whole project
 * (tests included) type-checks cleanly, so no fifth file needs it; with any
 * piece left out, the type check names what is missing. The walkthrough's
 * table must list exactly these four files.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { LAYER_KINDS } from '../../models/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MODELS_REGISTRY = join(ROOT, 'models/layers/index.ts');
const COMPILER_REGISTRY = join(ROOT, 'compiler/layers/index.ts');
const MODEL_FIXTURE = join(ROOT, 'models/layers/negate.ts');
const LOWERING_FIXTURE = join(ROOT, 'compiler/layers/negate.ts');

/** The models side of a new kind: `negate`, y = -x on accumulators. */
function modelModule(omit?: string, unlistedField = false): string {
  const pieces: Record<string, string> = {
    analyze: `analyze(ck, _layer, input) {
      if (input.kind !== 'acc') ck.fail('kind', 'negate needs accumulators');
      return { output: input, macs: 0 };
    },`,
    prepare: `prepare: (info) => ({
      info,
      inSize: tensorSize(info.input.shape),
      outSize: tensorSize(info.input.shape),
      run(input, output, count) {
        for (let i = 0; i < count * this.inSize; i++) output[i] = -input[i]!;
      },
    }),`,
    calibrateSamples: 'calibrateSamples: runOnSamples,',
    calibrateAnalytic: 'calibrateAnalytic: (_info, x) => x,',
    toJson: 'toJson: (layer) => plainJson(layer, FIELDS),',
    fromJson: "fromJson: (_f, { name }) => ({ kind: 'negate', name }),",
    toQonnx: "toQonnx: (info, x, q) => ({ value: q.node('Neg', info.layer.name, [x.value]), flat: x.flat }),",
    naive: 'naive: (_layer, x) => ({ ...x, data: x.data.map((v) => -v) }),',
  };
  const body = Object.entries(pieces)
    .filter(([name]) => name !== omit)
    .map(([, text]) => `  ${text}`)
    .join('\n');
  return `import { tensorSize } from '../ir.js';
import { layerFields, plainJson, runOnSamples, type LayerModule } from './layer-module.js';

export interface NegateLayer {
  kind: 'negate';
  name: string;${unlistedField ? '\n  gain: number;' : ''}
}

declare module '../ir.js' {
  interface LayerTypes {
    negate: NegateLayer;
  }
}

const FIELDS = layerFields<NegateLayer>()('kind', 'name');

export const negateLayer: LayerModule<NegateLayer> = {
  kind: 'negate',
  fields: FIELDS,
${body}
};
`;
}

const LOWERING_MODULE = `import { CompileError } from '../../arch/index.js';
import type { LayerOfKind } from '../../models/index.js';
import type { LayerLowering } from './lowering.js';

export const negateLowering: LayerLowering<LayerOfKind<'negate'>> = {
  lower(info) {
    throw new CompileError('negate has no instruction yet', info.where);
  },
};
`;

/** The registry source with one more import and entry (inserted as the first entry of `constName`). */
function register(path: string, constName: string, entry: string, importLine: string): string {
  const text = readFileSync(path, 'utf8');
  const opening = `export const ${constName} = {\n`;
  expect(text).toContain(opening);
  return `${importLine}\n${text.replace(opening, `${opening}  ${entry},\n`)}`;
}

interface Variant {
  omitPiece?: string;
  /** a field in the layer type that FIELDS does not list */
  unlistedField?: boolean;
  registerModel?: boolean;
  registerLowering?: boolean;
}

const { options, projectFiles } = (() => {
  const config = ts.readConfigFile(join(ROOT, 'tsconfig.json'), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  return { options: { ...parsed.options, noEmit: true }, projectFiles: parsed.fileNames };
})();
/** Parsed project files, shared by the programs (only the checker runs again). */
const sourceCache = new Map<string, ts.SourceFile>();

/**
 * Type-checks the two registries and the fixture files (`wholeProject`: every
 * file of tsconfig.json as well); returns `file: message` lines.
 */
function typeCheck(variant: Variant, wholeProject = false): string[] {
  const virtual = new Map<string, string>([
    [MODEL_FIXTURE, modelModule(variant.omitPiece, variant.unlistedField)],
    [LOWERING_FIXTURE, LOWERING_MODULE],
  ]);
  if (variant.registerModel !== false) {
    virtual.set(
      MODELS_REGISTRY,
      register(MODELS_REGISTRY, 'LAYER_MODULES', 'negate: negateLayer', "import { negateLayer } from './negate.js';"),
    );
  }
  if (variant.registerLowering !== false) {
    virtual.set(
      COMPILER_REGISTRY,
      register(
        COMPILER_REGISTRY,
        'LAYER_LOWERINGS',
        'negate: negateLowering',
        "import { negateLowering } from './negate.js';",
      ),
    );
  }
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = (f) => virtual.has(resolve(f)) || ts.sys.fileExists(f);
  host.readFile = (f) => virtual.get(resolve(f)) ?? ts.sys.readFile(f);
  host.getSourceFile = (f, language) => {
    const text = virtual.get(resolve(f));
    if (text !== undefined) return ts.createSourceFile(f, text, language);
    let sf = sourceCache.get(f);
    if (sf === undefined) {
      sf = getSourceFile(f, language);
      if (sf !== undefined) sourceCache.set(f, sf);
    }
    return sf;
  };
  const roots = [MODELS_REGISTRY, COMPILER_REGISTRY, MODEL_FIXTURE, LOWERING_FIXTURE];
  const program = ts.createProgram(wholeProject ? [...roots, ...projectFiles] : roots, options, host);
  const checked = wholeProject ? program.getRootFileNames() : roots;
  const diagnostics = checked.flatMap((f) => [
    ...program.getSyntacticDiagnostics(program.getSourceFile(f)),
    ...program.getSemanticDiagnostics(program.getSourceFile(f)),
  ]);
  return diagnostics.map((d) => {
    const file = d.file ? d.file.fileName.slice(ROOT.length + 1) : '?';
    return `${file}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}

describe('adding a layer kind is checked by the compiler', () => {
  // Parsing the project once takes a few seconds; later programs reuse the parsed files.
  beforeAll(() => {
    typeCheck({});
  }, 120_000);

  it('the complete kind (2 new modules + 1 entry per registry) type-checks with the whole project', () => {
    expect(typeCheck({}, true)).toEqual([]);
  }, 120_000);

  it("docs/extending.md's walkthrough lists exactly the files this kind touches, in order", () => {
    const doc = readFileSync(join(ROOT, 'docs/extending.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Adding a layer kind'));
    const table = section.slice(0, section.indexOf('\n\n', section.indexOf('| step |')));
    const files = [...table.matchAll(/^\| \d+ \| `([^`]+)`/gm)].map((m) => m[1]!.replace(/identity/g, 'negate'));
    const rel = (f: string) => f.slice(ROOT.length + 1);
    expect(files).toEqual([MODEL_FIXTURE, MODELS_REGISTRY, LOWERING_FIXTURE, COMPILER_REGISTRY].map(rel));
  });

  for (const piece of [
    'analyze',
    'prepare',
    'calibrateSamples',
    'calibrateAnalytic',
    'toJson',
    'fromJson',
    'toQonnx',
    'naive',
  ]) {
    it(`a kind module without ${piece} fails, naming the piece`, () => {
      const errors = typeCheck({ omitPiece: piece });
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.join('\n')).toMatch(
        new RegExp(`^models/layers/negate\\.ts: Property '${piece}' is missing in type`, 'm'),
      );
    });
  }

  it('a field of the layer type missing from its JSON field list fails, naming the field', () => {
    const errors = typeCheck({ unlistedField: true });
    expect(errors.join('\n')).toMatch(/^models\/layers\/negate\.ts: .*missingFields: "gain"/m);
  });

  it('a kind the models registry does not list fails in models/layers/index.ts', () => {
    const errors = typeCheck({ registerModel: false });
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.join('\n')).toMatch(/^models\/layers\/index\.ts: .*Property 'negate' is missing/m);
  });

  it('a kind without a lowering rule fails in compiler/layers/index.ts', () => {
    const errors = typeCheck({ registerLowering: false });
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.join('\n')).toMatch(/^compiler\/layers\/index\.ts: .*Property 'negate' is missing/m);
  });

  it('the project itself has exactly the registered kinds', () => {
    expect(LAYER_KINDS).toEqual(['conv2d', 'dense', 'maxpool', 'requant', 'flatten', 'residual']);
  });
});
