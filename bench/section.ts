/** The contract between bench/main.ts and the sections it runs. */
import type { RssSampler } from './measure.js';
import type { Goal, Table } from './report.js';

/** What the other sections compare against, from one measurement of every kernel. */
export interface MachineCeiling {
  /** MAC/s the goals use: the native C kernel's best shape, else the WebAssembly kernel's */
  macPerSecond: number;
  source: 'native C' | 'WebAssembly kernel';
  /** the native kernel's vector path and compiler, when it ran */
  native?: { macPerSecond: number; kernel: string; compiler: string };
  /** why there is no native figure */
  nativeUnavailable?: string;
  /** the WebAssembly kernel alone (undefined: not built, or no WebAssembly SIMD here) */
  wasmMacPerSecond?: number;
  /** the same two figures per CPU second (MAC/s over the CPU share): what a loaded machine changes least */
  macPerCpuSecond: number;
  wasmMacPerCpuSecond?: number;
  jsMacPerSecond: number;
}

export interface SectionOutput {
  tables: Table[];
  goals: Goal[];
  notes: string[];
  data: Record<string, unknown>;
}

export interface BenchOptions {
  /** smaller workloads and shorter timing loops (smoke runs) */
  quick: boolean;
  /** images per compiled program in the mnist-end-to-end section */
  mnistBatch: number;
  /** the authors' MNIST model file */
  referenceModel: string;
  /** the `nibble` executable the startup section times (default: this build's dist/cli/main.js) */
  cli: string;
}

export interface BenchContext {
  options: BenchOptions;
  sampler: RssSampler;
  /** the machine's ceiling (ceiling section), once measured in this process */
  ceiling: MachineCeiling | undefined;
  /** progress line on stderr (tables go to stdout) */
  log(message: string): void;
}

export interface Section {
  name: string;
  title: string;
  run(ctx: BenchContext): SectionOutput | Promise<SectionOutput>;
}

/** A section whose API or tool is missing: it reports why instead of failing. */
export class SectionUnavailable extends Error {}
