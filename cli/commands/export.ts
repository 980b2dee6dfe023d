/** `nibble export MODEL --format qonnx -o x.onnx`: a nibble network as QONNX (docs/import.md). */
import { str, withJson, bool, type CommandSpec } from '../command.js';
import { writeOutputFile } from '../../io/index.js';
import { CliUsageError, loadModel } from '../inputs.js';
import { modelsApi } from '../modules.js';
import { Terminal, formatNumber } from '../terminal.js';

export const exportCommand: CommandSpec = {
  command: 'export <model>',
  describe: 'write a nibble model as QONNX (power-of-two Quant nodes) for qonnx / FINN tools and nibble import',
  builder: (y) =>
    withJson(y)
      .positional('model', { type: 'string', describe: 'model file (.txt, .json, .nbm, .onnx)', normalize: true })
      .option('format', { type: 'string', choices: ['qonnx'], default: 'qonnx', describe: 'output format' })
      .option('input-format', {
        type: 'string',
        choices: ['integernet', 'json', 'nbm', 'onnx'],
        describe: 'model file format (default: from the content, else the extension)',
      })
      .option('output', {
        alias: 'o',
        type: 'string',
        demandOption: true,
        describe: 'ONNX file to write',
        normalize: true,
      })
      .example(
        '$0 export mnist.nbm --format qonnx -o mnist.onnx',
        'then: nibble import mnist.onnx gives the same network',
      ),
  handler: async (args) => {
    const term = new Terminal(bool(args, 'json'));
    const model = str(args, 'model')!;
    const out = str(args, 'output')!;
    if (!out.toLowerCase().endsWith('.onnx')) throw new CliUsageError(`-o ${out}: a QONNX model is an .onnx file`);
    const net = await loadModel(model, str(args, 'input-format'));
    const api = await modelsApi('nibble export', ['exportQonnx']);
    const bytes = api.exportQonnx(net);
    writeOutputFile(out, bytes);
    if (net.host?.input?.tables || (net.host?.output && net.host.output.slices > 1)) {
      term.warn({
        code: 'NB-M102',
        message: 'the host input/output stages of this model are not exported (the QONNX graph is the integer network)',
      });
    }
    if (term.json)
      return term.document({ model, output: out, format: 'qonnx', bytes: bytes.length, layers: net.layers.length });
    term.line(
      `wrote ${net.name} (${net.layers.length} layers) as QONNX to ${out} (${formatNumber(bytes.length)} bytes)`,
    );
  },
};
