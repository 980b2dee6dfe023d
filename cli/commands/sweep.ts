/** `nibble sweep SPEC`: explore machine x network; results store, Pareto front, top-N table, HTML report. */
import { basename } from 'node:path';
import type { MetricName } from '../../sweep/index.js';
import { bool, str, withJson, type CommandSpec } from '../command.js';
import { ExitCodeError, EXIT_USER_ERROR } from '../exit.js';
import { writeOutputFile } from '../../io/index.js';
import { CliUsageError, parsePositiveInt } from '../inputs.js';
import { requirePart } from '../modules.js';
import { colour, Terminal } from '../terminal.js';

type SweepApi = typeof import('../../sweep/index.js');
type SweepRun = import('../../sweep/index.js').SweepRun;
type SweepAnalysis = import('../../sweep/index.js').SweepAnalysis;
type PointRecord = import('../../sweep/index.js').PointRecord;

export function sweepApi(feature: string): Promise<SweepApi> {
  return requirePart<SweepApi>('sweep', ['runSweep', 'loadSpec'], feature);
}

/** The axis values of a point, e.g. `array.size=16 dram.busBytes=8`, with its base when several. */
export function pointLabel(r: PointRecord, withBase: boolean): string {
  const params = Object.entries(r.params).map(([k, v]) => `${k}=${v}`);
  return [...(withBase ? [r.base] : []), ...params].join(' ') || r.base;
}

function metricArg(api: SweepApi, v: string | undefined, option: string): MetricName | undefined {
  if (v === undefined) return undefined;
  if (!api.isMetricName(v))
    throw new CliUsageError(`--${option}: unknown metric '${v}' (metrics: ${api.METRIC_NAMES.join(', ')})`);
  return v;
}

export function printTop(
  term: Terminal,
  api: SweepApi,
  a: SweepAnalysis,
  top: { record: PointRecord; rank: number }[],
  withBase: boolean,
  multiModel: boolean,
): void {
  const shown: MetricName[] = [...a.objectives];
  for (const m of ['latency', 'throughput', 'energy', 'area', 'utilization'] as const)
    if (!shown.includes(m)) shown.push(m);
  term.table(
    [
      'rank',
      'point',
      ...(multiModel ? ['model'] : []),
      'batch',
      ...shown.map((m) => (api.METRICS[m].unit ? `${m} (${api.METRICS[m].unit})` : m)),
    ],
    top.map(({ record: r, rank }) => [
      `${rank}${a.front.has(r.key) ? '*' : ''}`,
      pointLabel(r, withBase),
      ...(multiModel ? [r.model] : []),
      r.batch,
      ...shown.map((m) =>
        api
          .formatMetric(m, r.metrics[m])
          .replace(/ \S+$/, (u) => (api.METRICS[m].unit && u.trim() === api.METRICS[m].unit ? '' : u)),
      ),
    ]),
  );
}

function summaryDocument(run: SweepRun, a: SweepAnalysis, top: { record: PointRecord; rank: number }[], html: string) {
  return {
    sweep: run.spec.name,
    spec: run.spec.file,
    points: run.points.length,
    ok: a.ok.length,
    failed: a.failed.length,
    infeasible: a.infeasible.length,
    excluded: run.excluded.length,
    crashed: run.crashed.map((c) => ({ key: c.point.key, message: c.message })),
    ran: run.ran,
    reused: run.reused,
    workers: run.workers,
    retried: run.retried,
    seconds: run.seconds,
    pointsPerSecondPerWorker: run.workers > 0 && run.seconds > 0 ? run.ran / run.seconds / run.workers : 0,
    objectives: a.objectives,
    pareto: a.feasible
      .filter((r) => a.front.has(r.key))
      .map((r) => ({ key: r.key, params: r.params, model: r.model, batch: r.batch, metrics: r.metrics })),
    top: top.map(({ record: r, rank }) => ({
      rank,
      key: r.key,
      base: r.base,
      params: r.params,
      model: r.model,
      batch: r.batch,
      metrics: r.metrics,
    })),
    failures: a.failures.map((f) => ({ stage: f.stage, count: f.count, reason: f.reason })),
    results: run.resultsFile,
    csv: run.csvFile,
    report: html,
  };
}

