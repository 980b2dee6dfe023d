/**
 * Preloaded (`node --import`) into a child process the bench times: writes the
 * process's own CPU time (all threads, µs) as the last line on stderr at exit.
 * Node reports no CPU time of a child process; the child reports its own.
 */
import { writeSync } from 'node:fs';

process.on('exit', () => {
  const c = process.cpuUsage();
  writeSync(2, `\nNIBBLE_BENCH_CPU_US ${c.user + c.system}\n`);
});
