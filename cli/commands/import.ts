/**
 * `nibble import MODEL.onnx`: ONNX / QONNX -> a nibble model (format v2, with
 * its host input/output stages), a node-by-node report of what the importer
 * did, and optionally a check against the float executor (docs/import.md).
 */
import { basename, dirname, extname, join } from 'node:path';
import type { ArchConfig } from '../../arch/index.js';
import { DatasetError, ModelError } from '../../arch/index.js';
import type { CheckResult, LoweredModel, LowerOptions, OnnxGraph } from '../../models/index.js';
import { DATASETS, loadDataset, SeededRandom } from '../../models/index.js';
import { bool, str, withConfig, withJson, type CommandSpec } from '../command.js';
import { ExitCodeError } from '../exit.js';
import { checkInputFile, writeOutputFile } from '../../io/index.js';
import { CliUsageError, loadConfig, parsePositiveInt } from '../inputs.js';
import { modelsApi, type ModelsApi } from '../modules.js';
import { colour, formatNumber, percent, Terminal } from '../terminal.js';

/** Seeded random raw 8-bit inputs of the model's own shape: for models whose input no dataset has. */
const RANDOM_DATA = 'random';
const DATA_NAMES: readonly string[] = [...DATASETS, RANDOM_DATA];

/** `mnist-train`, `mnist-train:N` or `random:N`. */
function parseDataArg(value: string, option: string, defaultCount: number): { name: string; count: number } {
  const m = /^([a-z0-9-]+)(?::(\d+))?$/.exec(value);
  if (!m || !DATA_NAMES.includes(m[1]!)) {
    throw new CliUsageError(
      `--${option} must be DATASET or DATASET:N with DATASET one of ${DATA_NAMES.join(', ')}, got '${value}'`,
    );
  }
  const count = m[2] === undefined ? defaultCount : Number(m[2]);
  if (!Number.isInteger(count) || count < 1) throw new CliUsageError(`--${option}: N must be a positive integer`);
  return { name: m[1]!, count };
}

function parseNumber(value: unknown, option: string): number {
  const s = String(value);
  const frac = /^(-?\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?)$/.exec(s);
  const n = frac ? Number(frac[1]) / Number(frac[2]) : Number(s);
  if (!Number.isFinite(n))
    throw new CliUsageError(`--${option} must be a number (or a fraction like 1/255), got '${s}'`);
  return n;
}

/** Raw 8-bit images shaped like the network input: a dataset's, or seeded random ones. */
function imagesFor(
  lowered: LoweredModel | { network: { input: { channels: number; height: number; width: number } } },
  data: { name: string; count: number } | undefined,
  what: string,
): { raw: Uint8Array; count: number; labels?: Uint8Array; source: string } {
  const { channels, height, width } = lowered.network.input;
  if (data && data.name !== RANDOM_DATA) {
    const d = loadDataset(data.name, data.count);
    if (channels * height * width !== d.imageSize || channels !== 1) {
      throw new DatasetError(
        `${data.name} images are 1x28x28 but the model input is ${channels}x${height}x${width} (random:N gives seeded inputs of any shape)`,
        `--${what}`,
      );
    }
    return { raw: d.images, count: d.count, labels: d.labels, source: `${d.count} ${data.name} images` };
  }
  const count = data?.count ?? 16;
  const rng = new SeededRandom(1);
  const raw = new Uint8Array(count * channels * height * width);
  for (let i = 0; i < raw.length; i++) raw[i] = rng.int(0, 255);
  return { raw, count, source: `${count} seeded random inputs` };
}

function graphInputShape(graph: OnnxGraph): number[] {
  const dims = graph.inputs[0]?.dims ?? [];
  return dims.map((d) => (typeof d === 'number' ? d : 0));
}

function defaultOutput(model: string): string {
  return join(dirname(model), `${basename(model, extname(model))}.nbm`);
}

