/**
 * What an opcode's `naive` piece works on: the test suite's deliberately
 * plain, independent statement of the ISA semantics (isa/table.ts docs,
 * docs/architecture.md 7.3). test/sim/naive.ts runs a program's
 * instructions through their `naive` pieces in program order and the engine
 * tests compare all three engines against it. A `naive` piece works on
 * byte-level scratchpads packed with the isa/ lane codecs, one lane at a
 * time, in plain arrays; it calls nothing of its module's other pieces
 * (`execute`, `timing`, `cycle`) nor of the rest of sim/, so a bug in an
 * engine cannot hide in the oracle too (test/sim/naive-pieces.test.ts checks
 * what each piece refers to).
 */
import type { DerivedArch } from '../../arch/index.js';

export interface NaiveMachine {
  arch: DerivedArch;
  dram: Uint8Array;
  /** the scratchpads, packed as in the hardware (entry e at e * entry bytes) */
  inp: Uint8Array;
  wgt: Uint8Array;
  param: Uint8Array;
  out: Uint8Array;
  /** the accumulators, one number per lane */
  acc: number[][];
  /** set by HALT: the run ends */
  halted: boolean;
  /** the lanes of entry `entry` of a packed buffer (`lanes` defaults to the array's columns) */
  lane(buf: Uint8Array, entryBytes: number, entry: number, bits: number, signed: boolean, lanes?: number): number[];
}
