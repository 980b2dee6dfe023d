/**
 * A spec's design space as a list of points: bases x models x batches x axes
 * (the last axis varies fastest). Each point is keyed by its config hash,
 * model hash, batch, engine, FPGA mode and the tool version, so a resumed sweep
 * finds its finished points and a point is never stored twice.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configHash, isNibbleError, packageRoot, validateConfig, type ArchConfig } from '../arch/index.js';
import { COMPILER_VERSION } from '../compiler/index.js';
import { DEFAULT_AREA_TABLE, DEFAULT_ENERGY_TABLE } from '../sim/index.js';
import { withField, type AxisValue } from './fields.js';
import type { LoadedModel } from './models.js';
import type { ModelRef, SpecDataset, SweepEngine, SweepSpec } from './spec.js';
import type { FpgaTarget } from './fpga-devices.js';

let version: string | undefined;

/**
 * nibble's package version, the compiler version and a hash of the default
 * energy and area tables: a change to any of them gives new keys, so old
 * figures are never mistaken for current ones.
 */
export function toolVersion(): string {
  if (version) return version;
  let pkg = 'unknown';
  try {
    pkg =
      (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: string }).version ?? pkg;
  } catch {
    // a stripped installation: the compiler version and tables still key the results
  }
  const tables = createHash('sha256')
    .update(JSON.stringify(DEFAULT_ENERGY_TABLE))
    .update(JSON.stringify(DEFAULT_AREA_TABLE))
    .digest('hex')
    .slice(0, 8);
  version = `nibble ${pkg} compiler ${COMPILER_VERSION} tables ${tables}`;
  return version;
}

export interface FpgaMode {
  target: FpgaTarget;
  synth: boolean;
}

/** What a worker needs to evaluate one point (sent to worker threads and queue workers as is). */
export interface PointTask {
  key: string;
  config: ArchConfig;
  model: ModelRef;
  modelHash: string;
  batch: number;
  engine: SweepEngine;
  fpga: FpgaMode | undefined;
  /** measure the `accuracy` metric on this dataset */
  dataset: SpecDataset | undefined;
}

export interface SweepPoint extends PointTask {
  /** position in the spec's space */
  index: number;
  /** the base's label (default, preset:edge, a file) */
  base: string;
  /** axis field -> value of this point */
  params: Record<string, AxisValue>;
  configHash: string;
  modelLabel: string;
  toolVersion: string;
  /** the combination is not a valid ArchConfig (recorded as a failed point, never run) */
  configError: string | undefined;
}

export function pointKey(
  cfgHash: string,
  modelHash: string,
  batch: number,
  engine: SweepEngine,
  fpga: FpgaMode | undefined,
  tool: string,
  dataset?: SpecDataset,
): string {
  const f = fpga ? `${fpga.target}:${fpga.synth ? 'synth' : 'model'}` : 'none';
  // without a dataset the key is what it was before accuracy existed: old results stay valid
  const parts = [cfgHash, modelHash, batch, engine, f, tool, ...(dataset ? [`${dataset.name}:${dataset.limit}`] : [])];
  return createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 16);
}

/** Every point of the spec, in order. */
export function expandPoints(spec: SweepSpec, models: LoadedModel[], tool = toolVersion()): SweepPoint[] {
  const points: SweepPoint[] = [];
  const combos: Record<string, AxisValue>[] = [{}];
  for (const axis of spec.axes) {
    const next: Record<string, AxisValue>[] = [];
    for (const c of combos) for (const v of axis.values) next.push({ ...c, [axis.field]: v });
    combos.splice(0, combos.length, ...next);
  }
  for (const base of spec.bases) {
    // one config (and validation) per axis combination, shared by every model and batch
    const configs = combos.map((params) => {
      let cfg = base.config;
      for (const [f, v] of Object.entries(params)) cfg = withField(cfg, f, v);
      let configError: string | undefined;
      try {
        validateConfig(cfg);
      } catch (e) {
        if (!isNibbleError(e)) throw e;
        configError = e.message;
      }
      return { params, cfg, hash: configHash(cfg), configError };
    });
    for (const m of models) {
      for (const batch of spec.batches) {
        for (const c of configs) {
          points.push({
            key: pointKey(c.hash, m.hash, batch, spec.engine, spec.fpga, tool, spec.dataset),
            index: points.length,
            base: base.label,
            params: c.params,
            config: c.cfg,
            configHash: c.hash,
            model: m.ref,
            modelHash: m.hash,
            modelLabel: m.label,
            batch,
            engine: spec.engine,
            fpga: spec.fpga,
            dataset: spec.dataset,
            toolVersion: tool,
            configError: c.configError,
          });
        }
      }
    }
  }
  return points;
}

/** The worker's part of a point. */
export function taskOf(p: SweepPoint): PointTask {
  return {
    key: p.key,
    config: p.config,
    model: p.model,
    modelHash: p.modelHash,
    batch: p.batch,
    engine: p.engine,
    fpga: p.fpga,
    dataset: p.dataset,
  };
}
