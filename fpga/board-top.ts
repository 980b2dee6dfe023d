/**
 * nibble_board_top: the AXI shell on a small board with no DRAM. Its AXI4
 * slave (in-order INCR bursts, one at a time, W after its AW) serves both of
 * the shell's masters (m_axi_gmem first, then the streaming instruction refill
 * m_axi_insn) from two regions (BOARD_MAP): the board's SPI flash, read only,
 * below FLASH_WINDOW (flash byte = bus address; a write there answers SLVERR),
 * and the block RAM at BRAM_BASE. The host reaches the registers and the block
 * RAM over the board's UART (8N1) with a four-command byte protocol, so the C
 * driver runs on the host with the UART transport (nibble_io_uart):
 *
 *   'w' idx d0 d1 d2 d3     register write (idx = offset / 4, data little-endian) -> 'k'
 *   'r' idx                 register read -> d0 d1 d2 d3
 *   'W' a0 a1 a2 n0 n1 ...  write n bytes of memory from byte address a -> 'k'
 *   'R' a0 a1 a2 n0 n1      read n bytes of memory -> the bytes
 *
 * LEDs: 0 heartbeat, 1 interrupt, 2 a UART byte arrived, the rest off.
 */
import { BOARD_SLAVE, flashByteCycles } from '../arch/index.js';
import type { ShellParams } from '../rtl-gen/index.js';
import { BOARD_MAP, FpgaError, type Board } from './boards.js';

/** SPI flash command the reader sends: READ (0x03, no dummy cycles); SCK runs at half the clock. */
export const FLASH_READ_COMMAND = BOARD_SLAVE.flashReadCommand;
/** Clock cycles per flash byte within a burst: 8 SCK periods of 2 cycles (a burst's first byte adds the 2-cycle hand-over). */
export const FLASH_CYCLES_PER_BYTE = flashByteCycles();

/** The shell's trace ports (verification builds): the board top passes them out for its Verilator bench. */
const TRACE_PORTS = [
  'tr_core_start',
  'tr_disp',
  'tr_ld_start',
  'tr_cp_start',
  'tr_st_start',
  'tr_ld_ret',
  'tr_cp_ret',
  'tr_st_ret',
];

/** Verification builds: the board top's trace outputs. */
function tracePorts(k: BoardFacts): string {
  if (!k.trace) return '';
  const port = (n: string) =>
    n === 'tr_core_start' ? `  output wire ${n}` : `  output wire ${n}, output wire [${k.IX - 1}:0] ${n}_idx`;
  return `,\n  // the shell's trace (verification builds only)\n${TRACE_PORTS.map(port).join(',\n')}`;
}

/** Verification builds: the shell's trace ports wired to the board top's. */
function traceConnections(k: BoardFacts): string {
  if (!k.trace) return '';
  const con = (n: string) => (n === 'tr_core_start' ? `.${n}(${n})` : `.${n}(${n}), .${n}_idx(${n}_idx)`);
  return `,\n    ${TRACE_PORTS.map(con).join(', ')}`;
}

/** Widths and constants the parts of nibble_board_top use. */
function boardFacts(b: Board, p: ShellParams, controlAddrBits: number) {
  // the flash reader's FSM is written for these: SCK = clock / 2 (one phase a cycle) and a 2-cycle hand-over
  if (BOARD_SLAVE.flashBitCycles !== 2 || BOARD_SLAVE.flashHandoverCycles !== 2 || BOARD_SLAVE.flashGapCycles !== 1)
    throw new Error('internal: BOARD_SLAVE timing out of step with the flash reader in fpga/board-top.ts');
  if (p.busBytes !== 1 || !p.streaming || p.addrBits !== BOARD_MAP.addrBits)
    throw new FpgaError(
      `the board design needs a 1-byte bus, a streaming shell and ${BOARD_MAP.addrBits}-bit AXI addresses (the flash reader moves one byte a beat); got ${p.busBytes} bytes, stream ${p.streaming}, ${p.addrBits} bits`,
      'board config',
    );
  const SB = p.busBytes;
  const DW = p.busBits;
  const AW = p.addrBits;
  const memWords = b.memBytes / SB;
  const MA = Math.log2(memWords);
  const LB = Math.log2(SB);
  const div = Math.round((b.clockMHz * 1e6) / b.baud);
  const A = controlAddrBits;
  const nl = b.pins.leds.length;
  const inv = b.ledsActiveLow ? '~' : '';
  const lane = (addr: string) => (LB > 0 ? `${addr}[${LB - 1}:0]` : "1'b0");
  const word = (addr: string) => `${addr}[${MA + LB - 1}:${LB}]`;
  const IX = p.indexBits;
  const trace = p.trace;
  return { b, SB, DW, AW, memWords, MA, LB, div, A, nl, inv, lane, word, IX, trace };
}
type BoardFacts = ReturnType<typeof boardFacts>;

