/**
 * Co-simulation: the generated RTL (rtl-gen/, under Verilator) against the
 * simulator (sim/), bit- and cycle-exact per instruction (docs/rtl.md,
 * "Co-simulation"), bare core or inside the AXI shell (docs/board.md). It sits
 * above both and uses only their public surfaces.
 */
export { verifyProgram, verifyRandom, machineGroups, defaultMachineCount } from './verify.js';
export type {
  VerifyOptions,
  VerifyResult,
  VerifyRandomOptions,
  VerifyRandomResult,
  RandomFailure,
  MachineGroup,
} from './verify.js';
/** whether a tool the co-simulation needs (verilator) is installed */
export { toolAvailable } from '../rtl-gen/index.js';
export { shellImage, checkShellAlignment, alignProgram } from './shell-image.js';
export type { ShellImage } from './shell-image.js';
export {
  buildShellVerilator,
  runShellHarness,
  verifyShellProgram,
  verifyShellRandom,
  shellRandomConfig,
  shellRandomProgram,
  firstTimingMismatch,
} from './shell.js';
export type {
  ShellBuild,
  ShellRun,
  ShellRunInput,
  BusFault,
  VerifyShellOptions,
  VerifyShellResult,
  VerifyShellRandomOptions,
  VerifyShellRandomResult,
} from './shell.js';
