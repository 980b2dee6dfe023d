import { describe, expect, it } from 'vitest';
import { ModelError } from '../../arch/errors.js';
import type { Layer, Network } from '../../models/ir.js';
import {
  analyzeNetwork,
  squareConv2d,
  validateNetwork,
  type Conv2dLayer,
  type RequantLayer,
} from '../../models/index.js';

function conv(name: string, ci: number, co: number, k = 3, stride = 1, pad = 1, fill = 1): Conv2dLayer {
  return squareConv2d(name, ci, co, k, stride, pad, new Int8Array(co * ci * k * k).fill(fill));
}

function requant(name: string, c: number, signed = false): RequantLayer {
  return { kind: 'requant', name, signed, bits: 4, bias: new Int32Array(c), shift: new Int8Array(c).fill(4) };
}

/** A small valid network using every layer kind. */
function sample(): Network {
  return {
    name: 'sample',
    input: { channels: 1, height: 8, width: 8, bits: 8, signed: false },
    weightBits: 4,
    accumulatorBits: 32,
    layers: [
      conv('conv1', 1, 4),
      requant('rq1', 4),
      { kind: 'maxpool', name: 'pool1', kernel: 2, stride: 2 },
      {
        kind: 'residual',
        name: 'block1',
        main: [conv('b_conv1', 4, 6, 3, 2, 1), requant('b_rq1', 6), conv('b_conv2', 6, 6)],
        shortcut: conv('b_sc', 4, 6, 1, 2, 0),
      },
      requant('rq2', 6),
      { kind: 'flatten', name: 'flat' },
      { kind: 'dense', name: 'fc1', inFeatures: 24, outFeatures: 10, weights: new Int8Array(240).fill(-7) },
      requant('rq3', 10, true),
    ],
  };
}

function messageOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ModelError);
    return (e as Error).message;
  }
  throw new Error('expected a ModelError');
}

function withLayer(i: number, patch: (l: Layer) => void): Network {
  const net = sample();
  patch(net.layers[i]!);
  return net;
}

describe('analyzeNetwork: shapes and value kinds', () => {
  it('infers every layer output', () => {
    const a = analyzeNetwork(sample());
    const shapes = a.layers.map(
      (l) => `${l.layer.name}:${l.output.kind}:${l.output.shape.c}x${l.output.shape.h}x${l.output.shape.w}`,
    );
    expect(shapes).toEqual([
      'conv1:acc:4x8x8',
      'rq1:act:4x8x8',
      'pool1:act:4x4x4',
      'block1:acc:6x2x2',
      'rq2:act:6x2x2',
      'flat:act:24x1x1',
      'fc1:acc:10x1x1',
      'rq3:act:10x1x1',
    ]);
    expect(a.output).toMatchObject({ kind: 'act', signed: true, bits: 4, lo: -7, hi: 7 });
    expect(a.input).toMatchObject({ kind: 'act', signed: false, lo: 0, hi: 255 });
  });

  it('computes static accumulator bounds from the weights', () => {
    const a = analyzeNetwork(sample());
    // conv1: 9 weights of 1 over inputs in [0, 255]
    expect(a.layers[0]!.output).toMatchObject({ lo: 0, hi: 9 * 255, bits: 13 });
    // fc1: 24 weights of -7 over [0, 15]
    expect(a.layers[6]!.output).toMatchObject({ lo: -24 * 7 * 15, hi: 0 });
    // residual: 54 ones over [0,15] (main) + 4 ones over [0,15] (shortcut)
    expect(a.layers[3]!.output).toMatchObject({ lo: 0, hi: (54 + 4) * 15 });
  });

  it('names nested residual layers and counts MACs', () => {
    const a = analyzeNetwork(sample());
    const block = a.layers[3]!;
    expect(block.children!.map((c) => c.where)).toEqual([
      "layer 3 'block1' main[0] 'b_conv1'",
      "layer 3 'block1' main[1] 'b_rq1'",
      "layer 3 'block1' main[2] 'b_conv2'",
      "layer 3 'block1' shortcut 'b_sc'",
    ]);
    expect(block.children!.map((c) => c.path)).toEqual(['3.main[0]', '3.main[1]', '3.main[2]', '3.shortcut']);
    expect(block.macs).toBe(6 * 4 * 4 * 9 + 6 * 4 * 6 * 9 + 6 * 4 * 4);
    expect(a.macs).toBe(4 * 64 * 9 + block.macs + 240);
  });

  it('maxpool uses floor mode', () => {
    const net = sample();
    net.input.height = 9;
    net.input.width = 9;
    // 9 -> conv 9 -> pool floor((9-2)/2)+1 = 4
    expect(analyzeNetwork(net).layers[2]!.output.shape).toEqual({ c: 4, h: 4, w: 4 });
  });
});

