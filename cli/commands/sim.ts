/** `nibble sim`: run a program file on the simulator, or a model compiled in the same process. */
import { bool, str, withConfig, withFormat, withJson, type CommandSpec } from '../command.js';
import {
  compiler,
  SIM_ENGINES,
  simulateWithProgress,
  simulator,
  simulatorExtra,
  type SimEngine,
  type SimResult,
} from '../engines.js';
import { writeOutputs, type OutputFile } from '../../io/index.js';
import {
  checkProgramConfig,
  isModelInput,
  loadConfig,
  loadInputTensors,
  loadModel,
  loadProgram,
  parsePositiveInt,
  refuseModelOptions,
} from '../inputs.js';
import { areaLine, areaOf, type AreaReport } from '../area-figures.js';
import { isaApi } from '../modules.js';
import { useOneShotBudget } from '../v8-budget.js';
import { energyOf, utilizationOf } from '../sim-figures.js';
import { colour, formatNumber, percent, Terminal } from '../terminal.js';
import type { Program } from '../../isa/index.js';
import type { Roofline } from '../../sim/index.js';
import type { Warning } from '../../arch/index.js';

export const simCommand: CommandSpec = {
  command: 'sim <target>',
  describe: 'simulate a program file, or compile a model and simulate it: cycles, counters, per-layer figures, energy',
  builder: (y) =>
    withJson(
      withConfig(
        withFormat(y),
        'ArchConfig JSON file or preset:NAME to compile a model for (default: the built-in default config; a program fixes its own)',
      ),
    )
      .positional('target', {
        type: 'string',
        describe: 'program file (.nbl, or assembly .s), or a model file (.nbm, .json, .txt, .onnx) compiled first',
        normalize: true,
      })
      .option('batch', { requiresArg: true, describe: 'images per program when compiling a model (default 1)' })
      .option('engine', {
        type: 'string',
        choices: [...SIM_ENGINES],
        default: 'fast',
        describe: 'fast: data + timing; timing: timing only; cycle: cycle-by-cycle model (slow; needed for --vcd)',
      })
      .option('input', {
        type: 'string',
        describe: 'JSON file: {"<input name>": [integers in NCHW order]} (default: seeded random inputs)',
        normalize: true,
      })
      .option('trace', {
        type: 'string',
        describe: 'write a Chrome trace (chrome://tracing, Perfetto) to this file',
        normalize: true,
      })
      .option('vcd', {
        type: 'string',
        describe: 'write a VCD waveform of the main signals (cycle engine) to this file',
        normalize: true,
      })
      .option('energy', {
        type: 'string',
        describe: 'energy table JSON overriding the default per-action energies',
        normalize: true,
      })
      .example('$0 sim mnist.nbl', 'cycles, utilization and energy with random inputs')
      .example('$0 sim cifar10.nbm --engine timing', 'compile a model and simulate it in one process (no program file)')
      .example('$0 sim mnist.nbl --input image.json --json', 'with given inputs; the outputs are in the JSON')
      .example('$0 sim mnist.nbl --trace mnist.trace.json', 'open the trace in https://ui.perfetto.dev')
      .example('$0 sim small.nbl --engine cycle --vcd small.vcd', 'waveform of the cycle engine'),
  handler: async (args) => {
    // a one-shot process: fewer background TurboFan compiles (CIFAR10NET_INT on the timing engine: 160 -> 120 ms CPU)
    useOneShotBudget();
    const term = new Terminal(bool(args, 'json'));
    const file = str(args, 'target')!;
    const { program, compiled } = await programOf(term, args, file);
    let engine = (str(args, 'engine') ?? 'fast') as SimEngine;
    const vcd = str(args, 'vcd');
    if (vcd && engine !== 'cycle') {
      term.warn({ code: 'NB-S101', message: '--vcd needs the cycle engine; using --engine cycle' });
      engine = 'cycle';
    }
    const inputFile = str(args, 'input');
    const inputs = inputFile ? loadInputTensors(inputFile, program) : undefined;
    const sim = await simulator('nibble sim');
    const energyPath = str(args, 'energy');
    const energyTable = energyPath ? sim.loadEnergyTable(energyPath) : undefined;
    const trace = str(args, 'trace');
    // Check the writers exist before a possibly long simulation.
    const writeTrace = trace
      ? await simulatorExtra<(r: SimResult) => string>('writeChromeTrace', 'nibble sim --trace')
      : undefined;
    const writeVcd = vcd ? await simulatorExtra<(r: SimResult) => string>('writeVcd', 'nibble sim --vcd') : undefined;
    const tokenWarnings = await tokenCheckWarnings(program);
    const result = simulateWithProgress(term, sim, program, {
      engine,
      ...(inputs ? { inputs } : {}),
      collect: { perInstruction: true, trace: Boolean(vcd) },
      ...(energyTable ? { energy: { table: energyTable } } : {}),
    });
    // Both traces or neither: a bad --vcd path must not replace an existing --trace file.
    const files: OutputFile[] = [];
    if (trace) files.push({ path: trace, data: writeTrace!(result) });
    if (vcd) files.push({ path: vcd, data: writeVcd!(result) });
    writeOutputs({ files });
    const randomInputs = result.randomInputs;
    const area = await areaOf(program.config, 'nibble sim');
    const roofline = sim.rooflineOf(program, result.counters);
    const doc = {
      ...simDocument(
        compiled ? { model: file, ...compiled } : { program: file },
        program,
        engine,
        result,
        randomInputs,
      ),
      tokenWarnings: tokenWarnings.map((w) => w.message),
    };
    if (term.json)
      return term.document({ ...doc, roofline, area, ...(trace ? { trace } : {}), ...(vcd ? { vcd } : {}) });
    if (compiled) term.heading(`compiled ${compiled.network} (batch ${compiled.batch}) from ${file}`);
    printSim(term, program, engine, result, randomInputs, area);
    printRoofline(term, roofline);
    for (const w of tokenWarnings) term.line(colour.yellow(`  token warning: ${w.message} [${w.code}]`));
    if (trace) term.line(`  trace written to ${trace}`);
    if (vcd) term.line(`  VCD written to ${vcd}`);
  },
};

