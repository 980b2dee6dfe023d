/**
 * Shape-only operators on data values: Identity, Dropout, Cast, Reshape,
 * Flatten, Squeeze, Unsqueeze, Transpose. They make no layer: the value's
 * layout records how its elements sit in the nibble tensor (a flatten layer
 * is emitted later only where a dense layer needs one).
 */
import { attrInts } from '../attrs.js';
import { runNode } from '../execute/index.js';
import type { OnnxNode } from '../graph.js';
import { DATA_TYPE } from '../schema.js';
import { elementCount } from '../tensor.js';
import type { Lowering } from './context.js';
import { reshapeLayout, transposeLayout, type Layout } from './layout.js';
import type { Sym } from './state.js';

function withLayout(s: Sym, layout: Layout): Sym {
  switch (s.kind) {
    case 'host':
    case 'act':
    case 'acc':
    case 'head':
      return { ...s, layout };
    case 'const':
    case 'qconst':
      return s;
  }
}

function layoutOf(lw: Lowering, node: OnnxNode, s: Sym): Layout {
  if (s.kind === 'const' || s.kind === 'qconst') lw.fail(node, 'internal: a constant reached the layout lowering');
  return s.layout;
}

/** Output dims of a shape operator, from the executor run on a zero tensor of the input's dims. */
function outputDims(lw: Lowering, node: OnnxNode, dims: number[]): number[] {
  const zero = { dims, data: new Float64Array(elementCount(dims)), dataType: DATA_TYPE.FLOAT };
  const inputs = node.inputs.map((name, i) => {
    if (i === 0) return zero;
    const s = name ? lw.syms.get(name) : undefined;
    if (!s) return undefined;
    if (s.kind !== 'const')
      lw.fail(
        node,
        `input ${i} ('${name}') must be a constant: nibble needs static shapes (it is computed from the data at run time)`,
      );
    return s.t;
  });
  return runNode(lw.graph, node, inputs)[0]!.dims;
}

export function lowerPassThrough(lw: Lowering, node: OnnxNode): void {
  const s = lw.sym(node, 0);
  if (node.opType === 'Cast') {
    const to = node.attrs.get('to')?.i ?? DATA_TYPE.FLOAT;
    const ok = [DATA_TYPE.FLOAT, DATA_TYPE.DOUBLE, DATA_TYPE.FLOAT16, DATA_TYPE.INT32, DATA_TYPE.INT64].includes(
      to as 1,
    );
    if (!ok) lw.fail(node, `Cast to data type ${to} of computed values is not supported (it could wrap)`);
  }
  lw.set(node, s);
  lw.step(node, 'no effect on the integer network', true);
}

export function lowerReshape(lw: Lowering, node: OnnxNode): void {
  const s = lw.sym(node, 0);
  const layout = layoutOf(lw, node, s);
  if (node.opType === 'Transpose') {
    const r = layout.dims.length;
    const perm = attrInts(node, 'perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i);
    const out = transposeLayout(layout, perm, node.where);
    lw.set(node, withLayout(s, out));
    lw.step(
      node,
      out.order ? 'recorded as a layout permutation (folded into the next layer)' : 'undoes an earlier transpose',
      true,
    );
    return;
  }
  const dims = outputDims(lw, node, layout.dims);
  const out = reshapeLayout(layout, dims);
  if (layout.canon.h * layout.canon.w > 1 && dims.filter((d) => d !== 1).length <= 1 && node.name)
    out.flatten = node.name;
  lw.set(node, withLayout(s, out));
  lw.step(node, `view as [${dims.join(',')}] (no data movement)`, true);
}