export const sweepCommand: CommandSpec = {
  command: 'sweep <spec>',
  describe:
    'explore machine x network: run every point of a sweep spec (YAML/JSON), Pareto front, top-N table, HTML report',
  builder: (y) =>
    withJson(y)
      .positional('spec', {
        type: 'string',
        describe: 'sweep spec (.yaml, .yml or .json; docs/sweep.md)',
        normalize: true,
      })
      .option('out', {
        type: 'string',
        describe: 'results folder (default: sweep-NAME in the current folder)',
        normalize: true,
      })
      .option('workers', { type: 'number', describe: 'local worker threads (default: all cores)' })
      .option('top', { type: 'number', default: 10, describe: 'rows of the terminal table' })
      .option('sort', { type: 'string', describe: 'rank the table by this metric instead of by Pareto rank' })
      .option('html', {
        type: 'string',
        describe: 'write the HTML report here (default: OUT/report.html)',
        normalize: true,
      })
      .option('queue', {
        type: 'string',
        describe: 'run the points on a BullMQ queue at redis://HOST:PORT (start workers with nibble worker)',
      })
      .option('slurm', {
        type: 'string',
        describe: 'write the points to run as a Slurm job array in this folder, and run nothing',
        normalize: true,
      })
      .option('collect', {
        type: 'string',
        describe: 'merge the results of a finished Slurm job array (the --slurm folder)',
        normalize: true,
      })
      .option('redis-timeout', {
        type: 'number',
        default: 10,
        describe: 'seconds to wait for a lost Redis to come back before stopping',
      })
      .example('$0 sweep arrays.yaml', 'run every point on all cores; resume by running it again')
      .example('$0 sweep arrays.yaml --top 20 --sort energy', 'the 20 most energy-efficient feasible points')
      .example(
        '$0 sweep arrays.yaml --queue redis://127.0.0.1:6379',
        'points go to a queue; start nibble worker on any machine',
      )
      .example(
        '$0 sweep synth.yaml --slurm slurm/',
        'write a Slurm job array (sbatch slurm/sweep.sbatch), then --collect slurm/',
      ),
  handler: async (args) => {
    const term = new Terminal(bool(args, 'json'));
    const api = await sweepApi('nibble sweep');
    const spec = api.loadSpec(str(args, 'spec')!);
    const outDir = str(args, 'out') ?? `sweep-${spec.name}`;
    const topN = parsePositiveInt(args['top'], 'top') ?? 10;
    const sortBy = metricArg(api, str(args, 'sort'), 'sort');
    const workersArg = parsePositiveInt(args['workers'], 'workers');
    const queue = str(args, 'queue');
    const slurm = str(args, 'slurm');
    const collect = str(args, 'collect');
    if ([queue, slurm, collect].filter((x) => x !== undefined).length > 1)
      throw new CliUsageError('give at most one of --queue, --slurm and --collect');
    const redisTimeout = Number(args['redis-timeout'] ?? 10);
    if (!(redisTimeout > 0))
      throw new CliUsageError(
        `--redis-timeout must be a positive number of seconds, got ${String(args['redis-timeout'])}`,
      );

    if (slurm) {
      const r = await api.writeSlurmArray(spec, { outDir, slurmDir: slurm });
      if (term.json) return term.document(r);
      term.line(
        r.points === 0
          ? `nothing to run: all ${r.total} points of ${spec.name} are in ${outDir}`
          : `wrote a Slurm job array of ${r.points} points (${r.total - r.points} already done) to ${r.script}; submit it with: sbatch ${r.script}; then merge with: nibble sweep ${str(args, 'spec')} --collect ${slurm}`,
      );
      return;
    }

    let bar: ReturnType<Terminal['progress']> | undefined;
    const executor = collect
      ? () => api.slurmCollector(collect)
      : queue
        ? (
            _opts: import('../../sweep/index.js').EvaluateOptions,
            models: import('../../sweep/index.js').LoadedModel[],
          ) =>
            api.QueueExecutor.connect(queue, spec, models, {
              redisTimeoutMs: redisTimeout * 1000,
              log: (l) => term.line(l),
            })
        : (opts: import('../../sweep/index.js').EvaluateOptions) =>
            new api.LocalExecutor(workersArg ?? api.defaultWorkers(), opts);
    let run: SweepRun;
    try {
      run = await api.runSweep(spec, {
        outDir,
        executor,
        onStart: (n, w) => {
          if (n > 0)
            bar = term.progress(
              `${spec.name}: ${n} points on ${queue ? 'the queue' : collect ? 'the job array' : `${w} workers`}`,
              n,
            );
        },
        onProgress: () => bar?.tick(),
      });
    } finally {
      bar?.stop();
    }
    const a = api.analyze(run.records, spec.constraints, spec.objectives);
    const top = api.topPoints(a, topN, sortBy);
    const html = str(args, 'html') ?? `${outDir}/report.html`;
    writeOutputFile(html, api.renderSweepHtml(run, a));
    for (const n of run.storeNotes) term.notice({ code: 'NB-W201', message: n });
    if (term.json) term.document(summaryDocument(run, a, top, html));
    else
      printSummary(
        term,
        api,
        run,
        a,
        top,
        html,
        sortBy,
        queue ? `via ${queue}` : collect ? `from the job array in ${collect}` : undefined,
      );
    if (run.crashed.length > 0)
      throw new ExitCodeError(
        EXIT_USER_ERROR,
        `${run.crashed.length} of ${run.points.length} points could not run (${run.crashed[0]!.message}); they are not stored: run the same command again to retry them`,
      );
  },
};

