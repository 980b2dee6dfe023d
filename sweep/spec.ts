/**
 * Sweep specs: a YAML or JSON file naming the models, the base machine (or a
 * set of presets), the axes over ArchConfig fields, batch sizes, engine,
 * constraints and objectives (docs/sweep.md has the schema). Every error names
 * the file, line and column of the offending value and the reason.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { LineCounter, isMap, isSeq, parseDocument, type Document, type Node } from 'yaml';
import {
  configFromPresetReference,
  isNibbleError,
  isPresetReference,
  presetConfig,
  presetNames,
  resolveConfig,
  validateConfig,
  type ArchConfig,
} from '../arch/index.js';
import { closestName } from '../isa/index.js';
import { DATASETS, zooNames, type DatasetName } from '../models/index.js';
import { SweepSpecError } from './errors.js';
import { configPathsOf, fieldKind, SWEEP_FIELDS, withField, type AxisValue } from './fields.js';
import { FPGA_DEVICES, FPGA_TARGETS, type FpgaTarget } from './fpga-devices.js';
import { DEFAULT_OBJECTIVES, isMetricName, METRIC_NAMES, METRICS, type MetricName } from './metrics.js';

export type SweepEngine = 'timing' | 'fast' | 'cycle';
export const SWEEP_ENGINES: readonly SweepEngine[] = ['timing', 'fast', 'cycle'];

/** Where a model comes from; workers rebuild or reload it from this and check its hash. */
export type ModelRef =
  | { kind: 'zoo'; zoo: string; inputSize?: number; seed?: number; classes?: number }
  | { kind: 'file'; path: string; format: FileModelFormat };

/**
 * File formats a sweep reads: an ONNX file is imported at each point's own
 * weight and activation widths (its config's bits), the others are fixed networks.
 */
export type FileModelFormat = 'json' | 'integernet' | 'nbm' | 'onnx';
export const FILE_MODEL_FORMATS: readonly FileModelFormat[] = ['json', 'integernet', 'nbm', 'onnx'];
const FORMAT_OF_EXTENSION: Record<string, FileModelFormat> = {
  '.json': 'json',
  '.txt': 'integernet',
  '.nbm': 'nbm',
  '.onnx': 'onnx',
};

/** The dataset a sweep measures accuracy on (the `accuracy` metric): its first `limit` images. */
export interface SpecDataset {
  name: DatasetName;
  limit: number;
}

export interface SpecAxis {
  field: string;
  /** numbers, or true/false for a switch field (fieldKind) */
  values: AxisValue[];
}

export interface SpecBase {
  /** preset name, when the base is a preset */
  preset: string | undefined;
  /** 'default', 'preset:edge', a file name or 'inline' */
  label: string;
  config: ArchConfig;
}

export type ConstraintOp = '<=' | '<' | '>=' | '>' | '==';

export type Constraint =
  | { kind: 'compare'; metric: MetricName; op: ConstraintOp; value: number; text: string }
  | { kind: 'fits'; device: string; text: string };

export interface SweepSpec {
  name: string;
  /** the spec file (relative model paths resolve against its folder) */
  file: string;
  models: ModelRef[];
  bases: SpecBase[];
  axes: SpecAxis[];
  batches: number[];
  engine: SweepEngine;
  constraints: Constraint[];
  objectives: MetricName[];
  fpga: { target: FpgaTarget; synth: boolean } | undefined;
  dataset: SpecDataset | undefined;
}

type Path = (string | number)[];

const TOP_KEYS = [
  'name',
  'models',
  'base',
  'presets',
  'axes',
  'batch',
  'engine',
  'constraints',
  'objectives',
  'fpga',
  'dataset',
];
/** Bounds the cartesian product before it is built: a typo like `range: [1, 1e9]` fails fast. */
export const MAX_POINTS = 200_000;

/** Locates paths of the parsed document for error messages. */
class SpecSource {
  private readonly lines = new LineCounter();
  readonly doc: Document;

  constructor(
    readonly file: string,
    text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    const err = this.doc.errors[0];
    if (err) {
      const pos = this.lines.linePos(err.pos[0]);
      const what = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      const kind = extname(file).toLowerCase() === '.json' ? 'JSON' : 'YAML';
      throw new SweepSpecError(`not valid ${kind}: ${what}`, `${file}:${pos.line}:${pos.col}`);
    }
  }

