/**
 * The open FPGA tools: found on PATH (Debian yosys, nextpnr-ice40,
 * fpga-icestorm), else from the YoWASP npm packages when they are installed
 * (@yowasp/yosys, @yowasp/nextpnr-ice40: WebAssembly builds, so `npm install`
 * alone then suffices; they are a JavaScript API, run through
 * dist/fpga/yowasp-run.js as if they were the commands).
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
  /** arguments before the tool's own (the YoWASP runner and the tool's name) */
  prefix: string[];
  via: 'debian' | 'yowasp';
}

const YOWASP: Record<ToolName, string> = {
  yosys: '@yowasp/yosys',
  'nextpnr-ice40': '@yowasp/nextpnr-ice40',
  icepack: '@yowasp/nextpnr-ice40',
};
const DEBIAN: Record<ToolName, string> = { yosys: 'yosys', 'nextpnr-ice40': 'nextpnr-ice40', icepack: 'fpga-icestorm' };

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

/**
 * Where a tool comes from, or undefined. `preferYowasp` tries the npm package
 * first (tests of that path); NIBBLE_FPGA_TOOLS=debian or =yowasp allows only
 * that path.
 */
export function locateTool(name: ToolName, preferYowasp = false): Tool | undefined {
  const only = process.env['NIBBLE_FPGA_TOOLS'];
  if (only !== undefined && only !== 'debian' && only !== 'yowasp')
    throw new FpgaError(`must be debian or yowasp, got '${only}'`, 'NIBBLE_FPGA_TOOLS');
  const root = packageRoot();
  const runner = join(root, 'dist', 'fpga', 'yowasp-run.js');
  const installed = existsSync(join(root, 'node_modules', YOWASP[name], 'package.json')) && existsSync(runner);
  const yowasp: Tool | undefined = installed
    ? { name, command: process.execPath, prefix: [runner, name], via: 'yowasp' }
    : undefined;
  const debian: Tool | undefined = onPath(name) ? { name, command: name, prefix: [], via: 'debian' } : undefined;
  if (only) return only === 'debian' ? debian : yowasp;
  return preferYowasp ? (yowasp ?? debian) : (debian ?? yowasp);
}

export function requireTool(name: ToolName): Tool {
  const t = locateTool(name);
  if (!t)
    throw new FpgaError(
      `${name} is not installed: apt-get install ${DEBIAN[name]} (Debian), or npm install ${YOWASP[name]} (YoWASP, no system packages)`,
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
    r = spawnSync(tool.command, [...tool.prefix, ...args], { cwd, stdio: ['ignore', fd, fd], timeout: timeoutMs });
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
