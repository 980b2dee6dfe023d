/**
 * Lowering: network IR -> a list of ConvOps, the one operation the machine
 * runs (GEMM passes into ACC, one REQUANT with optional fused max pooling,
 * STORE). Every IR layer group maps onto it:
 *  - conv2d [maxpool] requant [maxpool]         -> one ConvOp (pool fused into REQUANT)
 *  - [flatten] dense requant                    -> ConvOp whose kernel covers the
 *    flattened H x W map (dense weights [out][c*H*W+h*W+w] already are [co][ci][kh][kw])
 *  - residual requant                           -> ConvOps of the main prefix, then one
 *    ConvOp with two terms (last main conv, shortcut conv) summed in ACC
 *  - maxpool of activations                     -> identity 1x1 ConvOp + pooled REQUANT
 *  - flatten not followed by dense              -> identity dense (no-op when H = W = 1)
 */
import type { ArchConfig } from '../arch/index.js';
import { CompileError } from '../arch/index.js';
import {
  analyzeNetwork,
  type ActivationValue,
  type Conv2dLayer,
  type LayerInfo,
  type Network,
  type RequantLayer,
  type ValueInfo,
} from '../models/index.js';

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

/** What flows between layers while lowering: a DRAM tensor, possibly viewed as flattened. */
interface Flow {
  tensor: ActTensor;
  /** true after a flatten of a tensor with H*W > 1 (no data moved yet) */
  flat: boolean;
}

class Lowering {
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

  group(name: string, kind: string, macs: number): number {
    this.groups.push({ name, kind, macs, ops: [] });
    return this.groups.length - 1;
  }

  checkActivationWidth(where: string, bits: number, what: string): void {
    if (bits > this.cfg.bits.activation) {
      throw new CompileError(
        `${what} is ${bits} bits wide but bits.activation is ${this.cfg.bits.activation}: raise bits.activation to ${bits}`,
        where,
      );
    }
  }

