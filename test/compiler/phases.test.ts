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
    const n = phases.filter((p) => p.startsWith('planning')).length;
    expect(n).toBeGreaterThan(1);
    expect(phases).toEqual([
      'lowering the network',
      ...Array.from({ length: n }, (_, i) => `planning layer ${i + 1} of ${n}`),
      ...Array.from({ length: n }, (_, i) => `scheduling layer ${i + 1} of ${n}`),
      `checking ${program.code.length} instructions`,
      'estimating cycles',
    ]);
    expect(writeProgramFile(program)).toEqual(writeProgramFile(compileNetwork(net, DEFAULT_CONFIG, { batch: 2 })));
  });
});
