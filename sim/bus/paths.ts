/**
 * The bus model's parts for one run, wired together: the read and write paths, the streaming ring and, with the
 * board slave (bus.slave 'board'), the slave they share. Both the schedule engines (schedule.ts) and the cycle
 * engine step them the same way: begin(t) at the start of a cycle, the write path once, then the read path's and
 * the ring's end(t).
 */
import { BoardSlave } from './board-slave.js';
import type { BusParams } from './params.js';
import { ReadPath } from './read-path.js';
import { BoardRing, InstructionRing, type RingModel } from './stream-ring.js';
import { WritePath } from './write-path.js';

export interface BusPaths {
  params: BusParams;
  read: ReadPath;
  write: WritePath;
  /** the streaming shell's instruction ring (bus.stream), else every word is there from cycle 1 */
  ring: RingModel | undefined;
  slave: BoardSlave | undefined;
}

export function busPaths(params: BusParams, programWords: number): BusPaths {
  const slave = params.board ? new BoardSlave(params.board) : undefined;
  const ring = !params.bus.stream
    ? undefined
    : slave
      ? new BoardRing(params, programWords, slave)
      : new InstructionRing(params, programWords);
  return { params, read: new ReadPath(params, slave), write: new WritePath(params, slave), ring, slave };
}

/** Start of cycle t, `lo` words dispatched before it: what every part's registers show. */
export function beginBusCycle(b: BusPaths, t: number, lo: number): void {
  b.slave?.begin(t, b.read.arValidNow);
  b.read.begin();
  b.write.begin();
  b.ring?.begin(t, lo);
}

/** Nothing in flight on the bus, nothing about to be requested. */
export function busPathsIdle(b: BusPaths, lo: number): boolean {
  return b.read.idle && b.write.idle && !(b.ring?.busy(lo) ?? false);
}
