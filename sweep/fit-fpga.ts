/**
 * Regenerates sweep/fpga-fit.json: synthesizes the fitting set (small
 * variations of rtl-gen's ice40Config()) and a validation set with Yosys
 * through rtl-gen's synth(), then fits the resource model of sweep/fpga.ts.
 *
 *   npm run fit:fpga               # both targets (about 10-20 minutes on 2 cores)
 *   npm run fit:fpga -- ice40      # one target
 *
 * Measurements are kept in .cache/fpga-fit/ by config and Verilog hash, so an interrupted
 * run resumes where it stopped.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  configHash,
  contentKey,
  DEFAULT_CONFIG,
  isNibbleError,
  packageRoot,
  resolveConfig,
  type ArchConfig,
} from '../arch/index.js';
import { generateVerilog, ice40Config, synth } from '../rtl-gen/index.js';
import { FPGA_TARGETS, type FpgaTarget } from './fpga-devices.js';
import {
  estimateFpga,
  fitTarget,
  type FpgaFitFile,
  type FpgaResources,
  type FpgaSample,
  type FpgaTargetFit,
} from './fpga.js';

/** Small machines around ice40Config(): each changes one or two structures. */
export const FITTING_SET: Record<string, unknown>[] = [
  {},
  { array: { rows: 2, cols: 2 } },
  { array: { rows: 8, cols: 8 } },
  { bits: { accumulator: 32 } },
  { bits: { accumulator: 24 }, queues: { load: 2, compute: 2, store: 2 } },
  { queues: { load: 4, compute: 4, store: 4 } },
  { dram: { busBytes: 16 } },
  { array: { rows: 2, cols: 2 }, bits: { accumulator: 32 } },
  { array: { rows: 8, cols: 8 }, bits: { accumulator: 32 } },
  { scratchpad: { inputEntries: 512, outputEntries: 512 } },
  { requantStages: 1 },
  { scratchpad: { weightEntries: 256, accEntries: 256 }, dram: { busBytes: 4 } },
  // the second ACC RAM and the GEMM-beside-REQUANT control (off in ice40Config())
  { gemmBeside: true },
];

/** Larger machines, synthesized once to measure how far the fit extrapolates. */
export const VALIDATION_SET: Record<FpgaTarget, (() => ArchConfig)[]> = {
  ice40: [
    () =>
      resolveConfig({
        ...structuredClone(ice40Config()),
        array: { rows: 8, cols: 8 },
        scratchpad: { inputEntries: 256, weightEntries: 256, accEntries: 128, outputEntries: 256, paramEntries: 8 },
      }),
  ],
  xilinx: [() => resolveConfig(structuredClone(DEFAULT_CONFIG))],
};

function merge(base: ArchConfig, over: Record<string, unknown>): ArchConfig {
  const out = structuredClone(base) as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(over)) {
    out[k] = typeof v === 'object' && v !== null ? { ...(out[k] as object), ...(v as object) } : v;
  }
  return resolveConfig(out);
}

function measure(
  cfg: ArchConfig,
  target: FpgaTarget,
  cacheDir: string,
  overrides: Record<string, unknown>,
): FpgaSample {
  // keyed by the Verilog too: a generator change with the same config must be synthesized again
  const rtl = contentKey(...generateVerilog(cfg).files.flatMap((f) => [f.name, f.text]));
  const file = join(cacheDir, `${configHash(cfg)}-${rtl}-${target}.json`);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as FpgaSample;
  process.stderr.write(`fit:fpga: yosys ${target} ${JSON.stringify(overrides)} ... `);
  const r = synth(cfg, target);
  process.stderr.write(`${r.luts} LUTs, ${r.ffs} FFs, ${r.brams} BRAMs, ${r.dsps} DSPs (${r.seconds.toFixed(0)} s)\n`);
  const measured: FpgaResources = { luts: r.luts, ffs: r.ffs, brams: r.brams, dsps: r.dsps };
  const sample: FpgaSample = { overrides, config: cfg, configHash: configHash(cfg), measured, seconds: r.seconds };
  writeFileSync(file, `${JSON.stringify(sample)}\n`);
  return sample;
}

function yosysVersion(): string {
  const r = spawnSync('yosys', ['-V'], { encoding: 'utf8' });
  return (r.stdout ?? '').trim() || 'unknown';
}

function main(argv: string[]): void {
  const targets = (argv.length ? argv : [...FPGA_TARGETS]) as FpgaTarget[];
  for (const t of targets) {
    if (!(FPGA_TARGETS as readonly string[]).includes(t))
      throw new Error(`unknown target '${t}' (${FPGA_TARGETS.join(', ')})`);
  }
  const root = packageRoot();
  const cacheDir = join(root, '.cache', 'fpga-fit');
  mkdirSync(cacheDir, { recursive: true });
  const outFile = join(root, 'sweep', 'fpga-fit.json');
  const previous = existsSync(outFile) ? (JSON.parse(readFileSync(outFile, 'utf8')) as FpgaFitFile) : undefined;
  const base = ice40Config();
  const fits = { ...(previous?.targets ?? {}) } as Record<FpgaTarget, FpgaTargetFit>;
  for (const target of targets) {
    const samples = FITTING_SET.map((o) => measure(merge(base, o), target, cacheDir, o));
    const fit = fitTarget(target, samples);
    const file: FpgaFitFile = {
      description: '',
      command: '',
      yosys: '',
      generated: '',
      targets: { ...fits, [target]: { samples, fits: fit, validation: [] } },
    };
    const validation = VALIDATION_SET[target].map((make) => {
      const cfg = make();
      const s = measure(cfg, target, cacheDir, { validation: true });
      const e = estimateFpga(cfg, target, file);
      return { ...s, predicted: { luts: e.luts, ffs: e.ffs, brams: e.brams, dsps: e.dsps } };
    });
    fits[target] = { samples, fits: fit, validation };
  }
  const out: FpgaFitFile = {
    description:
      "Linear model of Yosys's resource counts (rtl-gen synth()) over structural features of the config (sweep/fpga.ts), fitted per target on small variations of rtl-gen's ice40Config(); errors are relative to the measured counts.",
    command: 'npm run fit:fpga',
    yosys: yosysVersion(),
    generated: new Date().toISOString().slice(0, 10),
    targets: fits,
  };
  writeFileSync(outFile, `${JSON.stringify(out, null, 2)}\n`);
  for (const t of targets) {
    for (const [r, f] of Object.entries(fits[t].fits))
      process.stdout.write(
        `${t} ${r}: fit error mean ${(100 * f.meanRelError).toFixed(1)} %, max ${(100 * f.maxRelError).toFixed(1)} %; leave-one-out mean ${(100 * f.looMeanRelError).toFixed(1)} %, max ${(100 * f.looMaxRelError).toFixed(1)} %\n`,
      );
    for (const v of fits[t].validation)
      process.stdout.write(
        `${t} validation ${v.configHash}: measured ${JSON.stringify(v.measured)}, predicted ${JSON.stringify(v.predicted)}\n`,
      );
  }
  process.stdout.write(`wrote ${outFile}\n`);
}

try {
  main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(
    `fit:fpga: ${isNibbleError(e) ? `error[${e.code}]: ${e.message}` : `internal error: ${(e as Error).stack ?? String(e)}`}\n`,
  );
  process.exitCode = 1;
}
