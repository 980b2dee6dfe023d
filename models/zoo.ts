/**
 * The paper's networks as IR builders, with deterministic seeded weights and
 * calibrated requants (see calibration.ts). They are workloads for the
 * compiler/simulator/RTL, not trained models: what matters is that shapes
 * match the paper's and that activations exercise the whole 4-bit range.
 *
 *  - mnist   MNISTNET_INT: 3 x (conv3x3 16 + requant + maxpool2), FC 128, FC 10
 *  - cifar10 CIFAR10NET_INT: conv 64,64,pool,128,128,pool,256,256,pool, FC 512, FC 10
 *  - vgg16   VGG-16: 13 conv3x3 in 5 pooled blocks, 3 FC
 *  - resnet  RESNET_INT: stem conv 32, 9 basic blocks (conv3x3 -> requant ->
 *            conv3x3, summed with a 1x1-conv shortcut, one requant), FC 1024, FC
 *
 * Every conv/FC is followed by a requant: unsigned 4-bit, except the last,
 * which is signed 4-bit (the logits). Inputs are unsigned 8-bit pixels.
 */

import { ModelError } from '../arch/index.js';
import { calibrateNetwork, type CalibrationOptions, type CalibrationReport } from './calibration.js';
import { signedRange, type Layer, type Network } from './ir.js';
import { squareConv2d, type Conv2dLayer } from './layers/conv2d.js';
import type { DenseLayer } from './layers/dense.js';
import type { RequantLayer } from './layers/requant.js';
import { SeededRandom } from './seeded-random.js';

export type ZooName = 'mnist' | 'cifar10' | 'vgg16' | 'resnet';

export interface ZooOptions {
  /** square input size (defaults: mnist 28, cifar10 32, vgg16 224, resnet 32) */
  inputSize?: number;
  /** weight seed (default 1); calibration samples use seed + 1 */
  seed?: number;
  /** number of output classes (defaults: vgg16 1000, others 10) */
  classes?: number;
  /** vgg16 only: width of the two hidden FC layers (default min(4096, 512 * (inputSize/32)^2)) */
  fcHidden?: number;
  /** calibration method (default 'auto': sample images when cheap, analytic for big networks) */
  calibration?: CalibrationOptions['method'];
}

export interface ZooInfo {
  name: ZooName;
  description: string;
  defaultInputSize: number;
  minInputSize: number;
}

const ZOO: Record<ZooName, ZooInfo> = {
  mnist: {
    name: 'mnist',
    description: 'MNISTNET_INT: 3 conv3x3(16) + pool blocks, FC 128, FC classes; 1 channel',
    defaultInputSize: 28,
    minInputSize: 8,
  },
  cifar10: {
    name: 'cifar10',
    description: 'CIFAR10NET_INT: conv 64,64,P,128,128,P,256,256,P, FC 512, FC classes; 3 channels',
    defaultInputSize: 32,
    minInputSize: 8,
  },
  vgg16: {
    name: 'vgg16',
    description: 'VGG-16: 13 conv3x3 in 5 pooled blocks, 3 FC; 3 channels',
    defaultInputSize: 224,
    minInputSize: 32,
  },
  resnet: {
    name: 'resnet',
    description: 'RESNET_INT: stem conv, 9 basic blocks with 1x1-conv shortcuts, FC 1024, FC classes; 3 channels',
    defaultInputSize: 32,
    minInputSize: 8,
  },
};

export function zooNames(): ZooName[] {
  return Object.keys(ZOO) as ZooName[];
}

export function zooInfo(name: ZooName): ZooInfo {
  return ZOO[name];
}

/** Larger inputs exhaust memory in calibration and export (workloads, not a limit of the machine). */
export const MAX_ZOO_INPUT_SIZE = 1024;

/** Twice VGG-16's 138 M weights at 224 x 224. */
const MAX_ZOO_WEIGHTS = 2 ** 28;

/** Accumulates layers with sequential per-kind names (conv1, requant1, pool1, fc1, ...). */
class NetworkBuilder {
  readonly layers: Layer[] = [];
  private readonly counters = new Map<string, number>();
  private readonly wHi: number;
  private totalWeights = 0;

  constructor(
    private readonly rng: SeededRandom,
    weightBits: number,
  ) {
    this.wHi = signedRange(weightBits).hi;
  }