  /** file:line:col of the node at `path` (its key when `key`), or of its nearest existing parent. */
  at(path: Path, key = false): string {
    let node: unknown = this.doc.contents;
    let offset = (node as Node | null)?.range?.[0] ?? 0;
    for (const p of path) {
      if (isMap(node)) {
        const pair = node.items.find((it) => (it.key as { value?: unknown } | null)?.value === p);
        if (!pair) break;
        const k = pair.key as Node;
        offset =
          (key && p === path[path.length - 1] ? k.range?.[0] : (pair.value as Node | null)?.range?.[0]) ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof p === 'number') {
        const item = node.items[p] as Node | undefined;
        if (!item) break;
        offset = item.range?.[0] ?? offset;
        node = item;
      } else break;
    }
    const pos = this.lines.linePos(offset);
    return `${this.file}:${pos.line}:${pos.col}`;
  }

  fail(path: Path, message: string, key = false): never {
    const name = path.length ? `${path.join('.')}: ` : '';
    throw new SweepSpecError(`${name}${message}`, this.at(path, key));
  }
}

const show = (v: unknown) => JSON.stringify(v);

function didYouMean(word: string, known: readonly string[]): string {
  const guess = closestName(word, known);
  return guess ? ` (did you mean ${guess}?)` : '';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(src: SpecSource, obj: Record<string, unknown>, known: readonly string[], path: Path): void {
  for (const k of Object.keys(obj)) {
    if (!known.includes(k))
      src.fail([...path, k], `unknown key '${k}'${didYouMean(k, known)}; known: ${known.join(', ')}`, true);
  }
}

function number(src: SpecSource, v: unknown, path: Path): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) src.fail(path, `must be a number, got ${show(v)}`);
  return v;
}

/**
 * Axis values: a number, a list, `{pow2: [lo, hi]}` (every power of two in
 * between), `{range: [lo, hi], step: s}` (inclusive) or `{values: [...]}`.
 */
function axisValues(src: SpecSource, v: unknown, path: Path): number[] {
  let values: number[];
  if (typeof v === 'number') values = [number(src, v, path)];
  else if (Array.isArray(v)) values = v.map((x, i) => number(src, x, [...path, i]));
  else if (isObject(v)) {
    checkKeys(src, v, ['pow2', 'range', 'step', 'values'], path);
    if (v['values'] !== undefined) values = axisValues(src, v['values'], [...path, 'values']);
    else if (v['pow2'] !== undefined) {
      const [lo, hi] = pair(src, v['pow2'], [...path, 'pow2']);
      if (!(lo > 0)) src.fail([...path, 'pow2'], `bounds must be positive, got [${lo}, ${hi}]`);
      values = [];
      for (let x = 2 ** Math.ceil(Math.log2(lo)); x <= hi; x *= 2) values.push(x);
    } else if (v['range'] !== undefined) {
      const [lo, hi] = pair(src, v['range'], [...path, 'range']);
      const step = v['step'] === undefined ? 1 : number(src, v['step'], [...path, 'step']);
      if (!(step > 0)) src.fail([...path, 'step'], `must be positive, got ${step}`);
      if ((hi - lo) / step > MAX_POINTS) src.fail([...path, 'range'], `has more than ${MAX_POINTS} values`);
      values = [];
      for (let i = 0; lo + i * step <= hi + 1e-9 * step; i++) values.push(Number((lo + i * step).toPrecision(12)));
    } else src.fail(path, 'give a list, {pow2: [lo, hi]}, {range: [lo, hi], step: s} or {values: [...]}');
  } else src.fail(path, `must be a number, a list or {pow2|range|values}, got ${show(v)}`);
  return distinct(src, values, path);
}

function distinct<T>(src: SpecSource, values: T[], path: Path): T[] {
  if (values.length === 0) src.fail(path, 'has no values: the design space would be empty');
  const dup = values.find((x, i) => values.indexOf(x) !== i);
  if (dup !== undefined) src.fail(path, `lists ${String(dup)} twice`);
  return values;
}

