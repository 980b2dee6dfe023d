/**
 * The AXI shell (docs/board.md): nibble_axi_top around the core, its register
 * map (docs/registers.md), its Verilator testbench and the generated C driver
 * (rtl-gen/driver). Its co-simulation against nibble's AXI slave model is in
 * cosim/ (it runs the simulator); rtl-gen/index.ts re-exports all of this.
 */
export { generateShell, writeShell, SHELL_TOP } from './generate.js';
export type { GeneratedShell } from './generate.js';
export { shellParams, entryTransfers, SHELL_READ_OVERHEAD, SHELL_WRITE_OVERHEAD } from './options.js';
export type { ShellOptions, ShellParams, EntryTransfer } from './options.js';
export {
  registerMap,
  renderRegistersMarkdown,
  COUNTERS,
  ERROR_BITS,
  SHELL_ID,
  REGISTER_MAP_VERSION,
} from './registers.js';
export type { RegisterMap, RegisterDef, RegisterField, RegisterAccess, CounterName } from './registers.js';
export { generateShellHarness } from './harness.js';
export { driverFiles, writeDriver, generateRegsHeader } from '../driver/index.js';
export type { DriverFile } from '../driver/index.js';
export { lintShell } from './lint.js';
export type { ShellLintResult } from './lint.js';
export { cachedBuild } from './build-cache.js';
export { verilatorBuildArgs, verilatorBuildKey } from '../verilator.js';
