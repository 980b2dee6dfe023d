/**
 * The lowering's output (compiler/lower.ts): ConvOps over DRAM activation
 * tensors, grouped by IR layer. Tiling, the DRAM planner and the scheduler
 * consume these.
 */
import type { TensorLayout } from '../isa/index.js';

/** Largest values of the GEMM / REQUANT fields that are fixed by the ISA, not by the config. */
export const ISA_LIMITS = { kernel: 15, stride: 7, pad: 7, poolK: 3, poolS: 3, ciBlocks: 255 } as const;

/** An activation tensor in DRAM (per image C x H x W). */
export interface ActTensor {
  id: number;
  name: string;
  c: number;
  h: number;
  w: number;
  layout: TensorLayout;
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

/**
 * The same DRAM tensor read as C x h x w instead of its own C x H x W, with
 * h * w = H * W: within a channel block the blocked layout is one run of H*W
 * entries, so only the row pitch the GEMM sees changes. Every other field
 * (address, lifetime, name) is the base tensor's. A dense layer reads a wide
 * flattened map this way (compiler/tiling.ts); it always loads and
 * waits for whole images, so rows in the base's and the view's terms never
 * need to be compared.
 */
class TensorView implements ActTensor {
  constructor(
    readonly base: ActTensor,
    readonly h: number,
    readonly w: number,
  ) {}
  get id() {
    return this.base.id;
  }
  get c() {
    return this.base.c;
  }
  get layout() {
    return this.base.layout;
  }
  get signed() {
    return this.base.signed;
  }
  get bits() {
    return this.base.bits;
  }
  get name() {
    return this.base.name;
  }
  set name(v: string) {
    this.base.name = v;
  }
  get role() {
    return this.base.role;
  }
  set role(v: ActTensor['role']) {
    this.base.role = v;
  }
  get producer() {
    return this.base.producer;
  }
  set producer(v: number) {
    this.base.producer = v;
  }
  get lastUse() {
    return this.base.lastUse;
  }
  set lastUse(v: number) {
    this.base.lastUse = v;
  }
  get dramAddr() {
    return this.base.dramAddr;
  }
  set dramAddr(v: number) {
    this.base.dramAddr = v;
  }
  get imageStrideBytes() {
    return this.base.imageStrideBytes;
  }
  set imageStrideBytes(v: number) {
    this.base.imageStrideBytes = v;
  }
}

/** `t` read as C x h x w (h * w must equal its H * W); see TensorView. */
export function viewTensor(t: ActTensor, h: number, w: number): ActTensor {
  if (h * w !== t.h * t.w) throw new Error(`internal: a ${t.h}x${t.w} map viewed as ${h}x${w}`);
  return new TensorView(t instanceof TensorView ? t.base : t, h, w);
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
