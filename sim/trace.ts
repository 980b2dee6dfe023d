/**
 * Trace writers: Chrome trace-event JSON (chrome://tracing, ui.perfetto.dev)
 * from any engine's per-instruction times, and VCD of the cycle engine's main
 * signals for waveform viewers (GTKWave, Surfer).
 */
import { SimError } from '../arch/index.js';
import { BUFFER_NAMES } from '../isa/index.js';
import type { CycleSnapshot } from './cycle/index.js';
import { CHANNEL_NAMES, prepareProgram, U_HALT, UNIT_NAMES } from './prepare.js';
import type { SimResult } from './simulate.js';

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  cat?: string;
  args?: Record<string, unknown>;
}

/** Each instruction's layer name (instructions outside every layer: undefined). */
function layerOfInstruction(program: SimResult['program']): (string | undefined)[] {
  const out: (string | undefined)[] = new Array(program.code.length).fill(undefined);
  for (const l of program.layers) for (let i = l.firstInstruction; i <= l.lastInstruction; i++) out[i] = l.name;
  return out;
}

/** An instruction's fields for the trace: the LOAD buffer by name (inp, wgt, param) rather than its code. */
function traceFields(inst: SimResult['program']['code'][number]): Record<string, unknown> {
  const f: Record<string, unknown> = { ...inst };
  if (inst.op === 'LOAD') f['buf'] = BUFFER_NAMES[inst.buf] ?? inst.buf;
  return f;
}

/**
 * A layer track (one event per layer, from its first start to its last end),
 * one track per unit with every instruction as a complete event [S, E)
 * (overlapping GEMMs get extra compute lanes) carrying its layer's name,
 * fetch dispatches on their own track, and counters for queue occupancy and
 * token counts. Time is in microseconds at config.clockMHz; args carry the
 * cycle numbers.
 */
export function writeChromeTrace(result: SimResult): string {
  const program = result.program;
  const p = prepareProgram(program);
  const us = 1 / program.config.clockMHz;
  const events: TraceEvent[] = [];
  const pid = 1;
  const meta = (tid: number, name: string) => {
    events.push({ name: 'thread_name', ph: 'M', pid, tid, ts: 0, args: { name } });
    events.push({ name: 'thread_sort_index', ph: 'M', pid, tid, ts: 0, args: { sort_index: tid } });
  };
  events.push({
    name: 'process_name',
    ph: 'M',
    pid,
    tid: 0,
    ts: 0,
    args: { name: `nibble (${result.engine} engine, ${result.cycles} cycles)` },
  });
  meta(0, 'layers');
  meta(1, 'fetch');
  meta(2, 'load');
  meta(4, 'store');
  const layerOf = layerOfInstruction(program);
  const computeLaneEnd: number[] = [];
  const { dispatch: D, start: S, end: E } = result;
  const queueDelta: [number, number, number][] = []; // [cycle, unit, delta]
  const tokenDelta: [number, number, number][] = [];
  for (let i = 0; i < p.count; i++) {
    const inst = p.code[i]!;
    const u = p.unit[i]!;
    events.push({
      name: inst.op,
      ph: 'i',
      pid,
      tid: 1,
      ts: D[i]! * us,
      args: { instruction: i, cycle: D[i], ...(layerOf[i] ? { layer: layerOf[i] } : {}) },
    } as TraceEvent & { s?: string });
    if (u === U_HALT) continue;
    let tid = u === 0 ? 2 : u === 2 ? 4 : 3;
    if (u === 1) {
      let lane = computeLaneEnd.findIndex((e) => e <= S[i]!);
      if (lane < 0) {
        lane = computeLaneEnd.length;
        computeLaneEnd.push(0);
        meta(100 + lane, lane === 0 ? 'compute' : `compute (overlap ${lane})`);
      }
      computeLaneEnd[lane] = E[i]!;
      tid = 100 + lane;
    }
    const fields: Record<string, unknown> = {
      instruction: i,
      ...(layerOf[i] ? { layer: layerOf[i] } : {}),
      dispatch: D[i],
      start: S[i],
      end: E[i],
      ...traceFields(inst),
    };
    events.push({
      name: inst.op,
      cat: UNIT_NAMES[u],
      ph: 'X',
      pid,
      tid,
      ts: S[i]! * us,
      dur: (E[i]! - S[i]!) * us,
      args: fields,
    });
    queueDelta.push([D[i]! + 1, u, 1], [S[i]! + 1, u, -1]);
    for (const ch of [p.pop0[i]!, p.pop1[i]!]) if (ch >= 0) tokenDelta.push([S[i]! + 1, ch, -1]);
    for (const ch of [p.push0[i]!, p.push1[i]!]) if (ch >= 0) tokenDelta.push([E[i]!, ch, 1]);
  }
  const counterTrack = (deltas: [number, number, number][], names: readonly string[], title: string) => {
    deltas.sort((x, y) => x[0] - y[0]);
    const value = names.map(() => 0);
    for (let k = 0; k < deltas.length;) {
      const t = deltas[k]![0];
      while (k < deltas.length && deltas[k]![0] === t) {
        value[deltas[k]![1]]! += deltas[k]![2];
        k++;
      }
      const args: Record<string, number> = {};
      names.forEach((nm, j) => (args[nm] = value[j]!));
      events.push({ name: title, ph: 'C', pid, tid: 0, ts: t * us, args });
    }
  };
  for (const l of program.layers) {
    let a = Infinity;
    let b = -Infinity;
    for (let i = l.firstInstruction; i <= l.lastInstruction; i++) {
      a = Math.min(a, S[i]!);
      b = Math.max(b, E[i]!);
    }
    if (!(b >= a)) continue;
    events.push({
      name: l.name,
      cat: 'layer',
      ph: 'X',
      pid,
      tid: 0,
      ts: a * us,
      dur: (b - a) * us,
      args: { kind: l.kind, macs: l.macs, start: a, end: b, instructions: [l.firstInstruction, l.lastInstruction] },
    });
  }
  counterTrack(queueDelta, ['load', 'compute', 'store'], 'queue occupancy');
  counterTrack(tokenDelta, CHANNEL_NAMES, 'tokens');
  return JSON.stringify({
    traceEvents: events,
    displayTimeUnit: 'ns',
    otherData: {
      engine: result.engine,
      cycles: result.cycles,
      clockMHz: program.config.clockMHz,
      counters: { ...result.counters, layers: undefined },
    },
  });
}

