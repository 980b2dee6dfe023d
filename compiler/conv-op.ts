/**
 * The lowering's output (compiler/lower.ts): ConvOps over DRAM activation
 * tensors, grouped by IR layer. Tiling, the DRAM planner and the scheduler
 * consume these.
 */

/** Largest values of the GEMM / REQUANT fields that are fixed by the ISA, not by the config. */
export const ISA_LIMITS = { kernel: 15, stride: 7, pad: 7, poolK: 3, poolS: 3, ciBlocks: 255 } as const;

/** An activation tensor in DRAM (per image C x H x W). */
export interface ActTensor {
  id: number;
  name: string;
  c: number;
  h: number;
  w: number;
  layout: 'blocked' | 'nibble-planes';
  signed: boolean;
  /** value width (8 for the nibble-plane network input) */
  bits: number;
  role: 'input' | 'output' | 'intermediate';
  /** op index that stores it (-1: network input) */
  producer: number;
  /** last op index that loads it */
  lastUse: number;
  /** assigned by the DRAM planner */
  dramAddr: number;
  imageStrideBytes: number;
}

/** One convolution summed into the op's accumulator tile. */
export interface ConvTerm {
  src: ActTensor;
  ci: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  /** [co][ci][kh][kw] */
  weights: Int8Array;
}

export interface ConvOp {
  index: number;
  /** index of the IR layer group (Program.layers) */
  group: number;
  name: string;
  where: string;
  terms: ConvTerm[];
  co: number;
  /** conv output size (before pooling) */
  oh: number;
  ow: number;
  poolK: number;
  poolS: number;
  /** final output size */
  poh: number;
  pow: number;
  bias: Int32Array;
  shift: Int8Array;
  outSigned: boolean;
  outBits: number;
  dst: ActTensor;
  /** output is 1 x 1 and the kernel covers the whole input: images may be stacked in one GEMM */
  dense: boolean;
}

export interface LayerGroup {
  name: string;
  kind: string;
  /** MACs per image */
  macs: number;
  ops: number[];
}

export interface Lowered {
  ops: ConvOp[];
  groups: LayerGroup[];
  tensors: ActTensor[];
  input: ActTensor;
  output: ActTensor;
}
