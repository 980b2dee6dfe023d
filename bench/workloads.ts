/** Networks compiled for the benchmarks, with how long building and compiling took. */
import type { ArchConfig } from '../arch/index.js';
import { compileNetwork } from '../compiler/index.js';
import type { Program } from '../isa/index.js';
import { zooNetwork, type Network } from '../models/index.js';
import { timeOnce, type RssSampler } from './measure.js';

export interface Workload {
  /** e.g. 'cifar10-32' */
  label: string;
  net: Network;
  program: Program;
  /** building the network (weights, calibration): not a compiler cost */
  buildMs: number;
  compileMs: number;
}

export function compiledWorkload(
  label: string,
  net: Network,
  cfg: ArchConfig,
  batch: number,
  sampler?: RssSampler,
): Workload {
  const c = timeOnce(() => compileNetwork(net, cfg, { batch }), sampler);
  return { label, net, program: c.value, buildMs: 0, compileMs: c.ms };
}

export function zooWorkload(
  name: string,
  cfg: ArchConfig,
  opts: { inputSize?: number; batch?: number; sampler?: RssSampler } = {},
): Workload {
  const b = timeOnce(
    () => zooNetwork(name, opts.inputSize !== undefined ? { inputSize: opts.inputSize } : {}),
    opts.sampler,
  );
  const w = compiledWorkload(b.value.name, b.value, cfg, opts.batch ?? 1, opts.sampler);
  return { ...w, buildMs: b.ms };
}

/** Sum of the program's per-layer MACs: the network's useful work. */
export function usefulMacs(program: Program): number {
  return program.layers.reduce((s, l) => s + l.macs, 0);
}
