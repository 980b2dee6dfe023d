/** `nibble verify`: co-simulate programs on the generated RTL (Verilator) against the simulator. */
import { bool, str, withConfig, withFormat, withJson, type CommandSpec } from '../command.js';
import { datasetInputsFor, loadDataset } from '../../models/index.js';
import { compileNetwork } from '../engines.js';
import { ExitCodeError } from '../exit.js';
import {
  checkProgramConfig,
  CliUsageError,
  loadConfig,
  loadModel,
  loadProgram,
  looksLikeProgramFile,
  parseNonNegativeInt,
  parsePositiveInt,
  refuseModelOptions,
} from '../inputs.js';
import { cosimApi } from '../modules.js';
import type { ArchConfig } from '../../arch/index.js';
import type { Program } from '../../isa/index.js';
import type { Network } from '../../models/index.js';
import { requireTools, VERILATOR_BUILD } from '../tools.js';
import { withShellOptions } from '../shell-args.js';
import { colour, Terminal } from '../terminal.js';
import { showToolProgress } from '../tool-progress.js';
import { ensureOutputDirectory, writeOutputFile } from '../../io/index.js';
import { checked, verifyRandomCli, throughputLine, type Checked, type RandomThroughput } from './verify-random.js';
import { verifyShellPrograms, verifyShellRandomCli } from './verify-shell.js';

/**
 * A model compiled for co-simulation: with tap packing only when the generated RTL
 * runs it (RTL_RANDOM, cosim/verify.ts; rtl-gen/pending.ts).
 */
async function compileForRtl(net: Network, cfg: ArchConfig): Promise<Program> {
  const { RTL_RANDOM } = await cosimApi('nibble verify MODEL', ['verifyProgram']);
  return compileNetwork(net, cfg, 1, 'nibble verify MODEL', { tapPacking: RTL_RANDOM.program.tapPacking });
}

