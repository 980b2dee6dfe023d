/** `nibble verify`: co-simulate programs on the generated RTL (Verilator) against the simulator. */
import type { ArchConfig } from '../../arch/config.js';
import type { Program } from '../../isa/program.js';
import { ExitCodeError } from '../exit.js';
import { bool, str, withConfig, withFormat, withJson, type CommandSpec } from '../command.js';
import { datasetInputsFor, loadDataset } from '../dataset.js';
import { compileNetwork } from '../engines.js';
import { CliUsageError, loadConfig, loadModel, loadProgram, looksLikeProgramFile, parseNonNegativeInt, parsePositiveInt } from '../inputs.js';
import { requirePart } from '../modules.js';
import { colour, Terminal } from '../terminal.js';

interface VerifyOutcome {
  ok?: boolean;
  mismatches?: unknown[] | number;
  [key: string]: unknown;
}
interface CosimApi {
  verifyProgram(program: Program, opts?: Record<string, unknown>): VerifyOutcome | Promise<VerifyOutcome>;
  verifyRandom(opts: { count: number; seed: number; config?: ArchConfig }): unknown;
}

function mismatchCount(r: VerifyOutcome): number {
  if (typeof r.mismatches === 'number') return r.mismatches;
  if (Array.isArray(r.mismatches)) return r.mismatches.length;
  return r.ok === false ? 1 : 0;
}

export const verifyCommand: CommandSpec = {
  command: 'verify [target]',
  describe: 'co-simulate on the generated RTL (Verilator) and compare with the simulator, bit and cycle exact',
  builder: (y) =>
    withJson(withConfig(withFormat(y)))
      .positional('target', { type: 'string', describe: 'program file (.nbl) or model file (.txt / .json)', normalize: true })
      .option('rtl', { type: 'boolean', default: false, describe: 'run the RTL co-simulation (required: it is the only verification backend)' })
      .option('images', { type: 'number', default: 1, describe: 'model target: verify on the first N MNIST test images' })
      .option('random', { type: 'number', describe: 'verify N random valid programs instead of a target' })
      .option('seed', { type: 'number', default: 1, describe: 'seed of the random programs' })
      .example('$0 verify mnist.nbl --rtl', 'co-simulate a program (seeded random inputs)')
      .example('$0 verify ../shared/reference/integernet-mnist-4bit.txt --rtl --images 20', 'the authors\' model on 20 test images')
      .example('$0 verify --random 200 --seed 7 --config small.json --rtl --json', 'random programs: exit 0 only if none mismatch'),
  handler: async (args) => {
    const term = new Terminal(bool(args, 'json'));
    if (!bool(args, 'rtl')) throw new CliUsageError('nibble verify needs --rtl (co-simulation against Verilator is the verification backend)');
    const target = str(args, 'target');
    const random = parseNonNegativeInt(args['random'], 'random');
    if ((target === undefined) === (random === undefined)) throw new CliUsageError('give either a program/model file or --random N');
    const api = await requirePart<CosimApi>('rtl', random !== undefined ? ['verifyRandom'] : ['verifyProgram'], 'nibble verify --rtl');
    const cfg = loadConfig(str(args, 'config'));
    const results: { name: string; outcome: VerifyOutcome }[] = [];
    if (random !== undefined) {
      const seed = parseNonNegativeInt(args['seed'], 'seed') ?? 1;
      const bar = term.progress('co-simulating', 1);
      const r = (await api.verifyRandom({ count: random, seed, config: cfg })) as VerifyOutcome | VerifyOutcome[];
      bar.stop();
      if (Array.isArray(r)) r.forEach((o, i) => results.push({ name: `random seed ${seed}+${i}`, outcome: o }));
      else results.push({ name: `${random} random programs, seed ${seed}`, outcome: r });
    } else if (looksLikeProgramFile(target!)) {
      const program = await loadProgram(target!);
      results.push({ name: target!, outcome: await api.verifyProgram(program) });
    } else {
      const images = parsePositiveInt(args['images'], 'images') ?? 1;
      const net = await loadModel(target!, str(args, 'format'));
      const data = loadDataset('mnist-test', images);
      const inputs = datasetInputsFor(net, data);
      const program = await compileNetwork(net, cfg, 1, 'nibble verify MODEL');
      const bar = term.progress('co-simulating', data.count);
      for (let i = 0; i < data.count; i++) {
        const slice = inputs.subarray(i * data.imageSize, (i + 1) * data.imageSize);
        results.push({ name: `image ${i}`, outcome: await api.verifyProgram(program, { inputs: { [program.inputs[0]!.name]: slice } }) });
        bar.tick();
      }
      bar.stop();
    }
    const programs = random ?? results.length;
    const mismatches = results.reduce((s, r) => s + mismatchCount(r.outcome), 0);
    if (term.json) term.document({ programs, mismatches, results });
    else {
      for (const r of results) {
        const m = mismatchCount(r.outcome);
        term.line(`  ${m === 0 ? colour.green('ok      ') : colour.red('MISMATCH')} ${r.name}${m > 0 ? `: ${JSON.stringify(r.outcome.mismatches ?? r.outcome)}` : ''}`);
      }
      term.line(mismatches === 0 ? colour.green(`${programs} program(s) verified: RTL == simulator (bits and cycles)`) : colour.red(`${mismatches} mismatch(es)`));
    }
    if (mismatches > 0) throw new ExitCodeError(1, term.json ? undefined : `verification failed: ${mismatches} mismatch(es)`);
  },
};
