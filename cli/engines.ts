/**
 * The compile and simulate steps the commands share, over the compiler and
 * simulator APIs (loaded lazily, see modules.ts).
 */
import type { ArchConfig } from '../arch/index.js';
import type { Program } from '../isa/index.js';
import type { Network } from '../models/index.js';
import { requirePart } from './modules.js';
import { formatNumber, type Terminal } from './terminal.js';

export type SimEngine = 'fast' | 'cycle' | 'timing';
export const SIM_ENGINES: readonly SimEngine[] = ['fast', 'timing', 'cycle'];

export type CompilerApi = typeof import('../compiler/index.js');

export async function compiler(feature: string): Promise<CompilerApi> {
  return requirePart<CompilerApi>('compiler', ['compileNetwork', 'compileListing'], feature);
}

export async function compileNetwork(
  net: Network,
  cfg: ArchConfig,
  batch: number,
  feature: string,
  opts: { tapPacking?: boolean } = {},
): Promise<Program> {
  const api = await compiler(feature);
  return api.compileNetwork(net, cfg, { batch, ...opts });
}

export type SimApi = typeof import('../sim/index.js');
export type SimResult = import('../sim/index.js').SimResult;

export async function simulator(feature: string): Promise<SimApi> {
  return requirePart<SimApi>('sim', ['simulate'], feature);
}

/** Optional simulator extras (energy model, trace writers), looked up by name so a missing one fails only its feature. */
export async function simulatorExtra<T>(name: string, feature: string): Promise<T> {
  const api = await requirePart<Record<string, unknown>>('sim', [name], feature);
  return api[name] as T;
}

/**
 * simulate() with progress on a terminal: the cycle engine (minutes for large
 * programs) shows a bar in cycles, its total known from the timing engine,
 * which is cycle-exact with it and fast; other engines show a step line.
 */
export function simulateWithProgress(
  term: Terminal,
  sim: Pick<SimApi, 'simulate'>,
  program: Program,
  opts: Parameters<SimApi['simulate']>[1],
): SimResult {
  const label = `simulating ${formatNumber(program.code.length)} instructions (${opts.engine} engine)`;
  if (opts.engine !== 'cycle' || !process.stderr.isTTY || term.verbosity === 'quiet')
    return term.step(label, () => sim.simulate(program, opts));
  const total = sim.simulate(program, { engine: 'timing' }).cycles;
  const bar = term.progress(`${label}, cycles`, total);
  let shown = 0;
  try {
    return sim.simulate(program, {
      ...opts,
      onCycle: (s) => {
        if (s.cycle - shown >= 4096) {
          bar.tick(s.cycle - shown);
          shown = s.cycle;
        }
      },
    });
  } finally {
    bar.stop();
  }
}