/** Values of a switch field's axis: true, false, a list of them or {values: [...]}. */
function switchValues(src: SpecSource, field: string, v: unknown, path: Path): boolean[] {
  const one = (x: unknown, at: Path): boolean => {
    if (typeof x !== 'boolean') src.fail(at, `must be true or false (${field} is a switch), got ${show(x)}`);
    return x;
  };
  if (isObject(v)) {
    checkKeys(src, v, ['values'], path);
    return switchValues(src, field, v['values'], [...path, 'values']);
  }
  return distinct(src, Array.isArray(v) ? v.map((x, i) => one(x, [...path, i])) : [one(v, path)], path);
}

function pair(src: SpecSource, v: unknown, path: Path): [number, number] {
  if (!Array.isArray(v) || v.length !== 2) src.fail(path, `must be [lo, hi], got ${show(v)}`);
  const lo = number(src, v[0], [...path, 0]);
  const hi = number(src, v[1], [...path, 1]);
  if (hi < lo) src.fail(path, `is empty: lo ${lo} > hi ${hi}`);
  return [lo, hi];
}

const ZOO_KEYS = ['zoo', 'inputSize', 'seed', 'classes'];

function parseModel(src: SpecSource, v: unknown, path: Path, zooNames: readonly string[]): ModelRef {
  const dir = dirname(src.file);
  const fileRef = (p: string, format: unknown, at: Path): ModelRef => {
    const fmt = format ?? FORMAT_OF_EXTENSION[extname(p).toLowerCase()];
    if (typeof fmt !== 'string' || !(FILE_MODEL_FORMATS as readonly string[]).includes(fmt))
      src.fail(
        at,
        format === undefined
          ? `cannot tell the model format of '${p}': add format: ${FILE_MODEL_FORMATS.join('|')}`
          : `unknown model format ${show(format)}; formats: ${FILE_MODEL_FORMATS.join(', ')}`,
      );
    return { kind: 'file', path: resolve(dir, p), format: fmt as FileModelFormat };
  };
  if (typeof v === 'string') {
    if (/[/\\]|\.(json|txt|nbm|onnx)$/i.test(v)) return fileRef(v, undefined, path);
    if (!zooNames.includes(v))
      src.fail(
        path,
        `unknown zoo model '${v}'${didYouMean(v, zooNames)}; zoo: ${zooNames.join(', ')}; files: {file: PATH}`,
      );
    return { kind: 'zoo', zoo: v };
  }
  if (!isObject(v)) src.fail(path, `must be a zoo name, a file path, {zoo: ...} or {file: ...}, got ${show(v)}`);
  if (v['file'] !== undefined) {
    checkKeys(src, v, ['file', 'format'], path);
    if (typeof v['file'] !== 'string') src.fail([...path, 'file'], 'must be a path');
    return fileRef(v['file'], v['format'], [...path, 'format']);
  }
  checkKeys(src, v, ZOO_KEYS, path);
  const zoo = v['zoo'];
  if (typeof zoo !== 'string' || !zooNames.includes(zoo))
    src.fail(
      [...path, 'zoo'],
      `unknown zoo model ${show(zoo)}${didYouMean(String(zoo), zooNames)}; zoo: ${zooNames.join(', ')}`,
    );
  const ref: ModelRef = { kind: 'zoo', zoo };
  for (const k of ['inputSize', 'seed', 'classes'] as const) {
    if (v[k] === undefined) continue;
    const x = number(src, v[k], [...path, k]);
    if (!Number.isInteger(x)) src.fail([...path, k], `must be an integer, got ${x}`);
    ref[k] = x;
  }
  return ref;
}

