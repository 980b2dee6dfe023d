/**
 * Public surface of sweep/: design-space exploration over machine x network
 * (docs/sweep.md): specs, points, the results store, local and distributed
 * execution, Pareto analysis, the FPGA resource model and the HTML report.
 */
export { SweepSpecError, ResultsStoreError, QueueError } from './errors.js';
export { ARRAY_SIZE_FIELD, SWEEP_FIELDS, withField, fieldValue, fieldKind, configPathsOf } from './fields.js';
export type { AxisValue } from './fields.js';
export { parseSpec, loadSpec, SWEEP_ENGINES, MAX_POINTS } from './spec.js';
export type { SweepSpec, SweepEngine, ModelRef, SpecAxis, SpecBase, Constraint, ConstraintOp } from './spec.js';
export { METRICS, METRIC_NAMES, DEFAULT_OBJECTIVES, isMetricName, formatMetric } from './metrics.js';
export type { MetricName, MetricDef } from './metrics.js';
export { loadModel, loadNetwork, networkHash, modelLabel, ModelCache } from './models.js';
export type { LoadedModel } from './models.js';
export { expandPoints, pointKey, taskOf, toolVersion } from './points.js';
export type { SweepPoint, PointTask, FpgaMode } from './points.js';
export { evaluatePoint, staticFigures } from './evaluate.js';
export type { PointOutcome, PointStage, LayerRow, EvaluateOptions } from './evaluate.js';
export { ResultsStore, readRecords, recordOf, RESULTS_FILE, CSV_FILE } from './store.js';
export type { PointRecord } from './store.js';
export { paretoFront, rankTop, violatedConstraint } from './pareto.js';
export { analyze, topPoints } from './analysis.js';
export type { SweepAnalysis } from './analysis.js';
export { LocalExecutor, defaultWorkers } from './pool.js';
export type { Executor, ExecutorCallbacks } from './pool.js';
export { runSweep, loadSpecModels } from './run.js';
export type { SweepRun, SweepRunOptions, SweepProgress } from './run.js';
export { FPGA_DEVICES, FPGA_TARGETS } from './fpga-devices.js';
export type { FpgaDevice, FpgaTarget } from './fpga-devices.js';
export {
  FPGA_FIT,
  FPGA_RESOURCES,
  estimateFpga,
  synthesizeFpga,
  fpgaFeatures,
  fitTarget,
  fitResource,
} from './fpga.js';
export type { FpgaEstimate, FpgaFitFile, FpgaResources, FpgaResource, FpgaSample } from './fpga.js';
export { QueueExecutor, RedisMonitor, parseRedisUrl, runQueueWorker, QUEUE_NAME } from './queue.js';
export type { QueueExecutorOptions, QueueWorkerOptions, RedisTarget } from './queue.js';
export { writeSlurmArray, runSlurmTask, slurmCollector, SLURM_SCRIPT, SLURM_TASKS } from './slurm.js';
export type { SlurmWriteResult } from './slurm.js';
export { renderSweepHtml, sweepReportData } from './report-html.js';
export type { SweepReportData } from './report-html.js';
