/**
 * `generateShell(cfg, opts)`: the core's Verilog (rtl-gen/generate.ts, ports
 * unchanged) plus the AXI shell around it, one file per module, each with the
 * config header. The shell only uses the core's top-level ports.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configHash, type ArchConfig } from '../../arch/index.js';
import { generateVerilog, headerComment, type GeneratedRtl } from '../generate.js';
import { axilRegsModule } from './control.js';
import { shellParams, type ShellOptions, type ShellParams } from './options.js';
import { axiReadModule } from './read.js';
import { registerMap, type RegisterMap } from './registers.js';
import { axiTopModule } from './top.js';
import { axiWriteModule } from './write.js';

export const SHELL_TOP = 'nibble_axi_top';

export interface GeneratedShell extends GeneratedRtl {
  params: ShellParams;
  registers: RegisterMap;
}

function moduleFile(cfg: ArchConfig, name: string, body: string): { name: string; text: string } {
  return {
    name: `${name}.v`,
    text: `${headerComment(cfg, `${name}: nibble AXI shell (docs/board.md)`)}\`default_nettype none\n\n${body}\n\`default_nettype wire\n`,
  };
}

export function generateShell(cfg: ArchConfig, opts: ShellOptions = {}): GeneratedShell {
  const p = shellParams(cfg, opts);
  const regs = registerMap(p.cfg, opts);
  const core = generateVerilog(p.cfg, {
    indexBits: p.indexBits,
    counterBits: p.counterBits,
    insnHandshake: p.streaming,
  });
  const files = [
    ...core.files,
    moduleFile(p.cfg, 'nibble_axil_regs', axilRegsModule(regs)),
    moduleFile(p.cfg, 'nibble_axi_rd', axiReadModule(p)),
    moduleFile(p.cfg, 'nibble_axi_wr', axiWriteModule(p)),
    moduleFile(p.cfg, SHELL_TOP, axiTopModule(p, regs)),
  ];
  return { top: SHELL_TOP, files, configHash: configHash(p.cfg), params: p, registers: regs };
}

/** Write the shell's Verilog into `dir` (created); returns the written paths. */
export function writeShell(cfg: ArchConfig, dir: string, opts: ShellOptions = {}): string[] {
  mkdirSync(dir, { recursive: true });
  return generateShell(cfg, opts).files.map((f) => {
    const path = join(dir, f.name);
    writeFileSync(path, f.text);
    return path;
  });
}
