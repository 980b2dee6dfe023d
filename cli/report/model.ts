/** The figures an HTML report shows (built by data.ts, drawn by html.ts). */
import type { UnitCounters } from '../../sim/index.js';
import type { TimelineLane } from './timeline.js';

/** Where a layer's cycles go (they add up to the layer's cycles). */
export interface TimeBreakdown {
  /** the compute unit is running (GEMM, requant, pool) */
  computing: number;
  /** the compute unit is idle while the load unit works (incl. DRAM latency) */
  loading: number;
  /** only the store unit works */
  storing: number;
  /** nothing of the layer runs: dependency waits, pipeline fill and drain */
  waiting: number;
}

export interface ReportLayer {
  name: string;
  kind: string;
  /** first start and last end of the layer's instructions (cycles) */
  start: number;
  end: number;
  cycles: number;
  macs: number;
  /** useful MACs / (cycles * N * N) */
  utilization: number;
  /** DRAM bytes read + written by the layer's instructions */
  dramBytes: number;
  time: TimeBreakdown;
  /** fraction of the layer's cycles each unit is busy */
  busy: { load: number; compute: number; store: number };
  energyPj?: number;
}

export interface ReportData {
  title: string;
  source: string;
  generatedBy: string;
  config: Record<string, unknown>;
  configHash: string;
  n: number;
  clockMHz: number;
  /** DRAM bytes per cycle per channel */
  dramBytesPerCycle: number;
  /** scratchpad bytes per cycle at full speed (one port per buffer) */
  sramBytesPerCycle: number;
  totals: {
    cycles: number;
    macs: number;
    utilization: number;
    instructions: number;
    dramBytes: number;
    sramBytes: number;
    batch?: number;
    energyPj?: number;
  };
  layers: ReportLayer[];
  /** pJ per component */
  energyByComponent?: Record<string, number>;
  /** shift-based requant vs the multiplier-based counterfactual, pJ */
  requantComparison?: { shiftPj: number; multiplierPj: number };
  lanes: TimelineLane[];
  /** per-unit cycle counters (docs/simulator.md) */
  units?: ({ unit: string } & UnitCounters)[];
  /** synthesis results, label -> value */
  resources?: Record<string, unknown>;
  notes: string[];
}