function printSummary(
  term: Terminal,
  api: SweepApi,
  run: SweepRun,
  a: SweepAnalysis,
  top: { record: PointRecord; rank: number }[],
  html: string,
  sortBy: MetricName | undefined,
  via: string | undefined,
): void {
  const spec = run.spec;
  const where = via ?? `on ${run.workers} worker${run.workers === 1 ? '' : 's'}`;
  const rate =
    run.workers > 0 && run.seconds > 0
      ? `, ${(run.ran / run.seconds / run.workers).toFixed(1)} points/s per worker`
      : '';
  term.heading(
    `sweep ${spec.name}: ${run.points.length} points (${spec.axes.length} axes, ${spec.models.length} model${spec.models.length > 1 ? 's' : ''}, ${spec.engine} engine)`,
  );
  term.pairs([
    [
      'ran',
      `${run.ran} points in ${run.seconds.toFixed(1)} s ${where}${rate}; ${run.reused} from ${basename(run.resultsFile)}`,
    ],
    [
      'outcome',
      `${a.ok.length} ok, ${a.failed.length} failed, ${a.infeasible.length} break a constraint, ${run.excluded.length} excluded before running`,
    ],
    ...(run.retried > 0
      ? [
          ['retried', `${run.retried} points were started again after a worker stopped in the middle of them`] as [
            string,
            string,
          ],
        ]
      : []),
    ['objectives', `${a.objectives.join(', ')}: ${a.front.size} points on the Pareto front`],
    ...(spec.constraints.length
      ? [['constraints', spec.constraints.map((c) => c.text).join(', ')] as [string, string]]
      : []),
  ]);
  term.line();
  if (top.length > 0) {
    term.line(colour.bold(`top ${top.length} ${sortBy ? `by ${sortBy}` : 'by Pareto rank'} (* = on the Pareto front)`));
    printTop(term, api, a, top, spec.bases.length > 1, spec.models.length > 1);
  } else term.line(colour.yellow('no feasible point: every point failed or breaks a constraint'));
  if (a.failures.length > 0) {
    term.line();
    term.line(colour.bold(`failed points (${a.failed.length})`));
    for (const f of a.failures.slice(0, 8))
      term.line(`  ${f.count} x ${f.stage}: ${f.reason} (e.g. ${pointLabel(f.example, spec.bases.length > 1)})`);
    if (a.failures.length > 8) term.line(`  ... ${a.failures.length - 8} more kinds (see results.csv)`);
  }
  term.line();
  term.line(`results ${run.resultsFile} and ${run.csvFile}; report ${html}`);
}
