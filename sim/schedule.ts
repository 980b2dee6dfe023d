/**
 * The timing model of docs/architecture.md sections 3-7 evaluated per
 * instruction (no data): dispatch D, start S and end E of every instruction.
 * Fetch, queues and tokens are modelled here; each unit's timing is
 * sim/timing.ts.
 * Values are computed in dependency order (a small worklist over fetch and the
 * three units), so an instruction whose token comes from a later instruction
 * simply waits until that one is known; if nothing can be computed any more
 * while instructions remain, the program deadlocks in hardware too.
 */
import { SimError } from '../arch/index.js';
import { TOKEN_COUNTER_MAX } from '../isa/index.js';
import { CHANNEL_NAMES, U_HALT, UNIT_NAMES, type PreparedProgram } from './prepare.js';
import { UnitTimeline } from './timing.js';

export interface Schedule {
  dispatch: Float64Array;
  start: Float64Array;
  end: Float64Array;
  /** T: cycle in which `done` rises */
  cycles: number;
  /** with a bus model (sim/bus/): per DMA instruction, the cycles of S..E-1 it waited for the bus (otherwise its occupancy's dramWait) */
  dramWait?: Float64Array;
  /** with the board slave (bus.slave 'board'): the flash's open read at the end (the next run's BusRun.flashNext), its bytes and READ commands */
  board?: BoardRunEnd;
}

export interface BoardRunEnd {
  flashNext: number | null;
  flashBytes: number;
  flashCommands: number;
}

/** Machine state at a deadlock, from either engine; both build the same message from it. */
export interface DeadlockState {
  /** per unit (load, compute, store): dispatched, not started instruction indices in queue order */
  queues: number[][];
  /** token counter values */
  tokens: number[];
  /** next instruction fetch wants to dispatch, or -1 when HALT was dispatched */
  fetchPc: number;
}

export function deadlockError(p: PreparedProgram, st: DeadlockState): SimError {
  const parts: string[] = [];
  let first = -1;
  for (let u = 0; u < 3; u++) {
    const q = st.queues[u]!;
    const name = UNIT_NAMES[u];
    if (q.length === 0) {
      parts.push(`${name} unit: queue empty`);
      continue;
    }
    const head = q[0]!;
    if (first < 0 || head < first) first = head;
    const waits: string[] = [];
    for (const ch of [p.pop0[head]!, p.pop1[head]!]) {
      if (ch >= 0 && st.tokens[ch]! <= 0) waits.push(`a ${CHANNEL_NAMES[ch]} token (counter ${st.tokens[ch]})`);
    }
    parts.push(
      `${name} unit: instruction ${head} (${p.code[head]!.op}) waits for ${waits.join(' and ') || 'nothing'}; queue [${q.join(', ')}]`,
    );
  }
  if (st.fetchPc >= 0 && st.fetchPc < p.count) {
    const u = p.unit[st.fetchPc]!;
    parts.push(`fetch: instruction ${st.fetchPc} (${p.code[st.fetchPc]!.op}) waits for a ${UNIT_NAMES[u]} queue slot`);
  }
  parts.push(`token counters: ${CHANNEL_NAMES.map((c, i) => `${c} ${st.tokens[i]}`).join(', ')}`);
  return new SimError(
    `token deadlock, nothing can progress. ${parts.join('; ')}`,
    `instruction ${first < 0 ? st.fetchPc : first}`,
    'NB-S001',
  );
}

export function tokenOverflowError(ch: number, inst: number): SimError {
  return new SimError(
    `the ${CHANNEL_NAMES[ch]} token counter would exceed ${TOKEN_COUNTER_MAX} (16-bit counter): too many pushes before their pops`,
    `instruction ${inst}`,
    'NB-S002',
  );
}

export function budgetError(maxCycles: number): SimError {
  return new SimError(
    `cycle budget exceeded: the program did not finish within ${maxCycles} cycles (raise maxCycles if this is expected)`,
    undefined,
    'NB-S003',
  );
}

