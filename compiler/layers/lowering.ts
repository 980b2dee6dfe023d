/**
 * What the layer kinds' lowering rules (compiler/layers/<kind>.ts) share: the
 * builder that collects tensors, layer groups and ConvOps, the machine's
 * field checks, and the interface each rule implements. The chain walk that
 * calls the rules is compiler/lower.ts.
 */
import type { ArchConfig } from '../../arch/index.js';
import { CompileError } from '../../arch/index.js';
import type { Conv2dLayer, Layer, LayerInfo, LayerInfoOf, Network } from '../../models/index.js';
import { ISA_LIMITS, type ActTensor, type ConvOp, type ConvTerm, type LayerGroup } from '../conv-op.js';

/** What flows between layers while lowering: a DRAM tensor, possibly viewed as flattened. */
export interface Flow {
  tensor: ActTensor;
  /** true after a flatten of a tensor with H*W > 1 (no data moved yet) */
  flat: boolean;
}

/** One step of the chain walk: the layer at `infos[at]` and where its result goes. */
export interface ChainStep {
  lw: Lowering;
  /** the chain being lowered: the network's layers, or a residual's main path before its last conv */
  infos: LayerInfo[];
  at: number;
  /** what the layer reads */
  flow: Flow;
  /** the layer group ops are added to */
  group: number;
  /** name of the tensor a layer ending at index i writes */
  outName(i: number): string;
  /** whether index i is the network's last layer (its tensor is the output) */
  isLast(i: number): boolean;
  /** counts MACs to the group (top level only: a residual's own count covers its parts) */
  addMacs(macs: number): void;
  /** lowers a nested chain into the same group (a residual's main path) */
  chain(infos: LayerInfo[], flow: Flow, outName: (i: number) => string): Flow;
}

/** The flow after a rule and the index of the next layer to lower (past every layer the rule fused). */
export interface StepResult {
  flow: Flow;
  next: number;
}

/** How one layer kind becomes ConvOps. A rule may consume the layers after it (a conv's requant and pools). */
export interface LayerLowering<L extends Layer> {
  lower(info: LayerInfoOf<L>, step: ChainStep): StepResult;
}

/**
 * A layer that moves no data (a flatten read in place, an identity pool): the
 * flow goes on unchanged; at the network's end its tensor becomes the output.
 */
export function passThrough(info: LayerInfo, step: ChainStep, flow: Flow = step.flow): StepResult {
  const next = step.at + 1;
  if (!step.isLast(step.at)) return { flow, next };
  const t = flow.tensor;
  if (!flow.flat && t.producer < 0) {
    throw new CompileError(`the network ends with a ${info.layer.kind} of its input: nothing to compute`, info.where);
  }
  const dst = flow.flat ? step.lw.materialize(flow, step.group, info.where, info.layer.name) : t;
  dst.name = 'output';
  dst.role = 'output';
  return { flow: { tensor: dst, flat: false }, next };
}

/** Collects tensors, groups and ops, and checks layers against the machine. */
export class Lowering {
  readonly ops: ConvOp[] = [];
  readonly groups: LayerGroup[] = [];
  readonly tensors: ActTensor[] = [];
  constructor(
    readonly net: Network,
    readonly cfg: ArchConfig,
  ) {}

  tensor(
    name: string,
    c: number,
    h: number,
    w: number,
    signed: boolean,
    bits: number,
    role: ActTensor['role'],
    layout: ActTensor['layout'] = 'blocked',
  ): ActTensor {
    const t: ActTensor = {
      id: this.tensors.length,
      name,
      c,
      h,
      w,
      layout,
      signed,
      bits,
      role,
      producer: -1,
      lastUse: -1,
      dramAddr: -1,
      imageStrideBytes: 0,
    };
    this.tensors.push(t);
    return t;
  }

  /** The tensor a layer ending at chain index i writes: the network output if it is the last layer. */
  resultTensor(
    step: ChainStep,
    i: number,
    shape: { c: number; h: number; w: number },
    signed: boolean,
    bits: number,
  ): ActTensor {
    const last = step.isLast(i);
    return this.tensor(
      last ? 'output' : step.outName(i),
      shape.c,
      shape.h,
      shape.w,
      signed,
      bits,
      last ? 'output' : 'intermediate',
    );
  }

  group(name: string, kind: string, macs: number): number {
    this.groups.push({ name, kind, macs, ops: [] });
    return this.groups.length - 1;
  }

  checkActivationWidth(where: string, bits: number, what: string): void {
    if (bits > this.cfg.bits.activation) {
      throw new CompileError(
        `${what} is ${bits} bits wide but bits.activation is ${this.cfg.bits.activation}: raise bits.activation to ${bits}`,
        where,
        'NB-C004',
      );
    }
  }

