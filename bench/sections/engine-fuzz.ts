/**
 * Differential fuzz of the engines (issue 15): random valid programs and
 * mutations of them (sim/engine-fuzz.ts) on the timing, fast and cycle
 * engines. Goal: zero programs on which the engines disagree, over at least
 * 10,000 programs (2,500 seeds, each with 3 mutated copies).
 */
import { REFUSAL_KINDS, fuzzEngines } from '../../sim/index.js';
import type { BenchContext, Section, SectionOutput } from '../section.js';

const SEEDS = 2_500;
const QUICK_SEEDS = 100;
/** a seed range no other test uses, so the bench adds coverage */
const FIRST_SEED = 1_000_000;

export const engineFuzzSection: Section = {
  name: 'engine-fuzz',
  title: 'differential fuzz: random and mutated programs on all three engines (zero disagreements)',
  run(ctx: BenchContext): SectionOutput {
    const seeds = ctx.options.quick ? QUICK_SEEDS : SEEDS;
    const t0 = performance.now();
    const r = fuzzEngines({
      count: seeds,
      seed: FIRST_SEED,
      onProgram: (done, total) => {
        if (done % 500 === 0) ctx.log(`engine-fuzz: ${done} of ${total} seeds`);
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    return {
      tables: [
        {
          title: `engine fuzz: seeds ${FIRST_SEED}..${FIRST_SEED + seeds - 1}, each a random program and 3 mutations`,
          columns: [
            'programs',
            'accepted',
            ...REFUSAL_KINDS.map((k) => `refused: ${k}`),
            'overflow (data engines)',
            'disagreements',
            's',
          ],
          rows: [
            [
              r.programs,
              r.accepted,
              ...REFUSAL_KINDS.map((k) => r.refused[k]),
              r.overflowOnlyWithData,
              r.disagreements.length,
              seconds.toFixed(1),
            ],
          ],
        },
      ],
      goals: [
        {
          name: 'programs on which the engines disagree',
          target: `0 of >= 10,000`,
          actual: `${r.disagreements.length} of ${r.programs}`,
          met: r.disagreements.length === 0 && (ctx.options.quick || r.programs >= 10_000),
        },
      ],
      notes: r.disagreements
        .slice(0, 5)
        .map((d) => `seed ${d.seed} variant ${d.variant} (${d.mutations.join(', ')}): ${d.detail}`),
      data: { ...r, disagreements: r.disagreements.slice(0, 100), seconds },
    };
  },
};
