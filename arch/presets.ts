/**
 * Machine presets: named, validated ArchConfigs, so `--config preset:NAME`
 * works wherever a config file does and a sweep can range over whole machines.
 * A preset holds only the fields it changes from DEFAULT_CONFIG (resolved with
 * resolveConfig, so it is checked like a user's file). Add a machine by adding
 * an entry to PRESETS (board presets go here too); test/arch/presets.test.ts
 * validates every entry.
 */
import { DEFAULT_CONFIG, resolveConfig, type ArchConfig } from './config.js';
import { ConfigError } from './errors.js';

export interface MachinePreset {
  name: string;
  description: string;
  /** fields that differ from DEFAULT_CONFIG (same shape as a config file) */
  overrides: Record<string, unknown>;
}

export const PRESETS: readonly MachinePreset[] = [
  {
    name: 'default',
    description: 'the default machine: 16 x 16 array, 4-bit weights and activations, 500 MHz, 45 nm',
    overrides: {},
  },
  {
    name: 'edge',
    description: 'a small edge machine: 8 x 8 array, 4-byte DRAM bus, half-size buffers, 200 MHz, 28 nm',
    overrides: {
      array: { rows: 8, cols: 8 },
      scratchpad: { inputEntries: 1024, weightEntries: 1024, accEntries: 512, outputEntries: 1024, paramEntries: 32 },
      dram: { busBytes: 4, latency: 16, sizeBytes: 1 << 24 },
      queues: { load: 4, compute: 4, store: 4 },
      clockMHz: 200,
      techNodeNm: 28,
    },
  },
  {
    name: 'large',
    description: 'a large machine: 32 x 32 array, 32-byte DRAM bus, double-size buffers, 800 MHz, 22 nm',
    overrides: {
      array: { rows: 32, cols: 32 },
      scratchpad: { inputEntries: 4096, weightEntries: 4096, accEntries: 2048, outputEntries: 4096, paramEntries: 64 },
      dram: { busBytes: 32, latency: 32 },
      queues: { load: 16, compute: 16, store: 16 },
      clockMHz: 800,
      techNodeNm: 22,
    },
  },
  {
    name: 'xl',
    description: 'the largest array the ISA allows: 64 x 64, 64-byte DRAM bus, 1 GHz, 22 nm',
    overrides: {
      array: { rows: 64, cols: 64 },
      scratchpad: { inputEntries: 4096, weightEntries: 4096, accEntries: 2048, outputEntries: 4096, paramEntries: 64 },
      dram: { busBytes: 64, latency: 32 },
      queues: { load: 16, compute: 16, store: 16 },
      clockMHz: 1000,
      techNodeNm: 22,
    },
  },
  {
    name: 'ice40-board',
    description:
      "the iCE40 boards' machine (boards hx8k-breakout and icebreaker): 2 x 2 array, 16-bit accumulators, small buffers, 1-byte bus, 12 MHz",
    overrides: {
      array: { rows: 2, cols: 2 },
      bits: { weight: 4, activation: 4, accumulator: 16 },
      scratchpad: { inputEntries: 256, weightEntries: 32, accEntries: 64, outputEntries: 128, paramEntries: 4 },
      dram: { busBytes: 1, latency: 4, sizeBytes: 1 << 16 },
      queues: { load: 1, compute: 1, store: 1 },
      requantStages: 3,
      // the HX8K has no cells to spare for the second ACC read port and the held retire
      gemmBeside: false,
      // nor for the second WGT RAM's muxes and the pair write of the fast preload
      fastPreload: false,
      // nor for a third weight register in every PE
      weightBanks: 2,
      clockMHz: 12,
    },
  },
];

/** What `--config` accepts before a preset name. */
export const PRESET_PREFIX = 'preset:';

export function presetNames(): string[] {
  return PRESETS.map((p) => p.name);
}

/** True for `preset:NAME` (the form a --config option or a sweep spec takes). */
export function isPresetReference(text: string): boolean {
  return text.startsWith(PRESET_PREFIX);
}

/** The full, validated config of a preset (a fresh copy). Throws ConfigError naming the known presets. */
export function presetConfig(name: string, where = 'preset'): ArchConfig {
  const p = PRESETS.find((x) => x.name === name);
  if (!p) throw new ConfigError(`unknown preset '${name}' (known: ${presetNames().join(', ')})`, where);
  if (Object.keys(p.overrides).length === 0) return resolveConfig(structuredClone(DEFAULT_CONFIG));
  return resolveConfig(structuredClone(p.overrides), `preset ${name}`);
}

/** `preset:NAME` -> its config. */
export function configFromPresetReference(text: string): ArchConfig {
  return presetConfig(text.slice(PRESET_PREFIX.length), text);
}
