/**
 * The CLI sits on top of every other part of nibble. Those parts are loaded
 * lazily: `nibble config` should not pay for loading the Verilog generator,
 * and a part that is missing from an installation (or not written yet) makes
 * only the commands that need it fail, with a clear user-facing message.
 */
import { NibbleError, type DiagnosticCode } from '../arch/index.js';

/** A command needs a part of nibble that is not available in this build. */
export class UnavailableError extends NibbleError {
  static override readonly defaultCode: DiagnosticCode = 'NB-N000';
  constructor(
    message: string,
    /** which part is missing, for re-phrasing per feature */
    readonly missing?: string,
  ) {
    super(message);
  }
}

/**
 * Each part's loader is a literal import(), so the build's bundler
 * (cli/build-bundle.mjs) sees it and puts the part in chunks of its own.
 */
const PARTS = {
  models: {
    path: '../models/index.js',
    load: () => import('../models/index.js'),
    what: 'the models package (models/index.ts)',
  },
  isa: {
    path: '../isa/index.js',
    load: () => import('../isa/index.js'),
    what: 'the ISA tools (isa/index.ts: assembler, program files, token checker)',
  },
  compiler: {
    path: '../compiler/index.js',
    load: () => import('../compiler/index.js'),
    what: 'the compiler (compiler/index.ts)',
  },
  sim: { path: '../sim/index.js', load: () => import('../sim/index.js'), what: 'the simulator (sim/index.ts)' },
  rtl: {
    path: '../rtl-gen/index.js',
    load: () => import('../rtl-gen/index.js'),
    what: 'the Verilog generator (rtl-gen/index.ts)',
  },
  cosim: {
    path: '../cosim/index.js',
    load: () => import('../cosim/index.js'),
    what: 'the co-simulation (cosim/index.ts)',
  },
  shell: {
    path: '../rtl-gen/index.js',
    load: () => import('../rtl-gen/index.js'),
    what: 'the AXI shell and its driver (rtl-gen/shell, exported by rtl-gen/index.ts)',
  },
  fpga: { path: '../fpga/index.js', load: () => import('../fpga/index.js'), what: 'the board flows (fpga/index.ts)' },
  training: {
    path: '../models/index.js',
    load: async () => (await import('../models/index.js')).loadTraining(),
    what: 'the trained-model package (models/training, through models/index.ts)',
  },
  sweep: {
    path: '../sweep/index.js',
    load: () => import('../sweep/index.js'),
    what: 'the design-space explorer (sweep/index.ts)',
  },
} as const;

export type Part = keyof typeof PARTS;

const cache = new Map<Part, Promise<Record<string, unknown>>>();

async function importPart(part: Part): Promise<Record<string, unknown>> {
  try {
    return (await PARTS[part].load()) as unknown as Record<string, unknown>;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(PARTS[part].path.slice(3))) {
      throw new UnavailableError(`${PARTS[part].what} is not available in this build yet`, PARTS[part].what);
    }
    throw e;
  }
}

/**
 * Load a part and check that it exports `names` as functions; `T` is the
 * slice of its API the caller uses.
 */
export async function requirePart<T>(part: Part, names: readonly string[], feature: string): Promise<T> {
  let p = cache.get(part);
  if (!p) {
    p = importPart(part);
    cache.set(part, p);
  }
  let mod: Record<string, unknown>;
  try {
    mod = await p;
  } catch (e) {
    if (e instanceof UnavailableError)
      throw new UnavailableError(
        `${feature} needs ${e.missing ?? 'a part of nibble'}, which is not available in this build yet`,
        e.missing,
      );
    throw e;
  }
  const missing = names.filter((n) => typeof mod[n] !== 'function');
  if (missing.length > 0) {
    throw new UnavailableError(
      `${feature} needs ${missing.join(', ')} from ${PARTS[part].what}, which is not available yet`,
    );
  }
  return mod as T;
}

export type IsaApi = typeof import('../isa/index.js');

export function isaApi(feature: string, names: readonly (keyof IsaApi)[]): Promise<IsaApi> {
  return requirePart<IsaApi>('isa', names, feature);
}

/** rtl-gen's public surface. */
export type RtlApi = typeof import('../rtl-gen/index.js');

export function rtlApi(feature: string, names: readonly (keyof RtlApi)[]): Promise<RtlApi> {
  return requirePart<RtlApi>('rtl', names, feature);
}

/** cosim's public surface. */
export type CosimApi = typeof import('../cosim/index.js');

export function cosimApi(feature: string, names: readonly (keyof CosimApi)[]): Promise<CosimApi> {
  return requirePart<CosimApi>('cosim', names, feature);
}

/** The AXI shell's public surface (rtl-gen/shell, through rtl-gen/index.ts). */
export type ShellApi = typeof import('../rtl-gen/index.js');

export function shellApi(feature: string, names: readonly (keyof ShellApi)[]): Promise<ShellApi> {
  return requirePart<ShellApi>('shell', names, feature);
}

export type ModelsApi = typeof import('../models/index.js');

export function modelsApi(feature: string, names: readonly (keyof ModelsApi)[]): Promise<ModelsApi> {
  return requirePart<ModelsApi>('models', names, feature);
}
