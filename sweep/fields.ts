/**
 * The ArchConfig fields a sweep axis can name, found by walking DEFAULT_CONFIG
 * (so a field added to the config is sweepable without touching this file),
 * plus `array.size`, which sets rows and cols together (a square array; `array.rows` and
 * `array.cols` are axes of their own for rectangular ones).
 */
import { DEFAULT_CONFIG, type ArchConfig } from '../arch/index.js';

/** The one pseudo-field: both array dimensions. */
export const ARRAY_SIZE_FIELD = 'array.size';

function leafPaths(obj: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(obj).flatMap(([k, v]) =>
    typeof v === 'object' && v !== null ? leafPaths(v as Record<string, unknown>, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

/** Every sweepable field path, config order, with array.size first. */
export const SWEEP_FIELDS: readonly string[] = [
  ARRAY_SIZE_FIELD,
  ...leafPaths(DEFAULT_CONFIG as unknown as Record<string, unknown>),
];

/** The real config paths an axis field writes. */
export function configPathsOf(field: string): string[] {
  return field === ARRAY_SIZE_FIELD ? ['array.rows', 'array.cols'] : [field];
}

/** An axis value: a number, or true/false for a switch (`gemmBeside`). */
export type AxisValue = number | boolean;

/** Whether a field is a switch (true/false in the config) or a number: what its axis values must be. */
export function fieldKind(field: string): 'boolean' | 'number' {
  return typeof fieldValue(DEFAULT_CONFIG, field) === 'boolean' ? 'boolean' : 'number';
}

/** A copy of `cfg` with `field` set to `value`. */
export function withField(cfg: ArchConfig, field: string, value: AxisValue): ArchConfig {
  const out = structuredClone(cfg) as unknown as Record<string, Record<string, unknown> | unknown>;
  for (const path of configPathsOf(field)) {
    const parts = path.split('.');
    let node = out as Record<string, unknown>;
    for (const p of parts.slice(0, -1)) node = node[p] as Record<string, unknown>;
    node[parts[parts.length - 1]!] = value;
  }
  return out as unknown as ArchConfig;
}

/** The value of a field in a config (array.size reads rows). */
export function fieldValue(cfg: ArchConfig, field: string): unknown {
  let node: unknown = cfg;
  for (const p of configPathsOf(field)[0]!.split('.')) node = (node as Record<string, unknown>)[p];
  return node;
}
