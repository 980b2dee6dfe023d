/** What one operator implementation of the float executor receives. */
import { ModelError } from '../../../arch/index.js';
import type { OnnxNode } from '../graph.js';
import type { Tensor } from '../tensor.js';

export interface OpContext {
  node: OnnxNode;
  /** opset version of the node's domain */
  opset: number;
  /** undefined where an optional input is omitted ('') */
  inputs: (Tensor | undefined)[];
}

/** An operator: inputs to outputs (in the node's output order). */
export type ExecOp = (ctx: OpContext) => Tensor[];

export function input(ctx: OpContext, i: number, what = `input ${i}`): Tensor {
  const t = ctx.inputs[i];
  if (t === undefined) throw new ModelError(`${what} is required`, ctx.node.where);
  return t;
}

export function optionalInput(ctx: OpContext, i: number): Tensor | undefined {
  return ctx.inputs[i];
}

/** A scalar (or one-element) input's value. */
export function scalarInput(ctx: OpContext, i: number, what: string): number {
  const t = input(ctx, i, what);
  if (t.data.length !== 1) {
    throw new ModelError(`${what} must be a scalar, got shape [${t.dims.join(',')}]`, ctx.node.where);
  }
  return t.data[0]!;
}

/** Integer values of a 1-D (or scalar) input, e.g. axes or a shape. */
export function intsInput(ctx: OpContext, i: number, what: string): number[] {
  const t = input(ctx, i, what);
  if (t.dims.length > 1) throw new ModelError(`${what} must be 1-D, got shape [${t.dims.join(',')}]`, ctx.node.where);
  return Array.from(t.data);
}
