/**
 * Release check of co-simulation at scale (issue 15, part 4): 10,000 random
 * valid programs on 20 random machines, each machine's Verilator build serving
 * its 500 programs (cosim/verify.ts verifyRandom). Goal: zero mismatches, and
 * the programs per hour that grouping makes possible.
 */
import type { BenchContext, Section, SectionOutput } from '../section.js';
import { SectionUnavailable } from '../section.js';
import { loadRtlGen } from './verilator.js';

const PROGRAMS = 10_000;
const MACHINES = 20;
const QUICK_PROGRAMS = 40;
const QUICK_MACHINES = 2;
/** a seed range no other test uses */
const FIRST_SEED = 2_000_000;

export const cosimRandomSection: Section = {
  name: 'cosim-random',
  title: 'co-simulation at scale: 10,000 random programs on 20 random machines, RTL == simulator (zero mismatches)',
  async run(ctx: BenchContext): Promise<SectionOutput> {
    const api = await loadRtlGen();
    if (!api.toolAvailable('verilator'))
      throw new SectionUnavailable('verilator is not installed (apt-get install verilator): skipped');
    const count = ctx.options.quick ? QUICK_PROGRAMS : PROGRAMS;
    const machines = ctx.options.quick ? QUICK_MACHINES : MACHINES;
    let done = 0;
    let mismatched = 0;
    const t0 = Date.now();
    const r = api.verifyRandom({
      count,
      seed: FIRST_SEED,
      machines,
      onMachine: (m, total, hash) =>
        ctx.log(
          `cosim-random: machine ${m + 1} of ${total} (config ${hash}); ${done} programs done, ` +
            `${mismatched} mismatches, ${((Date.now() - t0) / 1000).toFixed(0)} s`,
        ),
      onProgram: (_i, _s, v) => {
        done++;
        if (!v.ok) mismatched++;
      },
    });
    const s = (x: number) => (x / 1000).toFixed(1);
    return {
      tables: [
        {
          title: `random programs, seeds ${FIRST_SEED}..${FIRST_SEED + count - 1}, on ${r.machines} random machines`,
          columns: ['programs', 'machines', 'builds', 'build s', 'harness s', 'wall s', 'programs/hour', 'mismatches'],
          rows: [
            [
              r.count,
              r.machines,
              r.builds,
              s(r.buildMs),
              s(r.runMs),
              s(r.wallMs),
              r.programsPerHour,
              r.failures.length,
            ],
          ],
        },
      ],
      goals: [
        {
          name: 'random programs on which RTL and simulator differ',
          target: `0 of >= ${PROGRAMS.toLocaleString('en-US')}`,
          actual: `${r.failures.length} of ${r.count}`,
          met: r.failures.length === 0 && (ctx.options.quick || r.count >= PROGRAMS),
        },
      ],
      notes: r.failures
        .slice(0, 5)
        .map((f) => `seed ${f.seed} on machine seed ${f.machineSeed} (config ${f.configHash}): ${f.mismatch}`),
      data: { ...r, failures: r.failures.slice(0, 100), mismatches: undefined },
    };
  },
};
