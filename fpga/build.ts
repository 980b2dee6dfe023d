/**
 * `nibble fpga build --board NAME`: the board design (the AXI shell, block RAM
 * memory, UART host link; fpga/board-top.ts) through Yosys synth_ice40,
 * nextpnr-ice40 and icepack. Everything stays next to the bitstream: the
 * Verilog, the pin constraints, the three tool logs, nextpnr's JSON report, a
 * timing summary and build.json. Builds are cached by the hash of their inputs
 * (.cache/fpga/), so the tests and the bench place a design once.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configHash, contentKey, packageRoot, type ArchConfig, type Warning } from '../arch/index.js';
import { generateShell, headerComment, type ShellOptions } from '../rtl-gen/index.js';
import { boardTopModule } from './board-top.js';
import { boardByName, FpgaError, pcf, type Board } from './boards.js';
import { checkOutputDirectory, deliverDirectory } from './deliver.js';
import { relevantLines, requireTool, runLogged, type Tool } from './tools.js';

/** Logic cells and block RAMs of the devices (iCE40 family data sheet). */
export const DEVICE_CAPACITY: Record<Board['device'], { lc: number; ram: number }> = {
  hx8k: { lc: 7680, ram: 32 },
  up5k: { lc: 5280, ram: 30 },
};

export interface FpgaBuildOptions {
  board: string;
  /** output directory (default build/fpga/<board>) */
  out?: string;
  /** the machine (default: the board's) */
  config?: ArchConfig;
  shell?: ShellOptions;
  /** nextpnr placement seed (default 1) */
  seed?: number;
  /** cache root (default <repo>/.cache/fpga); false: no cache */
  cacheDir?: string | false;
}

export interface FpgaBuildResult {
  board: string;
  device: string;
  dir: string;
  bitstream: string;
  files: { pcf: string; logs: string[]; timing: string; report: string };
  configHash: string;
  /** resource -> [used, available] (nextpnr) */
  utilisation: Record<string, [number, number]>;
  fmaxMHz: number;
  /** the board's clock (the oscillator, no PLL) and the config's clockMHz (what the simulator's reports assume) */
  boardClockMHz: number;
  configClockMHz: number;
  warnings: Warning[];
  tools: { name: string; via: string }[];
  cached: boolean;
  seconds: number;
}

function designFiles(b: Board, cfg: ArchConfig, shell: ShellOptions): { name: string; text: string }[] {
  const g = generateShell(cfg, shell);
  const top = boardTopModule(b, g.params, g.registers.addrBits);
  return [
    ...g.files,
    {
      name: 'nibble_board_top.v',
      text: `${headerComment(g.params.cfg, `nibble_board_top: ${b.description}`)}\`default_nettype none\n\n${top}\n\`default_nettype wire\n`,
    },
  ];
}

function parseUtilisation(log: string): Record<string, [number, number]> {
  const u: Record<string, [number, number]> = {};
  for (const m of log.matchAll(/Info:\s+(\w+):\s+(\d+)\/\s*(\d+)\s+\d+%/g)) u[m[1]!] = [Number(m[2]), Number(m[3])];
  return u;
}

