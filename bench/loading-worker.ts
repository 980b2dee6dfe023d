/**
 * One side of the program-loading comparison (bench/sections/timing.ts), in a
 * fresh worker so its engine code has seen only one kind of program object,
 * as in a real process: 'compiled' builds and compiles the zoo network here,
 * 'loaded' reads the .nbl bytes it is given. Posts the first (cold) and the
 * cheapest warm timing-engine run in CPU ms: CPU time is what other processes
 * on a shared machine do not change, and the minimum over many runs is what
 * this process's background JIT and GC threads disturb least.
 *
 * The warm-up is counted in runs as well as in time, the same on both sides:
 * the compiled side's engine code is already warm when its first run starts
 * (compileNetwork runs the timing engine's scheduler over the program for its
 * estimate), the loaded side's is not, and one cold VGG-16 run (about 400 ms)
 * took all of a time-only warm-up of 300 ms, so the loaded side was measured
 * while TurboFan was still compiling and deoptimizing the engine in background
 * threads (which process CPU time counts): the 1.43-1.69x of earlier runs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DEFAULT_CONFIG } from '../arch/index.js';
import { compileNetwork } from '../compiler/index.js';
import { readProgramFile } from '../isa/index.js';
import { zooNetwork } from '../models/index.js';
import { simulate } from '../sim/index.js';

export interface LoadingJob {
  mode: 'compiled' | 'loaded';
  name: string;
  inputSize?: number;
  nbl?: Uint8Array;
  /** warm-up and measurement each last at least this many CPU ms and minRuns runs */
  minMs: number;
  minRuns: number;
}

export interface LoadingResult {
  coldMs: number;
  ms: number;
}

const job = workerData as LoadingJob;
const program =
  job.mode === 'loaded'
    ? readProgramFile(job.nbl!)
    : compileNetwork(
        zooNetwork(job.name, job.inputSize !== undefined ? { inputSize: job.inputSize } : {}),
        DEFAULT_CONFIG,
        { batch: 1 },
      );
const run = () => {
  const c0 = process.cpuUsage();
  simulate(program, { engine: 'timing' });
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
};
const coldMs = run();
// warm up (the JIT's optimizing tier), then keep the fastest of the measured runs
for (let spent = coldMs, i = 1; (spent < job.minMs || i < job.minRuns) && i < 1000; i++) spent += run();
let best = Infinity;
for (let spent = 0, i = 0; (spent < job.minMs || i < job.minRuns) && i < 1000; i++) {
  const t = run();
  spent += t;
  best = Math.min(best, t);
}
parentPort!.postMessage({ coldMs, ms: best } satisfies LoadingResult);