export const verifyCommand: CommandSpec = {
  command: 'verify [target]',
  outputKinds: { 'log-dir': 'directory' },
  describe: 'co-simulate on the generated RTL (Verilator) and compare with the simulator, bit and cycle exact',
  builder: (y) =>
    withShellOptions(withJson(withConfig(withFormat(y))))
      .option('bus-seed', {
        type: 'number',
        describe: 'with --shell axi: random AXI timing from this seed (default: the deterministic bus, cycle-exact)',
      })
      .option('irq', {
        type: 'boolean',
        default: false,
        describe: 'with --shell axi: the driver waits for the interrupt',
      })
      .positional('target', {
        type: 'string',
        describe: 'program file (.nbl) or model file (.txt / .json)',
        normalize: true,
      })
      .option('rtl', {
        type: 'boolean',
        default: false,
        describe: 'co-simulate against the Verilator model of the generated RTL (required)',
      })
      .option('images', {
        requiresArg: true,
        describe: 'model target: verify on the first N MNIST test images (default 1)',
      })
      .option('input-shift', {
        requiresArg: true,
        describe: 'model target: pixels are shifted right by this many bits (default: 8 minus the input bits)',
      })
      .option('random', { requiresArg: true, describe: 'verify N random valid programs instead of a target' })
      .option('vcd', {
        type: 'string',
        describe: "write the RTL's own waveform (Verilator --trace; one program run) to this file",
        normalize: true,
      })
      .option('log-dir', {
        type: 'string',
        describe: 'also keep the Verilator build logs here (they are always kept in .cache/rtl)',
        normalize: true,
      })
      .option('seed', {
        requiresArg: true,
        default: 1,
        describe: 'seed of the first random program (then seed+1, ...)',
      })
      .option('machines', {
        requiresArg: true,
        describe:
          '--random without --config: spread the programs over this many random machines, one Verilator build each (default ceil(sqrt(N)))',
      })
      .option('machine-seed', {
        requiresArg: true,
        describe: '--random: run every program on the random machine of this seed (reproduces one machine of a run)',
      })
      .example('$0 verify mnist.nbl --rtl', 'co-simulate a program (seeded random inputs)')
      .example(
        '$0 verify ../shared/reference/integernet-mnist-4bit.txt --rtl --images 20',
        "the authors' model on 20 test images",
      )
      .example(
        '$0 verify --random 200 --seed 7 --config small.json --rtl --json',
        'random programs: exit 0 only if none mismatch',
      )
      .example('$0 verify mnist.nbl --rtl --vcd mnist-rtl.vcd', "the RTL's waveform of the run (GTKWave)")
      .example(
        '$0 verify --rtl --shell axi --random 20 --seed 3 --bus-seed 9',
        'through the AXI shell, random bus timing',
      ),
  handler: async (args) => {
    const term = new Terminal(bool(args, 'json'));
    if (!bool(args, 'rtl'))
      throw new CliUsageError(
        'nibble verify needs --rtl (co-simulation against Verilator is the verification backend)',
      );
    const target = str(args, 'target');
    const random = parsePositiveInt(args['random'], 'random');
    if ((target === undefined) === (random === undefined))
      throw new CliUsageError('nibble verify needs either a program/model file or --random N');
    const cfg = loadConfig(str(args, 'config'));
    const results: Checked[] = [];
    /** how a model target's inputs were made from the dataset pixels (any output count: this compares RTL and simulator) */
    let inputsNote: string | undefined;
    /** a random run's machines, builds and programs per hour */
    let throughput: RandomThroughput | undefined;
    const modelInputs = (net: Parameters<typeof datasetInputsFor>[0], data: Parameters<typeof datasetInputsFor>[1]) => {
      const made = datasetInputsFor(net, data, parseNonNegativeInt(args['input-shift'], 'input-shift'));
      inputsNote = made.transform;
      return made.values;
    };
    const shell = str(args, 'shell') === 'axi';
    if (!shell && (args['bus-seed'] !== undefined || bool(args, 'irq')))
      throw new CliUsageError('--bus-seed and --irq go with --shell axi');
    const vcd = str(args, 'vcd');
    if (vcd && (shell || random !== undefined || (parsePositiveInt(args['images'], 'images') ?? 1) > 1))
      throw new CliUsageError('--vcd dumps one program run: give a program or a model with one image, without --shell');
    const logDir = str(args, 'log-dir');
    if (logDir) ensureOutputDirectory(logDir);
    const cosimOpts = { ...(logDir ? { logDir } : {}), ...(vcd ? { vcd: true } : {}) };
    await showToolProgress(term, 'nibble verify');
    if (!(random !== undefined && !shell) && (args['machines'] !== undefined || args['machine-seed'] !== undefined))
      throw new CliUsageError('--machines and --machine-seed go with --random (without --shell)');
    if (shell && random !== undefined) {
      const seed = parseNonNegativeInt(args['seed'], 'seed') ?? 1;
      results.push(...(await verifyShellRandomCli(term, args, random, seed, str(args, 'config') ? cfg : undefined)));
    } else if (shell && looksLikeProgramFile(target!)) {
      results.push(...(await verifyShellPrograms(args, [{ name: target!, program: await loadProgram(target!) }])));
    } else if (shell) {
      const images = parsePositiveInt(args['images'], 'images') ?? 1;
      const net = await loadModel(target!, str(args, 'format'), cfg);
      const data = loadDataset('mnist-test', images);
      const inputs = modelInputs(net, data);
      const program = await compileForRtl(net, cfg);
      const bar = term.progress('co-simulating (AXI shell)', data.count);
      const runs = Array.from({ length: data.count }, (_, i) => ({
        name: `test image ${i}`,
        program,
        inputs: { [program.inputs[0]!.name]: inputs.subarray(i * data.imageSize, (i + 1) * data.imageSize) },
      }));
      results.push(...(await verifyShellPrograms(args, runs, () => bar.tick())));
      bar.stop();
    } else if (random !== undefined) {
      const seed = parseNonNegativeInt(args['seed'], 'seed') ?? 1;
      const r = await verifyRandomCli(term, args, random, seed, str(args, 'config') ? cfg : undefined, logDir);
      results.push(...r.results);
      throughput = r.throughput;
    } else if (looksLikeProgramFile(target!)) {
      const program = await loadProgram(target!);
      refuseModelOptions(args, target!, program, ['images', 'format']);
      checkProgramConfig(target!, program, str(args, 'config'), cfg);
      requireTools('nibble verify --rtl', VERILATOR_BUILD);
      const api = await cosimApi('nibble verify PROGRAM', ['verifyProgram']);
      const v = term.step(
        `co-simulating ${target} (building the Verilator model of config ${program.configHash} first if not cached: minutes)`,
        () => api.verifyProgram(program, cosimOpts),
      );
      if (vcd && v.vcd) writeOutputFile(vcd, v.vcd);
      results.push(checked(target!, v));
    } else {
      const images = parsePositiveInt(args['images'], 'images') ?? 1;
      const net = await loadModel(target!, str(args, 'format'), cfg);
      const data = loadDataset('mnist-test', images);
      const inputs = modelInputs(net, data);
      const program = await compileForRtl(net, cfg);
      requireTools('nibble verify --rtl', VERILATOR_BUILD);
      const api = await cosimApi('nibble verify MODEL', ['verifyProgram']);
      if (process.stderr.isTTY && term.verbosity !== 'quiet')
        term.note(`building the Verilator model of config ${program.configHash} first if not cached (minutes)...`);
      const bar = term.progress('co-simulating', data.count);
      for (let i = 0; i < data.count; i++) {
        const slice = inputs.subarray(i * data.imageSize, (i + 1) * data.imageSize);
        const v = api.verifyProgram(program, { inputs: { [program.inputs[0]!.name]: slice }, ...cosimOpts });
        if (vcd && v.vcd) writeOutputFile(vcd, v.vcd);
        results.push(checked(`test image ${i}`, v));
        bar.tick();
      }
      bar.stop();
    }
    const mismatches = results.filter((r) => !r.ok).length;
    if (term.json)
      term.document({
        programs: results.length,
        mismatches,
        ...(inputsNote ? { inputs: inputsNote } : {}),
        ...(throughput ? { throughput } : {}),
        results,
      });
    else {
      if (inputsNote) term.line(`  inputs: ${inputsNote}`);
      for (const r of results) {
        term.line(
          `  ${r.ok ? colour.green('ok      ') : colour.red('MISMATCH')} ${r.name}: ${r.simCycles ?? '?'} cycles${r.ok ? '' : `: ${r.mismatch}`}`,
        );
      }
      term.line(
        mismatches === 0
          ? colour.green(
              `${results.length} program run(s) verified: RTL == simulator (${shell && args['bus-seed'] !== undefined ? 'outputs, under random AXI timing' : 'outputs, total cycles, per-instruction timing'})`,
            )
          : colour.red(`${mismatches} of ${results.length} program run(s) mismatch`),
      );
      if (throughput) term.line(`  ${throughputLine(throughput, results.length)}`);
    }
    if (mismatches > 0)
      throw new ExitCodeError(1, `verification failed: ${mismatches} of ${results.length} program run(s) mismatch`);
  },
};