  nextName(prefix: string): string {
    const n = (this.counters.get(prefix) ?? 0) + 1;
    this.counters.set(prefix, n);
    return `${prefix}${n}`;
  }

  /** Uniform in [-wHi, wHi]; two weights per 32-bit draw (16 bits each is plenty for 15 levels), for speed on VGG-sized layers. */
  weights(n: number, layer: string): Int8Array {
    // A huge inputSize grows the first FC layer quadratically: fail with the
    // layer's name before allocating gigabytes (or overflowing a typed array).
    this.totalWeights += n;
    if (this.totalWeights > MAX_ZOO_WEIGHTS) {
      throw new ModelError(
        `the network would hold ${this.totalWeights.toLocaleString('en-US')} weights by this layer, more than the zoo builds (${MAX_ZOO_WEIGHTS.toLocaleString('en-US')}): use a smaller inputSize`,
        `zoo: layer '${layer}'`,
      );
    }
    const w = new Int8Array(n);
    const span = 2 * this.wHi + 1;
    const hi = this.wHi;
    for (let i = 0; i < n; i += 2) {
      const u = this.rng.nextUint32();
      w[i] = (((u & 0xffff) * span) >>> 16) - hi;
      if (i + 1 < n) w[i + 1] = (((u >>> 16) * span) >>> 16) - hi;
    }
    return w;
  }

  conv(name: string, ci: number, co: number, k: number, stride: number, pad: number): Conv2dLayer {
    return squareConv2d(name, ci, co, k, stride, pad, this.weights(co * ci * k * k, name));
  }

  dense(name: string, inF: number, outF: number): DenseLayer {
    return { kind: 'dense', name, inFeatures: inF, outFeatures: outF, weights: this.weights(outF * inF, name) };
  }

  /** Placeholder parameters; calibration sets them. */
  requant(name: string, channels: number, signed = false): RequantLayer {
    return { kind: 'requant', name, signed, bits: 4, bias: new Int32Array(channels), shift: new Int8Array(channels) };
  }

  convRequant(ci: number, co: number): void {
    this.layers.push(this.conv(this.nextName('conv'), ci, co, 3, 1, 1));
    this.layers.push(this.requant(this.nextName('requant'), co));
  }

  pool(): void {
    this.layers.push({ kind: 'maxpool', name: this.nextName('pool'), kernel: 2, stride: 2 });
  }

  flatten(): void {
    this.layers.push({ kind: 'flatten', name: 'flatten' });
  }

  denseRequant(inF: number, outF: number, signed = false): void {
    this.layers.push(this.dense(this.nextName('fc'), inF, outF));
    this.layers.push(this.requant(this.nextName('requant'), outF, signed));
  }
}

/** Spatial size after n 2x2/stride-2 floor-mode pools. */
function pooled(size: number, n: number): number {
  for (let i = 0; i < n; i++) size = Math.floor(size / 2);
  return size;
}

function buildMnist(b: NetworkBuilder, s: number, classes: number): void {
  b.convRequant(1, 16);
  b.pool();
  b.convRequant(16, 16);
  b.pool();
  b.convRequant(16, 16);
  b.pool();
  b.flatten();
  const f = pooled(s, 3);
  b.denseRequant(16 * f * f, 128);
  b.denseRequant(128, classes, true);
}

function buildCifar10(b: NetworkBuilder, s: number, classes: number): void {
  b.convRequant(3, 64);
  b.convRequant(64, 64);
  b.pool();
  b.convRequant(64, 128);
  b.convRequant(128, 128);
  b.pool();
  b.convRequant(128, 256);
  b.convRequant(256, 256);
  b.pool();
  b.flatten();
  const f = pooled(s, 3);
  b.denseRequant(256 * f * f, 512);
  b.denseRequant(512, classes, true);
}

function buildVgg16(b: NetworkBuilder, s: number, classes: number, hidden: number): void {
  const blocks = [
    [64, 64],
    [128, 128],
    [256, 256, 256],
    [512, 512, 512],
    [512, 512, 512],
  ];
  let ci = 3;
  for (const block of blocks) {
    for (const co of block) {
      b.convRequant(ci, co);
      ci = co;
    }
    b.pool();
  }
  b.flatten();
  const f = pooled(s, 5);
  b.denseRequant(512 * f * f, hidden);
  b.denseRequant(hidden, hidden);
  b.denseRequant(hidden, classes, true);
}