/** How a model input became the program: the network's name and the batch it was compiled for. */
interface CompiledFrom {
  network: string;
  batch: number;
  configHash: string;
}

/**
 * The program to simulate: a program file as it is (model-only options refused, a --config must be its
 * machine), or a model compiled here as `nibble compile` would (same defaults), without a program file in
 * between: one process instead of two (issue 17).
 */
async function programOf(
  term: Terminal,
  args: Record<string, unknown>,
  file: string,
): Promise<{ program: Program; compiled?: CompiledFrom }> {
  const configPath = str(args, 'config');
  if (!isModelInput(file, str(args, 'format'))) {
    const program = await loadProgram(file);
    refuseModelOptions(args, file, program, ['batch', 'format']);
    if (configPath !== undefined) checkProgramConfig(file, program, configPath, loadConfig(configPath));
    return { program };
  }
  const cfg = loadConfig(configPath);
  const batch = parsePositiveInt(args['batch'], 'batch') ?? 1;
  const net = await loadModel(file, str(args, 'format'), cfg);
  const api = await compiler('nibble sim');
  const program = term.stepWithPhases(`compiling ${net.name} (batch ${batch})`, (onPhase) =>
    api.compileNetwork(net, cfg, { batch, onPhase }),
  );
  return { program, compiled: { network: net.name, batch, configHash: program.configHash } };
}

/**
 * The static token checker's warnings (leftover tokens, code after HALT).
 * What it would refuse (a deadlock, a race) the simulator refuses too, with
 * the run's detail, so only the warnings are taken from here.
 */
async function tokenCheckWarnings(program: Program): Promise<Warning[]> {
  const api = await isaApi('nibble sim', ['checkTokenBalance']);
  try {
    return api.checkTokenBalance(program.code, { queues: program.config.queues }).warnings;
  } catch {
    return [];
  }
}

export function simDocument(
  source: { program: string } | ({ model: string } & CompiledFrom),
  program: Program,
  engine: SimEngine,
  result: SimResult,
  randomInputs: string[],
) {
  const { cycles, counters, outputs } = result;
  const cfg = program.config;
  return {
    ...source,
    engine,
    instructions: program.code.length,
    cycles,
    latencyUs: cycles / cfg.clockMHz,
    clockMHz: cfg.clockMHz,
    randomInputs,
    counters: { ...counters, layers: undefined },
    layers: counters.layers,
    energy: energyOf(result) ?? null,
    outputs: outputs ?? {},
  };
}

