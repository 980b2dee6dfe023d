/** `nibble run`: evaluate a model on a dataset with the reference executor or the simulator. */
import { configHash } from '../../arch/index.js';
import { top1Accuracy, analyzeNetwork, hostScores, runReference } from '../../models/index.js';
import { differingImages } from '../output-compare.js';
import { bool, str, withConfig, withFormat, withJson, type CommandSpec } from '../command.js';
import { DATASETS, classCount, datasetInputsFor, loadDataset } from '../dataset.js';
import { SIM_ENGINES, type SimEngine } from '../engines.js';
import { CliUsageError, loadConfig, loadModel, parsePositiveInt, writeOutput } from '../inputs.js';
import { ExitCodeError } from '../exit.js';
import { simulateDataset } from '../sim-run.js';
import { colour, formatNumber, percent, Terminal } from '../terminal.js';

/** Images per reference call: big enough to be fast, small enough for a smooth progress bar. */
const REFERENCE_CHUNK = 500;

export const runCommand: CommandSpec = {
  command: 'run',
  describe: 'evaluate a model on a dataset (top-1 accuracy) with the reference executor or the simulator',
  builder: (y) =>
    withJson(withConfig(withFormat(y)))
      .option('model', {
        type: 'string',
        demandOption: true,
        describe: 'model file (.txt IntegerNet, .json nibble model)',
        normalize: true,
      })
      .option('dataset', {
        type: 'string',
        choices: [...DATASETS],
        default: 'mnist-test',
        describe: 'dataset to evaluate on',
      })
      .option('limit', { type: 'number', describe: 'use only the first N images' })
      .option('engine', {
        type: 'string',
        choices: ['reference', 'sim'],
        default: 'reference',
        describe: 'reference: the golden integer executor; sim: compile and simulate',
      })
      .option('sim-engine', {
        type: 'string',
        choices: [...SIM_ENGINES],
        default: 'fast',
        describe: 'simulator engine for --engine sim (timing: cycles only, outputs from the reference)',
      })
      .option('batch', { type: 'number', default: 1, describe: 'images per compiled program (--engine sim)' })
      .option('check', {
        type: 'boolean',
        default: false,
        describe:
          'with --engine sim: also run the reference executor and require bit-identical outputs (exit 1 otherwise)',
      })
      .option('save-outputs', {
        type: 'string',
        describe: "write every image's final output tensor as a JSON array of integer arrays",
        normalize: true,
      })
      .example(
        '$0 run --model ../shared/reference/integernet-mnist-4bit.txt --limit 1000',
        'reference accuracy on 1000 test images',
      )
      .example(
        '$0 run --model ../shared/reference/integernet-mnist-4bit.txt --engine sim --json',
        'compile, simulate all 10,000 test images: accuracy, cycles, latency, energy',
      )
      .example('$0 run --model net.json --engine sim --sim-engine timing --batch 8', 'cycle figures for batch 8'),
  handler: async (args) => {
    const term = new Terminal(bool(args, 'json'));
    const modelPath = str(args, 'model')!;
    const limit = parsePositiveInt(args['limit'], 'limit');
    const batch = parsePositiveInt(args['batch'], 'batch') ?? 1;
    const engine = str(args, 'engine') as 'reference' | 'sim';
    const simEngine = (str(args, 'sim-engine') ?? 'fast') as SimEngine;
    const cfg = loadConfig(str(args, 'config'));
    const net = await loadModel(modelPath, str(args, 'format'));
    const analysis = analyzeNetwork(net);
    const data = loadDataset(str(args, 'dataset') ?? 'mnist-test', limit);
    const inputs = datasetInputsFor(net, data);
    // network outputs per image (an imported model's host transform turns them into its class scores)
    const out = analysis.output.shape;
    const classes = out.c * out.h * out.w;

    const check = bool(args, 'check');
    if (check && engine !== 'sim')
      throw new CliUsageError('--check compares the simulator with the reference: use it with --engine sim');

    const t0 = performance.now();
    let outputs: Int32Array = new Int32Array(0);
    let referenceOutputs: Int32Array | undefined;
    let simFigures: Record<string, unknown> | undefined;
    let referenceFigures: Record<string, unknown> | undefined;
    if (engine === 'reference' || simEngine === 'timing' || check) {
      referenceOutputs = new Int32Array(data.count * classes);
      const bar = term.progress('reference', data.count);
      for (let first = 0; first < data.count; first += REFERENCE_CHUNK) {
        const n = Math.min(REFERENCE_CHUNK, data.count - first);
        const r = runReference(net, inputs.subarray(first * data.imageSize, (first + n) * data.imageSize), n);
        referenceOutputs.set(r.output, first * classes);
        bar.tick(n);
      }
      bar.stop();
      referenceFigures = { seconds: (performance.now() - t0) / 1000, macsPerInference: analysis.macs };
      outputs = referenceOutputs;
    }
    let mismatchedImages: number[] | undefined;
    if (engine === 'sim') {
      const s = await simulateDataset(term, net, cfg, inputs, data.count, batch, simEngine);
      if (s.outputs) {
        outputs = s.outputs;
        if (check) mismatchedImages = differingImages(s.outputs, referenceOutputs!, classes);
      } else if (check) {
        mismatchedImages = []; // the timing engine's outputs are the reference's
      }
      simFigures = s.figures;
    }
    const acc = top1Accuracy(hostScores(net.host, outputs, data.count), classCount(net), data.labels);
    const saveTo = str(args, 'save-outputs');
    if (saveTo) {
      const rows: number[][] = [];
      for (let i = 0; i < data.count; i++) rows.push(Array.from(outputs.subarray(i * classes, (i + 1) * classes)));
      writeOutput(saveTo, `[\n${rows.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`);
    }
    const doc = {
      model: modelPath,
      network: net.name,
      dataset: data.name,
      images: data.count,
      correct: acc.correct,
      accuracy: acc.accuracy,
      accuracyPercent: Number((100 * acc.accuracy).toFixed(2)),
      engine,
      ...(engine === 'sim' ? { simEngine, batch, config: { hash: configHash(cfg), clockMHz: cfg.clockMHz } } : {}),
      ...(referenceFigures ? { reference: referenceFigures } : {}),
      ...(simFigures ? { sim: simFigures } : {}),
      seconds: (performance.now() - t0) / 1000,
      ...(saveTo ? { savedOutputs: saveTo } : {}),
      ...(mismatchedImages
        ? {
            check: {
              bitExact: mismatchedImages.length === 0,
              mismatchedImages: mismatchedImages.length,
              firstMismatches: mismatchedImages.slice(0, 10),
            },
          }
        : {}),
    };
    const failure =
      mismatchedImages && mismatchedImages.length > 0
        ? `simulator and reference outputs differ on ${mismatchedImages.length} of ${data.count} images (first: image ${mismatchedImages[0]})`
        : undefined;
    if (term.json) {
      term.document(doc);
      if (failure) throw new ExitCodeError(1, failure);
      return;
    }
    term.heading(
      `${net.name} on ${data.name} (${formatNumber(data.count)} images), ${engine === 'sim' ? `simulator (${simEngine})` : 'reference executor'}`,
    );
    term.pairs([
      ['top-1 accuracy', `${colour.bold(percent(acc.accuracy))} (${acc.correct} / ${acc.total}; ties -> lowest class)`],
    ]);
    if (simFigures) printSimFigures(term, simFigures);
    if (engine === 'sim' && simEngine === 'timing')
      term.line(
        colour.dim('  (timing engine: no data path; outputs from the reference executor, bit-exact by contract)'),
      );
    if (mismatchedImages && !failure)
      term.line(`  check: simulator outputs are bit-identical to the reference executor on all ${data.count} images`);
    if (saveTo) term.line(`  outputs written to ${saveTo}`);
    if (failure) throw new ExitCodeError(1, failure);
  },
};