/** nibble_board_top: ports, power-on reset and the UART. */
function boardUart(k: BoardFacts): string {
  const { b, div, nl } = k;
  return `// Board top: AXI shell + block RAM memory + UART host link (fpga/board-top.ts)
module nibble_board_top (
  input wire clk,
  input wire rx,
  output wire tx,
  output wire [${nl - 1}:0] led,
  // the configuration flash (SPI mode 0), free once the FPGA is configured
  output wire flash_csb,
  output wire flash_sck,
  output wire flash_mosi,
  input wire flash_miso${tracePorts(k)}
);
  // ---------------------------------------------------------------- power-on reset (FFs start at 0)
  reg [3:0] por = 4'd0;
  always @(posedge clk) if (!por[3]) por <= por + 4'd1;
  wire rst_n = por[3];
  wire rst = !rst_n;

  // ---------------------------------------------------------------- UART, ${b.baud} baud from ${b.clockMHz} MHz (divider ${div})
  reg [1:0] rx_s = 2'b11;
  always @(posedge clk) rx_s <= {rx_s[0], rx};
  reg [15:0] rx_cnt; reg [3:0] rx_bit; reg [7:0] rx_sh; reg rx_busy, rx_valid; reg [7:0] rx_byte;
  always @(posedge clk) begin
    rx_valid <= 1'b0;
    if (rst) begin rx_busy <= 1'b0; rx_cnt <= 16'd0; rx_bit <= 4'd0; rx_sh <= 8'd0; rx_byte <= 8'd0; end
    else if (!rx_busy) begin
      if (!rx_s[1]) begin rx_busy <= 1'b1; rx_cnt <= 16'd${Math.floor(div / 2)}; rx_bit <= 4'd0; end
    end else if (rx_cnt != 16'd0) rx_cnt <= rx_cnt - 16'd1;
    else begin
      rx_cnt <= 16'd${div - 1};
      rx_bit <= rx_bit + 4'd1;
      if (rx_bit == 4'd0) begin if (rx_s[1]) rx_busy <= 1'b0; end  // a glitch, not a start bit
      else if (rx_bit <= 4'd8) rx_sh <= {rx_s[1], rx_sh[7:1]};
      else begin rx_busy <= 1'b0; rx_valid <= 1'b1; rx_byte <= rx_sh; end
    end
  end
  reg [15:0] tx_cnt; reg [9:0] tx_sh = 10'h3ff; reg [3:0] tx_left;  // the line idles high from configuration on
  wire tx_idle = tx_left == 4'd0;
  reg tx_go; reg [7:0] tx_byte;
  assign tx = tx_sh[0];
  always @(posedge clk) begin
    if (rst) begin tx_sh <= 10'h3ff; tx_left <= 4'd0; tx_cnt <= 16'd0; end
    else if (tx_go && tx_idle) begin tx_sh <= {1'b1, tx_byte, 1'b0}; tx_left <= 4'd10; tx_cnt <= 16'd${div - 1}; end
    else if (!tx_idle) begin
      if (tx_cnt != 16'd0) tx_cnt <= tx_cnt - 16'd1;
      else begin tx_cnt <= 16'd${div - 1}; tx_sh <= {1'b1, tx_sh[9:1]}; tx_left <= tx_left - 4'd1; end
    end
  end

`;
}

