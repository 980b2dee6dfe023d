/**
 * Verilog generator and Verilator co-simulation (docs/rtl.md, docs/synthesis.md).
 */
export { generateVerilog, writeVerilog, rtlWidths, rtlOptions, requantStagePlan } from './verilog.js';
export type { GeneratedRtl, RtlWidths, RtlOptions } from './verilog.js';
export { generateHarness } from './harness.js';
export { buildVerilator, runHarness, toolAvailable } from './verilator.js';
export type { VerilatorBuild, BuildOptions, HarnessRun, HarnessInput } from './verilator.js';
export { RTL_RANDOM, verifyProgram, verifyRandom } from './cosim.js';
export type { VerifyOptions, VerifyResult, VerifyRandomOptions, VerifyRandomResult } from './cosim.js';
export { lint, synth, pnr, compareRequant, ice40Config, fpgaWrapper, parseYosysStat, parseNextpnr } from './synth.js';
export type { LintResult, SynthTarget, SynthResult, PnrDevice, PnrResult, RequantRow } from './synth.js';