  /** The kernel, stride and padding fields the GEMM instruction encodes. */
  checkConvFields(where: string, l: Conv2dLayer): void {
    const lim = ISA_LIMITS;
    const bad = (what: string, v: number, max: number, field: string) => {
      throw new CompileError(`${what} ${v} exceeds the GEMM ${field} field (at most ${max})`, where, 'NB-C003');
    };
    if (l.kernelH > lim.kernel) bad('kernel height', l.kernelH, lim.kernel, '4-bit kernel_h');
    if (l.kernelW > lim.kernel) bad('kernel width', l.kernelW, lim.kernel, '4-bit kernel_w');
    if (l.strideH > lim.stride) bad('stride', l.strideH, lim.stride, '3-bit stride_h');
    if (l.strideW > lim.stride) bad('stride', l.strideW, lim.stride, '3-bit stride_w');
    if (l.padH > lim.pad) bad('padding', l.padH, lim.pad, '3-bit pad_top');
    if (l.padW > lim.pad) bad('padding', l.padW, lim.pad, '3-bit pad_left');
  }

  checkPool(where: string, k: number, s: number): void {
    if (k > ISA_LIMITS.poolK || s > ISA_LIMITS.poolS) {
      throw new CompileError(
        `max pool ${k}x${k} stride ${s} exceeds the 2-bit REQUANT pool_k/pool_s fields (at most ${ISA_LIMITS.poolK})`,
        where,
        'NB-C003',
      );
    }
  }

  /**
   * A compiled program never overflows: every layer's static accumulator bound
   * (over all inputs in range, so also over every partial sum in any order)
   * must fit both the machine's accumulators and the network's declared
   * accumulatorBits. Then neither the reference nor the machine can report an
   * overflow, so they cannot disagree about one (docs/architecture.md section 8).
   */
  checkAccumulator(info: LayerInfo): void {
    const out = info.output;
    if (out.kind !== 'acc') return;
    const hw = this.cfg.bits.accumulator;
    const declared = this.net.accumulatorBits;
    if (out.bits <= hw && out.bits <= declared) return;
    const reach = `accumulator values may reach [${out.lo}, ${out.hi}] (${out.bits} bits)`;
    let why: string;
    if (out.bits > declared && out.bits > hw) {
      why = `bits.accumulator is ${hw} and the network allows ${declared}-bit sums (accumulatorBits): raise both to ${out.bits}`;
    } else if (out.bits > hw) {
      why = `bits.accumulator is ${hw}: raise bits.accumulator to ${out.bits}`;
    } else {
      why =
        `the network allows only ${declared}-bit sums (accumulatorBits): the reference reports an overflow where the machine's ` +
        `${hw}-bit accumulators would not, so raise the network's accumulatorBits to ${out.bits}`;
    }
    throw new CompileError(`${reach} but ${why}`, info.where, 'NB-C004');
  }

  /** Register an op: its sources stay alive until it, its output starts with it. */
  addOp(op: Omit<ConvOp, 'index'>): ConvOp {
    const full = { ...op, index: this.ops.length } as ConvOp;
    this.ops.push(full);
    this.groups[op.group]!.ops.push(full.index);
    for (const t of full.terms) t.src.lastUse = full.index;
    full.dst.producer = full.index;
    return full;
  }

  identityWeights(n: number): Int8Array {
    const w = new Int8Array(n * n);
    for (let i = 0; i < n; i++) w[i * n + i] = 1;
    return w;
  }

  /** Make a flattened view real: an identity dense into a [C*H*W,1,1] tensor. */
  materialize(flow: Flow, group: number, where: string, name: string): ActTensor {
    if (!flow.flat) return flow.tensor;
    const src = flow.tensor;
    this.checkActivationWidth(where, src.bits, 'the flattened activation');
    const f = src.c * src.h * src.w;
    const dst = this.tensor(`${name}.out`, f, 1, 1, src.signed, src.bits, 'intermediate');
    this.addOp({
      group,
      name,
      where,
      terms: [{ src, ci: src.c, kh: src.h, kw: src.w, sh: 1, sw: 1, ph: 0, pw: 0, weights: this.identityWeights(f) }],
      co: f,
      oh: 1,
      ow: 1,
      poolK: 1,
      poolS: 1,
      poh: 1,
      pow: 1,
      bias: new Int32Array(f),
      shift: new Int8Array(f),
      outSigned: src.signed,
      outBits: src.bits,
      dst,
      dense: true,
    });
    return dst;
  }

  /** One conv2d as a term of a ConvOp (reading a flattened view makes it real first). */
  convTerm(info: LayerInfoOf<Conv2dLayer>, flow: Flow, group: number): ConvTerm {
    const layer = info.layer;
    this.checkConvFields(info.where, layer);
    this.checkAccumulator(info);
    const src = this.materialize(flow, group, info.where, `${layer.name}.flatten`);
    return {
      src,
      ci: layer.inChannels,
      kh: layer.kernelH,
      kw: layer.kernelW,
      sh: layer.strideH,
      sw: layer.strideW,
      ph: layer.padH,
      pw: layer.padW,
      weights: layer.weights,
    };
  }
}
