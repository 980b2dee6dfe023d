/**
 * Verilog generator, Verilator build and tool flows (docs/rtl.md, docs/synthesis.md).
 *
 * - the core: generateVerilog / writeVerilog; coreFacts (every width, derived
 *   from the config and the ISA table) and coreModules (one VerilogModule per unit);
 * - the emitter (rtl-gen/emit/): VerilogModule, Constants, BitFields, Dim and
 *   the width helpers, for writing new modules (bus shells, wrappers);
 * - tools: Verilator build and harness run, lint, Yosys synthesis, nextpnr.
 * - the AXI shell around the core and its C driver (rtl-gen/shell, rtl-gen/driver).
 * Co-simulation against the simulator lives above this package, in cosim/.
 */
export { generateVerilog, writeVerilog, coreModules, verilogFile, headerComment } from './generate.js';
export type { GeneratedRtl } from './generate.js';
export { coreFacts, rtlOptions, requantStagePlan } from './core-facts.js';
export type { CoreFacts, FactSources, RtlOptions } from './core-facts.js';
export { IsaView, TARGETS } from './isa-view.js';
export type { Target, DepFlag, BitRange } from './isa-view.js';
export { VerilogModule, Block, Constants, Signal, dedent } from './emit/module.js';
export type { ConstantDef, InstanceOptions, ParamDef, PortOptions, SignalKind, SignalOptions } from './emit/module.js';
export { BitFields } from './emit/fields.js';
export type { BitField } from './emit/fields.js';
export { Dim, bitsFor, indexBits, lit, range, sext, widthValue, zext } from './emit/width.js';
export type { Width } from './emit/width.js';
export { renderRtlConstants, renderRtlModules } from './docs.js';
export { generateHarness } from './harness.js';
export { buildVerilator, cxxOptimization, runHarness, toolAvailable } from './verilator.js';
export { lastPhase, runTool, setToolWatcher, TOOL_PHASES, toolRunInfo, watchTool } from './tool-run.js';
export type { PhaseRule, PhaseSet, ToolRunInfo, ToolRunOptions, ToolWatcher } from './tool-run.js';
export type { VerilatorBuild, BuildOptions, HarnessRun, HarnessInput } from './verilator.js';
export { lint, synth, pnr, compareRequant, ice40Config, fpgaWrapper, parseYosysStat, parseNextpnr } from './synth.js';
export type {
  ToolLogOptions,
  LintResult,
  SynthTarget,
  SynthResult,
  PnrDevice,
  PnrResult,
  RequantRow,
} from './synth.js';
export * from './shell/index.js';
