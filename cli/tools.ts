/**
 * The external tools the RTL commands run. A missing one is found before any
 * work, and reported as one line with the command that installs it.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { NibbleError, type DiagnosticCode } from '../arch/index.js';

/** Tool -> the Debian package that provides it. */
const PACKAGES = {
  verilator: 'verilator',
  make: 'make',
  'g++': 'g++',
  yosys: 'yosys',
  'nextpnr-ice40': 'nextpnr-ice40',
} as const;

export type Tool = keyof typeof PACKAGES;

/** A command needs a tool that is not installed. */
export class MissingToolError extends NibbleError {
  static override readonly defaultCode: DiagnosticCode = 'NB-T000';
}

function onPath(tool: string): boolean {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** Throws MissingToolError naming every missing tool of `tools` and the install command. */
export function requireTools(feature: string, tools: readonly Tool[]): void {
  const missing = tools.filter((t) => !onPath(t));
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((t) => PACKAGES[t]))];
  const list = missing.length === 1 ? missing[0] : `${missing.slice(0, -1).join(', ')} and ${missing.at(-1)}`;
  throw new MissingToolError(
    `${feature} needs ${list}, which ${missing.length === 1 ? 'is' : 'are'} not installed (not on PATH): install with \`sudo apt-get install ${pkgs.join(' ')}\` (Debian/Ubuntu)`,
  );
}

/** What co-simulation needs: Verilator and the C++ toolchain it builds with. */
export const VERILATOR_BUILD: readonly Tool[] = ['verilator', 'make', 'g++'];
