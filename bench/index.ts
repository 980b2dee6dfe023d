/**
 * The benchmark harness (entry: bench/main.ts, `npm run bench`). Exported for
 * the smoke test and for anyone who wants one section's figures in a script.
 */
export { parseBenchArgs, BenchUsageError, USAGE, defaultReferenceModel, defaultCli } from './args.js';
export type { BenchArgs } from './args.js';
export { RssSampler, timeRepeated, timeOnce } from './measure.js';
export type { Timed, RepeatOptions } from './measure.js';
export { renderTable, renderSection, markdownSection, markdownTable, si, pct } from './report.js';
export type { Table, Goal, SectionReport, SectionStatus } from './report.js';
export { runSection, runSections } from './run.js';
export { SectionUnavailable } from './section.js';
export type { BenchContext, BenchOptions, Section, SectionOutput } from './section.js';
export { SECTIONS, SECTION_ALIASES } from './sections/index.js';
export {
  int8Matmul,
  int8MatmulDot8,
  measureCeiling,
  measureWasmKernel,
  ensureCeiling,
  CEILING_SHAPES,
  MATMUL_KERNELS,
} from './sections/ceiling.js';
export type { MatmulShape, MatmulKernel, CeilingRow } from './sections/ceiling.js';
export type { MachineCeiling } from './section.js';
export { buildNativeGemm, runNativeGemm } from './native.js';
export type { NativeGemm, NativeRun } from './native.js';
export { zooWorkload, compiledWorkload, usefulMacs } from './workloads.js';
export type { Workload } from './workloads.js';
export { measureEngine } from './sections/sim.js';
export type { EngineRun } from './sections/sim.js';
export { simulateDataset, countMismatches } from './sections/mnist.js';
export { layerQuality, qualityGoals, qualityTable } from './sections/compiler-quality.js';
export type { LayerQuality } from './sections/compiler-quality.js';
export { machineInfo, describeMachine } from './machine.js';
export type { MachineInfo } from './machine.js';
