/**
 * The RTL, board and queue tests need verilator, yosys, nextpnr-ice40,
 * icepack, gcc and redis-server (Debian packages; .ci/run installs them). Where one is missing a test file skips and says so,
 * except when CI is set: then a missing tool is a failing test that names the
 * install command, so CI can never pass by skipping the RTL.
 */
import { spawnSync } from 'node:child_process';
import { it } from 'vitest';

export type RtlTool = 'verilator' | 'yosys' | 'nextpnr-ice40' | 'icepack' | 'gcc' | 'redis-server';

export const INSTALL: Record<RtlTool, string> = {
  verilator: 'apt-get install -y verilator',
  yosys: 'apt-get install -y yosys',
  'nextpnr-ice40': 'apt-get install -y nextpnr-ice40',
  icepack: 'apt-get install -y fpga-icestorm',
  gcc: 'apt-get install -y gcc',
  'redis-server': 'apt-get install -y redis-server',
};

/** The tool is on PATH and starts (icepack has no --version: any exit status counts, only a failed spawn does not). */
export function toolInstalled(tool: RtlTool): boolean {
  return spawnSync(tool, ['--version'], { stdio: 'ignore' }).error === undefined;
}

/** CI is set to anything but an explicit no. */
export function ciIsSet(env: Record<string, string | undefined> = process.env): boolean {
  const v = env['CI'];
  return v !== undefined && v !== '' && !/^(0|false|no)$/i.test(v);
}

/** What a file whose tools are `missing` does: run, skip with a line, or fail with a line. */
export function toolVerdict(
  file: string,
  missing: readonly RtlTool[],
  ci: boolean,
): { action: 'run' } | { action: 'skip' | 'fail'; message: string } {
  if (missing.length === 0) return { action: 'run' };
  const what = `${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not installed (${missing.map((t) => INSTALL[t]).join('; ')})`;
  return ci
    ? { action: 'fail', message: `${file}: CI is set, so the RTL tests must run, but ${what}` }
    : { action: 'skip', message: `SKIPPED ${file}: ${what}` };
}

/** True when every tool is installed; otherwise skip (with a line) or, under CI, add a failing test. */
export function haveTools(file: string, tools: readonly RtlTool[]): boolean {
  const v = toolVerdict(
    file,
    tools.filter((t) => !toolInstalled(t)),
    ciIsSet(),
  );
  if (v.action === 'run') return true;
  if (v.action === 'skip') console.warn(v.message);
  else
    it(`required tools: ${tools.join(', ')}`, () => {
      throw new Error(v.message);
    });
  return false;
}
