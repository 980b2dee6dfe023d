/** The benchmark sections, in the order `npm run bench` runs them. */
import type { Section } from '../section.js';
import { boardSection } from './board.js';
import { ceilingSection } from './ceiling.js';
import { compilerQualitySection } from './compiler-quality.js';
import { cosimRandomSection } from './cosim-random.js';
import { engineFuzzSection } from './engine-fuzz.js';
import { importSection } from './import.js';
import { mnistSection } from './mnist.js';
import { rooflineSection } from './roofline.js';
import { simSection } from './sim.js';
import { sweepSection } from './sweep.js';
import { startupSection } from './startup.js';
import { timingSection } from './timing.js';
import { verilatorSection } from './verilator.js';

export const SECTIONS: readonly Section[] = [
  ceilingSection,
  simSection,
  mnistSection,
  importSection,
  timingSection,
  startupSection,
  compilerQualitySection,
  engineFuzzSection,
  rooflineSection,
  verilatorSection,
  cosimRandomSection,
  sweepSection,
  boardSection,
];

/** Short names accepted on the command line besides the section names. */
export const SECTION_ALIASES: Readonly<Record<string, string>> = {
  mnist: 'mnist-end-to-end',
  timing: 'timing-engine',
  'compiler-quality': 'compiler',
  rtl: 'verilator',
  fuzz: 'engine-fuzz',
  cosim: 'cosim-random',
};