/** Per layer and whole: the compute and DRAM bounds (sim/roofline.ts) and the achieved cycles over the larger. */
function printRoofline(term: Terminal, r: Roofline): void {
  if (r.layers.length === 0) return;
  term.line();
  term.table(
    ['roofline', 'cycles', 'compute bound', 'DRAM bound', 'bound by', 'cycles/bound'],
    [...r.layers, r.network].map((l) => [
      l.name,
      l.cycles,
      Math.round(l.computeBound),
      Math.round(l.dramBound),
      l.boundBy,
      `${l.ratio.toFixed(2)}x`,
    ]),
  );
}

function printSim(
  term: Terminal,
  program: Program,
  engine: SimEngine,
  result: SimResult,
  randomInputs: string[],
  area: AreaReport,
): void {
  const cfg = program.config;
  term.heading(`simulated ${program.code.length} instructions (${engine} engine)`);
  if (randomInputs.length > 0)
    term.line(
      colour.yellow(`  inputs ${randomInputs.join(', ')}: seeded random values (pass --input FILE.json for real data)`),
    );
  const c = result.counters;
  const e = energyOf(result);
  const rows: [string, string][] = [
    ['cycles', formatNumber(result.cycles)],
    ['latency', `${formatNumber(result.cycles / cfg.clockMHz)} us at ${cfg.clockMHz} MHz`],
    [
      'array utilization',
      c.array.usefulMacs > 0
        ? `${percent(utilizationOf(result), 1)} (issue ${percent(c.array.issueUtilization, 1)})`
        : `n/a: the program has no layer table, so no useful MACs (issue ${percent(c.array.issueUtilization, 1)})`,
    ],
    ['MACs', `${formatNumber(c.array.usefulMacs)} useful, ${formatNumber(c.array.macsIssued)} issued`],
    ['DRAM', `${formatNumber(c.dram.readBytes)} bytes read, ${formatNumber(c.dram.writeBytes)} written`],
  ];
  if (e) {
    rows.push([
      'energy',
      `${formatNumber(e.totalPj / 1e6)} uJ (${formatNumber(e.pjPerMac)} pJ/MAC, ${formatNumber(e.topsPerWatt)} TOPS/W${e.macBasis === 'issued' ? ' per issued MAC: no layer table' : ''}, ${formatNumber(e.powerMw)} mW at ${cfg.clockMHz} MHz; ${e.nodeNm} nm, DRAM ${e.dramKind})`,
    ]);
    if (e.requant.outputs > 0)
      rows.push([
        'requant energy',
        `${formatNumber(e.requant.shiftPj)} pJ shift-based vs ${formatNumber(e.requant.multiplierPj)} pJ multiplier-based (${formatNumber(e.requant.ratio)}x)`,
      ]);
  }
  rows.push(['area', areaLine(area)]);
  term.pairs(rows);
  term.line();
  term.table(
    ['unit', 'busy', 'idle', 'token stall', 'DRAM stall', 'queue-full stall', 'instructions'],
    (['fetch', 'load', 'compute', 'store'] as const).map((u) => [
      u,
      c[u].busy,
      c[u].idle,
      c[u].stallToken,
      c[u].stallDram,
      c[u].stallQueueFull,
      c[u].instructions,
    ]),
  );
  if (c.layers.length > 0) {
    term.line();
    term.table(
      ['layer', 'kind', 'cycles', 'MACs', 'utilization', ...(e ? ['energy (nJ)'] : [])],
      c.layers.map((l, i) => [
        l.name,
        l.kind,
        l.cycles,
        l.macs,
        percent(l.utilization, 1),
        ...(e ? [(e.byLayer[i] ?? 0) / 1000] : []),
      ]),
    );
  }
  if (e && Object.keys(e.byComponent).length > 0) {
    term.line();
    term.table(
      ['component', 'energy (nJ)', 'share'],
      Object.entries(e.byComponent)
        .filter(([, v]) => v > 0)
        .map(([k, v]) => [k, v / 1000, percent(v / e.totalPj, 1)]),
    );
  }
}
