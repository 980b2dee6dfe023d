/** compileNetwork's onPhase (what the CLI shows during a long compile, issue 16 item 5): every phase, in order, and no effect on the program. */
import { describe, expect, test } from 'vitest';
import { DEFAULT_CONFIG } from '../../arch/index.js';
import { compileNetwork } from '../../compiler/index.js';
import { writeProgramFile } from '../../isa/index.js';
import { zooNetwork } from '../../models/index.js';

describe('compile phases', () => {
  test('lowering, each layer planned then scheduled, checking, estimating; the program is unchanged', () => {
    const net = zooNetwork('mnist');
    const phases: string[] = [];
    const program = compileNetwork(net, DEFAULT_CONFIG, { batch: 2, onPhase: (p) => phases.push(p) });
    // the 8-bit input is tried as nibble planes, then as nibble lanes (the faster program is the result)
    const lanes = ' (nibble-lanes input)';
    const n = phases.filter((p) => p.startsWith('planning') && !p.endsWith(lanes)).length;
    expect(n).toBeGreaterThan(1);
    const build = (checked: string, suffix: string) =>
      [
        ...Array.from({ length: n }, (_, i) => `planning layer ${i + 1} of ${n}`),
        ...Array.from({ length: n }, (_, i) => `scheduling layer ${i + 1} of ${n}`),
        checked,
        'estimating cycles',
      ].map((p) => p + suffix);
    const planesChecked = phases[2 * n + 1]!;
    expect(planesChecked).toMatch(/^checking \d+ instructions$/);
    expect(phases).toEqual([
      'lowering the network',
      ...build(planesChecked, ''),
      ...build(`checking ${program.code.length} instructions`, lanes),
    ]);
    expect(writeProgramFile(program)).toEqual(writeProgramFile(compileNetwork(net, DEFAULT_CONFIG, { batch: 2 })));
  });
});
