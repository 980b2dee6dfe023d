/** Worker thread of `nibble run --engine sim`: simulates one chunk of the dataset (cli/sim-chunk.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { isNibbleError } from '../arch/index.js';
import { simulate } from '../sim/index.js';
import { simulateChunk, type ChunkJob } from './sim-chunk.js';

const job = workerData as ChunkJob;
try {
  const r = simulateChunk({ simulate }, job, (n) => parentPort!.postMessage({ tick: n }));
  parentPort!.postMessage({ done: r }, [r.outputs.buffer as ArrayBuffer]);
} catch (e) {
  const err = e as Error;
  parentPort!.postMessage({
    error: { nibble: isNibbleError(e), message: err.message ?? String(e), stack: err.stack ?? String(e) },
  });
}
