/**
 * Measured in a process of its own, so its peak memory is the step's alone:
 *   node dist/bench/import-child.js load FILE.nbm     load a format-2 model
 *   node dist/bench/import-child.js compile FILE.nbm  load, then compile for the default config
 * Prints one JSON line: { ms, maxRssMiB, ... }.
 */
import { DEFAULT_CONFIG } from '../arch/index.js';
import { compileNetwork } from '../compiler/index.js';
import { analyzeNetwork, loadModelBinaryFile } from '../models/index.js';

const [mode, file] = process.argv.slice(2);
if ((mode !== 'load' && mode !== 'compile') || !file) {
  process.stderr.write('usage: import-child.js load|compile FILE.nbm\n');
  process.exit(2);
}
const t0 = performance.now();
const net = loadModelBinaryFile(file);
const loadMs = performance.now() - t0;
const out: Record<string, number> = { loadMs, macs: analyzeNetwork(net).macs };
if (mode === 'compile') {
  const t1 = performance.now();
  const program = compileNetwork(net, DEFAULT_CONFIG);
  out['compileMs'] = performance.now() - t1;
  out['instructions'] = program.code.length;
}
// resourceUsage().maxRSS is in KiB
out['maxRssMiB'] = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify(out)}\n`);
