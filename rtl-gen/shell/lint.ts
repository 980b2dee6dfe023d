/** `verilator --lint-only -Wall` on the shell (nibble_axi_top and the core under it). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RtlError, type ArchConfig } from '../../arch/index.js';
import { runTool } from '../verilator.js';
import { generateShell, SHELL_TOP } from './generate.js';
import type { ShellOptions } from './options.js';

export interface ShellLintResult {
  clean: boolean;
  messages: string[];
}

export function lintShell(cfg: ArchConfig, opts: ShellOptions = {}): ShellLintResult {
  const g = generateShell(cfg, opts);
  const dir = mkdtempSync(join(tmpdir(), 'nibble-shell-lint-'));
  try {
    for (const f of g.files) writeFileSync(join(dir, f.name), f.text);
    runTool(
      'verilator',
      ['--lint-only', '-Wall', '--top-module', SHELL_TOP, ...g.files.map((f) => f.name)],
      dir,
      'verilator lint (AXI shell)',
    );
    return { clean: true, messages: [] };
  } catch (e) {
    if (!(e instanceof RtlError) || /not installed/.test(e.message)) throw e;
    return { clean: false, messages: e.message.split('\n').filter((l) => /%(Warning|Error)/.test(l)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