/** nibble_board_top: the AXI shell. */
function boardShell(k: BoardFacts): string {
  const { SB, DW, AW, MA, LB, A } = k;
  return `  // ---------------------------------------------------------------- the shell
  wire s_awvalid, s_awready, s_wvalid, s_wready, s_bvalid, s_arvalid, s_arready, s_rvalid;
  wire [${A - 1}:0] s_addr;
  wire [31:0] s_wdata, s_rdata;
  wire [1:0] s_bresp, s_rresp;
  wire irq;
  // the shell's RREADY (both masters) and BREADY are always high for buses of at most 16 bytes: the slave below relies on it
  wire m_rready, m_bready, i_rready;
  wire m_awvalid, m_awready, m_wvalid, m_wready, m_wlast, m_bvalid, m_arvalid, m_arready, m_rvalid, m_rlast;
  wire i_arvalid, i_arready, i_rvalid, i_rlast;
  wire [${AW - 1}:0] m_awaddr, m_araddr, i_araddr;
  wire [7:0] m_awlen, m_arlen, i_arlen;
  wire [2:0] m_awsize, m_arsize, i_arsize;
  wire [${DW - 1}:0] m_wdata, m_rdata;
  wire [${SB - 1}:0] m_wstrb;
  wire [1:0] m_bresp;
  /* verilator lint_off PINCONNECTEMPTY */
  nibble_axi_top u_shell (
    .ap_clk(clk), .ap_rst_n(rst_n),
    .m_axi_gmem_AWVALID(m_awvalid), .m_axi_gmem_AWREADY(m_awready), .m_axi_gmem_AWADDR(m_awaddr), .m_axi_gmem_AWID(),
    .m_axi_gmem_AWLEN(m_awlen), .m_axi_gmem_AWSIZE(m_awsize), .m_axi_gmem_AWBURST(), .m_axi_gmem_AWLOCK(),
    .m_axi_gmem_AWCACHE(), .m_axi_gmem_AWPROT(), .m_axi_gmem_AWQOS(), .m_axi_gmem_AWREGION(),
    .m_axi_gmem_WVALID(m_wvalid), .m_axi_gmem_WREADY(m_wready), .m_axi_gmem_WDATA(m_wdata), .m_axi_gmem_WSTRB(m_wstrb),
    .m_axi_gmem_WLAST(m_wlast), .m_axi_gmem_BVALID(m_bvalid), .m_axi_gmem_BREADY(m_bready), .m_axi_gmem_BRESP(m_bresp),
    .m_axi_gmem_BID(1'b0),
    .m_axi_gmem_ARVALID(m_arvalid), .m_axi_gmem_ARREADY(m_arready), .m_axi_gmem_ARADDR(m_araddr), .m_axi_gmem_ARID(),
    .m_axi_gmem_ARLEN(m_arlen), .m_axi_gmem_ARSIZE(m_arsize), .m_axi_gmem_ARBURST(), .m_axi_gmem_ARLOCK(),
    .m_axi_gmem_ARCACHE(), .m_axi_gmem_ARPROT(), .m_axi_gmem_ARQOS(), .m_axi_gmem_ARREGION(),
    .m_axi_gmem_RVALID(m_rvalid), .m_axi_gmem_RREADY(m_rready), .m_axi_gmem_RDATA(m_rdata), .m_axi_gmem_RLAST(m_rlast),
    .m_axi_gmem_RID(1'b0), .m_axi_gmem_RRESP(2'b00),
    .m_axi_insn_ARVALID(i_arvalid), .m_axi_insn_ARREADY(i_arready), .m_axi_insn_ARADDR(i_araddr), .m_axi_insn_ARID(),
    .m_axi_insn_ARLEN(i_arlen), .m_axi_insn_ARSIZE(i_arsize), .m_axi_insn_ARBURST(), .m_axi_insn_ARCACHE(),
    .m_axi_insn_ARPROT(), .m_axi_insn_RVALID(i_rvalid), .m_axi_insn_RREADY(i_rready), .m_axi_insn_RDATA(m_rdata),
    .m_axi_insn_RLAST(i_rlast), .m_axi_insn_RRESP(2'b00),
    .s_axi_control_AWVALID(s_awvalid), .s_axi_control_AWREADY(s_awready), .s_axi_control_AWADDR(s_addr),
    .s_axi_control_WVALID(s_wvalid), .s_axi_control_WREADY(s_wready), .s_axi_control_WDATA(s_wdata),
    .s_axi_control_WSTRB(4'hf), .s_axi_control_ARVALID(s_arvalid), .s_axi_control_ARREADY(s_arready),
    .s_axi_control_ARADDR(s_addr), .s_axi_control_RVALID(s_rvalid), .s_axi_control_RREADY(1'b1),
    .s_axi_control_RDATA(s_rdata), .s_axi_control_RRESP(s_rresp), .s_axi_control_BVALID(s_bvalid),
    .s_axi_control_BREADY(1'b1), .s_axi_control_BRESP(s_bresp), .interrupt(irq)${traceConnections(k)});
  /* verilator lint_on PINCONNECTEMPTY */
  /* verilator lint_off UNUSEDSIGNAL */
  wire unused = ^{s_bresp, s_rresp, m_rready, m_bready, i_rready, m_awlen, idx, args[7:0], m_awaddr[${AW - 2}:${MA + LB}], m_araddr[${AW - 2}:${MA + LB}], i_araddr[${AW - 2}:${MA + LB}]};
  /* verilator lint_on UNUSEDSIGNAL */

`;
}

