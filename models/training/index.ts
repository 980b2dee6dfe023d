/**
 * Quantisation-aware training of the paper's 4-bit integer-only MNIST network,
 * and the trained model the repository embeds (models/embedded/).
 */

export {
  EMBEDDED_MNIST_METADATA,
  EMBEDDED_MNIST_MODEL,
  embeddedModelDir,
  loadEmbeddedMnistMetadata,
  loadEmbeddedMnistModel,
  type EmbeddedModelMetadata,
  type MeasuredAccuracy,
} from './embedded.js';
export { MNISTNET_INT_SHAPE, MnistQatNet, type MnistNetShape } from './mnist-qat-net.js';
export { SeededRandom } from '../seeded-random.js';
export { ShiftBatchNorm, type NormMode } from './shift-batch-norm.js';
export {
  DEFAULT_TRAINING,
  countCorrect,
  trainMnistNet,
  type EpochReport,
  type StepReport,
  type TrainingData,
  type TrainingHooks,
  type TrainingOptions,
} from './trainer.js';
export { EMBEDDED_MODEL_NAME, measureAccuracy, trainEmbeddedMnistModel, writeModelFiles } from './train-mnist.js';
