/**
 * `nibble run`: evaluate a model on a dataset (top-1 accuracy), or run it on
 * input files, with the reference executor or the simulator.
 */
import { configHash } from '../../arch/index.js';
import {
  analyzeNetwork,
  classCount,
  classNote,
  DATASETS,
  datasetInputsFor,
  hostScores,
  loadDataset,
  predictTop1,
  runReference,
  top1Accuracy,
  type Network,
  type WithHost,
} from '../../models/index.js';
import { differingImages } from '../output-compare.js';
import { bool, str, withConfig, withFormat, withJson, type CommandSpec } from '../command.js';
import { SIM_ENGINES, type SimEngine } from '../engines.js';
import { writeOutputFile } from '../../io/index.js';
import {
  CliUsageError,
  loadConfig,
  loadModel,
  loadModelInputFile,
  parseNonNegativeInt,
  parsePositiveInt,
} from '../inputs.js';
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
        describe: 'dataset to evaluate on (default mnist-test)',
      })
      .option('limit', { requiresArg: true, describe: 'use only the first N images' })
      .option('input', {
        type: 'string',
        describe:
          "JSON file of input images (the network's own input values) to run instead of a dataset: prints the outputs",
        normalize: true,
      })
      .option('input-shift', {
        type: 'number',
        describe:
          'dataset pixels are shifted right by this many bits to make the inputs (default: 8 minus the input bits)',
      })
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
      .option('batch', { requiresArg: true, default: 1, describe: 'images per compiled program (--engine sim)' })
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
      .example('$0 run --model net.json --engine sim --sim-engine timing --batch 8', 'cycle figures for batch 8')
      .example(
        '$0 run --model net.json --input images.json --save-outputs out.json',
        'the reference on your own inputs',
      ),
  handler: async (args) => {
    const term = new Terminal(bool(args, 'json'));
    const modelPath = str(args, 'model')!;
    const batch = parsePositiveInt(args['batch'], 'batch') ?? 1;
    const engine = str(args, 'engine') as 'reference' | 'sim';
    const simEngine = (str(args, 'sim-engine') ?? 'fast') as SimEngine;
    const cfg = loadConfig(str(args, 'config'));
    const choice = inputChoice(args);
    const net = await loadModel(modelPath, str(args, 'format'), cfg);
    const source = runInputs(choice, net);
    const check = bool(args, 'check');
    if (check && engine !== 'sim')
      throw new CliUsageError('--check compares the simulator with the reference: use it with --engine sim');
    const analysis = analyzeNetwork(net);
    // network outputs per image (an imported model's host transform turns them into its class scores)
    const out = analysis.output.shape;
    const outSize = out.c * out.h * out.w;
    const count = source.count;

    const t0 = performance.now();
    let outputs: Int32Array = new Int32Array(0);
    let referenceOutputs: Int32Array | undefined;
    let simFigures: Record<string, unknown> | undefined;
    let referenceFigures: Record<string, unknown> | undefined;
    if (engine === 'reference' || simEngine === 'timing' || check) {
      referenceOutputs = referenceRun(term, net, source, outSize);
      referenceFigures = { seconds: (performance.now() - t0) / 1000, macsPerInference: analysis.macs };
      outputs = referenceOutputs;
    }
    let mismatchedImages: number[] | undefined;
    if (engine === 'sim') {
      const s = await simulateDataset(term, net, cfg, source.values, count, batch, simEngine);
      if (s.outputs) {
        outputs = s.outputs;
        if (check) mismatchedImages = differingImages(s.outputs, referenceOutputs!, outSize);
      } else if (check) {
        mismatchedImages = []; // the timing engine's outputs are the reference's
      }
      simFigures = s.figures;
    }
    const scores = hostScores(net.host, outputs, count);
    const classes = classCount(net);
    const acc = source.labels ? top1Accuracy(scores, classes, source.labels) : undefined;
    const saveTo = str(args, 'save-outputs');
    if (saveTo) {
      const rows: number[][] = [];
      for (let i = 0; i < count; i++) rows.push(Array.from(outputs.subarray(i * outSize, (i + 1) * outSize)));
      writeOutputFile(saveTo, `[\n${rows.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`);
    }
    const predictions = Array.from(predictTop1(scores, classes));
    const doc = {
      model: modelPath,
      network: net.name,
      ...(source.labels ? { dataset: source.name } : { inputFile: source.name }),
      images: count,
      inputs: source.transform,
      ...(acc
        ? {
            correct: acc.correct,
            accuracy: acc.accuracy,
            accuracyPercent: Number((100 * acc.accuracy).toFixed(2)),
            ...(source.note ? { note: source.note } : {}),
          }
        : {
            outputs: Array.from({ length: count }, (_, i) =>
              Array.from(outputs.subarray(i * outSize, (i + 1) * outSize)),
            ),
            predictions,
          }),
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
        ? `simulator and reference outputs differ on ${mismatchedImages.length} of ${count} images (first: image ${mismatchedImages[0]})`
        : undefined;
    if (term.json) {
      term.document(doc);
      if (failure) throw new ExitCodeError(1, failure);
      return;
    }
    term.heading(
      `${net.name} on ${source.name} (${formatNumber(count)} images), ${engine === 'sim' ? `simulator (${simEngine})` : 'reference executor'}`,
    );
    term.line(`  inputs: ${source.transform}`);
    if (acc) {
      term.pairs([
        [
          'top-1 accuracy',
          `${colour.bold(percent(acc.accuracy))} (${acc.correct} / ${acc.total}; ties -> lowest class)`,
        ],
      ]);
      if (source.note) term.reportNote({ code: 'NB-D201', message: source.note }, colour.yellow);
    } else {
      printOutputs(term, outputs, outSize, predictions);
    }
    if (simFigures) printSimFigures(term, simFigures);
    if (engine === 'sim' && simEngine === 'timing')
      term.line(
        colour.dim('  (timing engine: no data path; outputs from the reference executor, bit-exact by contract)'),
      );
    if (mismatchedImages && !failure)
      term.line(`  check: simulator outputs are bit-identical to the reference executor on all ${count} images`);
    if (saveTo) term.line(`  outputs written to ${saveTo}`);
    if (failure) throw new ExitCodeError(1, failure);
  },
};

