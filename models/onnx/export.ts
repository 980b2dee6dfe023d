/**
 * nibble network -> QONNX (`nibble export --format qonnx`). Every value stays
 * an integer code with scale 1, so each quantizer is a power-of-two Quant
 * (domain qonnx.custom_op.general) that qonnx and FINN read as it is:
 *
 *   input x (the network input code, as a float)  -> Quant(scale 1, FLOOR, unsigned, input bits)
 *   conv2d  -> Conv(x, Quant(W codes, scale 1, signed narrow, weight bits))
 *   dense   -> Flatten -> Gemm(x, Quant(W), transB = 1)
 *   requant -> Add(-bias) -> Mul(2^-shift) -> Quant(scale 1, FLOOR, its signedness and width)
 *   maxpool -> MaxPool;  flatten -> Flatten;  residual -> its layers, Conv shortcut, Add
 *
 * `nibble import` reads this back to the identical network: each requant's
 * scale ratio is exactly 2^-shift, so the fit keeps the layer's own bias and
 * shift, and layers keep their names (node names). The raw input scale 1 is
 * recorded in the model's metadata (nibble.raw_input_scale).
 */
import { assertNever, ModelError } from '../../arch/index.js';
import type { Layer, Network } from '../ir.js';
import { convPadding, type Conv2dLayer } from '../layers/conv2d.js';
import { type LayerInfo } from '../ir.js';
import { analyzeNetwork } from '../analysis.js';
import { encodeModel, floatTensor, type NodeSpec } from './encode.js';
import type { TensorProtoFields } from './tensor.js';

export const QONNX_DOMAIN = 'qonnx.custom_op.general';
export const RAW_SCALE_KEY = 'nibble.raw_input_scale';

class Builder {
  readonly nodes: NodeSpec[] = [];
  readonly inits: TensorProtoFields[] = [];
  private n = 0;
  readonly weightBits: number;

  constructor(net: Network) {
    this.weightBits = net.weightBits;
  }

  value(base: string): string {
    return `${base}_${this.n++}`;
  }

  constant(base: string, dims: number[], data: ArrayLike<number>): string {
    const name = this.value(base);
    this.inits.push(floatTensor(name, dims, data));
    return name;
  }

  quant(x: string, name: string, bits: number, signed: boolean, narrow: boolean, rounding: string): string {
    const out = this.value(`${name}_q`);
    this.nodes.push({
      op: 'Quant',
      domain: QONNX_DOMAIN,
      name,
      inputs: [
        x,
        this.constant(`${name}_scale`, [], [1]),
        this.constant(`${name}_zeropt`, [], [0]),
        this.constant(`${name}_bits`, [], [bits]),
      ],
      outputs: [out],
      attrs: { signed: { i: signed ? 1 : 0 }, narrow: { i: narrow ? 1 : 0 }, rounding_mode: { s: rounding } },
    });
    return out;
  }

  weights(layer: string, dims: number[], w: Int8Array): string {
    const codes = this.constant(`${layer}_weights`, dims, w);
    return this.quant(codes, `${layer}_weight_quant`, this.weightBits, true, true, 'ROUND');
  }

  node(op: string, name: string, inputs: string[], attrs?: NodeSpec['attrs']): string {
    const out = this.value(name);
    this.nodes.push({ op, name, inputs, outputs: [out], ...(attrs ? { attrs } : {}) });
    return out;
  }
}

function conv(b: Builder, x: string, l: Conv2dLayer): string {
  const w = b.weights(l.name, [l.outChannels, l.inChannels, l.kernelH, l.kernelW], l.weights);
  const pad = convPadding(l);
  return b.node('Conv', l.name, [x, w], {
    kernel_shape: { ints: [l.kernelH, l.kernelW] },
    strides: { ints: [l.strideH, l.strideW] },
    pads: { ints: [pad.top, pad.left, pad.bottom, pad.right] },
    group: { i: 1 },
  });
}

/** Emits one layer; `flat` tells whether the value is a 2-D [1, F] tensor (after a Flatten). */
function emit(b: Builder, x: string, info: LayerInfo, flat: boolean): { value: string; flat: boolean } {
  const l: Layer = info.layer;
  switch (l.kind) {
    case 'conv2d':
      return { value: conv(b, x, l), flat: false };
    case 'dense': {
      const v = flat ? x : b.node('Flatten', `${l.name}_flatten_view`, [x], { axis: { i: 1 } });
      const w = b.weights(l.name, [l.outFeatures, l.inFeatures], l.weights);
      return { value: b.node('Gemm', l.name, [v, w], { transB: { i: 1 } }), flat: true };
    }
    case 'maxpool':
      return {
        value: b.node('MaxPool', l.name, [x], {
          kernel_shape: { ints: [l.kernel, l.kernel] },
          strides: { ints: [l.stride, l.stride] },
        }),
        flat: false,
      };
    case 'flatten':
      return { value: b.node('Flatten', l.name, [x], { axis: { i: 1 } }), flat: true };
    case 'requant': {
      const c = l.bias.length;
      const dims = flat ? [1, c] : [1, c, 1, 1];
      if (flat && info.input.shape.h * info.input.shape.w !== 1) {
        throw new ModelError(
          'a requant after a flatten of accumulators has no QONNX export (per-feature parameters)',
          info.where,
        );
      }
      const biased = b.node('Add', `${l.name}_bias`, [
        x,
        b.constant(
          `${l.name}_neg_bias`,
          dims,
          Array.from(l.bias, (v) => -v),
        ),
      ]);
      const scaled = b.node('Mul', `${l.name}_shift`, [
        biased,
        b.constant(
          `${l.name}_scale`,
          dims,
          Array.from(l.shift, (s) => 2 ** -s),
        ),
      ]);
      return { value: b.quant(scaled, l.name, l.bits, l.signed, l.signed, 'FLOOR'), flat };
    }
    case 'residual': {
      let v = x;
      let f = flat;
      for (const child of info.children!.slice(0, -1)) ({ value: v, flat: f } = emit(b, v, child, f));
      const sc = conv(b, x, l.shortcut);
      return { value: b.node('Add', l.name, [v, sc]), flat: f };
    }
    default:
      // a new layer kind needs its QONNX form here (docs/extending.md)
      return assertNever(l, 'layer kind');
  }
}

/** The network as QONNX model bytes. */
export function exportQonnx(net: Network): Uint8Array {
  const a = analyzeNetwork(net);
  const b = new Builder(net);
  const { channels, height, width, bits } = net.input;
  let v = b.quant('input', 'input_quant', bits, false, false, 'FLOOR');
  let flat = false;
  for (const info of a.layers) ({ value: v, flat } = emit(b, v, info, flat));
  const out = a.output.shape;
  const outDims = flat ? [1, out.c] : [1, out.c, out.h, out.w];
  // the last value is renamed to the graph output
  const last = b.nodes.find((n) => n.outputs.includes(v))!;
  last.outputs = ['output'];
  return encodeModel({
    name: net.name,
    producer: 'nibble',
    opset: 13,
    irVersion: 8,
    opsets: [{ domain: QONNX_DOMAIN, version: 1 }],
    metadata: { [RAW_SCALE_KEY]: '1' },
    nodes: b.nodes,
    initializers: b.inits,
    inputs: [{ name: 'input', dims: [1, channels, height, width] }],
    outputs: [{ name: 'output', dims: outDims }],
  });
}
