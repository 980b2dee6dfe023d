/** `nibble report`: one self-contained HTML file with per-layer, energy, roofline and timeline charts. */
import type { Program } from '../../isa/index.js';
import { bool, str, withConfig, withFormat, withJson, type CommandSpec } from '../command.js';
import { compiler, SIM_ENGINES, simulateWithProgress, simulator, type SimEngine } from '../engines.js';
import { DatasetError } from '../../arch/index.js';
import { writeOutputFile } from '../../io/index.js';
import {
  checkProgramConfig,
  loadConfig,
  loadModel,
  loadProgram,
  looksLikeProgramFile,
  parsePositiveInt,
  readJsonFile,
  refuseModelOptions,
} from '../inputs.js';
import { areaLine, areaOf } from '../area-figures.js';
import { parseResources, resourceRows } from '../report/resources.js';
import { buildReportData } from '../report/data.js';
import { CHART_IDS, renderReportHtml } from '../report/html.js';
import { Terminal } from '../terminal.js';
import { basename } from 'node:path';

export const reportCommand: CommandSpec = {
  command: 'report <input>',
  describe:
    'write a self-contained HTML report (cycles, utilization, energy, roofline, timeline) for a model or program',
  builder: (y) =>
    withJson(withConfig(withFormat(y)))
      .positional('input', {
        type: 'string',
        describe: 'model file (.txt / .json) or program file (.nbl)',
        normalize: true,
      })
      .option('output', {
        alias: 'o',
        type: 'string',
        default: 'report.html',
        describe: 'HTML file to write',
        normalize: true,
      })
      .option('batch', { requiresArg: true, describe: 'images per program (model input; default 1)' })
      .option('engine', {
        type: 'string',
        choices: [...SIM_ENGINES],
        default: 'timing',
        describe: 'simulator engine (the figures are the same; timing is fastest)',
      })
      .option('resources', {
        type: 'string',
        describe: 'synthesis results JSON (from nibble rtl --synth ... --json) to include',
        normalize: true,
      })
      .example(
        '$0 report ../shared/reference/integernet-mnist-4bit.txt -o mnist.html',
        "report for the authors' MNIST model on the default config",
      )
      .example('$0 report net.nbl --resources synth.json -o net.html', 'a compiled program, with a resource table'),
  handler: async (args) => {
    const term = new Terminal(bool(args, 'json'));
    const input = str(args, 'input')!;
    const cfg = loadConfig(str(args, 'config'));
    let program: Program;
    let title: string;
    if (looksLikeProgramFile(input)) {
      program = await loadProgram(input);
      title = `nibble report: ${basename(input)}`;
      refuseModelOptions(args, input, program, ['batch', 'format']);
      checkProgramConfig(input, program, str(args, 'config'), cfg);
    } else {
      const net = await loadModel(input, str(args, 'format'), cfg);
      const batch = parsePositiveInt(args['batch'], 'batch') ?? 1;
      const api = await compiler('nibble report');
      program = term.stepWithPhases(`compiling ${net.name}`, (onPhase) =>
        api.compileNetwork(net, cfg, { batch, onPhase }),
      );
      title = `nibble report: ${net.name}`;
    }
    // Checked before the simulation: a wrong file should not cost a long run.
    const resPath = str(args, 'resources');
    const resources = resPath
      ? Object.fromEntries(
          resourceRows(
            parseResources(readJsonFile(resPath, 'resources file', DatasetError), resPath, program.configHash),
          ),
        )
      : undefined;
    const sim = await simulator('nibble report');
    const engine = (str(args, 'engine') ?? 'timing') as SimEngine;
    const result = simulateWithProgress(term, sim, program, { engine, collect: { perInstruction: true } });
    const area = await areaOf(program.config, 'nibble report');
    const notes = engine === 'timing' ? [] : [`simulated with the ${engine} engine on seeded random inputs`];
    notes.push(`area ${areaLine(area)}`);
    const roofline = sim.rooflineOf(program, result.counters);
    const data = buildReportData({
      title,
      source: input,
      program,
      result,
      roofline,
      ...(resources ? { resources } : {}),
      notes,
    });
    const out = str(args, 'output')!;
    writeOutputFile(out, renderReportHtml(data));
    if (term.json)
      return term.document({
        output: out,
        charts: CHART_IDS,
        cycles: data.totals.cycles,
        utilization: data.totals.utilization,
        layers: data.layers.length,
        areaMm2: area.totalMm2,
      });
    term.line(
      `report written to ${out} (${data.layers.length} layers, ${data.totals.cycles.toLocaleString('en-US')} cycles); open it in a browser`,
    );
  },
};
