/**
 * In-memory form of a program file (.nbl). The binary container (isa/program-file.ts)
 * serializes exactly this. The compiler produces it; the simulator, the RTL
 * testbench and the tools consume it.
 */
import type { ArchConfig } from '../arch/index.js';
import type { Instruction } from './table.js';

/**
 * How a tensor is laid out in DRAM. L = max(array.rows, array.cols) lanes per
 * entry (deriveArch().dramLanes): an INP block of R channels and an OUT block of
 * C channels are each one entry or a whole part of one.
 * - 'blocked': per image, [cblock][h][w] entries of L lanes x `bits`; lane l of
 *   block cb is channel cb*L + l; lanes are packed little-endian within the entry
 *   (lane 0 in the lowest bits of the first byte); channels beyond `shape[1]` are 0.
 * - 'nibble-planes': an 8-bit unsigned tensor as two 4-bit 'blocked' tensors, per
 *   image: low nibbles (all blocks) then high nibbles (all blocks). The GEMM runs a
 *   pass over each plane, the high one with pshift = 4.
 * - 'nibble-lanes': the same unsigned values as one 4-bit 'blocked' tensor of twice
 *   the channels: lane 2c holds the low nibble of channel c, lane 2c+1 its high
 *   nibble (with 4-bit lanes, byte c of an entry is channel c's value). Read by
 *   tap-packed GEMMs with nibble_lanes = 1 (docs/architecture.md 7.6).
 */
export type TensorLayout = 'blocked' | 'nibble-planes' | 'nibble-lanes';

export interface TensorDescriptor {
  name: string;
  /** byte address of image 0 */
  dramAddr: number;
  /** [batch, channels, height, width] */
  shape: [number, number, number, number];
  layout: TensorLayout;
  /** element width of the logical tensor (8 for nibble-planes and nibble-lanes inputs) */
  bits: number;
  signed: boolean;
  /** bytes from one image to the next */
  imageStrideBytes: number;
}

/** A piece of the initial DRAM image (weights, params, ...). */
export interface DramSegment {
  name: string;
  dramAddr: number;
  bytes: Uint8Array;
}

/** Per-layer metadata so tools report per layer. */
export interface LayerInfo {
  name: string;
  kind: string;
  /** MACs of the layer in the network (batch included), i.e. useful work */
  macs: number;
  /** instruction index range [first, last] (inclusive) */
  firstInstruction: number;
  lastInstruction: number;
}

export interface Program {
  config: ArchConfig;
  /** configHash(config) at compile time; checked on load */
  configHash: string;
  code: Instruction[];
  segments: DramSegment[];
  inputs: TensorDescriptor[];
  outputs: TensorDescriptor[];
  layers: LayerInfo[];
  /** free-form provenance (model name, compiler version, batch) */
  meta: Record<string, string | number>;
  /** assembled programs: the text each instruction came from (kept in memory only, not in the .nbl) */
  source?: ProgramSource;
}

/** The file and 1-based line of every instruction of an assembled program. */
export interface ProgramSource {
  file: string;
  lines: readonly number[];
}

/** How errors name instruction i: `prog.s:12 (instruction 7)` for assembled programs, else `instruction 7`. */
export function instructionPlace(program: Pick<Program, 'source'>, i: number): string {
  const line = program.source?.lines[i];
  return line === undefined ? `instruction ${i}` : `${program.source!.file}:${line} (instruction ${i})`;
}
