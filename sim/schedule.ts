/**
 * The timing model of docs/architecture.md sections 3-7 evaluated per
 * instruction (no data): dispatch D, start S and end E of every instruction.
 * Values are computed in dependency order (a small worklist over fetch and the
 * three units), so an instruction whose token comes from a later instruction
 * simply waits until that one is known; if nothing can be computed any more
 * while instructions remain, the program deadlocks in hardware too.
 */
import { SimError } from '../arch/index.js';
import { TOKEN_COUNTER_MAX } from '../isa/index.js';
import { CHANNEL_NAMES, U_COMPUTE, U_HALT, U_LOAD, U_STORE, UNIT_NAMES, type PreparedProgram } from './prepare.js';

export interface Schedule {
  dispatch: Float64Array;
  start: Float64Array;
  end: Float64Array;
  /** GEMM only: issue start of the first pass (NaN for others) */
  firstIssue: Float64Array;
  /** T: cycle in which `done` rises */
  cycles: number;
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
  );
}

export function tokenOverflowError(ch: number, inst: number): SimError {
  return new SimError(
    `the ${CHANNEL_NAMES[ch]} token counter would exceed ${TOKEN_COUNTER_MAX} (16-bit counter): too many pushes before their pops`,
    `instruction ${inst}`,
  );
}

export function budgetError(maxCycles: number): SimError {
  return new SimError(
    `cycle budget exceeded: the program did not finish within ${maxCycles} cycles (raise maxCycles if this is expected)`,
  );
}

export function computeSchedule(p: PreparedProgram, maxCycles: number): Schedule {
  const { cfg, arch, count, unit, code } = p;
  const n = arch.n;
  const G = arch.gemmDepth;
  const L = cfg.dram.latency;
  const Q = [cfg.queues.load, cfg.queues.compute, cfg.queues.store];
  const D = new Float64Array(count).fill(NaN);
  const S = new Float64Array(count).fill(NaN);
  const E = new Float64Array(count).fill(NaN);
  const firstIssue = new Float64Array(count).fill(NaN);
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
  const pushTimes: number[][] = [[], [], [], []];
  const pushInst: number[][] = [[], [], [], []];
  const popTimes: number[][] = [[], [], [], []];
  const pops = [0, 0, 0, 0];
  const unitEnd = [0, 0, 0];
  // compute unit: max E so far, whether the last compute instruction was a GEMM, pass pipeline state
  let computeEnd = 0;
  let lastWasGemm = false;
  let plPrev = -Infinity; // PL of the previous pass
  let isp1 = -Infinity; // IS + P of the previous pass
  let isp2 = -Infinity; // IS + P of the pass before it
  let fetchPc = 0;
  let lastD = 0;

  const tokenReady = (ch: number): number => {
    if (ch < 0) return 0;
    const k = pops[ch]!;
    const t = pushTimes[ch]!;
    return k < t.length ? t[k]! : NaN;
  };

  for (;;) {
    let progress = false;
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
    for (let u = 0; u < 3; u++) {
      const list = lists[u]!;
      while (head[u]! < list.length) {
        const i = list[head[u]!]!;
        const d = D[i]!;
        if (Number.isNaN(d)) break;
        const c0 = p.pop0[i]!;
        const c1 = p.pop1[i]!;
        const t0 = tokenReady(c0);
        const t1 = tokenReady(c1);
        if (Number.isNaN(t0) || Number.isNaN(t1)) break;
        const tok = Math.max(t0, t1);
        const inst = code[i]!;
        let s: number;
        let e: number;
        if (u === U_LOAD || u === U_STORE) {
          s = Math.max(d + 1, unitEnd[u]!, tok);
          if (inst.op === 'NOP') e = s + 1;
          else e = s + L + p.beats[i]! + (u === U_STORE ? 1 : 0);
          unitEnd[u] = e;
        } else if (inst.op === 'GEMM') {
          s = Math.max(d + 1, tok, plPrev + n, isp2 + n, lastWasGemm ? 0 : computeEnd);
          const P = p.pixels[i]!;
          const passes = p.passes[i]!;
          let pl = plPrev;
          let is: number;
          for (let j = 0; j < passes; j++) {
            pl = Math.max(s, pl + n, isp2 + n);
            is = Math.max(pl + n, isp1);
            if (j === 0) firstIssue[i] = is;
            // closed form once the pass recurrence has settled into a fixed period
            if (j >= 2 && is - isp1 + P === isp1 - isp2 && pl - plPrev === is + P - isp1 && j < passes - 1) {
              const delta = is + P - isp1;
              const rest = passes - 1 - j;
              pl += rest * delta;
              is += rest * delta;
              isp2 = is - delta + P;
              isp1 = is + P;
              plPrev = pl;
              break;
            }
            plPrev = pl;
            isp2 = isp1;
            isp1 = is + P;
          }
          e = isp1 + G;
          lastWasGemm = true;
          if (e > computeEnd) computeEnd = e;
        } else {
          s = Math.max(d + 1, tok, computeEnd);
          if (inst.op === 'REQUANT') e = s + p.reads[i]! + cfg.requantStages + 2;
          else if (inst.op === 'POOL') e = s + p.reads[i]! + 2;
          else e = s + 1;
          computeEnd = e;
          lastWasGemm = false;
        }
        if (e > maxCycles) throw budgetError(maxCycles);
        S[i] = s;
        E[i] = e;
        if (c0 >= 0) {
          pops[c0]!++;
          popTimes[c0]!.push(s);
        }
        if (c1 >= 0) {
          pops[c1]!++;
          popTimes[c1]!.push(s);
        }
        for (const ch of [p.push0[i]!, p.push1[i]!]) {
          if (ch < 0) continue;
          pushTimes[ch]!.push(e);
          pushInst[ch]!.push(i);
        }
        head[u]!++;
        progress = true;
      }
    }
    if (!progress) break;
  }
  if (fetchPc < count || head.some((h, u) => h < lists[u]!.length)) {
    const queues = [0, 1, 2].map((u) => lists[u]!.slice(head[u]!).filter((i) => !Number.isNaN(D[i]!)));
    const tokens = [0, 1, 2, 3].map((c) => pushTimes[c]!.length - pops[c]!);
    throw deadlockError(p, { queues, tokens, fetchPc: fetchPc < count ? fetchPc : -1 });
  }
  let T = 0;
  for (let i = 0; i < count; i++) if (E[i]! > T) T = E[i]!;
  // counter after cycle E_k - 1 (push k lands): k + 1 pushes minus the pops started by then; report the earliest overflow
  let worst: [number, number, number] | undefined; // [cycle, channel, instruction]
  for (let ch = 0; ch < 4; ch++) {
    const pt = pushTimes[ch]!;
    const pp = popTimes[ch]!;
    let popped = 0;
    for (let k = 0; k < pt.length; k++) {
      while (popped < pp.length && pp[popped]! <= pt[k]! - 1) popped++;
      if (k + 1 - popped > TOKEN_COUNTER_MAX) {
        if (!worst || pt[k]! < worst[0] || (pt[k] === worst[0] && ch < worst[1]))
          worst = [pt[k]!, ch, pushInst[ch]![k]!];
        break;
      }
    }
  }
  if (worst) throw tokenOverflowError(worst[1], worst[2]);
  if (T > maxCycles) throw budgetError(maxCycles);
  return { dispatch: D, start: S, end: E, firstIssue, cycles: T };
}

export { U_COMPUTE };
