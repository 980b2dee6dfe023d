/**
 * nibble_axi_top: the core wrapped for SoC integration, with Vitis kernel
 * interface names so Vivado infers the interfaces (ap_clk, ap_rst_n,
 * m_axi_gmem_*, s_axi_control_*, interrupt). A run:
 *  1. the host writes PROGRAM_BASE/LENGTH and DATA_BASE, then CTRL.AP_START;
 *  2. the shell fetches the program over m_axi_gmem into its instruction
 *     memory (INCR bursts, as every other read) while the core is held in reset;
 *  3. it releases the core and pulses its start; LOADs and STOREs go out on
 *     m_axi_gmem at DATA_BASE + the core's DRAM address;
 *  4. when the core is done (or the fetch failed) AP_DONE, ISR.DONE and the
 *     interrupt rise; the core keeps its counters until the next start.
 */
import { deriveArch } from '../../arch/index.js';
import { ERROR_BITS, COUNTERS, type RegisterMap } from './registers.js';
import type { ShellParams } from './options.js';

const zext = (expr: string, from: number, to: number) => (to > from ? `{${to - from}'d0, ${expr}}` : expr);
const E = Object.fromEntries(ERROR_BITS.map(([name], i) => [name, i])) as Record<
  (typeof ERROR_BITS)[number][0],
  number
>;

function ports(p: ShellParams, m: RegisterMap): string {
  const AW = p.addrBits;
  const DW = p.busBits;
  const IX = p.indexBits;
  const A = m.addrBits;
  const axi = (ch: 'AW' | 'AR') => `  output wire m_axi_gmem_${ch}VALID,
  input wire m_axi_gmem_${ch}READY,
  output wire [${AW - 1}:0] m_axi_gmem_${ch}ADDR,
  output wire [0:0] m_axi_gmem_${ch}ID,
  output wire [7:0] m_axi_gmem_${ch}LEN,
  output wire [2:0] m_axi_gmem_${ch}SIZE,
  output wire [1:0] m_axi_gmem_${ch}BURST,
  output wire [1:0] m_axi_gmem_${ch}LOCK,
  output wire [3:0] m_axi_gmem_${ch}CACHE,
  output wire [2:0] m_axi_gmem_${ch}PROT,
  output wire [3:0] m_axi_gmem_${ch}QOS,
  output wire [3:0] m_axi_gmem_${ch}REGION,`;
  const trace = p.trace
    ? `,
  // trace (verification builds only): the core's events and the cycle it starts
  output wire tr_core_start,
  output wire tr_disp, output wire [${IX - 1}:0] tr_disp_idx,
  output wire tr_ld_start, output wire [${IX - 1}:0] tr_ld_start_idx,
  output wire tr_cp_start, output wire [${IX - 1}:0] tr_cp_start_idx,
  output wire tr_st_start, output wire [${IX - 1}:0] tr_st_start_idx,
  output wire tr_ld_ret, output wire [${IX - 1}:0] tr_ld_ret_idx,
  output wire tr_cp_ret, output wire [${IX - 1}:0] tr_cp_ret_idx,
  output wire tr_st_ret, output wire [${IX - 1}:0] tr_st_ret_idx`
    : '';
  return `module nibble_axi_top (
  input wire ap_clk,
  input wire ap_rst_n,
  // AXI4 master: program fetch, LOAD and STORE
${axi('AW')}
  output wire m_axi_gmem_WVALID,
  input wire m_axi_gmem_WREADY,
  output wire [${DW - 1}:0] m_axi_gmem_WDATA,
  output wire [${DW / 8 - 1}:0] m_axi_gmem_WSTRB,
  output wire m_axi_gmem_WLAST,
  input wire m_axi_gmem_BVALID,
  output wire m_axi_gmem_BREADY,
  input wire [1:0] m_axi_gmem_BRESP,
  input wire [0:0] m_axi_gmem_BID,
${axi('AR')}
  input wire m_axi_gmem_RVALID,
  output wire m_axi_gmem_RREADY,
  input wire [${DW - 1}:0] m_axi_gmem_RDATA,
  input wire m_axi_gmem_RLAST,
  input wire [0:0] m_axi_gmem_RID,
  input wire [1:0] m_axi_gmem_RRESP,
${p.streaming ? insnPorts(p) : ''}  // AXI4-Lite slave: the register map (docs/registers.md)
  input wire s_axi_control_AWVALID,
  output wire s_axi_control_AWREADY,
  input wire [${A - 1}:0] s_axi_control_AWADDR,
  input wire s_axi_control_WVALID,
  output wire s_axi_control_WREADY,
  input wire [31:0] s_axi_control_WDATA,
  input wire [3:0] s_axi_control_WSTRB,
  input wire s_axi_control_ARVALID,
  output wire s_axi_control_ARREADY,
  input wire [${A - 1}:0] s_axi_control_ARADDR,
  output wire s_axi_control_RVALID,
  input wire s_axi_control_RREADY,
  output wire [31:0] s_axi_control_RDATA,
  output wire [1:0] s_axi_control_RRESP,
  output wire s_axi_control_BVALID,
  input wire s_axi_control_BREADY,
  output wire [1:0] s_axi_control_BRESP,
  /* verilator lint_off SYMRSVDWORD */
  output wire interrupt${trace}
  /* verilator lint_on SYMRSVDWORD */
);`;
}