/** What the model runs on: dataset images (with labels) or the images of an input file. */
interface RunInputs {
  /** the dataset's name or the input file */
  name: string;
  values: Uint8Array;
  count: number;
  imageSize: number;
  labels: Uint8Array | undefined;
  /** how the values were made */
  transform: string;
  /** how the model's outputs meet the dataset's classes, when they differ */
  note: string | undefined;
}

/** The command line's choice of inputs, checked before anything is loaded. */
interface InputChoice {
  file: string | undefined;
  dataset: string;
  limit: number | undefined;
  shift: number | undefined;
}

function inputChoice(args: Record<string, unknown>): InputChoice {
  const file = str(args, 'input');
  const choice = {
    file,
    dataset: str(args, 'dataset') ?? 'mnist-test',
    limit: parsePositiveInt(args['limit'], 'limit'),
    shift: parseNonNegativeInt(args['input-shift'], 'input-shift'),
  };
  if (file !== undefined) {
    for (const opt of ['dataset', 'limit', 'input-shift'] as const) {
      if (args[opt] !== undefined)
        throw new CliUsageError(`--${opt} applies to a dataset; --input gives the network's inputs as they are`);
    }
  }
  return choice;
}

function runInputs(choice: InputChoice, net: Network & WithHost): RunInputs {
  const inputFile = choice.file;
  const a = analyzeNetwork(net);
  const imageSize = a.input.shape.c * a.input.shape.h * a.input.shape.w;
  if (inputFile !== undefined) {
    const f = loadModelInputFile(inputFile, a.input.shape, a.input.bits);
    return {
      name: inputFile,
      values: Uint8Array.from(f.values),
      count: f.count,
      imageSize,
      labels: undefined,
      transform: `as given in ${inputFile} (${a.input.bits}-bit)`,
      note: undefined,
    };
  }
  const data = loadDataset(choice.dataset, choice.limit);
  const d = datasetInputsFor(net, data, choice.shift);
  const note = classNote(net, data);
  return {
    name: data.name,
    values: d.values,
    count: data.count,
    imageSize,
    labels: data.labels,
    transform: d.transform,
    note,
  };
}

/** The reference executor over every image, in chunks (progress bar). */
function referenceRun(term: Terminal, net: Network, source: RunInputs, outSize: number): Int32Array {
  const out = new Int32Array(source.count * outSize);
  const bar = term.progress('reference', source.count);
  for (let first = 0; first < source.count; first += REFERENCE_CHUNK) {
    const n = Math.min(REFERENCE_CHUNK, source.count - first);
    const r = runReference(net, source.values.subarray(first * source.imageSize, (first + n) * source.imageSize), n);
    out.set(r.output, first * outSize);
    bar.tick(n);
  }
  bar.stop();
  return out;
}

/** The first images' outputs and top-1 class (all of them are in --json and --save-outputs). */
function printOutputs(term: Terminal, outputs: Int32Array, outSize: number, predictions: number[]): void {
  const shown = Math.min(predictions.length, 20);
  term.table(
    ['image', 'top-1', 'outputs'],
    predictions
      .slice(0, shown)
      .map((p, i) => [i, p, Array.from(outputs.subarray(i * outSize, (i + 1) * outSize)).join(' ')]),
  );
  if (shown < predictions.length) term.line(`  (${predictions.length - shown} more images: --json or --save-outputs)`);
}

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