function save(api: ModelsApi, out: string, lowered: LoweredModel): void {
  const ext = extname(out).toLowerCase();
  const net = { ...lowered.network, host: lowered.host };
  if (ext === '.json') {
    const h = lowered.host;
    const trivialOut =
      h.output &&
      h.output.slices === 1 &&
      h.output.heads.length === 0 &&
      h.output.gain.every((g) => g === 1) &&
      h.output.bias.every((b) => b === 0);
    if (h.input?.tables || !trivialOut) {
      throw new ModelError(
        'the imported model has host input/output stages that the JSON format (version 1) cannot hold: write a .nbm file',
        out,
      );
    }
    writeOutputFile(out, api.saveModelJson(lowered.network));
    return;
  }
  if (ext !== '.nbm') throw new CliUsageError(`-o ${out}: the model is written as .nbm (format 2) or .json (format 1)`);
  api.saveModelBinary(out, net);
}

function printSummary(term: Terminal, lowered: LoweredModel, out: string | undefined, report: boolean): void {
  const net = lowered.network;
  const converted = lowered.steps.filter((s) => s.exact === false).length;
  term.heading(
    `imported ${net.name}: ${lowered.exact ? colour.green('exact') : colour.yellow(`converted (${converted} inexact step${converted === 1 ? '' : 's'})`)}`,
  );
  term.pairs([
    [
      'network',
      `input ${net.input.channels}x${net.input.height}x${net.input.width} (${net.input.bits}-bit), ${net.layers.length} layers, ${net.weightBits}-bit weights`,
    ],
    ['host input', lowered.host.input?.tables ? `table: ${lowered.host.input.description}` : 'raw 8-bit values'],
    ['host output', hostOutputText(lowered)],
    ...(out ? ([['written', out]] as [string, string][]) : []),
  ]);
  if (report) {
    term.line();
    term.heading('nodes');
    term.table(
      ['node', 'op', 'exact', 'what the importer did'],
      lowered.steps.map((s) => [s.node, s.op, s.exact === undefined ? '' : s.exact ? 'yes' : 'NO', s.action]),
    );
  }
  if (lowered.requants.length) {
    term.line();
    term.heading("requants (per channel: realized code step 2^shift / multiplier vs the model's)");
    term.table(
      ['layer', 'codes', 'exact channels', 'max |step error| (converted)', 'codes off'],
      lowered.requants.map((r) => {
        const converted = r.channels.filter((c) => !c.exact);
        const worst = converted.length ? percent(Math.max(...converted.map((c) => Math.abs(c.stepError))), 2) : '-';
        const wrong = r.channels.reduce((s, c) => s + c.wrong, 0);
        const total = r.channels.reduce((s, c) => s + c.total, 0);
        return [
          r.layer,
          `${r.signed ? 's' : 'u'}${r.bits}${r.codeOffset ? ` off ${-r.codeOffset}` : ''}`,
          `${r.exactChannels}/${r.channels.length}`,
          worst,
          total ? percent(wrong / total, 3) : '0 %',
        ];
      }),
    );
    if (report) {
      for (const r of lowered.requants) {
        const bad = r.channels.filter((c) => !c.exact);
        if (!bad.length) continue;
        term.line(`  ${r.layer}: converted channels`);
        term.table(
          ['channel', 'multiplier', 'shift', 'model step', 'realized', 'step error', 'codes off'],
          bad.map((c) => [
            c.channel,
            c.multiplier,
            c.shift,
            formatNumber(c.modelStep),
            formatNumber(c.step),
            percent(c.stepError, 2),
            `${formatNumber(c.wrong)} / ${formatNumber(c.total)}`,
          ]),
          '    ',
        );
      }
    }
  }
  for (const n of lowered.notes) term.reportNote({ code: 'NB-M201', message: n }, colour.dim);
}

function hostOutputText(lowered: LoweredModel): string {
  const o = lowered.host.output;
  if (!o) return 'none';
  const parts = [`${o.size} values`];
  if (o.slices > 1) parts.push(`${o.slices} slices each, summed`);
  if (o.heads.length) parts.push(`then ${o.heads.map((h) => h.kind).join(', ')} on the host`);
  return parts.join(', ');
}

