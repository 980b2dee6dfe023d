/**
 * The open FPGA tools: found on PATH (Debian yosys, nextpnr-ice40,
 * fpga-icestorm), else from the YoWASP npm packages when they are installed
 * (@yowasp/yosys, @yowasp/nextpnr-ice40: `npm install` alone then suffices).
 * Every run keeps its log next to the build; a failure is one error naming the
 * tool, the log file and the log's relevant lines.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../arch/index.js';
import { toolRunInfo, watchTool } from '../rtl-gen/index.js';
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

/** Run a tool in `cwd`, its output kept in `log` as it comes; throws FpgaError with the relevant lines on failure. */
export function runLogged(tool: Tool, args: string[], cwd: string, log: string, timeoutMs = 1_800_000): string {
  const fd = openSync(join(cwd, log), 'w');
  writeSync(fd, `$ ${tool.name} ${args.join(' ')}\n`);
  // the tool's own log (-l FILE) has the phases; its stdout is quiet under -q
  const own = args[args.indexOf('-l') + 1];
  const shown = watchTool(
    toolRunInfo(
      `${tool.name} ${args.includes('-p') ? '(synthesis)' : ''}`.trim(),
      join(cwd, args.includes('-l') && own ? own : log),
      tool.name === 'yosys' ? 'yosys' : tool.name === 'nextpnr-ice40' ? 'nextpnr' : undefined,
    ),
  );
  let r: ReturnType<typeof spawnSync>;
  try {
    r = spawnSync(tool.command, args, { cwd, stdio: ['ignore', fd, fd], timeout: timeoutMs });
  } finally {
    closeSync(fd);
  }
  shown.stop(!r.error && r.status === 0);
  const text = readFileSync(join(cwd, log), 'utf8');
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : `exited with ${r.status ?? r.signal}`;
    throw new FpgaError(`${tool.name} ${why}; from ${join(cwd, log)}:\n${relevantLines(text).join('\n')}`, tool.name);
  }
  return text;
}
