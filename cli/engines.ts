/**
 * The compile and simulate steps the commands share, over the compiler and
 * simulator APIs (loaded lazily, see modules.ts).
 */
import type { ArchConfig } from '../arch/config.js';
import type { Program } from '../isa/program.js';
import type { Network } from '../models/ir.js';
import { requirePart } from './modules.js';

export type SimEngine = 'fast' | 'cycle' | 'timing';
export const SIM_ENGINES: readonly SimEngine[] = ['fast', 'timing', 'cycle'];

interface CompilerApi {
  compileNetwork(net: Network, cfg: ArchConfig, opts?: { batch?: number }): Program;
  compileListing?(program: Program): string;
}

export async function compiler(feature: string): Promise<CompilerApi> {
  return requirePart<CompilerApi>('compiler', ['compileNetwork'], feature);
}

export async function compileNetwork(net: Network, cfg: ArchConfig, batch: number, feature: string): Promise<Program> {
  const api = await compiler(feature);
  return api.compileNetwork(net, cfg, { batch });
}

export interface SimOptions {
  engine: SimEngine;
  inputs?: Record<string, Int32Array | Uint8Array>;
  collect?: { perInstruction?: boolean; trace?: boolean };
  energyTable?: unknown;
}

/** The parts of a simulation result the CLI reads; the rest is passed through to --json. */
export interface SimResultLike {
  cycles: number;
  outputs?: Record<string, Int32Array>;
  counters?: Record<string, unknown>;
  [key: string]: unknown;
}

interface SimApi {
  simulate(program: Program, opts: SimOptions): SimResultLike;
}

export async function simulator(feature: string): Promise<SimApi & Record<string, unknown>> {
  return requirePart<SimApi & Record<string, unknown>>('sim', ['simulate'], feature);
}