/** Streaming: the read-only AXI4 master that refills the instruction ring. */
function insnPorts(p: ShellParams): string {
  const AW = p.addrBits;
  return `  // AXI4 master, read only: the streaming instruction refill
  output wire m_axi_insn_ARVALID,
  input wire m_axi_insn_ARREADY,
  output wire [${AW - 1}:0] m_axi_insn_ARADDR,
  output wire [0:0] m_axi_insn_ARID,
  output wire [7:0] m_axi_insn_ARLEN,
  output wire [2:0] m_axi_insn_ARSIZE,
  output wire [1:0] m_axi_insn_ARBURST,
  output wire [3:0] m_axi_insn_ARCACHE,
  output wire [2:0] m_axi_insn_ARPROT,
  input wire m_axi_insn_RVALID,
  output wire m_axi_insn_RREADY,
  input wire [${p.busBits - 1}:0] m_axi_insn_RDATA,
  input wire m_axi_insn_RLAST,
  input wire [1:0] m_axi_insn_RRESP,
`;
}

/**
 * Streaming (ShellOptions.stream): the instruction memory is a ring of
 * insnWords words, word w in slot w mod insnWords. While the core runs, bursts
 * of streamBurstWords words are requested on m_axi_insn, one at a time, as long
 * as their slots hold only words the core has passed (below s_lo, its latest
 * instruction address, which never decreases); the core's read is granted once
 * its word has arrived (or lies past PROGRAM_LENGTH, or the refill failed:
 * both read as an illegal opcode, so fetch stops and the run ends).
 */
function streamRefill(p: ShellParams, k: TopFacts): string {
  const { AW, IX, IA } = k;
  const SW = IX + 2;
  const C = p.streamBurstWords;
  const K = 128 / p.busBits;
  const KB = Math.log2(K);
  const w = (e: string, from: number) => zext(e, from, SW);
  const assembly =
    K === 1
      ? `  wire s_word_done = i_hs;
  wire [127:0] s_word = m_axi_insn_RDATA;`
      : `  // ${K} beats per word, beat 0 in the low bytes
  reg [${127 - p.busBits}:0] s_asm;
  reg [${KB - 1}:0] s_k;
  wire s_word_done = i_hs && s_k == ${KB}'d${K - 1};
  wire [127:0] s_word = {m_axi_insn_RDATA, s_asm};
  always @(posedge ap_clk) begin
    if (rst || s_begin) begin s_asm <= 0; s_k <= 0; end
    else if (i_hs) begin s_asm <= ${K === 2 ? 'm_axi_insn_RDATA' : `{m_axi_insn_RDATA, s_asm[${127 - p.busBits}:${p.busBits}]}`}; s_k <= s_k + 1'b1; end
  end`;
  return `  // ---------------------------------------------------------------- streaming instruction ring, refilled over m_axi_insn
  wire s_begin = start && st == S_IDLE;  // f_begin
  reg [${SW - 1}:0] s_rq, s_wp, s_lo;  // words requested, words written, the core's latest instruction address
  reg s_busy, s_err, s_arvalid;
  reg [${AW - 1}:0] s_araddr;
  reg [7:0] s_arlen;
  wire [${SW - 1}:0] s_len = ${w(`program_length[${IX - 1}:0]`, IX)};
  wire [${SW - 1}:0] s_left = s_len - s_rq;
  wire [${SW - 1}:0] s_n = s_left < ${SW}'d${C} ? s_left : ${SW}'d${C};
  // no new burst once the core is done: AP_DONE waits for the one in flight, so the next run never sees its beats
  wire s_issue = st == S_RUN && !core_done && !s_busy && !s_err && s_rq != s_len && s_rq + s_n <= s_lo + ${SW}'d${p.insnWords};
  wire i_hs = m_axi_insn_RVALID;  // RREADY is always high
  assign m_axi_insn_RREADY = 1'b1;
  assign m_axi_insn_ARVALID = s_arvalid; assign m_axi_insn_ARADDR = s_araddr; assign m_axi_insn_ARLEN = s_arlen;
  assign m_axi_insn_ARSIZE = 3'd${p.busSize}; assign m_axi_insn_ARBURST = 2'b01; assign m_axi_insn_ARID = 1'b0;
  assign m_axi_insn_ARCACHE = 4'b0011; assign m_axi_insn_ARPROT = 3'b000;
${assembly}
  assign imem_we = s_word_done && !s_err;
  assign imem_wa = s_wp[${IA - 1}:0];
  assign imem_wd = s_word;
  wire [${SW - 1}:0] s_at = ${w('insn_addr', IX)};
  assign insn_gnt = s_at < s_wp || s_at >= s_len || s_err;
  wire s_fault = i_hs && m_axi_insn_RRESP[1];
  always @(posedge ap_clk) begin
    if (rst || s_begin) begin
      s_rq <= 0; s_wp <= 0; s_lo <= 0; s_busy <= 1'b0; s_err <= 1'b0; s_arvalid <= 1'b0; s_araddr <= 0; s_arlen <= 8'd0;
    end else begin
      if (s_issue) begin
        s_arvalid <= 1'b1; s_busy <= 1'b1; s_rq <= s_rq + s_n;
        s_araddr <= program_base + {${zext(`s_rq[${IX - 1}:0]`, IX, AW - 4)}, 4'd0};
        s_arlen <= ${K === 1 ? `s_n[7:0] - 8'd1` : `{s_n[${7 - KB}:0], ${KB}'d0} - 8'd1`};
      end else if (m_axi_insn_ARREADY) s_arvalid <= 1'b0;
      if (i_hs && m_axi_insn_RLAST) s_busy <= 1'b0;
      if (s_fault) s_err <= 1'b1;
      if (s_word_done) s_wp <= s_wp + 1'b1;
      if (insn_rd) s_lo <= s_at;
    end
  end
