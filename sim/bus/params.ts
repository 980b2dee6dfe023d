/**
 * The numbers the bus model needs, derived once from a config with a `bus`
 * section (arch/bus.ts) and the program's length.
 */
import {
  deriveArch,
  entryTransfers,
  SimError,
  type ArchConfig,
  type BusConfig,
  type BusRun,
  type EntryTransfer,
} from '../../arch/index.js';
import { boardRun } from './board-slave.js';

export interface BusParams {
  bus: BusConfig;
  busBytes: number;
  /** INP, WGT, PARAM (LOAD `buf` order), then OUT: AXI beats and AxSIZE per entry */
  entries: EntryTransfer[];
  /** the board slave's run (bus.slave 'board'), else undefined: the deterministic slave */
  board: BusRun | undefined;
}

/**
 * The bus model's parameters; throws SimError when the config has no bus
 * section or the program does not fit the shell's instruction memory (the
 * shell refuses it with ERROR.LENGTH; a streaming ring takes any length).
 */
export function busParams(cfg: ArchConfig, programWords: number, run?: Partial<BusRun>): BusParams {
  const bus = cfg.bus;
  if (!bus) throw new SimError('the config has no bus section (config.bus): the bus model needs one', 'config.bus');
  // a streaming shell's ring holds any program; a loading shell's instruction memory the whole program
  if (!bus.stream && programWords > bus.fetchWords)
    throw new SimError(
      `the program has ${programWords} instruction words, more than the shell's instruction memory of config.bus.fetchWords = ${bus.fetchWords}: ` +
        `raise bus.fetchWords to at least ${2 ** Math.ceil(Math.log2(programWords))} (or simulate with memory: 'core')`,
      'config.bus.fetchWords',
    );
  const a = deriveArch(cfg);
  const entries = entryTransfers(cfg.dram.busBytes, {
    inp: a.inpEntryBytes,
    wgt: a.wgtEntryBytes,
    param: a.paramEntryBytes,
    out: a.outEntryBytes,
  });
  const board = bus.slave === 'board' ? boardRun(programWords, run) : undefined;
  return { bus, busBytes: cfg.dram.busBytes, entries, board };
}