function parseBase(src: SpecSource, v: unknown, path: Path): SpecBase {
  try {
    if (v === undefined) return { preset: undefined, label: 'default', config: resolveConfig(undefined) };
    if (typeof v === 'string') {
      if (isPresetReference(v)) return { preset: v.slice(7), label: v, config: configFromPresetReference(v) };
      const file = resolve(dirname(src.file), v);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        return src.fail(path, `cannot read config file '${v}' (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        return src.fail(path, `config file '${v}' is not valid JSON (${(e as Error).message})`);
      }
      return { preset: undefined, label: v, config: resolveConfig(parsed, v) };
    }
    if (isObject(v)) return { preset: undefined, label: 'inline', config: resolveConfig(v) };
  } catch (e) {
    if (e instanceof SweepSpecError || !isNibbleError(e)) throw e;
    src.fail(path, e.message);
  }
  return src.fail(path, `must be preset:NAME, a config file path or a config object, got ${show(v)}`);
}

function parseConstraint(src: SpecSource, v: unknown, path: Path): Constraint {
  if (isObject(v)) {
    checkKeys(src, v, ['fits'], path);
    const dev = v['fits'];
    const devices = Object.keys(FPGA_DEVICES);
    if (typeof dev !== 'string' || !devices.includes(dev))
      src.fail(
        [...path, 'fits'],
        `unknown device ${show(dev)}${didYouMean(String(dev), devices)}; known: ${devices.join(', ')}`,
      );
    return { kind: 'fits', device: dev, text: `fits ${dev}` };
  }
  if (typeof v !== 'string') src.fail(path, `must be 'METRIC OP NUMBER' (e.g. 'area <= 2') or {fits: DEVICE}`);
  const m = /^\s*([A-Za-z]\w*)\s*(<=|>=|==|<|>)\s*(-?[\d.]+(?:e[-+]?\d+)?)\s*$/i.exec(v);
  if (!m)
    src.fail(path, `cannot read '${v}': write 'METRIC OP NUMBER' with OP one of <=, <, >=, >, == (e.g. 'area <= 2')`);
  const name = m[1]!;
  if (!isMetricName(name))
    src.fail(path, `unknown metric '${name}'${didYouMean(name, METRIC_NAMES)}; metrics: ${METRIC_NAMES.join(', ')}`);
  const value = Number(m[3]);
  if (!Number.isFinite(value)) src.fail(path, `'${m[3]}' is not a number`);
  return { kind: 'compare', metric: name, op: m[2] as ConstraintOp, value, text: `${name} ${m[2]} ${value}` };
}

function parseObjectives(src: SpecSource, v: unknown, path: Path): MetricName[] {
  if (v === undefined) return [...DEFAULT_OBJECTIVES];
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.length === 0) src.fail(path, 'must be a non-empty list of metric names');
  return list.map((x, i) => {
    if (typeof x !== 'string' || !isMetricName(x))
      src.fail(
        [...path, i],
        `unknown metric ${show(x)}${didYouMean(String(x), METRIC_NAMES)}; metrics: ${METRIC_NAMES.join(', ')}`,
      );
    return x;
  });
}

function parseDataset(src: SpecSource, v: unknown, path: Path): SpecDataset | undefined {
  if (v === undefined) return undefined;
  const usage = `must be NAME[:LIMIT] or {name: NAME, limit: N} with NAME one of ${DATASETS.join(', ')}`;
  let name: unknown;
  let limit: unknown;
  if (typeof v === 'string') {
    const m = /^([\w-]+)(?::(\d+))?$/.exec(v);
    if (!m) src.fail(path, `${usage}, got ${show(v)}`);
    name = m[1];
    limit = m[2] === undefined ? undefined : Number(m[2]);
  } else if (isObject(v)) {
    checkKeys(src, v, ['name', 'limit'], path);
    name = v['name'];
    limit = v['limit'];
  } else src.fail(path, `${usage}, got ${show(v)}`);
  if (typeof name !== 'string' || !(DATASETS as readonly string[]).includes(name))
    src.fail(
      isObject(v) ? [...path, 'name'] : path,
      `unknown dataset ${show(name)}${didYouMean(String(name), DATASETS)}; datasets: ${DATASETS.join(', ')}`,
    );
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1))
    src.fail(isObject(v) ? [...path, 'limit'] : path, `the limit must be a positive integer, got ${show(limit)}`);
  return { name: name as DatasetName, limit: (limit as number | undefined) ?? 10_000 };
}

function parseFpga(src: SpecSource, v: unknown, constraints: Constraint[], path: Path): SweepSpec['fpga'] {
  const fits = constraints.find((c) => c.kind === 'fits');
  if (v === undefined) return fits ? { target: FPGA_DEVICES[fits.device]!.target, synth: false } : undefined;
  if (!isObject(v)) src.fail(path, `must be {target: ${FPGA_TARGETS.join('|')}, synth: true|false}`);
  checkKeys(src, v, ['target', 'synth'], path);
  const t = v['target'] ?? (fits ? FPGA_DEVICES[fits.device]!.target : undefined);
  if (typeof t !== 'string' || !(FPGA_TARGETS as readonly string[]).includes(t))
    src.fail([...path, 'target'], `must be one of ${FPGA_TARGETS.join(', ')}, got ${show(t)}`);
  if (v['synth'] !== undefined && typeof v['synth'] !== 'boolean')
    src.fail([...path, 'synth'], 'must be true or false');
  for (const c of constraints) {
    if (c.kind === 'fits' && FPGA_DEVICES[c.device]!.target !== t)
      src.fail([...path, 'target'], `is ${t} but constraint '${c.text}' is a ${FPGA_DEVICES[c.device]!.target} device`);
  }
  return { target: t as FpgaTarget, synth: v['synth'] === true };
}

/**
 * Each axis value is checked on its own against every base: a value the
 * config rejects at the axis's own field (array.size 3, dram.busBytes 0) is
 * an error here; combinations that fail elsewhere become failed points.
 */
function checkAxisValues(src: SpecSource, axis: SpecAxis, bases: SpecBase[], path: Path): void {
  const own = configPathsOf(axis.field).map((p) => `config.${p}`);
  axis.values.forEach((value, i) => {
    for (const b of bases) {
      const err = configErrorOf(withField(b.config, axis.field, value));
      if (err && own.some((w) => err.where === w || err.where?.startsWith(`${w}.`)))
        src.fail([...path, i], `${String(value)} is impossible: ${err.message.replace(/^config\.[\w.]+: /, '')}`);
    }
  });
}

function configErrorOf(cfg: ArchConfig): { message: string; where: string | undefined } | undefined {
  try {
    validateConfig(cfg);
    return undefined;
  } catch (e) {
    if (!isNibbleError(e)) throw e;
    return { message: e.message, where: e.where };
  }
}

/** Parse and check a spec's text. Throws SweepSpecError naming file:line:col. */
export function parseSpec(text: string, file: string): SweepSpec {
  const zoo = zooNames();
  const src: SpecSource = new SpecSource(file, text);
  const raw: unknown = src.doc.toJS();
  if (!isObject(raw)) src.fail([], 'a sweep spec must be a mapping with at least `models` and `axes` (docs/sweep.md)');
  checkKeys(src, raw, TOP_KEYS, []);
  const name = raw['name'] ?? basename(file, extname(file));
  if (typeof name !== 'string' || !/^[\w.-]{1,64}$/.test(name))
    src.fail(['name'], `must be 1-64 letters, digits, '.', '_' or '-', got ${show(name)}`);

  const modelsRaw = raw['models'];
  if (modelsRaw === undefined) src.fail([], 'no `models`: name at least one model (a zoo name, or {file: PATH})');
  const modelList = Array.isArray(modelsRaw) ? modelsRaw : [modelsRaw];
  if (modelList.length === 0) src.fail(['models'], 'is empty: the design space would be empty');
  const models = modelList.map((m, i) =>
    parseModel(src, m, Array.isArray(modelsRaw) ? ['models', i] : ['models'], zoo),
  );

  if (raw['base'] !== undefined && raw['presets'] !== undefined)
    src.fail(['presets'], 'give either `base` or `presets` (a list of bases), not both', true);
  let bases: SpecBase[];
  const presetsRaw = raw['presets'];
  if (presetsRaw !== undefined) {
    const list = Array.isArray(presetsRaw) ? presetsRaw : [presetsRaw];
    if (list.length === 0) src.fail(['presets'], 'is empty: the design space would be empty');
    bases = list.map((p, i) => {
      const at: Path = Array.isArray(presetsRaw) ? ['presets', i] : ['presets'];
      const nameP = typeof p === 'string' ? p.replace(/^preset:/, '') : '';
      if (!presetNames().includes(nameP))
        src.fail(
          at,
          `unknown preset ${show(p)}${didYouMean(nameP, presetNames())}; known: ${presetNames().join(', ')}`,
        );
      return { preset: nameP, label: `preset:${nameP}`, config: presetConfig(nameP) };
    });
  } else bases = [parseBase(src, raw['base'], ['base'])];

  const axesRaw = raw['axes'] ?? {};
  if (!isObject(axesRaw))
    src.fail(['axes'], 'must be a mapping of ArchConfig field -> values (e.g. array.size: [8, 16])');
  const axes: SpecAxis[] = [];
  for (const [field, v] of Object.entries(axesRaw)) {
    if (!SWEEP_FIELDS.includes(field))
      src.fail(
        ['axes', field],
        `unknown ArchConfig field '${field}'${didYouMean(field, SWEEP_FIELDS)}; fields: ${SWEEP_FIELDS.join(', ')}`,
        true,
      );
    const written = configPathsOf(field);
    const clash = axes.find((a) => configPathsOf(a.field).some((p) => written.includes(p)));
    if (clash) src.fail(['axes', field], `sets the same config field as axis '${clash.field}'`, true);
    const at: Path = ['axes', field];
    const axis = {
      field,
      values: fieldKind(field) === 'boolean' ? switchValues(src, field, v, at) : axisValues(src, v, at),
    };
    checkAxisValues(src, axis, bases, ['axes', field]);
    axes.push(axis);
  }

  const batches = raw['batch'] === undefined ? [1] : axisValues(src, raw['batch'], ['batch']);
  batches.forEach((b, i) => {
    if (!Number.isInteger(b) || b < 1 || b > 65536)
      src.fail(Array.isArray(raw['batch']) ? ['batch', i] : ['batch'], `must be an integer in [1, 65536], got ${b}`);
  });
  const engine = raw['engine'] ?? 'timing';
  if (typeof engine !== 'string' || !(SWEEP_ENGINES as readonly string[]).includes(engine))
    src.fail(
      ['engine'],
      `must be one of ${SWEEP_ENGINES.join(', ')}, got ${show(engine)}${didYouMean(String(engine), SWEEP_ENGINES)}`,
    );

  const consRaw = raw['constraints'] ?? [];
  const consList = Array.isArray(consRaw) ? consRaw : [consRaw];
  const constraints = consList.map((c, i) =>
    parseConstraint(src, c, Array.isArray(consRaw) ? ['constraints', i] : ['constraints']),
  );
  const objectives = parseObjectives(src, raw['objectives'], ['objectives']);
  const fpga = parseFpga(src, raw['fpga'], constraints, ['fpga']);
  if (!fpga) {
    const needs = [
      ...objectives.filter((o) => METRICS[o].fpga),
      ...constraints.flatMap((c) => (c.kind === 'compare' && METRICS[c.metric].fpga ? [c.metric] : [])),
    ];
    if (needs.length) src.fail(['fpga'], `${needs[0]} needs an fpga section ({target: ${FPGA_TARGETS.join('|')}})`);
  }
  const dataset = parseDataset(src, raw['dataset'], ['dataset']);
  if (!dataset) {
    const o = objectives.findIndex((m) => METRICS[m].dataset);
    const c = constraints.findIndex((k) => k.kind === 'compare' && METRICS[k.metric].dataset);
    if (o >= 0 || c >= 0) {
      const at: Path =
        o >= 0 ? ['objectives', o] : Array.isArray(raw['constraints']) ? ['constraints', c] : ['constraints'];
      if (o >= 0 && !Array.isArray(raw['objectives'])) at.pop();
      src.fail(at, `accuracy needs a dataset to measure it on: add dataset: ${DATASETS[0]}[:LIMIT]`);
    }
  }
  const size = bases.length * models.length * batches.length * axes.reduce((s, a) => s * a.values.length, 1);
  if (size > MAX_POINTS)
    src.fail(
      ['axes'],
      `spans ${size.toLocaleString('en-US')} points, more than ${MAX_POINTS.toLocaleString('en-US')}: split the space into several specs`,
      true,
    );
  return {
    name,
    file,
    models,
    bases,
    axes,
    batches,
    engine: engine as SweepEngine,
    constraints,
    objectives,
    fpga,
    dataset,
  };
}

/** Read and parse a spec file. */
export function loadSpec(path: string): SweepSpec {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SweepSpecError(
      code === 'ENOENT' ? 'sweep spec not found' : `cannot read sweep spec (${code ?? String(e)})`,
      path,
    );
  }
  return parseSpec(text, path);
}
