/**
 * Port groups more than one module declares, written once: the DRAM read and
 * write channels (a DMA unit and nibble_top), the trace events (a unit and
 * nibble_top), and each scratchpad's write and read ports (a unit and
 * nibble_scratchpads, with the directions flipped).
 */
import type { CoreFacts } from '../core-facts.js';
import type { VerilogModule } from '../emit/module.js';
import { Dim } from '../emit/width.js';
import type { Unit } from '../../isa/index.js';
import { QUEUE_PREFIX, UNIT_PREFIX, tokenPorts } from './tokens.js';

/**
 * What every unit behind a queue has: clock, reset, `running`, its queue's head
 * and nonempty flag, its start (the queue's pop) and busy outputs, its token ports.
 */
export function unitPorts(
  m: VerilogModule,
  f: CoreFacts,
  u: Unit,
  opts: { decodesPart: boolean; busyReg: boolean },
): void {
  const q = QUEUE_PREFIX[u];
  const p = UNIT_PREFIX[u];
  m.input('clk');
  m.input('rst');
  m.input('running');
  m.input(`${q}_head`, f.d.QW, {
    ...(opts.decodesPart ? { lintOff: ['UNUSEDSIGNAL'] } : {}),
    doc: `${u} queue head${opts.decodesPart ? ': only its own fields are decoded' : ''}`,
  });
  m.input(`${q}_ne`);
  m.output(`${p}_start`, 1, { doc: 'the head starts (pops the queue)' });
  m.output(`${p}_busy`, 1, { reg: opts.busyReg, doc: 'an instruction is between its start and its retire' });
  tokenPorts(m, f, u);
}

/** Drive a unit's trace ports: its start with the head's index, its retire with the retiring index. */
export function traceEvents(m: VerilogModule, unit: string, e: { headIdx: string; ret: string; retIdx: string }): void {
  m.assign(`tr_${unit}_start`, `${unit}_start`);
  m.assign(`tr_${unit}_start_idx`, e.headIdx);
  m.assign(`tr_${unit}_ret`, e.ret);
  m.assign(`tr_${unit}_ret_idx`, e.retIdx);
}

/** DRAM read channel (LOAD): request = entries of entry_bytes from addr; response = beats. `side` 'core' drives requests. */
export function dramReadPorts(m: VerilogModule, f: CoreFacts): void {
  const { d } = f;
  m.output('rd_req_valid');
  m.input('rd_req_ready');
  m.output('rd_req_addr', d.DAW);
  m.output('rd_req_entries', d.DIMB);
  m.output('rd_req_entry_bytes', d.EBW);
  m.input('rd_resp_valid');
  m.input('rd_resp_data', d.BUSW);
  m.output('rd_resp_ready');
}

/** DRAM write channel (STORE): one beat per cycle, byte strobes, response after the last beat. */
export function dramWritePorts(m: VerilogModule, f: CoreFacts): void {
  const { d } = f;
  m.output('wr_valid');
  m.input('wr_ready');
  m.output('wr_addr', d.DAW);
  m.output('wr_data', d.BUSW);
  m.output('wr_strb', d.BUSB);
  m.output('wr_last');
  m.input('wr_resp_valid');
}

/** `tr_<u>_<event>` and its instruction index. */
export function tracePorts(m: VerilogModule, f: CoreFacts, unit: string, events: readonly ('start' | 'ret')[]): void {
  for (const ev of events) {
    m.output(`tr_${unit}_${ev}`);
    m.output(`tr_${unit}_${ev}_idx`, f.d.IX);
  }
}

export type Buffer = 'inp' | 'wgt' | 'par' | 'acc' | 'out';
/** The RAM read ports; OUT has two (STORE and POOL), ACC two (GEMM and REQUANT: a GEMM beside a REQUANT). */
export type Reader = 'inp' | 'wgt' | 'par' | 'acc' | 'accr' | 'outs' | 'outp';

export const READS: Readonly<Record<Reader, Buffer>> = {
  inp: 'inp',
  wgt: 'wgt',
  par: 'par',
  acc: 'acc',
  accr: 'acc',
  outs: 'out',
  outp: 'out',
};

/** Instance-name suffix of a reader's RAM where its buffer has several readers (each a RAM written together). */
export const READER_RAM: Readonly<Record<Reader, string>> = {
  inp: '',
  wgt: '',
  par: '',
  acc: 'gm',
  accr: 'rq',
  outs: 'st',
  outp: 'pl',
};

/**
 * The reader a machine builds: ACC's second (REQUANT) RAM only with config
 * gemmBeside; without it the REQUANT shares the GEMM's port (nibble_compute muxes it).
 */
export function builtReaders(f: CoreFacts): Reader[] {
  return (Object.keys(READS) as Reader[]).filter((r) => r !== 'accr' || f.cfg.gemmBeside);
}

/** The REQUANT's ACC read port: its own RAM's (accr) with gemmBeside, else requests rq_acc_* on the shared port. */
export function requantAccPort(f: CoreFacts): { reader: Reader; prefix: string } {
  return f.cfg.gemmBeside ? { reader: 'accr', prefix: 'accr' } : { reader: 'acc', prefix: 'rq_acc' };
}

export function geometry(f: CoreFacts, b: Buffer): { aw: Dim; w: Dim } {
  const { d } = f;
  const table: Record<Buffer, { aw: Dim; w: Dim }> = {
    inp: { aw: d.INP_AW, w: d.INP_W },
    wgt: { aw: d.WGT_AW, w: d.WGT_W },
    par: { aw: d.PAR_AW, w: d.PAR_W },
    acc: { aw: d.ACC_AW, w: d.ACC_W },
    out: { aw: d.OUT_AW, w: d.OUT_W },
  };
  return table[b];
}

/** A scratchpad write port `<b>_we/_wa/_wd`: driven by a unit, received by the RAMs. */
export function writePort(m: VerilogModule, f: CoreFacts, b: Buffer, side: 'unit' | 'ram' = 'unit'): void {
  const { aw, w } = geometry(f, b);
  const port = side === 'unit' ? m.output.bind(m) : m.input.bind(m);
  port(`${b}_we`);
  port(`${b}_wa`, aw);
  port(`${b}_wd`, w);
}

/**
 * Read-address bits of a reader: one address, or for INP one per lane (INP is R
 * lane RAMs, each array row addresses its own: tap packing, docs/architecture.md 7.6).
 */
export function readAddrWidth(f: CoreFacts, r: Reader): Dim {
  const { aw } = geometry(f, READS[r]);
  return r === 'inp' ? Dim.product(f.d.R, aw) : aw;
}

/** A scratchpad read port `<prefix>_re/_ra` with its data `<r>_q` (prefix defaults to the reader's name). */
export function readPort(
  m: VerilogModule,
  f: CoreFacts,
  r: Reader,
  side: 'unit' | 'ram' = 'unit',
  prefix: string = r,
): void {
  const { w } = geometry(f, READS[r]);
  const request = side === 'unit' ? m.output.bind(m) : m.input.bind(m);
  request(`${prefix}_re`);
  request(`${prefix}_ra`, readAddrWidth(f, r));
  if (side === 'unit') m.input(`${r}_q`, w);
  else m.output(`${r}_q`, w);
}