function timingSummary(log: string): { fmax: number; text: string } {
  const f = [...log.matchAll(/Max frequency for clock\s+'[^']*':\s+([\d.]+) MHz/g)];
  if (!f.length) throw new FpgaError('nextpnr reported no clock frequency (see nextpnr.log)', 'nextpnr-ice40');
  const fmax = Number(f[f.length - 1]![1]);
  const start = log.search(/Critical path report for clock/);
  const path = start >= 0 ? log.slice(start).split('\n').slice(0, 60).join('\n') : '';
  return { fmax, text: `${f.map((m) => m[0]).join('\n')}\n\n${path}\n` };
}

function placeAndRoute(b: Board, tool: Tool, dir: string, seed: number): string {
  const dev = b.device === 'hx8k' ? '--hx8k' : '--up5k';
  const args = [dev, '--package', b.package, '--json', 'nibble.json', '--pcf', `${b.name}.pcf`, '--asc', 'nibble.asc'];
  args.push('--freq', String(b.clockMHz), '--seed', String(seed), '--report', 'report.json', '-l', 'nextpnr.log', '-q');
  try {
    runLogged(tool, args, dir, 'nextpnr.stdout.log');
  } catch (e) {
    const log = existsSync(join(dir, 'nextpnr.log')) ? readFileSync(join(dir, 'nextpnr.log'), 'utf8') : '';
    const lc = parseUtilisation(log)['ICESTORM_LC'];
    if (lc && lc[0] > lc[1]) {
      throw new FpgaError(
        `the design does not fit the ${b.description}: it needs ${lc[0]} logic cells, the device has ${lc[1]} ` +
          `(log: ${join(dir, 'nextpnr.log')}): use a smaller machine (--config with a smaller array, shallower queues, ` +
          'fewer requant stages) or the other board (nibble fpga boards)',
        `nextpnr-ice40 (${b.name})`,
      );
    }
    if (log && e instanceof FpgaError)
      throw new FpgaError(
        `${e.message.split(';')[0]}; from ${join(dir, 'nextpnr.log')}:\n${relevantLines(log).join('\n')}`,
        'nextpnr-ice40',
      );
    throw e;
  }
  return readFileSync(join(dir, 'nextpnr.log'), 'utf8');
}

/** What a placed Fmax means for the config's clock (the simulator's reports) and the board's oscillator. */
export function clockWarnings(fmaxMHz: number, configClockMHz: number, boardClockMHz: number): Warning[] {
  const w: Warning[] = [];
  if (configClockMHz > fmaxMHz)
    w.push({
      code: 'NB-P101',
      message: `config.clockMHz is ${configClockMHz} MHz but the placed design's Fmax is ${fmaxMHz.toFixed(2)} MHz: the simulator's latencies assume a clock the board cannot run; use --clock-from-pnr or set clockMHz <= ${Math.floor(fmaxMHz)}`,
    });
  if (boardClockMHz > fmaxMHz)
    w.push({
      code: 'NB-P102',
      message: `the board clock (${boardClockMHz} MHz) exceeds the placed design's Fmax (${fmaxMHz.toFixed(2)} MHz): the bitstream will not run reliably`,
    });
  return w;
}

/**
 * The whole flow in a work directory (the cache entry, or a temporary one),
 * delivered to `out` (io/: checked first, all or none; a failed build
 * delivers its logs too when there is no cache), or a cached copy.
 */
export function buildBoard(opts: FpgaBuildOptions): FpgaBuildResult {
  const b = boardByName(opts.board);
  const cfg = opts.config ?? b.config;
  const shell = { ...b.shell, ...opts.shell };
  const seed = opts.seed ?? 1;
  const out = opts.out ?? join('build', 'fpga', b.name);
  checkOutputDirectory(out);
  const files = designFiles(b, cfg, shell);
  const tools = { yosys: requireTool('yosys'), nextpnr: requireTool('nextpnr-ice40'), icepack: requireTool('icepack') };
  const key = contentKey(
    JSON.stringify({
      b: b.name,
      seed,
      files: files.map((f) => f.text),
      yosys: yosysScript(b, files),
      tools: Object.values(tools).map((t) => t.via),
    }),
  );
  const cacheRoot = opts.cacheDir === false ? undefined : (opts.cacheDir ?? join(packageRoot(), '.cache', 'fpga'));
  const cached = cacheRoot ? join(cacheRoot, `${b.name}-${key}`) : undefined;
  const t0 = Date.now();
  // a design that failed (does not fit, a tool error) fails again from the cache, with the same message
  if (cached && existsSync(join(cached, 'error.txt')))
    throw new FpgaError(readFileSync(join(cached, 'error.txt'), 'utf8'));
  const hit = cached !== undefined && existsSync(join(cached, 'build.json'));
  if (hit) deliverDirectory(cached, out);
  else runFresh(b, files, tools, seed, cfg, cached, out);
  return boardResult(b, cfg, out, hit, t0);
}

/** Run the flow in a new work directory and keep it in the cache (when there is one) and in `out`. */
function runFresh(
  b: Board,
  files: { name: string; text: string }[],
  tools: { yosys: Tool; nextpnr: Tool; icepack: Tool },
  seed: number,
  cfg: ArchConfig,
  cached: string | undefined,
  out: string,
): void {
  let work: string;
  if (cached) {
    work = `${cached}.tmp-${process.pid}`;
    rmSync(work, { recursive: true, force: true });
    mkdirSync(join(work, 'rtl'), { recursive: true });
  } else {
    work = mkdtempSync(join(tmpdir(), 'nibble-fpga-'));
    mkdirSync(join(work, 'rtl'));
  }
  try {
    runFlow(b, files, tools, work, seed, cfg);
    if (cached) {
      rmSync(cached, { recursive: true, force: true });
      renameSync(work, cached);
    }
    deliverDirectory(cached ?? work, out);
  } catch (e) {
    if (!(e instanceof FpgaError)) throw e;
    // the logs stay (in the cache entry, or in `out` without a cache): the message names them there
    const keep = cached ?? out;
    writeFileSync(join(work, 'error.txt'), e.message.split(work).join(keep));
    if (cached) {
      rmSync(cached, { recursive: true, force: true });
      renameSync(work, cached);
    } else deliverDirectory(work, out);
    throw new FpgaError(readFileSync(join(keep, 'error.txt'), 'utf8'));
  } finally {
    // after a rename into the cache there is nothing left here
    rmSync(work, { recursive: true, force: true });
  }
}

function boardResult(b: Board, cfg: ArchConfig, out: string, hit: boolean, t0: number): FpgaBuildResult {
  const summary = JSON.parse(readFileSync(join(out, 'build.json'), 'utf8')) as Omit<
    FpgaBuildResult,
    'cached' | 'seconds' | 'dir' | 'warnings'
  >;
  const abs = (f: string) => join(out, f);
  return {
    ...summary,
    warnings: clockWarnings(summary.fmaxMHz, cfg.clockMHz, b.clockMHz),
    dir: out,
    bitstream: abs('nibble.bin'),
    files: {
      pcf: abs(`${b.name}.pcf`),
      logs: ['yosys.log', 'nextpnr.log', 'icepack.log'].map(abs),
      timing: abs('timing.txt'),
      report: abs('report.json'),
    },
    cached: hit,
    seconds: (Date.now() - t0) / 1000,
  };
}

/** The Yosys script of a board build (part of the build's cache key). */
function yosysScript(b: Board, files: { name: string }[]): string {
  const dsp = b.device === 'up5k' ? ' -dsp' : '';
  // -abc9 -dff: ABC9 mapping with flip-flops in the optimization; the HX8K board design (streaming, tap packing)
  // packs into 7,592 of 7,680 logic cells this way and into 7,983 without (docs/board.md)
  return `read_verilog ${files.map((f) => `rtl/${f.name}`).join(' ')}; synth_ice40${dsp} -abc9 -dff -top nibble_board_top -json nibble.json; tee -o yosys-stat.txt stat`;
}

function runFlow(
  b: Board,
  files: { name: string; text: string }[],
  tools: { yosys: Tool; nextpnr: Tool; icepack: Tool },
  dir: string,
  seed: number,
  cfg: ArchConfig,
): void {
  for (const f of files) writeFileSync(join(dir, 'rtl', f.name), f.text);
  writeFileSync(join(dir, `${b.name}.pcf`), pcf(b));
  runLogged(tools.yosys, ['-q', '-l', 'yosys.log', '-p', yosysScript(b, files)], dir, 'yosys.stdout.log');
  const log = placeAndRoute(b, tools.nextpnr, dir, seed);
  runLogged(tools.icepack, ['nibble.asc', 'nibble.bin'], dir, 'icepack.log');
  const util = parseUtilisation(log);
  const t = timingSummary(log);
  writeFileSync(join(dir, 'timing.txt'), t.text);
  const summary = {
    board: b.name,
    device: `iCE40${b.device.toUpperCase()}-${b.package.toUpperCase()}`,
    configHash: configHash(cfg),
    utilisation: util,
    fmaxMHz: t.fmax,
    boardClockMHz: b.clockMHz,
    configClockMHz: cfg.clockMHz,
    tools: Object.values(tools).map((x) => ({ name: x.name, via: x.via })),
  };
  writeFileSync(join(dir, 'build.json'), `${JSON.stringify(summary, null, 2)}\n`);
}
