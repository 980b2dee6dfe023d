/**
 * The chain walk never loops: a kind without a lowering rule (possible only
 * past the type checker, e.g. from JavaScript) is a CompileError naming the
 * layer, and a rule that does not advance is an internal error. The registry
 * is replaced by one that lacks the maxpool rule and whose flatten rule is
 * broken; before the registry, a new kind made `Lowering.chain` spin until
 * the heap was exhausted.
 */
import { describe, expect, test, vi } from 'vitest';
import { DEFAULT_CONFIG } from '../../arch/config.js';
import { CompileError } from '../../arch/errors.js';
import { compileNetwork } from '../../compiler/index.js';
import type { LayerLowering } from '../../compiler/layers/lowering.js';
import { squareConv2d, type Layer, type Network } from '../../models/index.js';
import { thrownDiagnostic, thrownMessage } from '../thrown.js';

vi.mock('../../compiler/layers/index.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../compiler/layers/index.js')>();
  const stuck: LayerLowering<Layer> = { lower: (_info, step) => ({ flow: step.flow, next: step.at }) };
  return {
    ...real,
    layerLowering: (kind: unknown) =>
      kind === 'maxpool' ? undefined : kind === 'flatten' ? stuck : real.layerLowering(kind),
  };
});

function network(layers: Layer[]): Network {
  return {
    name: 't',
    input: { channels: 2, height: 4, width: 4, bits: 4, signed: false },
    layers: [
      squareConv2d('c1', 2, 2, 3, 1, 1, new Int8Array(36).fill(1)),
      { kind: 'requant', name: 'r1', signed: false, bits: 4, bias: new Int32Array(2), shift: new Int8Array(2) },
      ...layers,
    ],
    weightBits: 4,
    accumulatorBits: 32,
  };
}

describe('lowering a kind the compiler cannot lower', () => {
  test('a kind without a rule is a CompileError naming the layer and the kind', () => {
    // the first pool is fused into the conv's REQUANT; the second one needs the maxpool rule
    const pools: Layer[] = [
      { kind: 'maxpool', name: 'p1', kernel: 2, stride: 1 },
      { kind: 'maxpool', name: 'p2', kernel: 2, stride: 1 },
    ];
    expect(thrownMessage(() => compileNetwork(network(pools), DEFAULT_CONFIG), CompileError)).toBe(
      "layer 3 'p2': layer kind 'maxpool' has no lowering to the machine",
    );
    expect(thrownDiagnostic(() => compileNetwork(network(pools), DEFAULT_CONFIG)).code).toBe('NB-C001');
  });

  test('a rule that consumes no layer is an internal error, not an endless loop', () => {
    const flatten: Layer = { kind: 'flatten', name: 'f1' };
    expect(() => compileNetwork(network([flatten]), DEFAULT_CONFIG)).toThrow(
      "internal: the flatten lowering did not advance past layer 2 'f1'",
    );
  });

  test('the other kinds still lower through the real rules', () => {
    const program = compileNetwork(network([]), DEFAULT_CONFIG);
    expect(program.layers.map((l) => `${l.name}:${l.kind}`)).toEqual(['c1:conv2d']);
  });
});
