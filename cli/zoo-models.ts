/** The model zoo and JSON model format, over models/index.ts (loaded lazily). */
import { ModelError } from '../arch/errors.js';
import type { Network } from '../models/ir.js';
import { requirePart } from './modules.js';

export interface ZooOptions {
  seed?: number;
  inputSize?: number;
}

export interface Zoo {
  names(): string[];
  describe(name: string): string;
  defaultInputSize(name: string): number | undefined;
  build(name: string, opts: ZooOptions): Network;
  toJson(net: Network): string;
}

type Fn = (...a: unknown[]) => unknown;

export async function zooApi(feature: string): Promise<Zoo> {
  const m = await requirePart<Record<string, unknown>>('models', ['zooNetwork'], feature);
  const names = (): string[] => {
    const v = m['zooNames'];
    if (typeof v === 'function') return (v as () => string[])();
    return ['mnist', 'cifar10', 'vgg16', 'resnet'];
  };
  return {
    names,
    describe(name) {
      const info = typeof m['zooInfo'] === 'function' ? ((m['zooInfo'] as Fn)(name) as { description?: string; defaultInputSize?: number }) : undefined;
      return info?.description ?? '';
    },
    defaultInputSize(name) {
      const info = typeof m['zooInfo'] === 'function' ? ((m['zooInfo'] as Fn)(name) as { defaultInputSize?: number }) : undefined;
      return info?.defaultInputSize;
    },
    build(name, opts) {
      if (!names().includes(name)) throw new ModelError(`unknown zoo network '${name}' (known: ${names().join(', ')})`, 'zoo');
      return (m['zooNetwork'] as Fn)(name, opts) as Network;
    },
    toJson(net) {
      for (const k of ['saveModelJson']) {
        if (typeof m[k] === 'function') {
          const r = (m[k] as Fn)(net);
          return typeof r === 'string' ? r : JSON.stringify(r, null, 2);
        }
      }
      throw new ModelError('writing JSON models needs the models package serializer, which is not available yet', 'zoo');
    },
  };
}

/**
 * The demo's network: a trained model shipped in the repository if the models
 * package provides one, else the seeded MNIST zoo network (random weights).
 */
export async function demoNetwork(): Promise<{ net: Network; trained: boolean; description: string }> {
  const m = await requirePart<Record<string, unknown>>('models', ['zooNetwork'], 'nibble demo');
  if (typeof m['loadEmbeddedMnistModel'] === 'function') {
    try {
      const net = (m['loadEmbeddedMnistModel'] as Fn)() as Network;
      return { net, trained: true, description: 'the 4-bit MNIST network trained by nibble (shift-batch-norm QAT, models/embedded/)' };
    } catch (e) {
      // A missing embedded model is not fatal for the demo: fall back to the zoo network.
      if (!(e instanceof ModelError)) throw e;
    }
  }
  return {
    net: (m['zooNetwork'] as Fn)('mnist', { seed: 1 }) as Network,
    trained: false,
    description: 'zoo MNIST network with seeded random weights (calibrated requant)',
  };
}
