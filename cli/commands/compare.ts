/** `nibble compare A B MODEL`: two machines side by side on one model, per layer. */
import { existsSync } from 'node:fs';
import { CompileError, ModelError, configHash, isNibbleError, type ArchConfig } from '../../arch/index.js';
import type { Network } from '../../models/index.js';
import { bool, str, withFormat, withJson, type CommandSpec } from '../command.js';
import { areaLine, areaOf } from '../area-figures.js';
import { compileNetwork, SIM_ENGINES, simulator, type SimEngine, type SimResult } from '../engines.js';
import { loadConfig, loadModel, parsePositiveInt } from '../inputs.js';
import { modelsApi } from '../modules.js';
import { colour, formatNumber, percent, Terminal } from '../terminal.js';

/** A model file, or a zoo network by name (nibble zoo list). */
async function modelArg(arg: string, format: string | undefined): Promise<Network> {
  if (existsSync(arg)) return loadModel(arg, format);
  const models = await modelsApi('nibble compare', ['zooNetwork', 'zooNames']);
  if (models.zooNames().includes(arg as never)) return models.zooNetwork(arg);
  throw new ModelError(`neither a model file nor a zoo network (zoo: ${models.zooNames().join(', ')})`, arg);
}

interface Side {
  label: string;
  config: ArchConfig;
  result: SimResult;
  batch: number;
}

async function runSide(
  label: string,
  source: string,
  cfg: ArchConfig,
  net: Network,
  batch: number,
  engine: SimEngine,
): Promise<Side> {
  try {
    const program = await compileNetwork(net, cfg, batch, 'nibble compare');
    const sim = await simulator('nibble compare');
    return { label, config: cfg, result: sim.simulate(program, { engine }), batch };
  } catch (e) {
    // say which of the two machines it was
    if (isNibbleError(e)) throw new CompileError(e.message, `machine ${label} (${source})`);
    throw e;
  }
}

function totals(s: Side) {
  const cfg = s.config;
  const e = s.result.energy;
  return {
    cycles: s.result.cycles,
    latencyUs: s.result.cycles / cfg.clockMHz,
    inferencesPerSecond: (s.batch * cfg.clockMHz * 1e6) / s.result.cycles,
    energyPerInferenceUj: e ? e.totalPj / s.batch / 1e6 : undefined,
    utilization: s.result.counters.array.utilization,
    dramBytes: s.result.counters.dram.readBytes + s.result.counters.dram.writeBytes,
  };
}

export const compareCommand: CommandSpec = {
  command: 'compare <a> <b> <model>',
  describe: 'compare two machines (config files or preset:NAME) on one model, layer by layer',
  builder: (y) =>
    withJson(withFormat(y))
      .positional('a', { type: 'string', describe: 'machine A: ArchConfig JSON file or preset:NAME' })
      .positional('b', { type: 'string', describe: 'machine B: ArchConfig JSON file or preset:NAME' })
      .positional('model', { type: 'string', describe: 'model file (.txt / .json) or zoo network name' })
      .option('batch', { type: 'number', default: 1, describe: 'images per program' })
      .option('engine', {
        type: 'string',
        choices: [...SIM_ENGINES],
        default: 'timing',
        describe: 'simulator engine (timing is fastest; the figures are the same)',
      })
      .example(
        '$0 compare preset:default preset:edge cifar10',
        'the default machine against the edge preset on CIFAR10NET_INT',
      )
      .example('$0 compare a.json b.json net.json --batch 4 --json', 'machine-readable, batch 4'),
  handler: async (args) => {
    const term = new Terminal(bool(args, 'json'));
    const [a, b] = [str(args, 'a')!, str(args, 'b')!];
    const cfgA = loadConfig(a);
    const cfgB = loadConfig(b);
    const net = await modelArg(str(args, 'model')!, str(args, 'format'));
    const batch = parsePositiveInt(args['batch'], 'batch') ?? 1;
    const engine = (str(args, 'engine') ?? 'timing') as SimEngine;
    const A = await runSide('A', a, cfgA, net, batch, engine);
    const B = await runSide('B', b, cfgB, net, batch, engine);
    const [areaA, areaB] = [await areaOf(cfgA, 'nibble compare'), await areaOf(cfgB, 'nibble compare')];
    const la = A.result.counters.layers;
    const lb = B.result.counters.layers;
    const layers = la.map((l, i) => {
      const m = lb[i];
      return {
        name: l.name,
        kind: l.kind,
        macs: l.macs,
        a: { cycles: l.cycles, utilization: l.utilization, energyPj: A.result.energy?.byLayer[i] },
        b: m ? { cycles: m.cycles, utilization: m.utilization, energyPj: B.result.energy?.byLayer[i] } : undefined,
      };
    });
    const tA = totals(A);
    const tB = totals(B);
    if (term.json)
      return term.document({
        model: net.name,
        batch,
        engine,
        a: { source: a, hash: configHash(cfgA), totals: tA, area: areaA },
        b: { source: b, hash: configHash(cfgB), totals: tB, area: areaB },
        layers,
      });
    term.heading(`${net.name}, batch ${batch}: A = ${a} (${configHash(cfgA)}) vs B = ${b} (${configHash(cfgB)})`);
    const ratio = (x: number | undefined, y: number | undefined) =>
      x !== undefined && y !== undefined && x > 0 ? `${(y / x).toFixed(2)}x` : '-';
    const nj = (pj: number | undefined) => (pj === undefined ? '-' : formatNumber(pj / 1000));
    term.table(
      ['layer', 'kind', 'MACs', 'cycles A', 'cycles B', 'B/A', 'util A', 'util B', 'energy A (nJ)', 'energy B (nJ)'],
      layers.map((l) => [
        l.name,
        l.kind,
        l.macs,
        l.a.cycles,
        l.b?.cycles ?? '-',
        ratio(l.a.cycles, l.b?.cycles),
        percent(l.a.utilization, 1),
        l.b ? percent(l.b.utilization, 1) : '-',
        nj(l.a.energyPj),
        nj(l.b?.energyPj),
      ]),
    );
    term.line();
    const row = (k: string, x: number | undefined, y: number | undefined, unit: string): [string, string] => [
      k,
      `${x === undefined ? '-' : formatNumber(x)} vs ${y === undefined ? '-' : formatNumber(y)} ${unit} (B/A ${ratio(x, y)})`,
    ];
    term.pairs([
      row('cycles', tA.cycles, tB.cycles, ''),
      row('latency', tA.latencyUs, tB.latencyUs, 'us'),
      row('throughput', tA.inferencesPerSecond, tB.inferencesPerSecond, 'inferences/s'),
      row('energy / inference', tA.energyPerInferenceUj, tB.energyPerInferenceUj, 'uJ'),
      row('utilization', 100 * tA.utilization, 100 * tB.utilization, '%'),
      row('DRAM bytes', tA.dramBytes, tB.dramBytes, ''),
      ['area A', areaLine(areaA)],
      ['area B', areaLine(areaB)],
    ]);
    if (la.length !== lb.length) term.line(colour.yellow(`  the machines report ${la.length} and ${lb.length} layers`));
  },
};
