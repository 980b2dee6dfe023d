/**
 * Xilinx parts: Yosys `synth_xilinx` of the AXI shell (nibble_axi_top with the
 * core) for a named part, its resources against the part's, and a clock
 * estimate from the longest register-to-register logic path (Yosys `ltp` on a
 * generic 6-input-LUT mapping of the same design),
 * at a per-level delay of the part's family and speed grade. The estimate is a
 * first look for sizing a design, not timing closure: Vivado's report decides.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configHash, contentKey, packageRoot, type ArchConfig } from '../arch/index.js';
import { generateShell, SHELL_TOP, type ShellOptions } from '../rtl-gen/index.js';
import { FpgaError } from './boards.js';
import { checkOutputDirectory, deliverDirectory } from './deliver.js';
import { requireTool, runLogged } from './tools.js';

export interface XilinxPart {
  name: string;
  family: 'xc7' | 'xcup';
  luts: number;
  ffs: number;
  /** RAMB36 equivalents (a RAMB18 counts half) */
  bram36: number;
  dsps: number;
  /** delay of one logic level (a LUT and its routing), ns; clock overhead: clock-to-out plus setup, ns */
  levelNs: number;
  overheadNs: number;
}

/** Resource counts from the parts' data sheets (DS180, DS891); level delays: typical -1 speed grade figures. */
export const XILINX_PARTS: Record<string, XilinxPart> = {
  xc7a35t: {
    name: 'xc7a35t',
    family: 'xc7',
    luts: 20800,
    ffs: 41600,
    bram36: 50,
    dsps: 90,
    levelNs: 0.55,
    overheadNs: 0.9,
  },
  xc7z020: {
    name: 'xc7z020',
    family: 'xc7',
    luts: 53200,
    ffs: 106400,
    bram36: 140,
    dsps: 220,
    levelNs: 0.55,
    overheadNs: 0.9,
  },
  xczu3eg: {
    name: 'xczu3eg',
    family: 'xcup',
    luts: 70560,
    ffs: 141120,
    bram36: 216,
    dsps: 360,
    levelNs: 0.35,
    overheadNs: 0.6,
  },
};

export interface XilinxResult {
  part: string;
  configHash: string;
  luts: number;
  ffs: number;
  bram36: number;
  dsps: number;
  /** cells on the longest path between registers */
  logicLevels: number;
  estimatedMHz: number;
  /** resource -> [used, available] */
  utilisation: Record<string, [number, number]>;
  log: string;
  seconds: number;
}

export function xilinxPart(name: string): XilinxPart {
  const p = XILINX_PARTS[name.toLowerCase().split('-')[0]!];
  if (!p)
    throw new FpgaError(`unknown Xilinx part '${name}' (known: ${Object.keys(XILINX_PARTS).join(', ')})`, '--part');
  return p;
}

function count(stat: string, re: RegExp): number {
  let n = 0;
  for (const m of stat.matchAll(/^\s+(\w+)\s+(\d+)\s*$/gm)) if (re.test(m[1]!)) n += Number(m[2]);
  return n;
}

/**
 * synth_xilinx of the shell for `partName`; the logs stay in `dir` (delivered
 * through io/: checked before Yosys starts, all or none). Throws FpgaError when
 * the design does not fit. Results are cached in <repo>/.cache/fpga/ by the
 * hash of the design and the part.
 */
