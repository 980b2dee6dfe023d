/**
 * Progress of the external tools: a fake tool (sh) writes a Yosys-like log
 * while the runner waits; the watcher draws into a file standing in for the
 * terminal. Also: logs are kept and named on failure, and the phase rules
 * read real Verilator, Yosys and nextpnr lines.
 */
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RtlError } from '../../arch/index.js';
import { lastPhase, runTool, setToolWatcher, TOOL_PHASES } from '../../rtl-gen/index.js';
import { toolWatcher } from '../../cli/tool-progress.js';
import type { Verbosity } from '../../cli/terminal.js';
import { thrownMessage } from '../thrown.js';

/**
 * A tool that logs two Yosys phases, each time waiting (at most 10 s) until the
 * watcher has shown it: deterministic however slowly the helper starts.
 */
function fakeYosys(out: string): string[] {
  const shown = (what: string) =>
    `i=0; until grep -q "${what}" ${out} || [ $i -ge 200 ]; do sleep 0.05; i=$((i+1)); done`;
  return [
    '-c',
    `echo "1. Executing Verilog-2005 frontend: a.v"; ${shown('frontend')}; echo "2. Executing SYNTH_ICE40 pass."; ${shown('SYNTH_ICE40')}`,
  ];
}

function drawn(verbosity: Verbosity, tty: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'nibble-progress-'));
  const out = join(dir, 'stderr.txt');
  const fd = openSync(out, 'w');
  try {
    setToolWatcher(toolWatcher({ verbosity, tty, fd, delayMs: 0, intervalMs: 50 }));
    runTool('sh', fakeYosys(out), dir, 'yosys synth (ice40)', { log: 'yosys.log', phases: 'yosys' });
  } finally {
    setToolWatcher(undefined);
    closeSync(fd);
  }
  return readFileSync(out, 'utf8');
}

/* eslint-disable no-control-regex -- the terminal escape codes are what these tests check */
describe('tool progress', () => {
  afterEach(() => setToolWatcher(undefined));

  it('on a terminal: one redrawn line with the phase from the log and the elapsed time, then the total', () => {
    const text = drawn('normal', true);
    expect(text).toMatch(/\r\x1b\[K\x1b\[2myosys synth \(ice40\): Verilog-2005 frontend: a\.v \(\d+ s\)/);
    expect(text).toMatch(/yosys synth \(ice40\): SYNTH_ICE40 pass \(\d+ s\)/);
    expect(text).toMatch(/\r\x1b\[K.*yosys synth \(ice40\): done \(\d+\.\d s\).*\n$/);
    expect(text.split('\n').length).toBe(2); // one line, redrawn
  });

  it('--verbose without a terminal: one line per phase, no escape codes', () => {
    const text = drawn('verbose', false);
    expect(text).not.toMatch(/\x1b/);
    const lines = text.trimEnd().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^yosys synth \(ice40\): Verilog-2005 frontend: a\.v \(\d+ s\)$/),
      expect.stringMatching(/^yosys synth \(ice40\): SYNTH_ICE40 pass \(\d+ s\)$/),
      expect.stringMatching(/^yosys synth \(ice40\): done \(\d+\.\d s\)$/),
    ]);
  });

  it('--quiet, or no terminal without --verbose: nothing', () => {
    expect(toolWatcher({ verbosity: 'quiet', tty: true })).toBeUndefined();
    expect(toolWatcher({ verbosity: 'normal', tty: false })).toBeUndefined();
  });

  it('the log is kept, and a failure names it with its last lines', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nibble-toollog-'));
    const m = thrownMessage(
      () => runTool('sh', ['-c', 'echo compiling; echo "error: boom" >&2; exit 3'], dir, 'verilator build'),
      RtlError,
    );
    expect(m).toBe(`verilator build: sh exited with 3 (log: ${join(dir, 'sh.log')}):\ncompiling\nerror: boom`);
    expect(readFileSync(join(dir, 'sh.log'), 'utf8')).toBe('compiling\nerror: boom\n');
    expect(thrownMessage(() => runTool('no-such-tool-nibble', [], dir, 'synthesis'), RtlError)).toBe(
      'synthesis: no-such-tool-nibble is not installed (needed for synthesis)',
    );
    expect(existsSync(join(dir, 'no-such-tool-nibble.log'))).toBe(true);
  });

  it('phase rules read real tool lines', () => {
    const gxx =
      'g++  -I.  -MMD -I/usr/share/verilator/include -DVM_TRACE=0 -faligned-new -Os -c -o Vnibble_top.o Vnibble_top.cpp';
    expect(lastPhase(gxx, TOOL_PHASES.verilator)).toBe('compiling Vnibble_top.cpp');
    expect(lastPhase("make: Entering directory '/x/obj'", TOOL_PHASES.verilator)).toBe('compiling the C++ model');
    expect(
      lastPhase(
        'g++    harness.o verilated.o Vnibble_top__ALL.a   -pthread -lpthread -latomic   -o Vnibble_top',
        TOOL_PHASES.verilator,
      ),
    ).toBe('linking Vnibble_top');
    expect(lastPhase('12. Executing ABC pass (technology mapping using ABC).', TOOL_PHASES.yosys)).toBe(
      'ABC pass (technology mapping using ABC)',
    );
    expect(lastPhase('Info: Running main analytical placer.', TOOL_PHASES.nextpnr)).toBe(
      'Running main analytical placer',
    );
    expect(lastPhase('Info: Routing..\nInfo:      1 |  100 ...', TOOL_PHASES.nextpnr)).toBe('Routing');
  });
});
