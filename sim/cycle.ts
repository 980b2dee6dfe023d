/**
 * The 'cycle' engine: every unit stepped every cycle, the software twin of the
 * RTL. Nothing here uses the closed-form schedule; start and end times emerge
 * from queues, token counters, the DMA channels, the preload / issue
 * sequencers, the skewed systolic array (per-PE registers), the de-skew, the
 * ACC read-modify-write with bypass and the requant / pool pipelines. Within a
 * cycle, decisions read the state left by earlier cycles ("X at cycle t" is a
 * register update at the end of t, visible from t + 1).
 */
import {
  TOKEN_COUNTER_MAX,
  packLanes,
  requantClampRange,
  requantValue,
  type GemmInst,
  type Instruction,
  type LoadInst,
  type PoolInst,
  type Program,
  type RequantInst,
  type StoreInst,
} from '../isa/index.js';
import { emptyCounters, finishCounters, type Counters } from './counters.js';
import { loadEntries, overflowError, type Scratchpads } from './memory.js';
import { U_COMPUTE, U_HALT, U_LOAD, U_STORE, type PreparedProgram } from './prepare.js';
import { budgetError, deadlockError, tokenOverflowError } from './schedule.js';

export type UnitState = 'idle' | 'busy' | 'token' | 'dram';

/** Main signals of one cycle (what VCD and waveform viewers show). */
export interface CycleSnapshot {
  cycle: number;
  fetch: 'idle' | 'dispatch' | 'stall';
  /** instruction fetch dispatched this cycle, or -1 */
  dispatched: number;
  queueLoad: number;
  queueCompute: number;
  queueStore: number;
  /** token counters: load->compute, compute->load, compute->store, store->compute */
  tokens: [number, number, number, number];
  load: UnitState;
  loadInst: number;
  compute: UnitState;
  /** newest compute instruction in flight, or -1 */
  computeInst: number;
  store: UnitState;
  storeInst: number;
  /** GEMM whose weight tile is being preloaded, or -1 */
  preloadInst: number;
  /** GEMM issuing a pixel this cycle, or -1 */
  issueInst: number;
  /** PEs holding a valid activation */
  arrayOccupancy: number;
  accRead: boolean;
  accWrite: boolean;
  /** REQUANT / POOL writing OUT this cycle */
  outWrite: boolean;
  dramReadBeat: boolean;
  dramWriteBeat: boolean;
}

export interface CycleRunOptions {
  maxCycles: number;
  keepTrace: boolean;
  onCycle?: (s: CycleSnapshot) => void;
}

export interface CycleRunResult {
  cycles: number;
  dispatch: Float64Array;
  start: Float64Array;
  end: Float64Array;
  counters: Counters;
  trace?: CycleSnapshot[];
}

interface PassRec {
  inst: number;
  g: GemmInst;
  index: number;
  cb: number;
  kh: number;
  kw: number;
  bank: number;
  pl: number;
  p: number;
  overwrite: boolean;
  lastOfGemm: boolean;
}

interface GemmRun {
  inst: number;
  g: GemmInst;
  passes: number;
  preloaded: number;
}