/**
 * The authors' RESNET_INT block plan. A block marked as downsampling uses
 * stride 2 only while the feature map is larger than 4x4, so small inputs
 * (32x32) keep a 4x4 final map like the authors' 256x256 model does.
 */
function buildResnet(b: NetworkBuilder, s: number, classes: number): void {
  b.layers.push(b.conv(b.nextName('conv'), 3, 32, 3, 1, 1));
  b.layers.push(b.requant(b.nextName('requant'), 32));
  const plan: [number, number, boolean][] = [
    [32, 32, true],
    [32, 32, false],
    [32, 64, true],
    [64, 64, false],
    [64, 128, true],
    [128, 128, false],
    [128, 256, true],
    [256, 256, true],
    [256, 256, true],
  ];
  let size = s;
  plan.forEach(([ci, co, down], i) => {
    const stride = down && size > 4 ? 2 : 1;
    const p = `block${i + 1}`;
    b.layers.push({
      kind: 'residual',
      name: p,
      main: [
        b.conv(`${p}_conv1`, ci, co, 3, stride, 1),
        b.requant(`${p}_requant1`, co),
        b.conv(`${p}_conv2`, co, co, 3, 1, 1),
      ],
      shortcut: b.conv(`${p}_shortcut`, ci, co, 1, stride, 0),
    });
    b.layers.push(b.requant(`${p}_requant`, co));
    size = Math.floor((size - 1) / stride) + 1;
  });
  b.flatten();
  b.denseRequant(256 * size * size, 1024);
  b.denseRequant(1024, classes, true);
}

export interface ZooBuildResult {
  network: Network;
  calibration: CalibrationReport;
}

/** How each zoo network's layers are built (one entry per name: a missing one is a compile error). */
const BUILDERS: Record<ZooName, (b: NetworkBuilder, size: number, classes: number, hidden: number) => void> = {
  mnist: buildMnist,
  cifar10: buildCifar10,
  vgg16: buildVgg16,
  resnet: buildResnet,
};

/** Build a zoo network and report how it was calibrated. */
export function buildZooNetwork(name: string, opts: ZooOptions = {}): ZooBuildResult {
  if (!Object.hasOwn(ZOO, name)) {
    throw new ModelError(`unknown zoo network '${name}' (available: ${zooNames().join(', ')})`, 'zoo');
  }
  const info = ZOO[name as ZooName];
  const size = opts.inputSize ?? info.defaultInputSize;
  if (!Number.isInteger(size) || size < info.minInputSize || size > MAX_ZOO_INPUT_SIZE) {
    throw new ModelError(
      `inputSize must be an integer in [${info.minInputSize}, ${MAX_ZOO_INPUT_SIZE}] for ${name}, got ${size}`,
      'zoo',
    );
  }
  const seed = opts.seed ?? 1;
  if (!Number.isInteger(seed)) throw new ModelError(`seed must be an integer, got ${seed}`, 'zoo');
  const classes = opts.classes ?? (name === 'vgg16' ? 1000 : 10);
  if (!Number.isInteger(classes) || classes < 1)
    throw new ModelError(`classes must be a positive integer, got ${classes}`, 'zoo');
  const hidden = opts.fcHidden ?? Math.min(4096, 512 * Math.max(1, Math.floor(size / 32)) ** 2);
  if (!Number.isInteger(hidden) || hidden < 1)
    throw new ModelError(`fcHidden must be a positive integer, got ${hidden}`, 'zoo');

  const b = new NetworkBuilder(new SeededRandom(seed), 4);
  BUILDERS[name as ZooName](b, size, classes, hidden);
  const network: Network = {
    name: `${name}-${size}`,
    input: { channels: name === 'mnist' ? 1 : 3, height: size, width: size, bits: 8, signed: false },
    layers: b.layers,
    weightBits: 4,
    accumulatorBits: 32,
  };
  const calibration = calibrateNetwork(network, { method: opts.calibration ?? 'auto', seed: seed + 1 });
  return { network, calibration };
}

/** A zoo network: deterministic for a given name and options. */
export function zooNetwork(name: string, opts: ZooOptions = {}): Network {
  return buildZooNetwork(name, opts).network;
}