`;
}

/** Program fetch: how R beats become 128-bit words of the instruction memory. */
function fetchAssembly(p: ShellParams): string {
  const DW = p.busBits;
  if (DW <= 128) {
    const K = 128 / DW;
    const KB = Math.log2(K);
    if (K === 1) {
      return `  assign f_rready = 1'b1;
  wire f_word_done = r_hs;
  wire [127:0] f_word_data = m_axi_gmem_RDATA;
  wire f_busy = 1'b0;`;
    }
    const asmW = 128 - DW;
    const shiftIn = asmW === DW ? 'm_axi_gmem_RDATA' : `{m_axi_gmem_RDATA, f_asm[${asmW - 1}:${DW}]}`;
    return `  // ${K} beats per word, beat 0 in the low bytes
  assign f_rready = 1'b1;
  reg [${asmW - 1}:0] f_asm;
  reg [${KB - 1}:0] f_k;
  wire f_word_done = r_hs && f_k == ${KB}'d${K - 1};
  wire [127:0] f_word_data = {m_axi_gmem_RDATA, f_asm};
  wire f_busy = 1'b0;
  always @(posedge ap_clk) begin
    if (rst || f_begin) begin f_asm <= 0; f_k <= 0; end
    else if (r_hs && st == S_FETCH) begin f_asm <= ${shiftIn}; f_k <= f_k + 1'b1; end
  end`;
  }
  const K = DW / 128;
  const KB = Math.log2(K);
  return `  // ${K} words per beat: written one per cycle (RREADY low meanwhile)
  reg f_busy;
  reg [${DW - 1}:0] f_ser;
  reg [${KB - 1}:0] f_slot;
  assign f_rready = !f_busy;
  wire f_word_done = f_busy;
  wire [127:0] f_word_data = f_ser[f_slot*128 +: 128];
  always @(posedge ap_clk) begin
    if (rst || f_begin) begin f_busy <= 1'b0; f_ser <= 0; f_slot <= 0; end
    else if (f_busy) begin
      f_slot <= f_slot + 1'b1;
      if (f_slot == ${KB}'d${K - 1}) f_busy <= 1'b0;
    end else if (r_hs && st == S_FETCH) begin f_busy <= 1'b1; f_ser <= m_axi_gmem_RDATA; f_slot <= 0; end
  end`;
}

