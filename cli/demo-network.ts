/** The demo's network: the trained model the repository embeds, else the seeded MNIST zoo network. */
import { ModelError } from '../arch/index.js';
import type { Network, TrainingApi } from '../models/index.js';
import { modelsApi, requirePart, UnavailableError } from './modules.js';

/**
 * The demo's network: the trained model shipped in the repository
 * (models/embedded/) when present, else the seeded MNIST zoo network (random weights).
 */
export async function demoNetwork(): Promise<{
  net: Network;
  trained: boolean;
  description: string;
  measured?: string;
}> {
  try {
    const t = await requirePart<TrainingApi>('training', ['loadEmbeddedMnistModel'], 'nibble demo');
    const net = t.loadEmbeddedMnistModel();
    let measured: string | undefined;
    try {
      const a = t.loadEmbeddedMnistMetadata().testAccuracy;
      measured = `${(100 * a.accuracy).toFixed(2)} % on ${a.images.toLocaleString('en-US')} test images (reference executor)`;
    } catch {
      // metadata is optional for the demo
    }
    return {
      net,
      trained: true,
      description: 'the 4-bit MNIST network trained by nibble (shift-batch-norm QAT, models/embedded/)',
      ...(measured ? { measured } : {}),
    };
  } catch (e) {
    // No embedded model in this build: the zoo network still shows the whole flow.
    if (!(e instanceof ModelError) && !(e instanceof UnavailableError)) throw e;
  }
  const m = await modelsApi('nibble demo', ['zooNetwork']);
  return {
    net: m.zooNetwork('mnist', { seed: 1 }),
    trained: false,
    description: 'zoo MNIST network with seeded random weights (calibrated requant)',
  };
}
