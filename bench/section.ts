/** The contract between bench/main.ts and the sections it runs. */
import type { RssSampler } from './measure.js';
import type { Goal, Table } from './report.js';
import type { MachineCeiling } from './sections/ceiling.js';

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