/** Read data for the core: registered, and shifted down from its byte lanes when entries are narrower than the bus. */
function coreReadPath(p: ShellParams): string {
  const DW = p.busBits;
  const BC = p.beatCountBits;
  const lanes = Math.log2(p.busBytes);
  if (!p.narrowReads) {
    return `  assign rd_req_ready = st == S_RUN && rq_ready;
  wire c_rq_valid = st == S_RUN && rd_req_valid;
  wire [${DW - 1}:0] r_aligned = m_axi_gmem_RDATA;`;
  }
  const RW = lanes + BC + 3;
  const RD = p.readRequests;
  return `  // per request in flight: its first byte lane, beats and beat size, so each beat is shifted to lane 0
  wire rr_full, rr_ne;
  wire [${RW - 1}:0] rr_head;
  assign rd_req_ready = st == S_RUN && rq_ready && !rr_full;
  wire c_rq_valid = st == S_RUN && rd_req_valid && !rr_full;
  wire c_fire = c_rq_valid && rq_ready;
  reg [${BC - 1}:0] rr_cnt;
  reg [${lanes - 1}:0] rr_off;
  wire [${lanes - 1}:0] rr_lane0 = rr_head[${RW - 1}:${RW - lanes}];
  wire [${BC - 1}:0] rr_beats = rr_head[${BC + 2}:3];
  wire [2:0] rr_size = rr_head[2:0];
  wire [${lanes - 1}:0] rr_lane = rr_lane0 + rr_off;
  wire rr_end = rr_cnt + 1'b1 == rr_beats;
  wire rr_pop = r_hs && st == S_RUN && rr_ne && rr_end;
  nibble_queue #(.W(${RW}), .DEPTH(${RD}), .PW(${Math.max(1, Math.log2(RD))}), .CW(${Math.max(2, Math.log2(RD) + 1)})) u_rr (
    .clk(ap_clk), .rst(rst || f_begin), .push(c_fire), .din({rd_req_addr[${lanes - 1}:0], c_beats, c_size}), .pop(rr_pop),
    .head(rr_head), .nonempty(rr_ne), .full(rr_full));
  /* verilator lint_off UNUSEDSIGNAL */
  wire [7:0] rr_step = 8'd1 << rr_size;  // taken modulo the bus width
  /* verilator lint_on UNUSEDSIGNAL */
  always @(posedge ap_clk) begin
    if (rst || f_begin) begin rr_cnt <= 0; rr_off <= 0; end
    else if (r_hs && st == S_RUN) begin
      if (rr_end) begin rr_cnt <= 0; rr_off <= 0; end
      else begin rr_cnt <= rr_cnt + 1'b1; rr_off <= rr_off + rr_step[${lanes - 1}:0]; end
    end
  end
  wire [${DW - 1}:0] r_aligned = m_axi_gmem_RDATA >> {rr_lane, 3'b000};`;
}

/** Beats and AxSIZE of a core read request, from its entry size. */
function requestShape(p: ShellParams): string {
  const BC = p.beatCountBits;
  const [inp, wgt, par] = p.entries;
  const eb = deriveArch(p.cfg).dimBits;
  const beats = (e: typeof inp) =>
    e!.beats === 1 ? zext('rd_req_entries', eb, BC) : `${zext('rd_req_entries', eb, BC)} * ${BC}'d${e!.beats}`;
  return `  wire [${BC - 1}:0] c_beats = rd_req_entry_bytes == 16'd${inp!.bytes} ? ${beats(inp)} :
                        rd_req_entry_bytes == 16'd${wgt!.bytes} ? ${beats(wgt)} : ${beats(par)};
  wire [2:0] c_size = rd_req_entry_bytes == 16'd${inp!.bytes} ? 3'd${inp!.size} :
                      rd_req_entry_bytes == 16'd${wgt!.bytes} ? 3'd${wgt!.size} : 3'd${par!.size};`;
}

