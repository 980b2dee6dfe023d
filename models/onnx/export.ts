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
 * Each kind's form is its module's `toQonnx` piece (models/layers/<kind>.ts);
 * this file is the graph builder and the driver.
 *
 * `nibble import` reads this back to the identical network: each requant's
 * scale ratio is exactly 2^-shift, so the fit keeps the layer's own bias and
 * shift, and layers keep their names (node names). The raw input scale 1 is
 * recorded in the model's metadata (nibble.raw_input_scale).
 */
import type { LayerInfo, Network } from '../ir.js';
import { knownLayerModule } from '../layers/index.js';
import type { QonnxAttrs, QonnxValue, QonnxWriter } from '../layers/qonnx-form.js';
import { analyzeNetwork } from '../analysis.js';
import { encodeModel, floatTensor, type NodeSpec } from './encode.js';
import type { TensorProtoFields } from './tensor.js';

export const QONNX_DOMAIN = 'qonnx.custom_op.general';
export const RAW_SCALE_KEY = 'nibble.raw_input_scale';

class Builder implements QonnxWriter {
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

  quant(x: string, name: string, bits: number, signed: boolean, narrow: boolean, rounding: 'FLOOR' | 'ROUND'): string {
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

  node(op: string, name: string, inputs: string[], attrs?: QonnxAttrs): string {
    const out = this.value(name);
    this.nodes.push({ op, name, inputs, outputs: [out], ...(attrs ? { attrs } : {}) });
    return out;
  }

  layer(info: LayerInfo, x: QonnxValue): QonnxValue {
    return emit(this, info, x);
  }
}

/** Emits one layer through its kind's `toQonnx` piece (models/layers/<kind>.ts). */
function emit(b: Builder, info: LayerInfo, x: QonnxValue): QonnxValue {
  return knownLayerModule(info.layer).toQonnx(info, x, b);
}

/** The network as QONNX model bytes. */
export function exportQonnx(net: Network): Uint8Array {
  const a = analyzeNetwork(net);
  const b = new Builder(net);
  const { channels, height, width, bits } = net.input;
  let x: QonnxValue = { value: b.quant('input', 'input_quant', bits, false, false, 'FLOOR'), flat: false };
  for (const info of a.layers) x = emit(b, info, x);
  const { value: v, flat } = x;
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
