/** `nibble zoo`: list the model zoo, export a zoo network to the JSON model format. */
import { didYouMean } from '../../arch/index.js';
import { type Network, analyzeNetwork, formatShape } from '../../models/index.js';
import { bool, str, withJson, type CommandSpec } from '../command.js';
import { writeOutputFile } from '../../io/index.js';
import { CliUsageError, parseNonNegativeInt, parsePositiveInt } from '../inputs.js';
import { modelsApi } from '../modules.js';
import { formatNumber, Terminal } from '../terminal.js';

export const zooCommand: CommandSpec = {
  command: 'zoo <action> [name]',
  describe: 'list the model zoo, or export a zoo network as a JSON model',
  builder: (y) =>
    withJson(y)
      .positional('action', { type: 'string', choices: ['list', 'export'], describe: 'list | export' })
      .positional('name', { type: 'string', describe: 'zoo network to export (see nibble zoo list)' })
      .option('output', {
        alias: 'o',
        type: 'string',
        describe: 'model file to write (export): .json, or .nbm for the binary format',
        normalize: true,
      })
      .option('seed', { requiresArg: true, default: 1, describe: 'seed of the random weights' })
      .option('input-size', { requiresArg: true, describe: "input height and width (default: the network's own)" })
      .example('$0 zoo list', 'the networks with their shapes and MACs')
      .example('$0 zoo export cifar10 -o cifar10.json', 'export for nibble compile / run / report')
      .example('$0 zoo export vgg16 --input-size 32 -o vgg16-32.json', 'a smaller input'),
  handler: async (args) => {
    const term = new Terminal(bool(args, 'json'));
    const zoo = await modelsApi('nibble zoo', [
      'zooNames',
      'zooInfo',
      'zooNetwork',
      'saveModelJson',
      'saveModelBinary',
    ]);
    if (str(args, 'action') === 'list') {
      // Building a network calibrates it (seconds for VGG-16 at 224x224): list from the zoo's metadata only.
      const rows = zoo.zooNames().map((name) => {
        const info = zoo.zooInfo(name);
        return {
          name,
          defaultInputSize: info.defaultInputSize,
          minInputSize: info.minInputSize,
          description: info.description,
        };
      });
      if (term.json) return term.document({ networks: rows });
      term.heading(
        'model zoo (seeded random weights, calibrated requant: workloads for performance studies, not trained models)',
      );
      term.table(
        ['name', 'input size', 'description'],
        rows.map((r) => [r.name, `${r.defaultInputSize}x${r.defaultInputSize}`, r.description]),
      );
      return;
    }
    const name = str(args, 'name');
    if (!name) throw new CliUsageError(`nibble zoo export needs a network name (${zoo.zooNames().join(', ')})`);
    const out = str(args, 'output');
    if (!out) throw new CliUsageError('nibble zoo export needs -o FILE.json');
    if (!(zoo.zooNames() as string[]).includes(name))
      throw new CliUsageError(
        `unknown zoo network '${name}'${didYouMean(name, zoo.zooNames())} (available: ${zoo.zooNames().join(', ')})`,
      );
    const seed = parseNonNegativeInt(args['seed'], 'seed') ?? 1;
    const inputSize = parsePositiveInt(args['input-size'], 'input-size');
    const net: Network = zoo.zooNetwork(name, { seed, ...(inputSize !== undefined ? { inputSize } : {}) });
    const a = analyzeNetwork(net);
    // a .nbm name gets the binary format 2 (VGG-16 at 224x224: 66 MiB instead of ~480 MB of JSON)
    if (out.toLowerCase().endsWith('.nbm')) zoo.saveModelBinary(out, net);
    else writeOutputFile(out, zoo.saveModelJson(net));
    if (term.json)
      return term.document({
        name,
        output: out,
        seed,
        input: formatShape(a.input.shape),
        macs: a.macs,
        layers: net.layers.length,
      });
    term.line(
      `wrote ${name} (${formatShape(a.input.shape)} input, ${net.layers.length} layers, ${formatNumber(a.macs)} MACs/image, seed ${seed}) to ${out}`,
    );
  },
};
