/**
 * `nibble verify --rtl --shell axi`: co-simulate through the AXI shell, driven
 * by the generated C driver against nibble's AXI slave model (cosim/shell.ts).
 * Without --bus-seed the bus is the deterministic model and every instruction's
 * cycles must match the simulator; with --bus-seed S the bus timing is random
 * (seed S, S+1, ... per program) and the outputs must match.
 */
import type { ArchConfig } from '../../arch/index.js';
import type { Program } from '../../isa/index.js';
import type { VerifyShellResult } from '../../cosim/index.js';
import { parseNonNegativeInt } from '../inputs.js';
import { cosimApi } from '../modules.js';
import { shellOptionsFrom } from '../shell-args.js';
import type { Terminal } from '../terminal.js';

export interface ShellChecked {
  name: string;
  ok: boolean;
  simCycles?: number;
  rtlCycles?: number;
  mismatch?: string;
}

function checked(name: string, v: VerifyShellResult): ShellChecked {
  return {
    name: `${name}${typeof v.bus === 'number' ? ` (random bus, seed ${v.bus})` : ''}`,
    ok: v.ok,
    simCycles: v.simCycles,
    rtlCycles: v.rtlCycles,
    ...(v.mismatch ? { mismatch: v.mismatch } : {}),
  };
}

export async function verifyShellRandomCli(
  term: Terminal,
  args: Record<string, unknown>,
  count: number,
  seed: number,
  cfg: ArchConfig | undefined,
): Promise<ShellChecked[]> {
  const api = await cosimApi('nibble verify --shell axi --random', ['verifyShellRandom']);
  const busSeed = parseNonNegativeInt(args['bus-seed'], 'bus-seed');
  const results: ShellChecked[] = [];
  const bar = term.progress('co-simulating (AXI shell)', count);
  api.verifyShellRandom({
    count,
    seed,
    ...(cfg ? { config: cfg } : {}),
    ...(busSeed !== undefined ? { busSeed } : {}),
    shell: shellOptionsFrom(args),
    onProgram: (_i, s, v) => {
      results.push(checked(`random program seed ${s} (config ${v.configHash})`, v));
      bar.tick();
    },
  });
  bar.stop();
  return results;
}

/** Verify one program (or one program per input) through the shell. */
export async function verifyShellPrograms(
  args: Record<string, unknown>,
  runs: { name: string; program: Program; inputs?: Record<string, Int32Array | Uint8Array> }[],
  onRun?: () => void,
): Promise<ShellChecked[]> {
  const api = await cosimApi('nibble verify --shell axi', ['verifyShellProgram']);
  const busSeed = parseNonNegativeInt(args['bus-seed'], 'bus-seed');
  const shell = shellOptionsFrom(args);
  return runs.map((r, i) => {
    const v = api.verifyShellProgram(r.program, {
      bus: busSeed === undefined ? 'deterministic' : busSeed + i,
      shell,
      ...(r.inputs ? { inputs: r.inputs } : {}),
      ...(args['irq'] === true ? { irq: true } : {}),
    });
    onRun?.();
    return checked(r.name, v);
  });
}
