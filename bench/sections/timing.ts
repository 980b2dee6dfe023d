/**
 * Big networks through the timing engine: VGG-16 at 224x224 and ResNet on the
 * default config: compile time, timing-engine time (goal < 2 s) and cycles.
 */
import { DEFAULT_CONFIG } from '../../arch/index.js';
import { simulate } from '../../sim/index.js';
import { timeRepeated } from '../measure.js';
import { ms, si, type Goal } from '../report.js';
import type { BenchContext, Section, SectionOutput } from '../section.js';
import { usefulMacs, zooWorkload } from '../workloads.js';

export const TIMING_NETWORKS: readonly { name: string; inputSize: number }[] = [
  { name: 'vgg16', inputSize: 224 },
  { name: 'resnet', inputSize: 32 },
  { name: 'resnet', inputSize: 224 },
];

export const timingSection: Section = {
  name: 'timing-engine',
  title: 'large networks: compile and timing-engine time (default config, batch 1)',
  run(ctx: BenchContext): SectionOutput {
    const cfg = DEFAULT_CONFIG;
    const nets = ctx.options.quick ? [{ name: 'vgg16', inputSize: 32 }] : TIMING_NETWORKS;
    const rows = [];
    const goals: Goal[] = [];
    const data: Record<string, unknown>[] = [];
    for (const n of nets) {
      ctx.log(`timing-engine: building and compiling ${n.name}-${n.inputSize}`);
      const w = zooWorkload(n.name, cfg, { inputSize: n.inputSize, sampler: ctx.sampler });
      ctx.log(`timing-engine: simulating ${w.label}`);
      const t = timeRepeated(() => simulate(w.program, { engine: 'timing' }), {
        minMs: 500,
        maxRuns: 5,
        sampler: ctx.sampler,
      });
      const cycles = t.value.cycles;
      const macs = usefulMacs(w.program);
      rows.push([
        w.label,
        w.program.code.length,
        si(macs),
        ms(w.buildMs),
        ms(w.compileMs),
        ms(t.firstMs),
        t.runs > 1 ? ms(t.ms) : '-',
        cycles,
        `${(cycles / cfg.clockMHz / 1000).toFixed(2)} ms`,
        `${((100 * macs) / (cycles * cfg.array.rows * cfg.array.cols)).toFixed(1)} %`,
      ]);
      goals.push({
        name: `timing engine, ${w.label}`,
        target: '< 2 s',
        actual: ms(t.firstMs),
        met: ctx.options.quick ? undefined : t.firstMs < 2000,
      });
      data.push({
        network: w.label,
        instructions: w.program.code.length,
        macs,
        buildMs: w.buildMs,
        compileMs: w.compileMs,
        timingColdMs: t.firstMs,
        timingWarmMs: t.runs > 1 ? t.ms : undefined,
        cycles,
      });
    }
    return {
      tables: [
        {
          title: 'timing engine on large networks',
          columns: [
            'network',
            'instr',
            'MACs',
            'build net',
            'compile',
            'timing (cold)',
            'timing (warm)',
            'cycles',
            `latency @ ${cfg.clockMHz} MHz`,
            'array util',
          ],
          rows,
        },
      ],
      goals,
      notes: [
        "'build net' is constructing the zoo network (seeded weights, calibration), not a compiler cost; the goal is judged on the cold (first) timing-engine run",
      ],
      data: { networks: data },
    };
  },
};
