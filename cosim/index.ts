/**
 * Co-simulation: the generated RTL (rtl-gen/, under Verilator) against the
 * simulator (sim/), bit- and cycle-exact per instruction (docs/rtl.md,
 * "Co-simulation"). It sits above both and uses only their public surfaces.
 */
export { verifyProgram, verifyRandom } from './verify.js';
export type { VerifyOptions, VerifyResult, VerifyRandomOptions, VerifyRandomResult } from './verify.js';
/** whether a tool the co-simulation needs (verilator) is installed */
export { toolAvailable } from '../rtl-gen/index.js';
