/**
 * The numbers the bus model needs, derived once from a config with a `bus`
 * section (arch/bus.ts) and the program's length.
 */
import { deriveArch, entryTransfers, SimError, type ArchConfig, type BusConfig, type EntryTransfer } from '../../arch/index.js';

export interface BusParams {
  bus: BusConfig;
  busBytes: number;
  /** INP, WGT, PARAM (LOAD `buf` order), then OUT: AXI beats and AxSIZE per entry */
  entries: EntryTransfer[];
  /** instruction words per read beat (>= 1: a bus of 16 bytes or more moves whole words) */
  wordsPerBeat: number;
  /** read beats per instruction word (>= 1: a bus narrower than 16 bytes takes several) */
  beatsPerWord: number;
  /** instruction words the shell fetches (the program image, HALT included) */
  programWords: number;
  /** words in the instruction buffer when the core starts */
  prefillWords: number;
  /** words per refill request (a whole number of beats) */
  requestWords: number;
}

/** The bus model's parameters; throws SimError when the config has no bus section. */
export function busParams(cfg: ArchConfig, programWords: number): BusParams {
  const bus = cfg.bus;
  if (!bus) throw new SimError('the config has no bus section (config.bus): the bus model needs one', 'config.bus');
  const a = deriveArch(cfg);
  const busBytes = cfg.dram.busBytes;
  const entries = entryTransfers(busBytes, {
    inp: a.inpEntryBytes,
    wgt: a.wgtEntryBytes,
    param: a.paramEntryBytes,
    out: a.outEntryBytes,
  });
  const wordsPerBeat = Math.max(1, busBytes / 16);
  const beatsPerWord = Math.max(1, 16 / busBytes);
  const requestWords = Math.max(bus.fetchBurst, wordsPerBeat);
  const lineUp = (w: number) => Math.ceil(w / wordsPerBeat) * wordsPerBeat;
  return {
    bus,
    busBytes,
    entries,
    wordsPerBeat,
    beatsPerWord,
    programWords,
    prefillWords: Math.min(lineUp(programWords), bus.fetchWords),
    requestWords,
  };
}
