/**
 * What a kind's `toQonnx` piece writes with (models/onnx/export.ts implements
 * it and drives the network). Every value is an integer code with scale 1, so
 * each quantizer is a power-of-two QONNX `Quant`; the helpers name nodes and
 * values the way `nibble import` reads them back (node name = layer name).
 */

import type { LayerInfo } from '../ir.js';

/** A value of the exported graph; `flat` tells whether it is a 2-D [1, F] tensor (after a Flatten). */
export interface QonnxValue {
  value: string;
  flat: boolean;
}

/** ONNX node attributes, as models/onnx/encode.ts writes them. */
export type QonnxAttrs = Record<string, { i: number } | { ints: number[] } | { s: string }>;

export interface QonnxWriter {
  /** appends a node with one output; returns the output's value name */
  node(op: string, name: string, inputs: string[], attrs?: QonnxAttrs): string;
  /** a float initializer; returns its value name */
  constant(base: string, dims: number[], data: ArrayLike<number>): string;
  /** a QONNX Quant of `x` with scale 1 and zero point 0 */
  quant(x: string, name: string, bits: number, signed: boolean, narrow: boolean, rounding: 'FLOOR' | 'ROUND'): string;
  /** a layer's weight codes behind their Quant (signed, narrow, the network's weight bits) */
  weights(layer: string, dims: number[], w: Int8Array): string;
  /** exports a nested layer (a residual's main path and shortcut) */
  layer(info: LayerInfo, x: QonnxValue): QonnxValue;
}