function printCheck(term: Terminal, c: CheckResult, exact: boolean, source: string): void {
  term.line();
  term.heading(`check against the float executor on ${source}`);
  term.pairs([
    [
      'equal outputs',
      `${formatNumber(c.equalValues)} / ${formatNumber(c.values)} values, ${formatNumber(c.equalImages)} / ${formatNumber(c.images)} images${exact ? (c.equalValues === c.values ? colour.green(' (exact import: all equal)') : colour.red(' (exact import: MISMATCH)')) : ''}`,
    ],
    ['max |difference|', formatNumber(c.maxAbsError)],
    ['top-1 agreement', `${percent(c.top1Agreement / c.images)} (${c.top1Agreement} / ${c.images})`],
    ...(c.accuracy
      ? ([
          ['model accuracy', `${percent(c.accuracy.model.accuracy)} (the ONNX semantics, float executor)`],
          ['nibble accuracy', `${percent(c.accuracy.nibble.accuracy)} (the imported integer network)`],
        ] as [string, string][])
      : []),
  ]);
}

function lowerOptions(
  args: Record<string, unknown>,
  cfg: ArchConfig,
  model: string,
  graph: OnnxGraph,
): Partial<LowerOptions> {
  const given = (key: string) => (args[key] === undefined ? undefined : parseNumber(args[key], key));
  return {
    exact: bool(args, 'exact'),
    weightBits: cfg.bits.weight,
    activationBits: cfg.bits.activation,
    inputScale: given('input-scale'),
    inputOffset: given('input-offset'),
    maxOutputSlices: parsePositiveInt(args['output-slices'], 'output-slices') ?? 16,
    // a model nibble exported keeps its network's name; others are named after the file
    name: graph.producer.startsWith('nibble') && graph.name ? graph.name : basename(model, extname(model)),
  };
}