/** Widths and expressions every part of nibble_axi_top uses. */
function topFacts(p: ShellParams) {
  const AW = p.addrBits;
  const DW = p.busBits;
  const IX = p.indexBits;
  const IA = p.insnAddrBits;
  const BC = p.beatCountBits;
  const PC = p.counterBits;
  const macW = PC + Math.log2(p.cfg.array.rows * p.cfg.array.cols);
  const NE = ERROR_BITS.length;
  const bus = p.busBytes;
  const alignBits = Math.log2(p.programAlign);
  // beats of the program: LENGTH x 16 / busBytes, rounded up
  const perWord = Math.log2(128 / Math.min(128, DW));
  const fetchBeats =
    DW <= 128
      ? `{${zext(`program_length[${IA}:0]`, IA + 1, BC - perWord)}${perWord > 0 ? `, ${perWord}'d0` : ''}}`
      : zext(`((program_length[${IA}:0] + ${IA + 1}'d${DW / 128 - 1}) >> ${Math.log2(DW / 128)})`, IA + 1, BC);
  const cnt = (expr: string, w: number) => (w < 64 ? `{${64 - w}'d0, ${expr}}` : expr);
  const counters = [
    'perf_cycles',
    'perf_busy_load',
    'perf_busy_compute',
    'perf_busy_store',
    'perf_array_active',
    'perf_macs',
    'c_fetch',
    'c_total',
    'c_rbeats',
    'c_wbeats',
  ].map((s, i) => cnt(s, i === 5 ? macW : PC));
  if (counters.length !== COUNTERS.length) throw new Error('internal: counter list out of step with registers.ts');
  const trace = p.trace
    ? `
  assign tr_core_start = core_start;`
    : '';
  const tr = (name: string) =>
    p.trace ? `.${name}(${name}), .${name}_idx(${name}_idx)` : `.${name}(), .${name}_idx()`;
  return { AW, DW, IX, IA, BC, PC, macW, NE, bus, alignBits, perWord, fetchBeats, cnt, counters, trace, tr };
}
type TopFacts = ReturnType<typeof topFacts>;

