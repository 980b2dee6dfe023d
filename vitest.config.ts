import { availableParallelism } from 'node:os';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * The files that take longest on a clean clone (Yosys/nextpnr runs, Verilator
 * builds), in the order they start: the other worker runs the short files
 * beside them instead of the suite ending on one long file. A file missing
 * from the list only runs later; vitest's own order (its duration cache from
 * earlier runs, else file size) decides the rest.
 */
export const LONG_FILES_FIRST = [
  'test/board/fpga.test.ts',
  'test/board/shell.test.ts',
  'test/rtl/tools.test.ts',
  'test/rtl/cosim.test.ts',
  'test/board/bus-model.test.ts',
  'test/board/board-model.test.ts',
  'test/cli/rtl.test.ts',
  'test/sweep/cli.test.ts',
];

class LongFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = LONG_FILES_FIRST.findIndex((p) => f.moduleId.endsWith(p));
      return i < 0 ? LONG_FILES_FIRST.length : i;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    pool: 'forks',
    // vitest's default is one worker per core but one: a single worker on CI's 2 cores, which then idle one core
    // through every single-threaded tool run (Yosys, nextpnr, a Verilator model) and test
    maxWorkers: Math.max(2, availableParallelism() - 1),
    sequence: { sequencer: LongFilesFirst },
    // Verilator models compiled for a quick build (C++ -O1/-O0 instead of -O2, rtl-gen/verilator.ts): the suite
    // builds dozens of models and runs each for a few thousand cycles; results are the same at any level
    env: { NIBBLE_VERILATOR_OPT: 'build' },
  },
});
