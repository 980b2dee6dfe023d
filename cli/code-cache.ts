/**
 * The nibble program run from V8's code cache (issue 17, start-up). Node 20
 * has no compile cache for ES modules, and parsing the source of yargs and of
 * a command was most of what a small run costs over Node's own start
 * (docs/performance.md). So `npm run build` also writes the whole program
 * (cli/nibble.ts and everything it loads, yargs included) as one CommonJS
 * script, dist/cli/nibble-cjs.js, run once at build time (a small
 * timing-engine run) to write the functions V8 compiled into
 * dist/cli/nibble-cjs.js.cache (cli/build-bundle.mjs). Each module in it is
 * still evaluated only when first imported (esbuild's lazy module wrappers), so
 * a command runs no more code than from the ES module chunks.
 *
 * The cache is only ever read at run time (an install may be read-only). V8
 * rejects a cache made by another V8 version, with other flags or for other
 * source (`cachedDataRejected`): the script is then compiled from its source,
 * as without a cache. With the script missing, or NIBBLE_CODE_CACHE=0 in the
 * environment, the entry point imports the ES module chunks instead.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

/** The CommonJS program's exports (the stdin entry in cli/build-bundle.mjs). */
export interface NibbleProgram {
  runNibble(argv: string[]): Promise<number>;
  hideBin(argv: string[]): string[];
}

export interface LoadedProgram {
  program: NibbleProgram;
  script: Script;
  /** whether a cache was given and V8 took it */
  cacheUsed: boolean;
}

export const SCRIPT_FILE = fileURLToPath(new URL('./nibble-cjs.js', import.meta.url));
export const CACHE_FILE = `${SCRIPT_FILE}.cache`;

/**
 * The program from dist/cli/nibble-cjs.js with its code cache when there is one
 * that V8 accepts; undefined when the script is missing or unreadable, or when
 * NIBBLE_CODE_CACHE=0 asks for the ES module chunks.
 */
export function loadProgram(useCache = true): LoadedProgram | undefined {
  if (process.env.NIBBLE_CODE_CACHE === '0') return undefined;
  let source: string;
  try {
    source = readFileSync(SCRIPT_FILE, 'utf8');
  } catch {
    return undefined;
  }
  let cachedData: Buffer | undefined;
  if (useCache) {
    try {
      cachedData = readFileSync(CACHE_FILE);
    } catch {
      // no cache (not built, or removed): compiled from the source
    }
  }
  // The file is a function expression (the build's banner and footer), so lines and columns are the file's own
  // for stack traces and cli/stack.ts's source map. import() of an external package is Node's own.
  const script = new Script(source, {
    filename: SCRIPT_FILE,
    cachedData,
    importModuleDynamically: ((specifier: string) => import(specifier)) as never,
  });
  const module = { exports: {} as NibbleProgram };
  const wrapper = script.runInThisContext() as (
    exports: object,
    require: NodeRequire,
    module: object,
    filename: string,
    dirname: string,
  ) => void;
  wrapper(
    module.exports,
    createRequire(SCRIPT_FILE),
    module,
    SCRIPT_FILE,
    fileURLToPath(new URL('.', import.meta.url)),
  );
  return { program: module.exports, script, cacheUsed: cachedData !== undefined && !script.cachedDataRejected };
}

/**
 * Build time only (cli/build-bundle.mjs, in a process of its own with stdout
 * discarded): run each command line from the script compiled without a
 * cache, then write the code V8 compiled for them. Flags a command changed
 * (`nibble sim`'s interrupt budget) are set back first: V8 takes a cache only
 * under the flags it was made with.
 */
export async function writeCodeCache(argvs: readonly string[][], defaultFlags: string[]): Promise<void> {
  const loaded = loadProgram(false);
  if (!loaded) throw new Error(`cannot read ${SCRIPT_FILE}`);
  for (const argv of argvs) {
    const code = await loaded.program.runNibble(argv);
    if (code !== 0) throw new Error(`nibble ${argv.join(' ')} exited ${code}`);
  }
  const { setFlagsFromString } = await import('node:v8');
  for (const f of defaultFlags) setFlagsFromString(f);
  writeFileSync(CACHE_FILE, loaded.script.createCachedData());
}
