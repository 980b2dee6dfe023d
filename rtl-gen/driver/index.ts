/**
 * The generated C driver of the AXI shell (docs/board.md): `driverFiles(cfg)`
 * returns the header generated for the config plus the driver sources;
 * `writeDriver` puts them in a directory (`nibble rtl --driver -o DIR`).
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ArchConfig } from '../../arch/index.js';
import type { ShellOptions } from '../shell/options.js';
import { generateRegsHeader } from './header.js';
import { DRIVER_C, DRIVER_H, EXAMPLE_C, IO_BAREMETAL_C, IO_LINUX_C, IO_UART_C } from './sources.js';

export { generateRegsHeader } from './header.js';
export { DRIVER_C, DRIVER_H } from './sources.js';

export interface DriverFile {
  name: string;
  text: string;
}

export function driverFiles(cfg: ArchConfig, opts: ShellOptions = {}): DriverFile[] {
  return [
    { name: 'nibble_regs.h', text: generateRegsHeader(cfg, opts) },
    { name: 'nibble_driver.h', text: DRIVER_H },
    { name: 'nibble_driver.c', text: DRIVER_C },
    { name: 'nibble_io_baremetal.c', text: IO_BAREMETAL_C },
    { name: 'nibble_io_linux.c', text: IO_LINUX_C },
    { name: 'nibble_io_uart.c', text: IO_UART_C },
    { name: 'nibble_run.c', text: EXAMPLE_C },
  ];
}

/** Write the driver into `dir` (created); each file atomically. Returns the written paths. */
export function writeDriver(cfg: ArchConfig, dir: string, opts: ShellOptions = {}): string[] {
  mkdirSync(dir, { recursive: true });
  return driverFiles(cfg, opts).map((f) => {
    const path = join(dir, f.name);
    writeFileSync(`${path}.tmp`, f.text);
    renameSync(`${path}.tmp`, path);
    return path;
  });
}