export function synthXilinx(cfg: ArchConfig, partName: string, dir: string, shell: ShellOptions = {}): XilinxResult {
  const part = xilinxPart(partName);
  checkOutputDirectory(dir);
  const g = generateShell(cfg, shell);
  const key = contentKey(JSON.stringify([part, g.files.map((f) => f.text), xilinxScripts(part, g.files)]));
  const cache = join(packageRoot(), '.cache', 'fpga', `xilinx-${part.name}-${key}`);
  if (existsSync(join(cache, 'result.json'))) {
    deliverDirectory(cache, dir);
    return {
      ...(JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as XilinxResult),
      log: join(dir, 'yosys-xilinx.log'),
      seconds: 0,
    };
  }
  const work = `${cache}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'rtl'), { recursive: true });
  try {
    const r = { ...synthXilinxUncached(cfg, part, g, work), log: join(dir, 'yosys-xilinx.log') };
    writeFileSync(join(work, 'result.json'), `${JSON.stringify(r, null, 2)}\n`);
    rmSync(cache, { recursive: true, force: true });
    renameSync(work, cache);
    deliverDirectory(cache, dir);
    return r;
  } catch (e) {
    if (!(e instanceof FpgaError)) throw e;
    // the logs stay in `dir`: the message names them there
    deliverDirectory(work, dir);
    throw new FpgaError(e.message.split(work).join(dir));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The Yosys scripts of a part's synthesis (part of its cache key): resources, and logic depth for the clock estimate. */
function xilinxScripts(part: XilinxPart, files: { name: string }[]): { script: string; depth: string } {
  const read = `read_verilog ${files.map((f) => `rtl/${f.name}`).join(' ')}`;
  const script = [read, `synth_xilinx -family ${part.family} -top ${SHELL_TOP} -flatten`, 'tee -o stat.txt stat'].join(
    '; ',
  );
  // logic depth on a generic 6-input-LUT mapping, where ltp can tell flip-flops from logic (it cannot for FDRE cells)
  const depth = [
    read,
    `synth -top ${SHELL_TOP} -flatten -run begin:fine`,
    'opt -fast',
    'memory -nomap',
    'techmap',
    'abc -lut 6',
    'opt -fast',
    'tee -o ltp.txt ltp -noff',
  ].join('; ');
  return { script, depth };
}

function synthXilinxUncached(
  cfg: ArchConfig,
  part: XilinxPart,
  g: ReturnType<typeof generateShell>,
  dir: string,
): XilinxResult {
  const yosys = requireTool('yosys');
  for (const f of g.files) writeFileSync(join(dir, 'rtl', f.name), f.text);
  const t0 = Date.now();
  const { script, depth } = xilinxScripts(part, g.files);
  runLogged(yosys, ['-q', '-l', 'yosys-xilinx.log', '-p', script], dir, 'yosys-xilinx.stdout.log');
  runLogged(yosys, ['-q', '-l', 'yosys-depth.log', '-p', depth], dir, 'yosys-depth.stdout.log');
  const stat = readFileSync(join(dir, 'stat.txt'), 'utf8');
  const ltp = /length=(\d+)/.exec(readFileSync(join(dir, 'ltp.txt'), 'utf8'));
  const levels = ltp ? Number(ltp[1]) : NaN;
  const luts = count(stat, /^LUT[1-6]$/);
  const ffs = count(stat, /^FD[A-Z]*$/);
  const bram36 = count(stat, /^RAMB36/) + count(stat, /^RAMB18/) / 2;
  const dsps = count(stat, /^DSP/);
  const utilisation: Record<string, [number, number]> = {
    LUT: [luts, part.luts],
    FF: [ffs, part.ffs],
    RAMB36: [bram36, part.bram36],
    DSP: [dsps, part.dsps],
  };
  for (const [k, [u, a]] of Object.entries(utilisation)) {
    if (u > a)
      throw new FpgaError(
        `the design does not fit the ${part.name}: ${u} ${k} of ${a} (config ${configHash(cfg)}; log: ${join(dir, 'yosys-xilinx.log')}): use a larger part or a smaller machine`,
        `synth_xilinx (${part.name})`,
      );
  }
  const periodNs = levels * part.levelNs + part.overheadNs;
  return {
    part: part.name,
    configHash: configHash(cfg),
    luts,
    ffs,
    bram36,
    dsps,
    logicLevels: levels,
    estimatedMHz: Math.round((1000 / periodNs) * 10) / 10,
    utilisation,
    log: join(dir, 'yosys-xilinx.log'),
    seconds: (Date.now() - t0) / 1000,
  };
}