/** nibble_axi_top: ports, register file, constant AXI signals and the core. */
function topRegsAndCore(p: ShellParams, m: RegisterMap, k: TopFacts): string {
  const { AW, DW, IX, PC, macW, NE, bus, counters, trace, tr } = k;
  return `${ports(p, m)}
  wire rst = !ap_rst_n;
  localparam [1:0] S_IDLE = 2'd0, S_FETCH = 2'd1, S_RUN = 2'd2;
  reg [1:0] st;

  // ---------------------------------------------------------------- register file
  wire start;
  wire [${AW - 1}:0] program_base, data_base;
  wire [31:0] program_length;
  reg done_sticky, done_evt, error_evt;
  reg [${NE - 1}:0] err;
  reg [2:0] err_resp;
  reg [${AW - 1}:0] err_addr;
  wire [${PC - 1}:0] perf_cycles, perf_busy_load, perf_busy_compute, perf_busy_store, perf_array_active;
  wire [${macW - 1}:0] perf_macs;
  reg [${PC - 1}:0] c_fetch, c_total, c_rbeats, c_wbeats;
  nibble_axil_regs u_regs (
    .clk(ap_clk), .rst(rst),
    .awaddr(s_axi_control_AWADDR), .awvalid(s_axi_control_AWVALID), .awready(s_axi_control_AWREADY),
    .wdata(s_axi_control_WDATA), .wstrb(s_axi_control_WSTRB), .wvalid(s_axi_control_WVALID), .wready(s_axi_control_WREADY),
    .bresp(s_axi_control_BRESP), .bvalid(s_axi_control_BVALID), .bready(s_axi_control_BREADY),
    .araddr(s_axi_control_ARADDR), .arvalid(s_axi_control_ARVALID), .arready(s_axi_control_ARREADY),
    .rdata(s_axi_control_RDATA), .rresp(s_axi_control_RRESP), .rvalid(s_axi_control_RVALID), .rready(s_axi_control_RREADY),
    .start(start), .idle(st == S_IDLE), .fetching(st == S_FETCH), .running(st == S_RUN),
    .done_evt(done_evt), .error_evt(error_evt), .done_sticky(done_sticky),
    .error_bits(err), .error_resp(err_resp), .error_addr(err_addr),
    .program_base(program_base), .program_length(program_length), .data_base(data_base),
    .counters({${[...counters].reverse().join(', ')}}),
    .interrupt(interrupt));

  // ---------------------------------------------------------------- constant AXI signals (one ID, INCR, normal non-cacheable bufferable)
  assign m_axi_gmem_AWID = 1'b0; assign m_axi_gmem_ARID = 1'b0;
  assign m_axi_gmem_AWBURST = 2'b01; assign m_axi_gmem_ARBURST = 2'b01;
  assign m_axi_gmem_AWLOCK = 2'b00; assign m_axi_gmem_ARLOCK = 2'b00;
  assign m_axi_gmem_AWCACHE = 4'b0011; assign m_axi_gmem_ARCACHE = 4'b0011;
  assign m_axi_gmem_AWPROT = 3'b000; assign m_axi_gmem_ARPROT = 3'b000;
  assign m_axi_gmem_AWQOS = 4'b0000; assign m_axi_gmem_ARQOS = 4'b0000;
  assign m_axi_gmem_AWREGION = 4'b0000; assign m_axi_gmem_ARREGION = 4'b0000;
  assign m_axi_gmem_BREADY = 1'b1;
  /* verilator lint_off UNUSEDSIGNAL */
  wire unused_ids = ^{m_axi_gmem_BID, m_axi_gmem_RID, m_axi_gmem_RLAST, m_axi_gmem_BRESP[0], m_axi_gmem_RRESP[0]};
  /* verilator lint_on UNUSEDSIGNAL */

  // ---------------------------------------------------------------- the core
  reg core_hold, core_start;
  wire core_done, core_err, core_acc_ovf, insn_rd;${p.streaming ? '\n  wire insn_gnt;  // the streaming ring holds the word the core asks for' : ''}
  wire [${IX - 1}:0] insn_addr;
  wire [127:0] insn_data;
  wire rd_req_valid, rd_req_ready, rd_resp_ready;
  wire [${p.dramAddrBits - 1}:0] rd_req_addr, wr_addr;
  wire [${deriveArch(p.cfg).dimBits - 1}:0] rd_req_entries;
  wire [15:0] rd_req_entry_bytes;
  reg rd_resp_valid;
  reg [${DW - 1}:0] rd_resp_data;
  wire wr_valid, wr_ready, wr_last, wr_resp_valid;
  wire [${DW - 1}:0] wr_data;
  wire [${bus - 1}:0] wr_strb;
  /* verilator lint_off UNUSEDSIGNAL */
  wire unused_rr = rd_resp_ready;  // the core takes a beat every cycle
  /* verilator lint_on UNUSEDSIGNAL */
  // the trace ports are left open outside verification builds: synthesis removes the index tracking behind them
  /* verilator lint_off PINCONNECTEMPTY */
  nibble_top u_core (
    .clk(ap_clk), .rst(rst || core_hold), .start(core_start), .done(core_done), .err(core_err),
    .acc_ovf(core_acc_ovf),
    .insn_rd(insn_rd), .insn_addr(insn_addr), .insn_data(insn_data),${p.streaming ? ' .insn_gnt(insn_gnt),' : ''}
    .rd_req_valid(rd_req_valid), .rd_req_ready(rd_req_ready), .rd_req_addr(rd_req_addr),
    .rd_req_entries(rd_req_entries), .rd_req_entry_bytes(rd_req_entry_bytes),
    .rd_resp_valid(rd_resp_valid), .rd_resp_data(rd_resp_data), .rd_resp_ready(rd_resp_ready),
    .wr_valid(wr_valid), .wr_ready(wr_ready), .wr_addr(wr_addr), .wr_data(wr_data), .wr_strb(wr_strb),
    .wr_last(wr_last), .wr_resp_valid(wr_resp_valid),
    .tr_disp(${p.trace ? 'tr_disp' : ''}), .tr_disp_idx(${p.trace ? 'tr_disp_idx' : ''}),
    ${tr('tr_ld_start')}, ${tr('tr_cp_start')}, ${tr('tr_st_start')},
    ${tr('tr_ld_ret')}, ${tr('tr_cp_ret')}, ${tr('tr_st_ret')},
    .perf_cycles(perf_cycles), .perf_busy_load(perf_busy_load), .perf_busy_compute(perf_busy_compute),
    .perf_busy_store(perf_busy_store), .perf_array_active(perf_array_active), .perf_macs(perf_macs));
  /* verilator lint_on PINCONNECTEMPTY */${trace}

`;
}

