/**
 * Issue #5 acceptance, performance part: CIFAR10NET_INT conv layers with >= 16
 * input and output channels on the default 16x16 machine, timed by the
 * simulator's 'timing' engine (DMA included). Target: >= 85 % utilization and
 * <= 1.15x the ideal MACs / N^2 cycles; the assertion is a looser floor so a
 * small schedule change does not break the suite, the table shows the real figures.
 */
import { expect, test } from 'vitest';
import { DEFAULT_CONFIG } from '../../arch/config.js';
import { analyzeNetwork } from '../../models/index.js';
import { zooNetwork } from '../../models/zoo.js';
import { simulate } from '../../sim/index.js';
import { compileNetwork } from '../../compiler/index.js';

test('CIFAR10NET_INT conv layers run near peak on the default config', () => {
  const cfg = DEFAULT_CONFIG;
  const n = cfg.array.rows;
  const net = zooNetwork('cifar10', { inputSize: 32 });
  const program = compileNetwork(net, cfg, { batch: 1 });
  const sim = simulate(program, { engine: 'timing' });
  const analysis = analyzeNetwork(net);
  const wide = new Set(
    analysis.layers
      .filter((l) => l.layer.kind === 'conv2d' && l.layer.inChannels >= 16 && l.layer.outChannels >= 16)
      .map((l) => l.layer.name),
  );
  const rows: string[] = ['layer      MACs        cycles   ideal    cycles/ideal  utilization'];
  let macs = 0;
  let cycles = 0;
  for (const l of sim.counters.layers) {
    const ideal = l.macs / (n * n);
    rows.push(
      `${l.name.padEnd(10)} ${String(l.macs).padStart(9)} ${String(l.cycles).padStart(9)} ${String(Math.round(ideal)).padStart(8)}   ${(l.cycles / ideal).toFixed(3).padStart(6)}       ${(100 * l.utilization).toFixed(1)} %${wide.has(l.name) ? '' : '  (not counted)'}`,
    );
    if (!wide.has(l.name)) continue;
    macs += l.macs;
    cycles += l.cycles;
    expect(l.utilization, l.name).toBeGreaterThan(0.8);
  }
  const ideal = macs / (n * n);
  rows.push(
    `counted layers: ${cycles} cycles, ideal ${ideal}, ratio ${(cycles / ideal).toFixed(3)}, utilization ${((100 * ideal) / cycles).toFixed(1)} %`,
  );
  rows.push(`whole network: ${sim.cycles} cycles, utilization ${(100 * sim.counters.array.utilization).toFixed(1)} %`);
  console.log(rows.join('\n'));
  expect(wide.size).toBe(5);
  expect(cycles / ideal).toBeLessThan(1.2);
});