export const importCommand: CommandSpec = {
  command: 'import <model>',
  describe: 'import an ONNX / QONNX model: write a nibble model (.nbm) and report what became of every node',
  builder: (y) =>
    withJson(
      withConfig(
        y,
        'ArchConfig JSON file: the weight and activation widths to import for (default: the built-in config)',
      ),
    )
      .positional('model', { type: 'string', describe: 'ONNX or QONNX model file', normalize: true })
      .option('output', {
        alias: 'o',
        type: 'string',
        describe: 'model file to write: .nbm (default MODEL.nbm) or .json',
        normalize: true,
      })
      .option('report', {
        type: 'boolean',
        default: false,
        describe: 'print every node and every converted requant channel',
      })
      .option('check', {
        type: 'boolean',
        describe:
          "compare with the float executor of the ONNX/QONNX semantics (default with --quantize: the accuracy next to the float model's)",
      })
      .option('check-data', {
        type: 'string',
        describe:
          'images for --check: DATASET[:N] or random:N (default mnist-test:1000 for 1x28x28 inputs, else random:16)',
      })
      .option('exact', {
        type: 'boolean',
        default: false,
        describe: 'refuse any inexact step (names the node and the ratio)',
      })
      .option('quantize', {
        type: 'boolean',
        default: false,
        describe: 'quantize a float model to 4-bit shift-BN (needs --calibrate)',
      })
      .option('calibrate', {
        type: 'string',
        describe:
          'calibration images DATASET[:N] (default N = 1000), or random:N (seeded raw 8-bit inputs of any shape): activation ranges for --quantize, histograms for converted requants',
      })
      .option('input-scale', {
        type: 'string',
        describe: 'the raw 8-bit input r stands for r * SCALE + OFFSET (default 1/255)',
      })
      .option('input-offset', { type: 'string', describe: 'see --input-scale (default 0)' })
      .option('output-slices', { type: 'number', describe: 'most 4-bit slices per wide output value (default 16)' })
      .option('write', { type: 'boolean', default: true, describe: 'write the model (--no-write: report only)' })
      .example(
        '$0 import ../shared/onnx/tfc-2w2a.onnx --check --report',
        'Brevitas TFC-2W2A: node report and a check on 1,000 MNIST images',
      )
      .example(
        '$0 import ../shared/onnx/mnist-conv-float.onnx --quantize --calibrate mnist-train:500 --input-scale 1 --check',
        'a float model, quantized',
      )
      .example('$0 import model.onnx --exact -o model.nbm', 'fail unless the import is bit-exact'),
  handler: async (args) => {
    const term = new Terminal(bool(args, 'json'));
    const model = str(args, 'model')!;
    const cfg = loadConfig(str(args, 'config'));
    // options first: a usage error needs no model
    const quantize = bool(args, 'quantize');
    const calArg = str(args, 'calibrate');
    if (quantize && !calArg)
      throw new CliUsageError('--quantize needs calibration images: --calibrate mnist-train[:N]');
    const calData = calArg ? parseDataArg(calArg, 'calibrate', 1000) : undefined;
    const checkArg = str(args, 'check-data');
    const checkData = checkArg ? parseDataArg(checkArg, 'check-data', 1000) : undefined;
    const api = await modelsApi('nibble import', [
      'readOnnxFile',
      'importOnnxGraph',
      'saveModelBinary',
      'saveModelJson',
      'checkImport',
    ]);
    checkInputFile(model, 'ONNX model'); // a device, FIFO or directory is refused before reading
    const graph = api.readOnnxFile(model);
    const opts = lowerOptions(args, cfg, model, graph);
    const shape = graphInputShape(graph);
    const cal = calData
      ? imagesFor(
          { network: { input: { channels: shape[1] ?? 1, height: shape[2] ?? 1, width: shape[3] ?? 1 } } },
          calData,
          'calibrate',
        )
      : undefined;
    const t0 = performance.now();
    const lowered = api.importOnnxGraph(graph, opts, cal, quantize);
    const seconds = (performance.now() - t0) / 1000;
    let check: (CheckResult & { source: string }) | undefined;
    // a quantized float model is reported next to the float model unless --no-check
    if (args['check'] === true || (quantize && args['check'] !== false)) {
      const { channels, height, width } = lowered.network.input;
      const mnistShaped = channels === 1 && height === 28 && width === 28;
      const data = checkData ?? (mnistShaped ? { name: 'mnist-test', count: 1000 } : undefined);
      const imgs = imagesFor(lowered, data, 'check-data');
      check = { ...api.checkImport(graph, lowered, imgs.raw, imgs.count, imgs.labels), source: imgs.source };
    }
    const out = bool(args, 'write') ? (str(args, 'output') ?? defaultOutput(model)) : undefined;
    // an exact import that disagrees with the float executor is a nibble bug: nothing is written then
    const mismatch = check && lowered.exact && check.equalValues !== check.values;
    if (out && !mismatch) save(api, out, lowered);
    if (term.json) {
      term.document({
        model,
        network: lowered.network.name,
        exact: lowered.exact,
        seconds,
        ...(out && !mismatch ? { output: out } : {}),
        layers: lowered.network.layers.map((l) => ({ name: l.name, kind: l.kind })),
        host: { input: lowered.host.input?.description, output: hostOutputText(lowered) },
        steps: lowered.steps,
        requants: lowered.requants,
        notes: lowered.notes,
        ...(check ? { check } : {}),
      });
    } else {
      printSummary(term, lowered, mismatch ? undefined : out, bool(args, 'report'));
      if (check) printCheck(term, check, lowered.exact, check.source);
    }
    if (mismatch) {
      const m = check!.firstMismatch!;
      throw new ExitCodeError(
        1,
        `the exact import differs from the float executor: image ${m.image}, output ${m.index}: model ${m.model}, nibble ${m.nibble}`,
      );
    }
  },
};
