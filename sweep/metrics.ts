/**
 * The figures a sweep records for every point, in one table: what objectives,
 * constraints, the terminal table, CSV and the HTML report all name.
 */

export type MetricName =
  | 'cycles'
  | 'latency'
  | 'throughput'
  | 'energy'
  | 'edp'
  | 'topsPerWatt'
  | 'power'
  | 'utilization'
  | 'dramBytes'
  | 'area'
  | 'luts'
  | 'ffs'
  | 'brams'
  | 'dsps';

export interface MetricDef {
  name: MetricName;
  unit: string;
  better: 'min' | 'max';
  describe: string;
  /** known from the config alone (before compiling): constraints on it exclude points without running them */
  static: boolean;
  /** only with an `fpga` section in the spec */
  fpga?: true;
}

const defs: MetricDef[] = [
  { name: 'cycles', unit: 'cycles', better: 'min', describe: 'cycles of one batch', static: false },
  { name: 'latency', unit: 'us', better: 'min', describe: 'latency of one batch at config.clockMHz', static: false },
  { name: 'throughput', unit: 'inf/s', better: 'max', describe: 'inferences per second', static: false },
  { name: 'energy', unit: 'uJ', better: 'min', describe: 'dynamic energy per inference', static: false },
  {
    name: 'edp',
    unit: 'uJ*us',
    better: 'min',
    describe: 'energy-delay product: energy per inference x batch latency',
    static: false,
  },
  { name: 'topsPerWatt', unit: 'TOPS/W', better: 'max', describe: 'useful ops per joule (2 per MAC)', static: false },
  { name: 'power', unit: 'mW', better: 'min', describe: 'average dynamic power', static: false },
  { name: 'utilization', unit: '', better: 'max', describe: 'useful MACs / (cycles x N^2)', static: false },
  { name: 'dramBytes', unit: 'B', better: 'min', describe: 'DRAM bytes moved per inference', static: false },
  {
    name: 'area',
    unit: 'mm2',
    better: 'min',
    describe: 'silicon area at config.techNodeNm (sim/area.ts)',
    static: true,
  },
  {
    name: 'luts',
    unit: 'LUTs',
    better: 'min',
    describe: 'FPGA LUTs (fitted model or Yosys)',
    static: true,
    fpga: true,
  },
  { name: 'ffs', unit: 'FFs', better: 'min', describe: 'FPGA flip-flops', static: true, fpga: true },
  { name: 'brams', unit: 'BRAMs', better: 'min', describe: 'FPGA block RAMs', static: true, fpga: true },
  { name: 'dsps', unit: 'DSPs', better: 'min', describe: 'FPGA DSP blocks', static: true, fpga: true },
];

export const METRICS: Readonly<Record<MetricName, MetricDef>> = Object.fromEntries(
  defs.map((d) => [d.name, d]),
) as Record<MetricName, MetricDef>;

export const METRIC_NAMES: readonly MetricName[] = defs.map((d) => d.name);

export function isMetricName(s: string): s is MetricName {
  return Object.hasOwn(METRICS, s);
}

export const DEFAULT_OBJECTIVES: readonly MetricName[] = ['latency', 'energy', 'area'];

/** A metric's value with its unit, for tables. */
export function formatMetric(name: MetricName, v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '-';
  const d = METRICS[name];
  if (name === 'utilization') return `${(100 * v).toFixed(1)} %`;
  const abs = Math.abs(v);
  const text = Number.isInteger(v)
    ? v.toLocaleString('en-US')
    : abs >= 100
      ? v.toLocaleString('en-US', { maximumFractionDigits: 1 })
      : abs >= 1
        ? v.toFixed(3)
        : v.toPrecision(3);
  return d.unit && d.unit !== 'cycles' ? `${text} ${d.unit}` : text;
}
