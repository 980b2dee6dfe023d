/**
 * The helper thread of a GemmTeam (gemm-team.ts): runs staged GEMMs on the
 * shared kernel memory the main thread fills, signalled through a shared
 * control word. Spins a little between jobs (a fast engine run hands over
 * GEMMs tens of microseconds apart), then sleeps.
 */
import { workerData } from 'node:worker_threads';
import { GemmKernel, STAGED_ARGS, type KernelExports } from './gemm-kernel.js';
import { ARGS_AT, DEAD, DONE, ERROR, EXIT, IDLE, JOB, SPINS, STATE } from './gemm-protocol.js';

const { module, memory, control } = workerData as {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
};
const ctl = new Int32Array(control);
const x = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;

process.on('exit', () => {
  Atomics.store(ctl, STATE, DEAD);
  Atomics.notify(ctl, STATE);
});

Atomics.store(ctl, STATE, IDLE);
Atomics.notify(ctl, STATE);
for (;;) {
  let s = Atomics.load(ctl, STATE);
  for (let i = 0; s !== JOB && s !== EXIT && i < SPINS; i++) s = Atomics.load(ctl, STATE);
  if (s === EXIT) break;
  if (s !== JOB) {
    Atomics.wait(ctl, STATE, s);
    continue;
  }
  try {
    GemmKernel.compute(x, ctl.subarray(ARGS_AT, ARGS_AT + STAGED_ARGS));
    Atomics.store(ctl, STATE, DONE);
  } catch {
    Atomics.store(ctl, STATE, ERROR);
  }
  Atomics.notify(ctl, STATE);
}