interface VcdSignal {
  name: string;
  width: number;
  get: (s: CycleSnapshot) => number;
}

const STATE_CODE = { idle: 0, busy: 1, token: 2, dram: 3 } as const;
const FETCH_CODE = { idle: 0, dispatch: 1, stall: 2 } as const;

/** VCD of the cycle engine's main signals; needs simulate(..., { engine: 'cycle', collect: { trace: true } }). */
export function writeVcd(result: SimResult): string {
  const trace = result.trace;
  if (!trace)
    throw new SimError(
      "a VCD needs the cycle engine's per-cycle trace: simulate with engine 'cycle' and collect.trace = true",
    );
  return vcdFromSnapshots(trace, result.program.config.clockMHz);
}

/** VCD text from cycle snapshots (one per cycle, from cycle 0). Instruction-index signals are all ones when nothing runs. */
export function vcdFromSnapshots(trace: readonly CycleSnapshot[], clockMHz = 500): string {
  const idx = (v: number) => (v < 0 ? 0xffffffff : v);
  const signals: VcdSignal[] = [
    { name: 'fetch_state', width: 2, get: (s) => FETCH_CODE[s.fetch] },
    { name: 'fetch_dispatched', width: 32, get: (s) => idx(s.dispatched) },
    { name: 'queue_load', width: 9, get: (s) => s.queueLoad },
    { name: 'queue_compute', width: 9, get: (s) => s.queueCompute },
    { name: 'queue_store', width: 9, get: (s) => s.queueStore },
    { name: 'tok_load_compute', width: 16, get: (s) => s.tokens[0] },
    { name: 'tok_compute_load', width: 16, get: (s) => s.tokens[1] },
    { name: 'tok_compute_store', width: 16, get: (s) => s.tokens[2] },
    { name: 'tok_store_compute', width: 16, get: (s) => s.tokens[3] },
    { name: 'load_state', width: 2, get: (s) => STATE_CODE[s.load] },
    { name: 'load_inst', width: 32, get: (s) => idx(s.loadInst) },
    { name: 'compute_state', width: 2, get: (s) => STATE_CODE[s.compute] },
    { name: 'compute_inst', width: 32, get: (s) => idx(s.computeInst) },
    { name: 'store_state', width: 2, get: (s) => STATE_CODE[s.store] },
    { name: 'store_inst', width: 32, get: (s) => idx(s.storeInst) },
    { name: 'preload_inst', width: 32, get: (s) => idx(s.preloadInst) },
    { name: 'issue_inst', width: 32, get: (s) => idx(s.issueInst) },
    { name: 'array_occupancy', width: 16, get: (s) => s.arrayOccupancy },
    { name: 'acc_read', width: 1, get: (s) => (s.accRead ? 1 : 0) },
    { name: 'acc_write', width: 1, get: (s) => (s.accWrite ? 1 : 0) },
    { name: 'out_write', width: 1, get: (s) => (s.outWrite ? 1 : 0) },
    { name: 'dram_read_beat', width: 1, get: (s) => (s.dramReadBeat ? 1 : 0) },
    { name: 'dram_write_beat', width: 1, get: (s) => (s.dramWriteBeat ? 1 : 0) },
  ];
  const ids = signals.map((_, i) => {
    let k = i;
    let id = '';
    do {
      id += String.fromCharCode(33 + (k % 94));
      k = Math.floor(k / 94);
    } while (k > 0);
    return id;
  });
  const periodPs = Math.round(1e6 / clockMHz);
  const codes = (m: Record<string, number>) =>
    Object.entries(m)
      .map(([k, v]) => `${v} = ${k}`)
      .join(', ');
  const lines: string[] = [
    `$date ${new Date().toUTCString()} $end`,
    '$version nibble sim, cycle engine $end',
    // the state signals are small integer codes; what each code means (also docs/simulator.md)
    `$comment fetch_state: ${codes(FETCH_CODE)}; load_state, compute_state, store_state: ${codes(STATE_CODE)} (token = waiting for a dependency token, dram = waiting for DRAM); *_inst: instruction index, all ones when idle $end`,
    '$timescale 1ps $end',
    '$scope module nibble $end',
    ...signals.map((s, i) => `$var wire ${s.width} ${ids[i]} ${s.name} $end`),
    '$var wire 1 ' + '~clk' + ' clk $end',
    '$upscope $end',
    '$enddefinitions $end',
  ];
  const fmt = (s: VcdSignal, v: number, id: string) =>
    s.width === 1 ? `${v & 1}${id}` : `b${(v >>> 0).toString(2)} ${id}`;
  const last = signals.map(() => NaN);
  for (const snap of trace) {
    const t = snap.cycle * periodPs;
    lines.push(`#${t}`, '1~clk');
    signals.forEach((s, i) => {
      const v = s.get(snap);
      if (v !== last[i]) {
        lines.push(fmt(s, v, ids[i]!));
        last[i] = v;
      }
    });
    lines.push(`#${t + periodPs / 2}`, '0~clk');
  }
  lines.push(`#${trace.length * periodPs}`);
  return lines.join('\n') + '\n';
}
