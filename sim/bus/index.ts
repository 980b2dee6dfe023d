/**
 * The bus model (docs/board.md, "The bus model"): the AXI shell's memory path
 * and a deterministic AXI slave, for a config with a `bus` section
 * (arch/bus.ts). The schedule engines use computeBusSchedule; the cycle
 * engine's fetch, LOAD and STORE units step the same read and write paths.
 */
export { busParams } from './params.js';
export type { BusParams } from './params.js';
export { ReadPath } from './read-path.js';
export type { ReadRequest } from './read-path.js';
export { WritePath } from './write-path.js';
export { LoadTraffic, StoreTraffic, loadBeats, storeBeats } from './traffic.js';
export { computeBusSchedule } from './schedule.js';
export { BoardRing, InstructionRing } from './stream-ring.js';
export type { RingModel } from './stream-ring.js';
export { BoardSlave, boardRun, checkBusRun } from './board-slave.js';
export { beginBusCycle, busPaths, busPathsIdle } from './paths.js';
export type { BusPaths } from './paths.js';