export function runCycleEngine(
  p: PreparedProgram,
  program: Program,
  dram: Uint8Array,
  sp: Scratchpads,
  opts: CycleRunOptions,
): CycleRunResult {
  const { cfg, arch: a, count, unit, code } = p;
  const n = a.n;
  const L = cfg.dram.latency;
  const bus = cfg.dram.busBytes;
  const Q = [cfg.queues.load, cfg.queues.compute, cfg.queues.store];
  const D = new Float64Array(count).fill(NaN);
  const S = new Float64Array(count).fill(NaN);
  const E = new Float64Array(count).fill(NaN);
  const c = emptyCounters();
  const trace: CycleSnapshot[] | undefined = opts.keepTrace ? [] : undefined;
  const wantSnap = opts.keepTrace || opts.onCycle !== undefined;

  // ---- fetch, queues, tokens
  const queues: number[][] = [[], [], []];
  const tokens = [0, 0, 0, 0];
  let pc = 0;
  let halted = false;
  const pendingPush: number[] = []; // channel, instruction pairs
  const retire = (i: number, t: number) => {
    E[i] = t + 1;
    if (p.push0[i]! >= 0) pendingPush.push(p.push0[i]!, i);
    if (p.push1[i]! >= 0) pendingPush.push(p.push1[i]!, i);
  };
  const tokensOk = (i: number) =>
    (p.pop0[i]! < 0 || tokens[p.pop0[i]!]! > 0) && (p.pop1[i]! < 0 || tokens[p.pop1[i]!]! > 0);
  const startInst = (u: number, t: number): number => {
    const i = queues[u]!.shift()!;
    S[i] = t;
    if (p.pop0[i]! >= 0) tokens[p.pop0[i]!]!--;
    if (p.pop1[i]! >= 0) tokens[p.pop1[i]!]!--;
    return i;
  };

  // ---- LOAD unit and DRAM read channel
  let ldInst = -1;
  let ldRowsReq = 0;
  const ldReqTime: number[] = [];
  let ldRowServe = 0;
  let ldEntryInRow = 0;
  let ldBeatInEntry = 0;
  let ldBeats = 0;
  let ldEntry = 0;

  // ---- STORE unit and DRAM write channel
  let stInst = -1;
  const stBuf = [new Uint8Array(n), new Uint8Array(n)];

  // ---- COMPUTE: GEMM machinery
  const G = a.gemmDepth;
  const H = 2 * n + 4;
  const W = new Int8Array(2 * n * n);
  const peA = new Int32Array(n * n);
  const peP = new Int32Array(n * n);
  const peV = new Uint8Array(n * n);
  const peB = new Uint8Array(n * n);
  const histValid = new Uint8Array(H);
  const histBank = new Uint8Array(H);
  const histVec = new Int32Array(H * n);
  const colRing = new Int32Array(H * n);
  const metaValid = new Uint8Array(H);
  const metaEntry = new Int32Array(H);
  const metaOverwrite = new Uint8Array(H);
  const metaShift = new Uint8Array(H);
  const metaInst = new Int32Array(H);
  const metaLast = new Uint8Array(H);
  const ab = a.activationBits;
  const signExt = (v: number) => (v >= 1 << (ab - 1) ? v - (1 << ab) : v);
  const gemms: GemmRun[] = []; // started, not retired
  let globalPass = 0;
  let plPrev = -Infinity;
  let preload: PassRec | undefined;
  let pendingWeight: { bank: number; row: number; values: Int8Array } | undefined;
  const issueQueue: PassRec[] = [];
  let issuing: PassRec | undefined;
  let lastIssue = -Infinity;
  let issueStart = 0;
  let issueFreeAt = 0;
  const bankFree = [0, 0];
  let accPending:
    | {
        entry: number;
        sum: Int32Array;
        old: Int32Array;
        overwrite: boolean;
        shift: number;
        inst: number;
        last: boolean;
      }
    | undefined;
  const gemmRetireAt: { inst: number; cycle: number }[] = [];

  // ---- COMPUTE: REQUANT / POOL / NOP engine
  let ngInst = -1;
  let ngReads: Int32Array = new Int32Array(0); // entry per read, window order
  let ngR = 0;
  let ngOuts = 0;
  let ngWritten = 0;
  const ngMax: Float64Array = new Float64Array(n);
  let ngReadReg = -1; // index into ngReads of the read issued last cycle, or -1
  const ngWrites: { cycle: number; entry: number; lanes: Uint8Array }[] = [];
  let ngParamBias = new Int32Array(n);
  let ngParamShift = new Int8Array(n);

  const windowOrder = (inst: RequantInst | PoolInst, base: number): Int32Array => {
    const out = new Int32Array(inst.out_h * inst.out_w * inst.pool_k * inst.pool_k);
    let k = 0;
    for (let oy = 0; oy < inst.out_h; oy++)
      for (let ox = 0; ox < inst.out_w; ox++)
        for (let ky = 0; ky < inst.pool_k; ky++)
          for (let kx = 0; kx < inst.pool_k; kx++)
            out[k++] = base + (oy * inst.pool_s + ky) * inst.in_w + ox * inst.pool_s + kx;
    return out;
  };

  const unitCounters = [c.load, c.compute, c.store];
  let T: number;
  for (let t = 0; ; t++) {
    if (t >= opts.maxCycles) throw budgetError(opts.maxCycles);
    let progress = false;
    const ustate: UnitState[] = ['idle', 'idle', 'idle'];

    // 1. fetch (queue lengths as left by earlier cycles)
    let dispatch = -1;
    let fetchState: 'idle' | 'dispatch' | 'stall' = 'idle';
    if (t >= 1 && !halted && pc < count) {
      const u = unit[pc]!;
      if (u === U_HALT || queues[u]!.length < Q[u]!) {
        dispatch = pc;
        D[pc] = t;
        fetchState = 'dispatch';
        if (u === U_HALT) {
          S[pc] = t;
          E[pc] = t + 1;
          halted = true;
        }
        pc++;
        progress = true;
      } else fetchState = 'stall';
    }

    // 2. LOAD unit
    let readBeat = false;
    let ldActive = -1;
    if (ldInst < 0 && queues[U_LOAD]!.length > 0 && tokensOk(queues[U_LOAD]![0]!)) {
      ldInst = startInst(U_LOAD, t);
      ldRowsReq = 0;
      ldReqTime.length = 0;
      ldRowServe = 0;
      ldEntryInRow = 0;
      ldBeatInEntry = 0;
      ldBeats = 0;
      ldEntry = 0;
      progress = true;
    }
    if (ldInst >= 0) {
      progress = true;
      ldActive = ldInst;
      const inst = code[ldInst]!;
      if (inst.op === 'NOP') {
        ustate[U_LOAD] = 'busy';
        retire(ldInst, t);
        ldInst = -1;
      } else {
        const ld = inst as LoadInst;
        const eb = p.loadEntryBytes[ld.buf]!;
        const bpe = Math.ceil(eb / bus);
        if (ldRowsReq < ld.y_count) ldReqTime[ldRowsReq++] = t;
        if (ldRowServe < ldRowsReq && ldReqTime[ldRowServe]! + L <= t) {
          readBeat = true;
          ldBeats++;
          if (++ldBeatInEntry === bpe) {
            ldBeatInEntry = 0;
            loadEntries(
              sp,
              a,
              ld.buf,
              dram,
              ld.dram_addr + ldRowServe * ld.dram_stride + ldEntryInRow * eb,
              ld.sram_addr + ldEntry,
              1,
            );
            ldEntry++;
            (ld.buf === 0 ? c.sram.inp : ld.buf === 1 ? c.sram.wgt : c.sram.param).writes++;
            c.dram.readBytes += eb;
            if (++ldEntryInRow === ld.x_count) {
              ldEntryInRow = 0;
              ldRowServe++;
            }
          }
        }
        ustate[U_LOAD] = ldBeats === 0 ? 'dram' : 'busy';
        if (ldBeats === p.beats[ldInst]!) {
          retire(ldInst, t);
          ldInst = -1;
        }
      }
    } else if (queues[U_LOAD]!.length > 0) ustate[U_LOAD] = 'token';

    // 3. STORE unit
    let writeBeat = false;
    let stActive = -1;
    if (stInst < 0 && queues[U_STORE]!.length > 0 && tokensOk(queues[U_STORE]![0]!)) {
      stInst = startInst(U_STORE, t);
      progress = true;
    }
    if (stInst >= 0) {
      progress = true;
      stActive = stInst;
      const inst = code[stInst]!;
      if (inst.op === 'NOP') {
        ustate[U_STORE] = 'busy';
        retire(stInst, t);
        stInst = -1;
      } else {
        const st = inst as StoreInst;
        const eb = a.outEntryBytes;
        const bpe = Math.ceil(eb / bus);
        const beats = p.beats[stInst]!;
        const k = t - S[stInst]!;
        if (k >= 1 && k <= beats) {
          // beat j = k - 1; the entry lands in DRAM with its last beat
          writeBeat = true;
          const j = k - 1;
          if ((j + 1) % bpe === 0) {
            const e = (j + 1) / bpe - 1;
            const row = Math.floor(e / st.x_count);
            const col = e % st.x_count;
            packLanes(stBuf[e & 1]!, 0, n, ab, dram, st.dram_addr + row * st.dram_stride + col * eb);
            c.dram.writeBytes += eb;
          }
        }
        if (k < beats && k % bpe === 0) {
          const e = k / bpe;
          stBuf[e & 1]!.set(sp.out.subarray((st.sram_addr + e) * n, (st.sram_addr + e + 1) * n));
          c.sram.out.reads++;
        }
        ustate[U_STORE] = k <= beats ? 'busy' : 'dram';
        if (k === beats + L) {
          retire(stInst, t);
          stInst = -1;
        }
      }
    } else if (queues[U_STORE]!.length > 0) ustate[U_STORE] = 'token';

    // 4. COMPUTE unit
    const cq = queues[U_COMPUTE]!;
    let computeActive = gemms.length > 0 || ngInst >= 0;
    // 4a. start a REQUANT / POOL / NOP once all earlier compute work is done
    if (cq.length > 0 && code[cq[0]!]!.op !== 'GEMM' && gemms.length === 0 && ngInst < 0 && tokensOk(cq[0]!)) {
      ngInst = startInst(U_COMPUTE, t);
      computeActive = true;
      const inst = code[ngInst]!;
      ngReadReg = -1;
      ngWritten = 0;
      ngWrites.length = 0;
      if (inst.op === 'REQUANT') {
        ngReads = windowOrder(inst, inst.acc_addr);
        ngR = ngReads.length;
        ngOuts = inst.out_h * inst.out_w;
      } else if (inst.op === 'POOL') {
        ngReads = windowOrder(inst, inst.src_addr);
        ngR = ngReads.length;
        ngOuts = inst.out_h * inst.out_w;
      }
    }
    // 4b. preload start: next pass of the newest GEMM, or a new GEMM from the queue
    let preloadInst = -1;
    if (!preload && t >= plPrev + n && bankFree[globalPass & 1]! <= t) {
      let run = gemms.length > 0 ? gemms[gemms.length - 1]! : undefined;
      if (run && run.preloaded >= run.passes) run = undefined;
      if (!run && cq.length > 0 && code[cq[0]!]!.op === 'GEMM' && ngInst < 0 && tokensOk(cq[0]!)) {
        const i = startInst(U_COMPUTE, t);
        run = { inst: i, g: code[i] as GemmInst, passes: p.passes[i]!, preloaded: 0 };
        gemms.push(run);
        computeActive = true;
      }
      if (run) {
        const g = run.g;
        const j = run.preloaded++;
        const kw = j % g.kernel_w;
        const kh = Math.floor(j / g.kernel_w) % g.kernel_h;
        const cb = Math.floor(j / (g.kernel_w * g.kernel_h));
        preload = {
          inst: run.inst,
          g,
          index: j,
          cb,
          kh,
          kw,
          bank: globalPass & 1,
          pl: t,
          p: p.pixels[run.inst]!,
          overwrite: j === 0 && g.accumulate === 0,
          lastOfGemm: j === run.passes - 1,
        };
        bankFree[globalPass & 1] = Infinity;
        globalPass++;
        c.array.passes++;
        plPrev = t;
      }
    }
    // 4c. preload step: WGT row r read at PL + r, written into the PE bank at PL + r + 1
    const weightWrite = pendingWeight;
    pendingWeight = undefined;
    if (preload) {
      preloadInst = preload.inst;
      const r = t - preload.pl;
      const entry = preload.g.wgt_addr + preload.index * n + r;
      pendingWeight = { bank: preload.bank, row: r, values: sp.wgt.slice(entry * n, entry * n + n) };
      c.sram.wgt.reads++;
      if (r === n - 1) {
        issueQueue.push(preload);
        preload = undefined;
      }
    }
    // 4d. issue: one pixel per cycle; INP address at IS + p, data at IS + p + 1
    const hs = (t + 1) % H;
    histValid[hs] = 0;
    let issueInst = -1;
    if (!issuing && issueQueue.length > 0 && issueQueue[0]!.pl + n <= t && t >= issueFreeAt) {
      issuing = issueQueue.shift()!;
      issueStart = t;
    }
    if (issuing) {
      const ps = issuing;
      const g = ps.g;
      issueInst = ps.inst;
      lastIssue = t;
      c.array.issueCycles++;
      const px = t - issueStart;
      const oy = Math.floor(px / g.out_w);
      const ox = px % g.out_w;
      const iy = oy * g.stride_h + ps.kh - g.pad_top;
      const ix = ox * g.stride_w + ps.kw - g.pad_left;
      histValid[hs] = 1;
      histBank[hs] = ps.bank;
      const base = hs * n;
      if (iy >= 0 && iy < g.in_h && ix >= 0 && ix < g.in_w) {
        const e = (g.inp_addr + ps.cb * g.in_h * g.in_w + iy * g.in_w + ix) * n;
        c.sram.inp.reads++;
        for (let r = 0; r < n; r++) {
          const raw = sp.inp[e + r]!;
          histVec[base + r] = g.act_signed ? signExt(raw) : raw;
        }
      } else histVec.fill(0, base, base + n);
      const ms = (t + 2 * n) % H;
      metaValid[ms] = 1;
      metaEntry[ms] = g.acc_addr + px;
      metaOverwrite[ms] = ps.overwrite ? 1 : 0;
      metaShift[ms] = g.pshift;
      metaInst[ms] = ps.inst;
      metaLast[ms] = ps.lastOfGemm && px === ps.p - 1 ? 1 : 0;
      if (px === ps.p - 1) {
        bankFree[ps.bank] = t + 1 + n;
        issueFreeAt = t + 1;
        issuing = undefined;
      }
    }
    // 4e. the array: PE(r, c) takes a from the left (row r of the data out r + 1 cycles ago at c = 0) and psum from above
    let occupancy = 0;
    // a pixel issued at t0 leaves the last PE at t0 + 2N: skip the array while it is certainly empty
    const arrayLive = t <= lastIssue + 2 * n + 1;
    for (let r = arrayLive ? n - 1 : -1; r >= 0; r--) {
      const srcSlot = (((t - 1 - r) % H) + H) % H;
      for (let col = n - 1; col >= 0; col--) {
        const k = r * n + col;
        let valid: number;
        let av: number;
        let bk: number;
        if (col === 0) {
          valid = histValid[srcSlot]!;
          av = histVec[srcSlot * n + r]!;
          bk = histBank[srcSlot]!;
        } else {
          valid = peV[k - 1]!;
          av = peA[k - 1]!;
          bk = peB[k - 1]!;
        }
        peV[k] = valid;
        if (valid) {
          occupancy++;
          const pin = r === 0 ? 0 : peP[k - n]!;
          peA[k] = av;
          peB[k] = bk;
          peP[k] = pin + av * W[(bk * n + r) * n + col]!;
        } else {
          peA[k] = 0;
          peP[k] = 0;
        }
      }
    }
    // bottom row leaves through the de-skew: column c delayed N - 1 - c cycles
    for (let col = 0; arrayLive && col < n; col++) {
      const k = (n - 1) * n + col;
      colRing[((t + n - 1 - col) % H) * n + col] = peV[k] ? peP[k]! : 0;
    }
    // 4f. ACC: write of the pixel read last cycle, then this cycle's read (bypass: the read sees the write)
    let accRead = false;
    let accWrite = false;
    if (accPending) {
      const w = accPending;
      accWrite = true;
      const scale = 2 ** w.shift;
      const base = w.entry * n;
      for (let l = 0; l < n; l++) {
        const v = w.sum[l]! * scale + (w.overwrite ? 0 : w.old[l]!);
        if (v < a.accMin || v > a.accMax) throw overflowError(w.inst, l, w.entry, v, a);
        sp.acc[base + l] = v;
      }
      c.sram.acc.writes++;
      if (w.last) gemmRetireAt.push({ inst: w.inst, cycle: t + 1 });
      accPending = undefined;
    }
    const ms = t % H;
    if (metaValid[ms]) {
      metaValid[ms] = 0;
      accRead = metaOverwrite[ms] === 0;
      if (accRead) c.sram.acc.reads++;
      const entry = metaEntry[ms]!;
      const sum = colRing.slice(ms * n, ms * n + n);
      const old = sp.acc.slice(entry * n, entry * n + n);
      accPending = {
        entry,
        sum,
        old,
        overwrite: metaOverwrite[ms] === 1,
        shift: metaShift[ms]!,
        inst: metaInst[ms]!,
        last: metaLast[ms] === 1,
      };
    }
    // 4g. weight row written into its bank (after this cycle's multiplies used the old value)
    if (weightWrite) W.set(weightWrite.values, (weightWrite.bank * n + weightWrite.row) * n);
    // GEMM retire: one cycle after its last ACC write (E = DR = IS + P + G)
    if (gemmRetireAt.length > 0 && gemmRetireAt[0]!.cycle === t) {
      const { inst } = gemmRetireAt.shift()!;
      retire(inst, t);
      const k = gemms.findIndex((r) => r.inst === inst);
      gemms.splice(k, 1);
    }
    // 4h. REQUANT / POOL / NOP
    let outWrite = false;
    const computeInst = ngInst >= 0 ? ngInst : gemms.length > 0 ? gemms[gemms.length - 1]!.inst : -1;
    if (ngInst >= 0) {
      const inst = code[ngInst]!;
      const k = t - S[ngInst]!;
      if (inst.op === 'NOP') retire(ngInst, t);
      else if (inst.op === 'REQUANT') {
        const rq = inst as RequantInst;
        const win = rq.pool_k * rq.pool_k;
        const { lo, hi } = requantClampRange(rq.out_signed === 1, rq.clamp_bits);
        const mask = (1 << ab) - 1;
        // data of last cycle's read arrives: running max; a finished window enters the requant pipeline
        if (ngReadReg >= 0) {
          const idx = ngReadReg;
          const base = ngReads[idx]! * n;
          if (idx % win === 0) ngMax.fill(-Infinity);
          for (let l = 0; l < n; l++) if (sp.acc[base + l]! > ngMax[l]!) ngMax[l] = sp.acc[base + l]!;
          if (idx % win === win - 1) {
            const lanes = new Uint8Array(n);
            for (let l = 0; l < n; l++)
              lanes[l] = requantValue(ngMax[l]!, ngParamBias[l]!, ngParamShift[l]!, lo, hi) & mask;
            ngWrites.push({ cycle: t + cfg.requantStages, entry: rq.out_addr + Math.floor(idx / win), lanes });
          }
          ngReadReg = -1;
        }
        if (k === 0) {
          c.sram.param.reads++;
          ngParamBias = sp.bias.slice(rq.param_addr * n, rq.param_addr * n + n);
          ngParamShift = sp.shift.slice(rq.param_addr * n, rq.param_addr * n + n);
        } else if (k <= ngR) {
          ngReadReg = k - 1;
          c.sram.acc.reads++;
        }
      } else {
        const pq = inst as PoolInst;
        const win = pq.pool_k * pq.pool_k;
        const mask = (1 << ab) - 1;
        if (ngReadReg >= 0) {
          const idx = ngReadReg;
          const base = ngReads[idx]! * n;
          if (idx % win === 0) ngMax.fill(-Infinity);
          for (let l = 0; l < n; l++) {
            const raw = sp.out[base + l]!;
            const v = pq.act_signed ? signExt(raw) : raw;
            if (v > ngMax[l]!) ngMax[l] = v;
          }
          if (idx % win === win - 1) {
            const lanes = new Uint8Array(n);
            for (let l = 0; l < n; l++) lanes[l] = ngMax[l]! & mask;
            ngWrites.push({ cycle: t + 1, entry: pq.dst_addr + Math.floor(idx / win), lanes });
          }
          ngReadReg = -1;
        }
        if (k < ngR) {
          ngReadReg = k;
          c.sram.out.reads++;
        }
      }
      while (ngWrites.length > 0 && ngWrites[0]!.cycle === t) {
        const w = ngWrites.shift()!;
        sp.out.set(w.lanes, w.entry * n);
        c.sram.out.writes++;
        outWrite = true;
        ngWritten++;
      }
      if (inst.op !== 'NOP' && ngWritten === ngOuts) retire(ngInst, t);
      if (!Number.isNaN(E[ngInst]!)) ngInst = -1;
    }
    if (computeActive) {
      ustate[U_COMPUTE] = 'busy';
      progress = true;
    } else if (cq.length > 0) ustate[U_COMPUTE] = 'token';

    // 5. end of cycle: pushes become visible, the dispatched instruction enters its queue
    // at most one push per channel per cycle (one pushing unit per channel, one retire per cycle each)
    for (let k = 0; k < pendingPush.length; k += 2) {
      const ch = pendingPush[k]!;
      if (++tokens[ch]! > TOKEN_COUNTER_MAX) throw tokenOverflowError(ch, pendingPush[k + 1]!);
    }
    pendingPush.length = 0;
    if (dispatch >= 0 && unit[dispatch] !== U_HALT) queues[unit[dispatch]!]!.push(dispatch);

    // counters
    if (fetchState === 'dispatch') c.fetch.busy++;
    else if (fetchState === 'stall') c.fetch.stallQueueFull++;
    else c.fetch.idle++;
    for (let u = 0; u < 3; u++) {
      const uc = unitCounters[u]!;
      const s = ustate[u]!;
      if (s === 'busy') uc.busy++;
      else if (s === 'token') uc.stallToken++;
      else if (s === 'dram') uc.stallDram++;
      else uc.idle++;
    }

    if (wantSnap) {
      const snap: CycleSnapshot = {
        cycle: t,
        fetch: fetchState,
        dispatched: dispatch,
        queueLoad: queues[0]!.length,
        queueCompute: queues[1]!.length,
        queueStore: queues[2]!.length,
        tokens: [tokens[0]!, tokens[1]!, tokens[2]!, tokens[3]!],
        load: ustate[0]!,
        loadInst: ldActive,
        compute: ustate[1]!,
        computeInst,
        store: ustate[2]!,
        storeInst: stActive,
        preloadInst,
        issueInst,
        arrayOccupancy: occupancy,
        accRead,
        accWrite,
        outWrite,
        dramReadBeat: readBeat,
        dramWriteBeat: writeBeat,
      };
      trace?.push(snap);
      opts.onCycle?.(snap);
    }

    const busyAnywhere =
      ldInst >= 0 || stInst >= 0 || gemms.length > 0 || ngInst >= 0 || occupancy > 0 || accPending !== undefined;
    if (halted && !busyAnywhere && queues.every((q) => q.length === 0)) {
      T = t + 1;
      break;
    }
    if (t >= 1 && !progress && !busyAnywhere) {
      throw deadlockError(p, { queues: queues.map((q) => [...q]), tokens: [...tokens], fetchPc: halted ? -1 : pc });
    }
  }
  c.cycles = T;
  for (let i = 0; i < count; i++) {
    if (unit[i] === U_HALT) continue;
    c.fetch.instructions++;
    unitCounters[unit[i]!]!.instructions++;
  }
  c.fetch.instructions++;
  finishCounters(c, p, program, S, E);
  void U_STORE;
  void U_COMPUTE;
  void G;
  const result: CycleRunResult = { cycles: T, dispatch: D, start: S, end: E, counters: c };
  if (trace) result.trace = trace;
  return result;
}

export type { Instruction };
