/**
 * The open FPGA tools: found on PATH (Debian yosys, nextpnr-ice40,
 * fpga-icestorm), else from the YoWASP npm packages when they are installed
 * (@yowasp/yosys, @yowasp/nextpnr-ice40: `npm install` alone then suffices).
 * Every run keeps its log next to the build; a failure is one error naming the
 * tool, the log file and the log's relevant lines.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../arch/index.js';
import { FpgaError } from './boards.js';

export type ToolName = 'yosys' | 'nextpnr-ice40' | 'icepack';

export interface Tool {
  name: ToolName;
  command: string;
  via: 'debian' | 'yowasp';
}

const YOWASP: Record<ToolName, { pkg: string; bin: string }> = {
  yosys: { pkg: '@yowasp/yosys', bin: 'yowasp-yosys' },
  'nextpnr-ice40': { pkg: '@yowasp/nextpnr-ice40', bin: 'yowasp-nextpnr-ice40' },
  icepack: { pkg: '@yowasp/nextpnr-ice40', bin: 'yowasp-icepack' },
};
const DEBIAN: Record<ToolName, string> = { yosys: 'yosys', 'nextpnr-ice40': 'nextpnr-ice40', icepack: 'fpga-icestorm' };

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

/** Where a tool comes from, or undefined. `preferYowasp` tries the npm package first (tests of that path). */
export function locateTool(name: ToolName, preferYowasp = false): Tool | undefined {
  const y = join(packageRoot(), 'node_modules', '.bin', YOWASP[name].bin);
  const yowasp = existsSync(y) ? ({ name, command: y, via: 'yowasp' } as const) : undefined;
  const debian = onPath(name) ? ({ name, command: name, via: 'debian' } as const) : undefined;
  return preferYowasp ? (yowasp ?? debian) : (debian ?? yowasp);
}

export function requireTool(name: ToolName): Tool {
  const t = locateTool(name);
  if (!t)
    throw new FpgaError(
      `${name} is not installed: apt-get install ${DEBIAN[name]} (Debian), or npm install ${YOWASP[name].pkg} (YoWASP, no system packages)`,
      name,
    );
  return t;
}

/** The lines of a tool log worth showing when it failed: errors and warnings that stop the flow, then the tail. */
export function relevantLines(log: string, max = 12): string[] {
  const lines = log.split('\n').filter((l) => l.trim() !== '');
  const hits = lines.filter((l) => /\b(ERROR|Error|error)\b|Unable to|failed|not fit|exceed/i.test(l));
  const pick = hits.length ? hits : lines;
  return pick.slice(-max);
}

/** Run a tool in `cwd`, its output kept in `log`; throws FpgaError with the relevant lines on failure. */
export function runLogged(tool: Tool, args: string[], cwd: string, log: string, timeoutMs = 1_800_000): string {
  const r = spawnSync(tool.command, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 28, timeout: timeoutMs });
  const text = `$ ${tool.name} ${args.join(' ')}\n${r.stdout ?? ''}${r.stderr ?? ''}`;
  writeFileSync(join(cwd, log), text);
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : `exited with ${r.status ?? r.signal}`;
    throw new FpgaError(`${tool.name} ${why}; from ${join(cwd, log)}:\n${relevantLines(text).join('\n')}`, tool.name);
  }
  return text;
}
