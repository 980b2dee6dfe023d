/**
 * Worker-thread entry of the local pool (piscina): evaluates one point. Each
 * thread keeps its own model cache, so a model is built once per thread.
 */
import { evaluatePoint, type EvaluateOptions, type PointOutcome } from './evaluate.js';
import { ModelCache } from './models.js';
import type { PointTask } from './points.js';

const models = new ModelCache();

export default function run(job: { task: PointTask; options: EvaluateOptions }): PointOutcome {
  return evaluatePoint(job.task, models, job.options);
}