/** Malformed networks and the message each must give. */
const REJECTED: [string, () => Network, RegExp][] = [
  [
    'channel mismatch',
    () => withLayer(0, (l) => ((l as Conv2dLayer).inChannels = 2)),
    /^layer 0 'conv1': field inChannels: is 2 but the input has 1 channels/,
  ],
  [
    'weights length',
    () => withLayer(0, (l) => ((l as Conv2dLayer).weights = new Int8Array(35))),
    /^layer 0 'conv1': field weights: expected 36 values \(4x1x3x3\), got 35/,
  ],
  [
    'weight range',
    () => withLayer(0, (l) => ((l as Conv2dLayer).weights[5] = 8)),
    /^layer 0 'conv1': field weights\[5\]: value 8 is outside \[-7, 7\] for weightBits 4/,
  ],
  [
    'weights type',
    () => withLayer(0, (l) => ((l as unknown as { weights: number[] }).weights = [1])),
    /^layer 0 'conv1': field weights: expected an Int8Array/,
  ],
  [
    'padding >= kernel',
    () => withLayer(0, (l) => ((l as Conv2dLayer).padH = 3)),
    /^layer 0 'conv1': field padH: must be <= 2, got 3/,
  ],
  [
    'zero stride',
    () => withLayer(0, (l) => ((l as Conv2dLayer).strideW = 0)),
    /^layer 0 'conv1': field strideW: must be >= 1, got 0/,
  ],
  [
    'non-integer',
    () => withLayer(2, (l) => ((l as { kernel: number }).kernel = 1.5)),
    /^layer 2 'pool1': field kernel: expected an integer, got 1.5/,
  ],
  [
    'bias length',
    () => withLayer(1, (l) => ((l as RequantLayer).bias = new Int32Array(3))),
    /^layer 1 'rq1': field bias: expected 4 values \(one per channel\), got 3/,
  ],
  [
    'shift length',
    () => withLayer(1, (l) => ((l as RequantLayer).shift = new Int8Array(5))),
    /^layer 1 'rq1': field shift: expected 4 values \(one per channel\), got 5/,
  ],
  [
    'shift range',
    () => withLayer(1, (l) => ((l as RequantLayer).shift[2] = -32)),
    /^layer 1 'rq1': field shift\[2\]: value -32 is outside \[-31, 31\]/,
  ],
  [
    'requant bits',
    () => withLayer(7, (l) => ((l as RequantLayer).bits = 1)),
    /^layer 7 'rq3': field bits: must be >= 2, got 1/,
  ],
  [
    'requant on activations',
    () => {
      const net = sample();
      net.layers.splice(2, 0, requant('extra', 4));
      return net;
    },
    /^layer 2 'extra': requant needs accumulators as input, but receives activations/,
  ],
  [
    'conv on accumulators',
    () => {
      const net = sample();
      net.layers.splice(1, 1);
      return net;
    },
    /^layer 2 'block1': residual needs activations as input, but receives accumulators \(insert a requant before it\)/,
  ],
  [
    'dense before flatten',
    () => {
      const net = sample();
      net.layers.splice(5, 1);
      return net;
    },
    /^layer 5 'fc1': dense needs a Cx1x1 input \(insert a flatten before it\), got 6x2x2/,
  ],
  [
    'dense inFeatures',
    () => withLayer(6, (l) => ((l as { inFeatures: number }).inFeatures = 25)),
    /^layer 6 'fc1': field inFeatures: is 25 but the input has 24 features/,
  ],
  [
    'residual main must end with conv',
    () => withLayer(3, (l) => (l as { main: Layer[] }).main.pop()),
    /^layer 3 'block1': field main: must end with a conv2d .* ends with requant/,
  ],
  [
    'residual shortcut shape',
    () => withLayer(3, (l) => ((l as { shortcut: Conv2dLayer }).shortcut = conv('b_sc', 4, 6, 1, 1, 0))),
    /^layer 3 'block1': field shortcut: output shape 6x4x4 differs from the main path output shape 6x2x2/,
  ],
  [
    'residual shortcut kind',
    () =>
      withLayer(
        3,
        (l) => ((l as { shortcut: unknown }).shortcut = { kind: 'maxpool', name: 'x', kernel: 1, stride: 1 }),
      ),
    /^layer 3 'block1': field shortcut: expected a conv2d layer/,
  ],
  [
    'nested field',
    () => withLayer(3, (l) => ((l as { main: Conv2dLayer[] }).main[2]!.weights[0] = -8)),
    /^layer 3 'block1' main\[2\] 'b_conv2': field weights\[0\]: value -8 is outside \[-7, 7\]/,
  ],
  [
    'residual not followed by requant',
    () => {
      const net = sample();
      net.layers.splice(4, 1);
      net.layers.splice(4, 0, { kind: 'maxpool', name: 'accpool', kernel: 1, stride: 1 });
      return net;
    },
    /^layer 3 'block1': a residual must be followed directly by a requant/,
  ],
  [
    'residual followed by a null layer (from JavaScript)',
    () => {
      const net = sample();
      net.layers[4] = null as unknown as Layer;
      return net;
    },
    /^layer 3 'block1': a residual must be followed directly by a requant$/,
  ],
  [
    'output too small',
    () => withLayer(2, (l) => ((l as { kernel: number }).kernel = 9)),
    /^layer 2 'pool1': field kernel: pool kernel 9 does not fit the 8x8 input/,
  ],
  [
    'conv output too small',
    () => {
      const net = sample();
      net.input.height = 2;
      (net.layers[0] as Conv2dLayer).padH = 0;
      return net;
    },
    /^layer 0 'conv1': field kernelH: kernel 3x3 with padding 0,1 does not fit the 2x8 input \(output 0x8\)/,
  ],
  [
    'duplicate names',
    () => withLayer(2, (l) => (l.name = 'conv1')),
    /^layer 2 'conv1': field name: 'conv1' is already used by layer 0 'conv1'/,
  ],
  [
    'unknown kind',
    () => withLayer(5, (l) => ((l as { kind: string }).kind = 'relu')),
    /^layer 5 'flat': field kind: unknown layer kind "relu"/,
  ],
  [
    'a kind named like an Object property',
    () => withLayer(5, (l) => ((l as { kind: string }).kind = 'constructor')),
    /^layer 5 'flat': field kind: unknown layer kind "constructor" \(a string\)$/,
  ],
  ['weightBits', () => ({ ...sample(), weightBits: 9 }), /^network 'sample': field weightBits: must be <= 8, got 9/],
  [
    'accumulatorBits',
    () => ({ ...sample(), accumulatorBits: 33 }),
    /^network 'sample': field accumulatorBits: must be <= 32, got 33/,
  ],
  [
    'input bits',
    () => ({ ...sample(), input: { ...sample().input, bits: 6 as 8 } }),
    /^network 'sample': field input.bits: must be 4 or 8, got 6/,
  ],
  [
    'input size',
    () => ({ ...sample(), input: { ...sample().input, height: 0 } }),
    /^network 'sample': field input.height: expected a positive integer, got 0/,
  ],
  ['no layers', () => ({ ...sample(), layers: [] }), /^network 'sample': field layers: expected a non-empty list/],
];

describe('validateNetwork rejects, naming layer and field', () => {
  for (const [what, make, pattern] of REJECTED) {
    it(what, () => {
      expect(messageOf(() => validateNetwork(make()))).toMatch(pattern);
    });
  }

  it('accepts the sample network', () => {
    expect(() => validateNetwork(sample())).not.toThrow();
  });
});
