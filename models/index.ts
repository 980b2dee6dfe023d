/**
 * Public surface of the models package: the network IR and its validation,
 * the golden integer reference, model file formats, MNIST, accuracy and the
 * model zoo. Other packages should import from here, not from the files.
 */

export type {
  AccumulatorValue,
  ActivationValue,
  InputSpec,
  Layer,
  LayerInfo,
  LayerInfoOf,
  LayerKind,
  LayerOfKind,
  LayerTypes,
  Network,
  NetworkAnalysis,
  TensorShape,
  ValueInfo,
} from './ir.js';
export {
  MAX_ACCUMULATOR_BITS,
  MAX_SHIFT,
  accumulatorRange,
  formatShape,
  requantRange,
  signedRange,
  slidingOutputSize,
  tensorSize,
  unsignedRange,
} from './ir.js';
export { analyzeNetwork, validateNetwork } from './analysis.js';

export type { Conv2dLayer } from './layers/conv2d.js';
export { squareConv2d, convPadding, formatPadding } from './layers/conv2d.js';
export type { DenseLayer } from './layers/dense.js';
export type { FlattenLayer } from './layers/flatten.js';
export type { MaxPoolLayer } from './layers/maxpool.js';
export type { RequantLayer } from './layers/requant.js';
export type { ResidualLayer } from './layers/residual.js';
export { LAYER_KINDS } from './layers/index.js';

export type { LayerTrace, ReferenceLayersResult, ReferenceOptions, ReferenceResult } from './reference.js';
export { runReference, runReferenceLayers } from './reference.js';

export { MODEL_FORMAT, MODEL_VERSION, loadModelJson, loadModelJsonFile, saveModelJson } from './model-json.js';

export type { IntegerNetOptions } from './integernet.js';
export { loadIntegerNetFile, parseIntegerNet } from './integernet.js';

export type { MnistData, MnistOptions } from './mnist.js';
export { defaultMnistDir, loadMnist } from './mnist.js';

export type { Top1Result } from './accuracy.js';
export { argmaxLowest, predictTop1, top1Accuracy } from './accuracy.js';

export type { CalibrationMethod, CalibrationOptions, CalibrationReport } from './calibration.js';
export { calibrateNetwork, randomInputs } from './calibration.js';

export type { ZooBuildResult, ZooInfo, ZooName, ZooOptions } from './zoo.js';
export { buildZooNetwork, zooInfo, zooNames, zooNetwork } from './zoo.js';

export { SeededRandom } from './seeded-random.js';

export type { HostHead, HostStages, InputTransform, OutputTransform, WithHost } from './host.js';
export { applyHeads, applyInputTransform, applyOutputTransform, checkHostStages, hostScores } from './host.js';
export {
  classCount,
  classNote,
  datasetAccuracy,
  datasetInputsFor,
  DATASETS,
  loadDataset,
  type Dataset,
  type DatasetInputs,
  type DatasetName,
} from './dataset.js';

export {
  BINARY_MAGIC,
  BINARY_VERSION,
  isModelBinary,
  loadModelBinaryFile,
  modelBinaryData,
  saveModelBinary,
} from './model-binary.js';

export type {
  CalibrationImages,
  ImportStep,
  LoweredModel,
  LowerOptions,
  OnnxGraph,
  RequantChannelReport,
  RequantReport,
} from './onnx/index.js';
export { DEFAULT_LOWER_OPTIONS, importOnnxGraph, looksLikeOnnx, readOnnxFile, readOnnxGraph } from './onnx/index.js';
export type { CheckResult } from './onnx/check.js';
export { checkImport, compareOutputs, modelOutputs, nibbleOutputs } from './onnx/check.js';
export { exportQonnx } from './onnx/export.js';

/**
 * The training package (quantisation-aware training, the embedded trained
 * model), loaded on demand: most uses of models/ never need it, and
 * cli/modules.ts loads it lazily through this entry.
 */
export type TrainingApi = typeof import('./training/index.js');
export const loadTraining = (): Promise<TrainingApi> => import('./training/index.js');