export function printSimFigures(term: Terminal, f: Record<string, unknown>): void {
  const num = (k: string) => (typeof f[k] === 'number' ? (f[k] as number) : NaN);
  const rows: [string, string][] = [
    ['cycles (all images)', formatNumber(num('cycles'))],
    ['cycles per inference', formatNumber(num('cyclesPerInference'))],
    [
      'latency per batch',
      `${formatNumber(num('latencyUs'))} us (batch ${String(f['batch'])}, ${formatNumber(num('batchCycles'))} cycles at ${String(f['clockMHz'])} MHz)`,
    ],
    ['throughput', `${formatNumber(num('inferencesPerSecond'))} inferences/s`],
    ['array utilization', typeof f['utilization'] === 'number' ? percent(f['utilization'] as number, 1) : 'n/a'],
  ];
  if (typeof f['energyPerInferenceUj'] === 'number') {
    rows.push([
      'energy per inference',
      `${formatNumber(num('energyPerInferenceUj'))} uJ (${formatNumber(num('pjPerMac'))} pJ/MAC, ${formatNumber(num('topsPerWatt'))} TOPS/W)`,
    ]);
    const rq = f['requantPerInference'] as { shiftPj: number; multiplierPj: number } | undefined;
    if (rq && rq.shiftPj > 0)
      rows.push([
        'requant energy',
        `${formatNumber(rq.shiftPj / 1000)} nJ shift-based vs ${formatNumber(rq.multiplierPj / 1000)} nJ multiplier-based per inference`,
      ]);
  }
  term.pairs(rows);
}