/** nibble_axi_top: instruction memory, the AR splitter, R and the W/B path. */
function topMemoryPaths(p: ShellParams, k: TopFacts): string {
  const { AW, IX, IA, BC, alignBits, fetchBeats } = k;
  return `  // ---------------------------------------------------------------- instruction memory (written by the fetch, read by the core)
  wire imem_we;
  wire [${IA - 1}:0] imem_wa;
  wire [127:0] imem_wd, imem_q;
  nibble_sdp_ram #(.W(128), .AW(${IA})) u_imem (
    .clk(ap_clk), .we(imem_we), .wa(imem_wa), .wd(imem_wd), .re(insn_rd), .ra(insn_addr[${IA - 1}:0]), .rd(imem_q));
${p.streaming ? streamRefill(p, k) : ''}  // a word at or past PROGRAM_LENGTH reads as an illegal opcode: a program without HALT stops with ERROR.ILLEGAL
  reg past_end;
  always @(posedge ap_clk) begin
    if (rst) past_end <= 1'b0;
    else if (insn_rd) past_end <= ${zext('insn_addr', IX, 32)} >= program_length${p.streaming ? ' || s_err' : ''};
  end
  assign insn_data = past_end ? 128'h0F : imem_q;

  // ---------------------------------------------------------------- AR: program fetch, then the core's LOAD requests
  wire rq_ready;
  reg f_req;
  wire f_begin = start && st == S_IDLE;
  wire len_ok = program_length != 32'd0 && program_length <= 32'd${p.maxProgramWords};
  wire align_ok = program_base[${alignBits - 1}:0] == ${alignBits}'d0${p.busSize > 0 ? ` && data_base[${p.busSize - 1}:0] == ${p.busSize}'d0` : ''};
${requestShape(p)}
  wire [${AW - 1}:0] c_addr = data_base + ${zext('rd_req_addr', p.dramAddrBits, AW)};
  wire r_hs = m_axi_gmem_RVALID && m_axi_gmem_RREADY;
${coreReadPath(p)}
  nibble_axi_rd u_rd (
    .clk(ap_clk), .rst(rst),
    .rq_valid(st == S_FETCH ? f_req : c_rq_valid), .rq_ready(rq_ready),
    .rq_addr(st == S_FETCH ? program_base : c_addr),
    .rq_beats(st == S_FETCH ? ${fetchBeats} : c_beats),
    .rq_size(st == S_FETCH ? 3'd${p.busSize} : c_size),
    .arvalid(m_axi_gmem_ARVALID), .arready(m_axi_gmem_ARREADY), .araddr(m_axi_gmem_ARADDR),
    .arlen(m_axi_gmem_ARLEN), .arsize(m_axi_gmem_ARSIZE), .burst_done(r_hs && m_axi_gmem_RLAST));
  reg [${AW - 1}:0] ar_last;
  always @(posedge ap_clk) begin
    if (rst) ar_last <= 0;
    else if (m_axi_gmem_ARVALID && m_axi_gmem_ARREADY) ar_last <= m_axi_gmem_ARADDR;
  end

  // ---------------------------------------------------------------- R: program words into the instruction memory, data to the core
  wire f_rready;
  assign m_axi_gmem_RREADY = st == S_FETCH ? f_rready : 1'b1;
${fetchAssembly(p)}
  reg [${BC - 1}:0] f_left;
  reg [${IA}:0] f_word;
${
  p.streaming
    ? `  /* verilator lint_off UNUSEDSIGNAL */
  wire unused_fetch = ^f_word_data;  // streaming: the ring is written by the refill
  /* verilator lint_on UNUSEDSIGNAL */
`
    : `  assign imem_we = f_word_done && st == S_FETCH && ${zext('f_word', IA + 1, 32)} < program_length;
  assign imem_wa = f_word[${IA - 1}:0];
  assign imem_wd = f_word_data;
`
}  wire f_complete = st == S_FETCH && !f_req && f_left == 0 && !f_busy;
  always @(posedge ap_clk) begin
    if (rst) begin rd_resp_valid <= 1'b0; rd_resp_data <= 0; end
    else begin rd_resp_valid <= r_hs && st == S_RUN; rd_resp_data <= r_aligned; end
  end

  // ---------------------------------------------------------------- W, B: the core's STOREs
  wire w_err;
  wire [1:0] w_code;
  wire [${AW - 1}:0] w_addr;
  wire w_beat;
  nibble_axi_wr u_wr (
    .clk(ap_clk), .rst(rst || f_begin), .base(data_base),
    .wr_valid(wr_valid), .wr_ready(wr_ready), .wr_addr(wr_addr), .wr_data(wr_data), .wr_strb(wr_strb), .wr_last(wr_last),
    .wr_resp_valid(wr_resp_valid),
    .awvalid(m_axi_gmem_AWVALID), .awready(m_axi_gmem_AWREADY), .awaddr(m_axi_gmem_AWADDR), .awlen(m_axi_gmem_AWLEN),
    .awsize(m_axi_gmem_AWSIZE),
    .wvalid(m_axi_gmem_WVALID), .wready(m_axi_gmem_WREADY), .wdata(m_axi_gmem_WDATA), .wstrb(m_axi_gmem_WSTRB),
    .wlast(m_axi_gmem_WLAST),
    .bvalid(m_axi_gmem_BVALID), .bresp(m_axi_gmem_BRESP),
    .resp_err(w_err), .resp_code(w_code), .burst_addr(w_addr), .beat_sent(w_beat));

`;
}

/** nibble_axi_top: the run sequencer, errors and the shell's counters. */
function topSequencer(p: ShellParams, k: TopFacts): string {
  const { NE, fetchBeats } = k;
  const st = p.streaming;
  return `  // ---------------------------------------------------------------- sequencer, errors and counters
  reg [${NE - 1}:0] err_n;
  always @(*) begin
    err_n = err;
    if (f_begin) err_n = {${NE}{1'b0}};
    if (f_begin && !len_ok) err_n[${E.LENGTH}] = 1'b1;
    if (f_begin && !align_ok) err_n[${E.ALIGN}] = 1'b1;
    if (r_hs && m_axi_gmem_RRESP[1] && st == S_FETCH) err_n[${E.FETCH_RESP}] = 1'b1;${st ? `\n    if (s_fault) err_n[${E.FETCH_RESP}] = 1'b1;` : ''}
    if (r_hs && m_axi_gmem_RRESP[1] && st == S_RUN) err_n[${E.READ_RESP}] = 1'b1;
    if (w_err) err_n[${E.WRITE_RESP}] = 1'b1;
    if (core_err && st == S_RUN) err_n[${E.ILLEGAL}] = 1'b1;
    if (core_acc_ovf && st == S_RUN) err_n[${E.ACC_OVF}] = 1'b1;
  end
  wire first_bus_err = err_resp == 3'd0 && ((r_hs && m_axi_gmem_RRESP[1] && st != S_IDLE) || w_err${st ? ' || s_fault' : ''});
  always @(posedge ap_clk) begin
    if (rst) begin
      st <= S_IDLE; core_hold <= 1'b1; core_start <= 1'b0; f_req <= 1'b0; f_left <= 0; f_word <= 0;
      done_sticky <= 1'b0; done_evt <= 1'b0; error_evt <= 1'b0; err <= 0; err_resp <= 3'd0; err_addr <= 0;
      c_fetch <= 0; c_total <= 0; c_rbeats <= 0; c_wbeats <= 0;
    end else begin
      done_evt <= 1'b0;
      core_start <= 1'b0;
      err <= err_n;
      error_evt <= err_n != 0 && (err == 0 || f_begin);
      if (f_begin) begin
        done_sticky <= 1'b0; err_resp <= 3'd0; err_addr <= 0;
        c_fetch <= 0; c_total <= 0; c_rbeats <= 0; c_wbeats <= 0;
        if (len_ok && align_ok) begin
          st <= S_FETCH; core_hold <= 1'b1; f_req <= 1'b${st ? 0 : 1}; f_word <= 0;
          f_left <= ${st ? '0' : fetchBeats};${st ? '  // streaming: the core starts next cycle, the ring fills as it runs' : ''}
        end else begin
          done_sticky <= 1'b1; done_evt <= 1'b1;
        end
      end else if (first_bus_err) begin
        err_resp <= {w_err, w_err ? w_code : ${st ? '(r_hs && m_axi_gmem_RRESP[1]) ? m_axi_gmem_RRESP : m_axi_insn_RRESP' : 'm_axi_gmem_RRESP'}};
        err_addr <= w_err ? w_addr : ${st ? '(r_hs && m_axi_gmem_RRESP[1]) ? ar_last : s_araddr' : 'ar_last'};
      end
      if (st != S_IDLE) c_total <= c_total + 1'b1;
      if (st == S_FETCH) c_fetch <= c_fetch + 1'b1;
      ${st ? `c_rbeats <= c_rbeats + {${k.PC - 1}'d0, r_hs} + {${k.PC - 1}'d0, i_hs};` : "if (r_hs) c_rbeats <= c_rbeats + 1'b1;"}
      if (w_beat) c_wbeats <= c_wbeats + 1'b1;
      if (st == S_FETCH) begin
        if (f_req && rq_ready) f_req <= 1'b0;
        if (r_hs) f_left <= f_left - 1'b1;
        if (f_word_done) f_word <= f_word + 1'b1;
        if (f_complete) begin
          if (err[${E.FETCH_RESP}]) begin st <= S_IDLE; done_sticky <= 1'b1; done_evt <= 1'b1; end
          else begin st <= S_RUN; core_hold <= 1'b0; core_start <= 1'b1; end
        end
      end
      if (st == S_RUN && core_done${st ? ' && !s_busy' : ''}) begin st <= S_IDLE; done_sticky <= 1'b1; done_evt <= 1'b1; end
    end
  end
endmodule
`;
}

export function axiTopModule(p: ShellParams, m: RegisterMap): string {
  const k = topFacts(p);
  return topRegsAndCore(p, m, k) + topMemoryPaths(p, k) + topSequencer(p, k);
}
