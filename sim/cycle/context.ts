/**
 * What the cycle engine's units share: the program, the memories, the
 * instruction queues, the token counters, the counters, and every
 * instruction's dispatch D, start S and end E as they happen.
 */
import type { Program } from '../../isa/index.js';
import type { BusParams, ReadPath, ReadRequest, RingModel, WritePath } from '../bus/index.js';
import type { BusPaths } from '../bus/index.js';
import { emptyCounters, type Counters } from '../counters.js';
import type { Scratchpads } from '../memory.js';
import { simOpOf, type CycleBehaviour } from '../ops/index.js';
import type { PreparedProgram } from '../prepare.js';
import { TokenCounters } from './tokens.js';

export type UnitState = 'idle' | 'busy' | 'token' | 'dram';

/** The bus model's paths, when the config's bus section is modelled (sim/bus/). */
export interface CycleBus {
  params: BusParams;
  read: ReadPath;
  write: WritePath;
  ring: RingModel | undefined;
  paths: BusPaths;
  /** the LOAD unit's row request this cycle */
  offer: ReadRequest | undefined;
  /** the STORE unit stepped the write path this cycle */
  wrote: boolean;
}

export class CycleContext {
  readonly D: Float64Array;
  readonly S: Float64Array;
  readonly E: Float64Array;
  /** per unit (load, compute, store): dispatched, not started instructions */
  readonly queues: number[][] = [[], [], []];
  readonly tokens: TokenCounters;
  readonly c: Counters = emptyCounters();

  constructor(
    readonly p: PreparedProgram,
    readonly program: Program,
    readonly dram: Uint8Array,
    readonly sp: Scratchpads,
    readonly bus?: CycleBus,
  ) {
    this.D = new Float64Array(p.count).fill(NaN);
    this.S = new Float64Array(p.count).fill(NaN);
    this.E = new Float64Array(p.count).fill(NaN);
    this.tokens = new TokenCounters(p);
  }

  /** The head of unit u's queue if its tokens are there, else -1. */
  startable(u: number): number {
    const q = this.queues[u]!;
    return q.length > 0 && this.tokens.available(q[0]!) ? q[0]! : -1;
  }

  /** Unit u starts its queue head at cycle t: it leaves the queue and takes its tokens. */
  start(u: number, t: number): number {
    const i = this.queues[u]!.shift()!;
    this.S[i] = t;
    this.tokens.pop(i);
    return i;
  }

  /** Instruction i's last cycle is t: E = t + 1, its pushes land at the end of the cycle. */
  retire(i: number, t: number): void {
    this.E[i] = t + 1;
    this.tokens.push(i);
  }

  /** What instruction i's module says the cycle engine does with it. */
  behaviour(i: number): CycleBehaviour<unknown> {
    return simOpOf(this.p.code[i]!).cycle as CycleBehaviour<unknown>;
  }
}