export function computeSchedule(p: PreparedProgram, maxCycles: number): Schedule {
  const { cfg, count, unit } = p;
  const Q = [cfg.queues.load, cfg.queues.compute, cfg.queues.store];
  const D = new Float64Array(count).fill(NaN);
  const S = new Float64Array(count).fill(NaN);
  const E = new Float64Array(count).fill(NaN);
  const lists: number[][] = [[], [], []];
  const pos = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const u = unit[i]!;
    if (u !== U_HALT) {
      pos[i] = lists[u]!.length;
      lists[u]!.push(i);
    }
  }
  const head = [0, 0, 0];
  const tokens = new TokenTimes();
  const timeline = new UnitTimeline(p.arch);
  let fetchPc = 0;
  let lastD = 0;

  for (;;) {
    let progress = false;
    // fetch: in order, one instruction per cycle, waiting for a slot in a full queue
    while (fetchPc < count) {
      const i = fetchPc;
      const u = unit[i]!;
      let slot = 0;
      if (u !== U_HALT) {
        const k = pos[i]!;
        if (k >= Q[u]!) {
          const s = S[lists[u]![k - Q[u]!]!]!;
          if (Number.isNaN(s)) break;
          slot = s + 1;
        }
      }
      const d = Math.max(i === 0 ? 1 : lastD + 1, slot);
      D[i] = d;
      lastD = d;
      if (u === U_HALT) {
        S[i] = d;
        E[i] = d + 1;
      }
      fetchPc++;
      progress = true;
    }
    // each unit places its queue heads while they are dispatched and their tokens are known
    for (let u = 0; u < 3; u++) {
      const list = lists[u]!;
      while (head[u]! < list.length) {
        const i = list[head[u]!]!;
        const d = D[i]!;
        if (Number.isNaN(d)) break;
        const tok = Math.max(tokens.ready(p.pop0[i]!), tokens.ready(p.pop1[i]!));
        if (Number.isNaN(tok)) break;
        timeline.place(u, p.occupancy[i]!, p.cycles[i]!, p.passes[i]!, p.pixels[i]!, Math.max(d + 1, tok));
        const s = timeline.start;
        const e = timeline.end;
        if (e > maxCycles) throw budgetError(maxCycles);
        S[i] = s;
        E[i] = e;
        tokens.pop(p.pop0[i]!, s);
        tokens.pop(p.pop1[i]!, s);
        tokens.push(p.push0[i]!, e, i);
        tokens.push(p.push1[i]!, e, i);
        head[u]!++;
        progress = true;
      }
    }
    if (!progress) break;
  }
  if (fetchPc < count || head.some((h, u) => h < lists[u]!.length)) {
    const queues = [0, 1, 2].map((u) => lists[u]!.slice(head[u]!).filter((i) => !Number.isNaN(D[i]!)));
    throw deadlockError(p, { queues, tokens: tokens.counts(), fetchPc: fetchPc < count ? fetchPc : -1 });
  }
  let T = 0;
  for (let i = 0; i < count; i++) if (E[i]! > T) T = E[i]!;
  tokens.checkOverflow();
  if (T > maxCycles) throw budgetError(maxCycles);
  return { dispatch: D, start: S, end: E, cycles: T };
}

/** Push and pop times of the four token channels (a pop takes the oldest push: its time is the push's E). */
export class TokenTimes {
  private readonly pushTimes: number[][] = [[], [], [], []];
  private readonly pushInst: number[][] = [[], [], [], []];
  private readonly popTimes: number[][] = [[], [], [], []];
  private readonly pops = [0, 0, 0, 0];

  /** When the token the channel's next pop takes is there: 0 for no channel, NaN while not yet pushed. */
  ready(ch: number): number {
    if (ch < 0) return 0;
    const k = this.pops[ch]!;
    const t = this.pushTimes[ch]!;
    return k < t.length ? t[k]! : NaN;
  }

  pop(ch: number, s: number): void {
    if (ch < 0) return;
    this.pops[ch]!++;
    this.popTimes[ch]!.push(s);
  }

  push(ch: number, e: number, inst: number): void {
    if (ch < 0) return;
    this.pushTimes[ch]!.push(e);
    this.pushInst[ch]!.push(inst);
  }

  counts(): number[] {
    return [0, 1, 2, 3].map((c) => this.pushTimes[c]!.length - this.pops[c]!);
  }

  /**
   * The counter after cycle E_k - 1 (push k lands) is k + 1 pushes minus the
   * pops started by then; throws for the earliest push that overflows it.
   */
  checkOverflow(): void {
    let worst: [number, number, number] | undefined; // [cycle, channel, instruction]
    for (let ch = 0; ch < 4; ch++) {
      const pt = this.pushTimes[ch]!;
      const pp = this.popTimes[ch]!;
      let popped = 0;
      for (let k = 0; k < pt.length; k++) {
        while (popped < pp.length && pp[popped]! <= pt[k]! - 1) popped++;
        if (k + 1 - popped > TOKEN_COUNTER_MAX) {
          if (!worst || pt[k]! < worst[0] || (pt[k] === worst[0] && ch < worst[1]))
            worst = [pt[k]!, ch, this.pushInst[ch]![k]!];
          break;
        }
      }
    }
    if (worst) throw tokenOverflowError(worst[1], worst[2]);
  }
}