  checkConvFields(
    where: string,
    l: { kernelH: number; kernelW: number; strideH: number; strideW: number; padH: number; padW: number },
  ): void {
    const lim = ISA_LIMITS;
    const bad = (what: string, v: number, max: number, field: string) => {
      throw new CompileError(`${what} ${v} exceeds the GEMM ${field} field (at most ${max})`, where);
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
      );
    }
  }

  /** Static accumulator bound must fit the hardware when the network allows wider sums than the machine has. */
  checkAccumulator(info: LayerInfo): void {
    const hw = this.cfg.bits.accumulator;
    if (this.net.accumulatorBits <= hw) return;
    if (info.output.kind === 'acc' && info.output.bits > hw) {
      throw new CompileError(
        `accumulator values may reach [${info.output.lo}, ${info.output.hi}] (${info.output.bits} bits) and the network allows ${this.net.accumulatorBits}-bit sums, but bits.accumulator is ${hw}: raise bits.accumulator`,
        info.where,
      );
    }
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

  convTerm(info: LayerInfo, flow: Flow, group: number): ConvTerm {
    const layer = info.layer as Conv2dLayer;
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

  /**
   * Lower a chain of layers starting from `flow`; returns the flow after it.
   * `topLevel`: the network's own layers (each run of layers is one group);
   * otherwise a residual's main path before its last conv (the residual's group).
   */
  chain(
    infos: LayerInfo[],
    flow: Flow,
    outName: (i: number) => string,
    isLast: (i: number) => boolean,
    topLevel: boolean,
  ): Flow {
    let i = 0;
    while (i < infos.length) {
      const info = infos[i]!;
      const layer = info.layer;
      const groupName = layer.name;
      const startI = i;
      // One group per top-level layer run; nested chains reuse the residual's group.
      const group = topLevel ? this.group(groupName, layer.kind, 0) : this.groups.length - 1;
      const addMacs = (m: number) => {
        if (topLevel) this.groups[group]!.macs += m;
      };
      switch (layer.kind) {
        case 'conv2d':
        case 'dense':
        case 'residual': {
          let terms: ConvTerm[];
          let dense = false;
          if (layer.kind === 'conv2d') {
            terms = [this.convTerm(info, flow, group)];
          } else if (layer.kind === 'dense') {
            this.checkAccumulator(info);
            const src = flow.tensor;
            terms = [{ src, ci: src.c, kh: src.h, kw: src.w, sh: 1, sw: 1, ph: 0, pw: 0, weights: layer.weights }];
            dense = true;
          } else {
            this.checkAccumulator(info);
            const kids = info.children!;
            const mainInfos = kids.slice(0, layer.main.length);
            const lastMain = mainInfos[mainInfos.length - 1]!;
            const scInfo = kids[layer.main.length]!;
            const blockIn = this.materialize(flow, group, info.where, `${layer.name}.flatten`);
            const inFlow: Flow = { tensor: blockIn, flat: false };
            const prefix = mainInfos.slice(0, -1);
            const mid = prefix.length
              ? this.chain(
                  prefix,
                  inFlow,
                  (k) => `${layer.name}.main${k}`,
                  () => false,
                  false,
                )
              : inFlow;
            terms = [this.convTerm(lastMain, mid, group), this.convTerm(scInfo, inFlow, group)];
          }
          addMacs(info.macs);
          // conv output (accumulators) -> [maxpool] -> requant -> [maxpool]
          const acc = info.output;
          let poolK = 1;
          let poolS = 1;
          let j = i + 1;
          const takePool = (pinfo: LayerInfo) => {
            const p = pinfo.layer as { kernel: number; stride: number };
            this.checkPool(pinfo.where, p.kernel, p.stride);
            poolK = p.kernel;
            poolS = p.stride;
          };
          while (j < infos.length && infos[j]!.layer.kind === 'flatten' && acc.shape.h === 1 && acc.shape.w === 1) j++;
          if (j < infos.length && infos[j]!.layer.kind === 'maxpool') {
            takePool(infos[j]!);
            j++;
          }
          const rq = infos[j];
          if (rq && rq.layer.kind === 'flatten') {
            throw new CompileError(
              'flatten of accumulators between a conv and its requant is only supported for 1x1 maps: move the flatten after the requant',
              rq.where,
            );
          }
          if (!rq || rq.layer.kind !== 'requant') {
            const what = rq ? `is followed by ${rq.layer.kind} '${rq.layer.name}'` : 'ends the network';
            throw new CompileError(
              `${layer.kind} ${what}: the machine needs a requant right after it (optionally with one max pool in between), so the network must end with activations`,
              info.where,
            );
          }
          const rql = rq.layer as RequantLayer;
          this.checkActivationWidth(rq.where, rql.bits, 'the requant output');
          j++;
          let outInfo: ValueInfo = rq.output;
          if (poolK === 1 && poolS === 1 && j < infos.length && infos[j]!.layer.kind === 'maxpool') {
            takePool(infos[j]!);
            outInfo = infos[j]!.output;
            j++;
          }
          const convShape = info.output.shape;
          const out = outInfo.shape;
          const last = isLast(j - 1);
          const dst = this.tensor(
            last ? 'output' : outName(j - 1),
            out.c,
            out.h,
            out.w,
            rql.signed,
            rql.bits,
            last ? 'output' : 'intermediate',
          );
          this.addOp({
            group,
            name: layer.name,
            where: info.where,
            terms,
            co: convShape.c,
            oh: convShape.h,
            ow: convShape.w,
            poolK,
            poolS,
            poh: out.h,
            pow: out.w,
            bias: rql.bias,
            shift: rql.shift,
            outSigned: rql.signed,
            outBits: rql.bits,
            dst,
            dense,
          });
          flow = { tensor: dst, flat: false };
          i = j;
          break;
        }
        case 'maxpool': {
          this.checkPool(info.where, layer.kernel, layer.stride);
          const inVal = info.input as ActivationValue;
          if (inVal.kind !== 'act') {
            throw new CompileError('max pool of accumulators must be followed by a requant', info.where);
          }
          const src = this.materialize(flow, group, info.where, `${layer.name}.flatten`);
          this.checkActivationWidth(info.where, src.bits, 'the pooled activation');
          const out = info.output.shape;
          const last = isLast(i);
          const dst = this.tensor(
            last ? 'output' : outName(i),
            out.c,
            out.h,
            out.w,
            src.signed,
            src.bits,
            last ? 'output' : 'intermediate',
          );
          this.addOp({
            group,
            name: layer.name,
            where: info.where,
            terms: [{ src, ci: src.c, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, weights: this.identityWeights(src.c) }],
            co: src.c,
            oh: src.h,
            ow: src.w,
            poolK: layer.kernel,
            poolS: layer.stride,
            poh: out.h,
            pow: out.w,
            bias: new Int32Array(src.c),
            shift: new Int8Array(src.c),
            outSigned: src.signed,
            outBits: src.bits,
            dst,
            dense: false,
          });
          flow = { tensor: dst, flat: false };
          i++;
          break;
        }
        case 'flatten': {
          if (info.input.kind !== 'act') {
            throw new CompileError(
              'flatten of accumulators between a conv and its requant is only supported for 1x1 maps: move the flatten after the requant',
              info.where,
            );
          }
          const t = flow.tensor;
          const flat = flow.flat || t.h * t.w > 1;
          flow = { tensor: t, flat };
          const next = infos[i + 1];
          if (!next) {
            if (!flat && t.producer < 0)
              throw new CompileError('the network ends with a flatten of its input: nothing to compute', info.where);
            const dst = flat ? this.materialize(flow, group, info.where, layer.name) : t;
            dst.name = 'output';
            dst.role = 'output';
            flow = { tensor: dst, flat: false };
          } else if (next.layer.kind !== 'dense' && flat) {
            flow = { tensor: this.materialize(flow, group, info.where, layer.name), flat: false };
          }
          i++;
          break;
        }
        case 'requant':
          throw new CompileError(
            'a requant must directly follow a conv2d, dense or residual (or a max pool of one)',
            info.where,
          );
      }
      if (topLevel && this.groups[group]!.ops.length === 0 && startI === i - 1 && layer.kind === 'flatten') {
        // no-data-movement flatten: no group of its own
        this.groups.pop();
      }
    }
    return flow;
  }
}

/** Check a network against the machine and lower it to ConvOps. */
export function lowerNetwork(net: Network, cfg: ArchConfig): Lowered {
  const analysis = analyzeNetwork(net);
  const netWhere = `network '${net.name}'`;
  if (net.weightBits > cfg.bits.weight) {
    throw new CompileError(
      `weights are ${net.weightBits} bits (weightBits) but bits.weight is ${cfg.bits.weight}: raise bits.weight to ${net.weightBits}`,
      netWhere,
    );
  }
  const ab = cfg.bits.activation;
  if (ab < 4) {
    throw new CompileError(
      `network inputs are ${net.input.bits}-bit (fed as 4-bit nibbles) but bits.activation is ${ab}: raise bits.activation to 4`,
      netWhere,
    );
  }
  const lw = new Lowering(net, cfg);
  const inBits = net.input.bits;
  const input = lw.tensor(
    'input',
    net.input.channels,
    net.input.height,
    net.input.width,
    false,
    inBits,
    'input',
    inBits === 8 ? 'nibble-planes' : 'blocked',
  );
  const n = analysis.layers.length;
  const flow = lw.chain(
    analysis.layers,
    { tensor: input, flat: false },
    (i) => `${analysis.layers[i]!.layer.name}.out`,
    (i) => i === n - 1,
    true,
  );
  const output = flow.tensor;
  if (output.role !== 'output') {
    throw new CompileError(
      'the network must end with activations (a requant, or a pool of one)',
      `layer ${n - 1} '${net.layers[n - 1]!.name}'`,
    );
  }
  return { ops: lw.ops, groups: lw.groups, tensors: lw.tensors, input, output };
}