/** nibble_board_top: the block RAM, the SPI flash reader and the AXI4 slave over both. */
function boardMemory(k: BoardFacts): string {
  const { b, SB, DW, AW, memWords, MA } = k;
  const hi = AW - 1; // the region bit: 0 flash window, 1 block RAM
  return `  // ---------------------------------------------------------------- memory: ${b.memBytes} bytes of block RAM, ${SB}-byte words
  (* ram_style = "block" *) reg [${DW - 1}:0] mem [0:${memWords - 1}];
  // one read and one write port, shared by the AXI slave and the host link (the host reaches memory only while the slave is idle)
  wire mem_re;
  wire [${MA - 1}:0] mem_ra, mem_wa;
  wire [${DW - 1}:0] mem_wd;
  wire [${SB - 1}:0] mem_we;
  reg [${DW - 1}:0] mem_q;
  integer k;
  always @(posedge clk) begin
    for (k = 0; k < ${SB}; k = k + 1) if (mem_we[k]) mem[mem_wa][k*8 +: 8] <= mem_wd[k*8 +: 8];
    if (mem_re) mem_q <= mem[mem_ra];
  end

  // ---------------------------------------------------------------- SPI flash reader: READ 0x${FLASH_READ_COMMAND.toString(16).padStart(2, '0')}, mode 0, SCK = clk / 2
  // After configuration it wakes the flash (0xAB, release from deep power-down) and waits. A read stays open
  // (CS low, SCK idle low) between bytes and bursts: the next byte address costs nothing, any other one closes it
  // and sends a new command with its 24-bit address. fl_go asks for the byte at fl_addr; fl_done brings it in fl_q.
  localparam [2:0] F_WAKE = 3'd0, F_PAUSE = 3'd1, F_IDLE = 3'd2, F_GAP = 3'd3, F_CMD = 3'd4, F_DATA = 3'd5;
  reg [2:0] fs;
  reg [31:0] fl_sh;
  reg [5:0] fl_bits;
  reg [6:0] fl_rx;  // the byte's first seven bits
  reg [7:0] fl_q;
  reg [11:0] fl_wait;
  reg [23:0] fl_next;
  reg fl_ph, fl_open, fl_done, fl_cont, cs_r, sck_r, mosi_r;
  wire fl_go, fl_more;
  wire [23:0] fl_addr;
  assign flash_csb = cs_r; assign flash_sck = sck_r; assign flash_mosi = mosi_r;
  always @(posedge clk) begin
    fl_done <= 1'b0;
    if (rst) begin
      fs <= F_WAKE; fl_sh <= {8'hAB, 24'd0}; fl_bits <= 6'd8; fl_ph <= 1'b0; fl_open <= 1'b0; fl_wait <= 12'd0;
      fl_rx <= 7'd0; fl_q <= 8'd0; fl_next <= 24'd0; fl_cont <= 1'b0; cs_r <= 1'b1; sck_r <= 1'b0; mosi_r <= 1'b0;
    end else case (fs)
      F_WAKE, F_CMD: begin  // shift fl_bits bits of fl_sh out, MSB first: MOSI set while SCK is low, taken on its rise
        cs_r <= 1'b0;
        if (!fl_ph) begin sck_r <= 1'b0; mosi_r <= fl_sh[31]; fl_ph <= 1'b1; end
        else begin
          sck_r <= 1'b1; fl_sh <= {fl_sh[30:0], 1'b0}; fl_bits <= fl_bits - 6'd1; fl_ph <= 1'b0;
          if (fl_bits == 6'd1) begin
            if (fs == F_WAKE) begin fs <= F_PAUSE; fl_wait <= 12'd${BOARD_SLAVE.flashWakeCycles - 1}; end
            else begin fs <= F_DATA; fl_bits <= 6'd8; end
          end
        end
      end
      F_PAUSE: begin  // CS high, SCK low: 4096 cycles (341 us at 12 MHz), above any flash's wake-up time, before the first read
        if (sck_r) sck_r <= 1'b0; else cs_r <= 1'b1;
        if (fl_wait == 12'd0) fs <= F_IDLE; else fl_wait <= fl_wait - 12'd1;
      end
      F_IDLE: begin
        sck_r <= 1'b0;
        if (fl_go) begin
          if (fl_open && fl_next == fl_addr) begin fs <= F_DATA; fl_bits <= 6'd8; fl_ph <= 1'b0; end
          else if (fl_open) begin cs_r <= 1'b1; fl_open <= 1'b0; fs <= F_GAP; end
          else begin fs <= F_CMD; fl_sh <= {8'h${FLASH_READ_COMMAND.toString(16).padStart(2, '0')}, fl_addr}; fl_bits <= 6'd${BOARD_SLAVE.flashCommandBits}; fl_ph <= 1'b0; fl_open <= 1'b1; fl_next <= fl_addr; end
        end
      end
      F_GAP: begin  // one cycle with CS high, then the new read (fl_addr holds while the byte is pending)
        fs <= F_CMD; fl_sh <= {8'h${FLASH_READ_COMMAND.toString(16).padStart(2, '0')}, fl_addr}; fl_bits <= 6'd${BOARD_SLAVE.flashCommandBits}; fl_ph <= 1'b0; fl_open <= 1'b1; fl_next <= fl_addr;
      end
      F_DATA: begin  // SCK falls (the flash shifts its next bit out), then rises (the bit is taken)
        if (!fl_ph) begin sck_r <= 1'b0; fl_ph <= 1'b1; end
        else begin
          sck_r <= 1'b1; fl_rx <= {fl_rx[5:0], flash_miso}; fl_bits <= fl_bits - 6'd1; fl_ph <= 1'b0;
          if (fl_bits == 6'd1) begin
            fl_done <= 1'b1; fl_q <= {fl_rx[6:0], flash_miso}; fl_next <= fl_next + 24'd1; fl_cont <= fl_more;
            // the burst wants the next byte: SCK keeps running into it (no hand-over through F_IDLE)
            if (fl_more) fl_bits <= 6'd8; else fs <= F_IDLE;
          end
        end
      end
      default: fs <= F_IDLE;
    endcase
  end

  // AXI4 slave, read side: one burst at a time, from m_axi_gmem first, else m_axi_insn; a beat per cycle from the
  // block RAM, a beat per flash byte from the flash window; RREADY is always high on both masters
  reg r_act, r_v, r_src, r_fl, r_vfl, fl_pend; reg [${AW - 1}:0] r_addr; reg [7:0] r_left; reg [2:0] r_size;
  wire r_free = !r_act && !r_v;
  assign m_arready = r_free;
  assign i_arready = r_free && !m_arvalid;
  wire r_take_m = m_arvalid && r_free;
  wire r_take_i = i_arvalid && i_arready;
  wire [${AW - 1}:0] r_start = r_take_m ? m_araddr : i_araddr;
  assign m_rvalid = r_v && !r_src;
  assign i_rvalid = r_v && r_src;
  assign m_rdata = r_vfl ? fl_q : mem_q;
  assign m_rlast = r_v && !r_act;
  assign i_rlast = m_rlast;
  wire r_issue = r_act && !r_fl;
  assign fl_go = r_act && r_fl && !fl_pend;
  assign fl_more = r_left != 8'd0;  // the byte in flight is not its burst's last
  assign fl_addr = ${AW >= 24 ? 'r_addr[23:0]' : `{${24 - AW}'d0, r_addr}`};
  // AXI4 slave, write side: W only after its AW; the flash window is read only (SLVERR, nothing written)
  reg w_act, b_v, w_ro; reg [${AW - 1}:0] w_addr; reg [2:0] w_size;
  assign m_awready = !w_act && !b_v;
  assign m_wready = w_act;
  assign m_bvalid = b_v;
  assign m_bresp = w_ro ? 2'b10 : 2'b00;
  wire w_hs = m_wvalid && w_act;
  wire w_mem = w_hs && !w_ro;
  /* verilator lint_off UNUSEDSIGNAL */
  wire unused_map = ^w_addr[${hi}:${k.MA + k.LB}];
  /* verilator lint_on UNUSEDSIGNAL */

`;
}

/** nibble_board_top: the host bridge and the LEDs. */
function boardBridge(k: BoardFacts): string {
  const { SB, AW, A, nl, inv, lane, word } = k;
  const hi = AW - 1;
  return `  // ---------------------------------------------------------------- bridge: UART commands to AXI-Lite and memory
  localparam [3:0] B_CMD = 4'd0, B_ARG = 4'd1, B_REGW = 4'd2, B_REGR = 4'd3, B_SEND = 4'd4, B_MEMW = 4'd5, B_MEMR = 4'd6, B_MEMR2 = 4'd7, B_ACK = 4'd8;
  reg [3:0] bs; reg [7:0] cmd, idx; reg [2:0] argc; reg [39:0] args; reg [15:0] n; reg [23:0] ma;
  reg lawv, lwv, larv; reg [31:0] rword; reg [2:0] sendc;
  assign s_awvalid = lawv; assign s_wvalid = lwv; assign s_arvalid = larv;
  assign s_addr = {idx[${A - 3}:0], 2'b00};
  assign s_wdata = args[39:8];
  wire host_mem_ok = !r_act && !r_v && !w_act;
  reg hr_pend;
  wire host_rd = bs == B_MEMR && n != 16'd0 && host_mem_ok && !hr_pend && tx_idle && !tx_go;
  wire host_wr = bs == B_MEMW && n != 16'd0 && rx_valid && host_mem_ok;
  assign mem_re = r_issue || host_rd;
  assign mem_ra = r_issue ? ${word('r_addr')} : ${word('ma')};
  assign mem_we = w_mem ? m_wstrb : host_wr ? ${SB === 1 ? "1'b1" : `{{${SB - 1}{1'b0}}, 1'b1} << ${lane('ma')}`} : ${SB}'d0;
  assign mem_wa = w_mem ? ${word('w_addr')} : ${word('ma')};
  assign mem_wd = w_mem ? m_wdata : {${SB}{rx_byte}};
  always @(posedge clk) begin
    tx_go <= 1'b0;
    if (rst) begin
      bs <= B_CMD; cmd <= 8'd0; idx <= 8'd0; argc <= 3'd0; args <= 40'd0; n <= 16'd0; ma <= 24'd0; lawv <= 1'b0; lwv <= 1'b0; larv <= 1'b0;
      rword <= 32'd0; sendc <= 3'd0; tx_byte <= 8'd0; hr_pend <= 1'b0;
      r_act <= 1'b0; r_v <= 1'b0; r_src <= 1'b0; r_fl <= 1'b0; r_vfl <= 1'b0; fl_pend <= 1'b0; r_addr <= 0; r_left <= 8'd0; r_size <= 3'd0;
      w_act <= 1'b0; b_v <= 1'b0; w_ro <= 1'b0; w_addr <= 0; w_size <= 3'd0;
    end else begin
      // ---- AXI slave: reads
      if (r_take_m || r_take_i) begin
        r_act <= 1'b1; r_src <= !r_take_m; r_addr <= r_start; r_fl <= !r_start[${hi}];
        r_left <= r_take_m ? m_arlen : i_arlen; r_size <= r_take_m ? m_arsize : i_arsize;
      end
      if (fl_go && fs == F_IDLE) fl_pend <= 1'b1;
      r_v <= 1'b0;
      if (r_issue || (fl_done && fl_pend)) begin
        r_v <= 1'b1; r_vfl <= r_fl;
        r_addr <= r_addr + (${AW}'d1 << r_size);
        if (r_left == 8'd0) r_act <= 1'b0; else r_left <= r_left - 8'd1;
      end
      if (fl_done && !fl_cont) fl_pend <= 1'b0;
      // ---- AXI slave: writes
      if (m_awvalid && m_awready) begin w_act <= 1'b1; w_addr <= m_awaddr; w_size <= m_awsize; w_ro <= !m_awaddr[${hi}]; end
      if (w_hs) begin
        w_addr <= w_addr + (${AW}'d1 << w_size);
        if (m_wlast) begin w_act <= 1'b0; b_v <= 1'b1; end
      end
      if (b_v) b_v <= 1'b0;  // BREADY is tied high in the shell
      // ---- bridge
      if (lawv && s_awready) lawv <= 1'b0;
      if (lwv && s_wready) lwv <= 1'b0;
      if (larv && s_arready) larv <= 1'b0;
      case (bs)
        B_CMD: if (rx_valid) begin
          cmd <= rx_byte; argc <= 3'd0; args <= 40'd0;
          if (rx_byte == "w" || rx_byte == "r" || rx_byte == "W" || rx_byte == "R") bs <= B_ARG;
        end
        B_ARG: if (rx_valid) begin
          args <= {rx_byte, args[39:8]};
          argc <= argc + 3'd1;
          if (argc == 3'd0) idx <= rx_byte;
          if ((cmd == "r" && argc == 3'd0) || argc == 3'd4) begin
            if (cmd == "w") begin bs <= B_REGW; lawv <= 1'b1; lwv <= 1'b1; end
            else if (cmd == "r") begin bs <= B_REGR; larv <= 1'b1; end
            else begin
              ma <= args[31:8]; n <= {rx_byte, args[39:32]};
              bs <= cmd == "W" ? B_MEMW : B_MEMR;
            end
          end
        end
        B_REGW: if (s_bvalid) begin bs <= B_ACK; end
        B_REGR: if (s_rvalid) begin rword <= s_rdata; sendc <= 3'd4; bs <= B_SEND; end
        B_SEND: if (tx_idle && !tx_go) begin
          if (sendc == 3'd0) bs <= B_CMD;
          else begin tx_byte <= rword[7:0]; tx_go <= 1'b1; rword <= {8'd0, rword[31:8]}; sendc <= sendc - 3'd1; end
        end
        B_MEMW: if (n == 16'd0) bs <= B_ACK;
          else if (host_wr) begin ma <= ma + 24'd1; n <= n - 16'd1; end
        B_MEMR: if (n == 16'd0) bs <= B_CMD;
          else if (host_rd) begin hr_pend <= 1'b1; bs <= B_MEMR2; end
        B_MEMR2: begin
          hr_pend <= 1'b0;
          tx_byte <= mem_q[${lane('ma')}*8 +: 8]; tx_go <= 1'b1; ma <= ma + 24'd1; n <= n - 16'd1; bs <= B_MEMR;
        end
        B_ACK: if (tx_idle && !tx_go) begin tx_byte <= "k"; tx_go <= 1'b1; bs <= B_CMD; end
        default: bs <= B_CMD;
      endcase
    end
  end

  // ---------------------------------------------------------------- LEDs
  reg [23:0] beat;
  reg seen;
  always @(posedge clk) begin
    beat <= beat + 24'd1;
    if (rx_valid) seen <= 1'b1;
  end
  wire [${nl - 1}:0] led_on = ${nl >= 3 ? `{${nl > 3 ? `${nl - 3}'d0, ` : ''}seen, irq, beat[23]}` : '{irq, beat[23]}'};
  assign led = ${inv}led_on;
endmodule`;
}

export function boardTopModule(b: Board, p: ShellParams, controlAddrBits: number): string {
  const k = boardFacts(b, p, controlAddrBits);
  return boardUart(k) + boardShell(k) + boardMemory(k) + boardBridge(k) + '\n';
}
