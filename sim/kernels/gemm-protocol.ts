/** The control word shared by a GemmTeam and its helper thread (one Int32Array over a SharedArrayBuffer). */
export const STATE = 0;
/** the staged GEMM's arguments start here (STAGED_ARGS of them) */
export const ARGS_AT = 1;
export const CONTROL_INTS = 40;

/** helper states: STARTING until its instance is ready; JOB posted by the main thread; DONE/ERROR by the helper */
export const STARTING = 0;
export const IDLE = 1;
export const JOB = 2;
export const DONE = 3;
export const ERROR = 4;
export const EXIT = 5;
export const DEAD = 6;

/** Busy-wait this many loads (some tens of microseconds) before sleeping: GEMMs come tens of microseconds apart. */
export const SPINS = 200;
