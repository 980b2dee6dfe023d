/**
 * One side of the program-loading comparison (bench/sections/timing.ts), in a
 * fresh worker so its engine code has seen only one kind of program object,
 * as in a real process: 'compiled' builds and compiles the zoo network here,
 * 'loaded' reads the .nbl bytes it is given. Posts the fastest warm
 * timing-engine run (wall ms): the minimum over many runs is what load on a
 * shared machine and background JIT threads disturb least.
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
  minMs: number;
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
  const t0 = performance.now();
  simulate(program, { engine: 'timing' });
  return performance.now() - t0;
};
// warm up (the JIT's optimizing tier), then keep the fastest of the measured runs
for (let spent = 0, i = 0; spent < 300 && i < 1000; i++) spent += run();
let best = Infinity;
for (let spent = 0, i = 0; (spent < job.minMs || i < 3) && i < 1000; i++) {
  const t = run();
  spent += t;
  best = Math.min(best, t);
}
parentPort!.postMessage({ ms: best });
