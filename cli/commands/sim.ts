/** `nibble sim`: run a program file on the simulator. */
import { bool, str, withJson, type CommandSpec } from '../command.js';
import { SIM_ENGINES, simulator, type SimEngine, type SimResultLike } from '../engines.js';
import { loadInputTensors, loadProgram, writeOutput } from '../inputs.js';
import { energyOf, utilizationOf } from '../sim-figures.js';
import { colour, formatNumber, percent, Terminal } from '../terminal.js';
import { UnavailableError } from '../modules.js';
import type { Program } from '../../isa/program.js';

export const simCommand: CommandSpec = {
  command: 'sim <program>',
  describe: 'simulate a program file: cycles, counters, per-layer figures, energy',
  builder: (y) =>
    withJson(y)
      .positional('program', { type: 'string', describe: 'program file (.nbl)', normalize: true })
      .option('engine', { type: 'string', choices: [...SIM_ENGINES], default: 'fast', describe: 'fast: data + timing; timing: timing only; cycle: cycle-by-cycle model (slow; needed for --vcd)' })
      .option('input', { type: 'string', describe: 'JSON file: {"<input name>": [integers in NCHW order]} (default: seeded random inputs)', normalize: true })
      .option('trace', { type: 'string', describe: 'write a Chrome trace (chrome://tracing, Perfetto) to this file', normalize: true })
      .option('vcd', { type: 'string', describe: 'write a VCD waveform of the main signals (cycle engine) to this file', normalize: true })
      .option('energy', { type: 'string', describe: 'energy table JSON overriding the default per-action energies', normalize: true })
      .example('$0 sim mnist.nbl', 'cycles, utilization and energy with random inputs')
      .example('$0 sim mnist.nbl --input image.json --json', 'with given inputs; the outputs are in the JSON')
      .example('$0 sim mnist.nbl --trace mnist.trace.json', 'open the trace in https://ui.perfetto.dev')
      .example('$0 sim small.nbl --engine cycle --vcd small.vcd', 'waveform of the cycle engine'),
  handler: async (args) => {
    const term = new Terminal(bool(args, 'json'));
    const file = str(args, 'program')!;
    const program = await loadProgram(file);
    let engine = (str(args, 'engine') ?? 'fast') as SimEngine;
    const vcd = str(args, 'vcd');
    if (vcd && engine !== 'cycle') {
      term.note('nibble: note: --vcd needs the cycle engine; using --engine cycle');
      engine = 'cycle';
    }
    const inputFile = str(args, 'input');
    const inputs = inputFile ? loadInputTensors(inputFile, program) : undefined;
    const sim = await simulator('nibble sim');
    const energyPath = str(args, 'energy');
    let energyTable: unknown;
    if (energyPath) {
      if (typeof sim['loadEnergyTable'] !== 'function') throw new UnavailableError('--energy needs loadEnergyTable from the simulator, which is not available yet');
      energyTable = (sim['loadEnergyTable'] as (p: string) => unknown)(energyPath);
    }
    const trace = str(args, 'trace');
    const result = sim.simulate(program, {
      engine,
      ...(inputs ? { inputs } : {}),
      ...(energyTable !== undefined ? { energyTable } : {}),
      collect: { perInstruction: true, trace: Boolean(trace || vcd) },
    });
    if (trace) {
      if (typeof sim['writeChromeTrace'] !== 'function') throw new UnavailableError('--trace needs writeChromeTrace from the simulator, which is not available yet');
      writeOutput(trace, (sim['writeChromeTrace'] as (r: unknown, p: Program) => string)(result, program));
    }
    if (vcd) {
      if (typeof sim['writeVcd'] !== 'function') throw new UnavailableError('--vcd needs writeVcd from the simulator, which is not available yet');
      writeOutput(vcd, (sim['writeVcd'] as (r: unknown, p: Program) => string)(result, program));
    }
    const randomInputs = randomInputsOf(result, program, inputs);
    const doc = simDocument(file, program, engine, result, randomInputs);
    if (term.json) return term.document({ ...doc, ...(trace ? { trace } : {}), ...(vcd ? { vcd } : {}) });
    printSim(term, program, engine, result, randomInputs);
    if (trace) term.line(`  trace written to ${trace}`);
    if (vcd) term.line(`  VCD written to ${vcd}`);
  },
};

function randomInputsOf(result: SimResultLike, program: Program, given: Record<string, unknown> | undefined): string[] {
  const r = result['randomInputs'] ?? result['randomFilled'];
  if (Array.isArray(r)) return r.map(String);
  return program.inputs.map((d) => d.name).filter((n) => !given || !(n in given));
}

export function simDocument(file: string, program: Program, engine: SimEngine, result: SimResultLike, randomInputs: string[]) {
  const { cycles, counters, outputs } = result;
  const cfg = program.config;
  return {
    program: file,
    engine,
    instructions: program.code.length,
    cycles,
    latencyUs: cycles / cfg.clockMHz,
    clockMHz: cfg.clockMHz,
    randomInputs,
    counters: counters ?? null,
    layers: result['layers'] ?? null,
    energy: energyOf(result) ?? result['energy'] ?? null,
    outputs: outputs ?? {},
  };
}

function printSim(term: Terminal, program: Program, engine: SimEngine, result: SimResultLike, randomInputs: string[]): void {
  const cfg = program.config;
  term.heading(`simulated ${program.code.length} instructions (${engine} engine)`);
  if (randomInputs.length > 0) term.line(colour.yellow(`  inputs ${randomInputs.join(', ')}: seeded random values (pass --input FILE.json for real data)`));
  const util = utilizationOf(result);
  const rows: [string, string][] = [
    ['cycles', formatNumber(result.cycles)],
    ['latency', `${formatNumber(result.cycles / cfg.clockMHz)} us at ${cfg.clockMHz} MHz`],
  ];
  if (util !== undefined) rows.push(['array utilization', percent(util, 1)]);
  const e = energyOf(result);
  if (e) rows.push(['energy', `${formatNumber(e.totalPj / 1e6)} uJ`]);
  term.pairs(rows);
  const layers = result['layers'];
  if (Array.isArray(layers) && layers.length > 0) {
    term.line();
    term.table(
      ['layer', 'cycles', 'MACs', 'utilization'],
      layers.map((l: Record<string, unknown>) => [String(l['name']), Number(l['cycles'] ?? 0), Number(l['macs'] ?? 0), typeof l['utilization'] === 'number' ? percent(l['utilization'] as number, 1) : '']),
    );
  }
  if (e && Object.keys(e.byComponent).length > 0) {
    term.line();
    term.table(['component', 'energy (nJ)', 'share'], Object.entries(e.byComponent).map(([k, v]) => [k, v / 1000, percent(v / e.totalPj, 1)]));
  }
}
