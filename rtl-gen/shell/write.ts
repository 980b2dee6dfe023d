/**
 * nibble_axi_wr: the write side of the AXI4 master. The core's STORE sends one
 * beat per cycle, each with its own address, and says only which beat is the
 * last of the instruction; bursts are formed here:
 *  - a one-beat look-ahead register H decides whether the beat it holds ends a
 *    burst (the next beat is not contiguous, the burst reached the buffer
 *    size, the next beat would start a new 4 KiB page, or it is the STORE's
 *    last beat) and then moves it, WLAST set accordingly, into the W buffer;
 *  - the burst's AW (address and length) goes out in the cycle its last beat
 *    enters the buffer, so W data may lead its AW (AXI4 allows it) and a slave
 *    that waits for AW before taking W still finishes: a burst never outgrows
 *    the buffer;
 *  - B responses are counted; the core sees its write response once every
 *    burst of the STORE is answered.
 * Narrow entries (OUT entries smaller than the bus) are narrow transfers
 * (AWSIZE = log2 entry bytes) on the byte lanes of their address.
 * sim/bus/write-path.ts models it cycle by cycle.
 */
import type { ShellParams } from './options.js';

const zext = (expr: string, from: number, to: number) => (to > from ? `{${to - from}'d0, ${expr}}` : expr);

export function axiWriteModule(p: ShellParams): string {
  const AW = p.addrBits;
  const DW = p.busBits;
  const SB = p.busBytes;
  const out = p.entries.find((e) => e.kind === 'out')!;
  const size = out.size;
  const beatBytes = 2 ** size;
  const D = p.writeBurstBeats;
  const DB = Math.log2(D);
  const laneBits = Math.log2(SB);
  const shift =
    out.narrow && laneBits > 0
      ? {
          data: `wr_data << {x_addr[${laneBits - 1}:0], 3'b000}`,
          strb: `wr_strb << x_addr[${laneBits - 1}:0]`,
        }
      : { data: 'wr_data', strb: 'wr_strb' };
  const QW = DW + SB + 1;
  // bursts awaiting B: at most bus.writeOutstanding (a closing beat waits while that many are out)
  const KW = p.bus.writeOutstanding;
  const OB = Math.max(2, Math.ceil(Math.log2(KW + 1)));
  return `// AXI4 write channels: bursts formed from the STORE beat stream (see rtl-gen/shell/write.ts)
module nibble_axi_wr (
  input wire clk,
  input wire rst,
  input wire [${AW - 1}:0] base,
  input wire wr_valid,
  output wire wr_ready,
  input wire [${p.dramAddrBits - 1}:0] wr_addr,
  input wire [${DW - 1}:0] wr_data,
  input wire [${SB - 1}:0] wr_strb,
  input wire wr_last,
  output wire wr_resp_valid,
  output reg awvalid,
  input wire awready,
  output reg [${AW - 1}:0] awaddr,
  output reg [7:0] awlen,
  output wire [2:0] awsize,
  output wire wvalid,
  input wire wready,
  output wire [${DW - 1}:0] wdata,
  output wire [${SB - 1}:0] wstrb,
  output wire wlast,
  input wire bvalid,
  input wire [1:0] bresp,
  output wire resp_err,
  output wire [1:0] resp_code,
  output reg [${AW - 1}:0] burst_addr,
  output wire beat_sent
);
  assign awsize = 3'd${size};
  wire [${AW - 1}:0] x_addr = base + ${zext('wr_addr', p.dramAddrBits, AW)};
  wire [${DW - 1}:0] x_data = ${shift.data};
  wire [${SB - 1}:0] x_strb = ${shift.strb};
  reg [${OB - 1}:0] b_out;
  // look-ahead register
  reg hv, h_last;
  reg [${AW - 1}:0] h_addr;
  reg [${DW - 1}:0] h_data;
  reg [${SB - 1}:0] h_strb;
  // the open burst: beats already in the buffer, and its first address
  reg b_open;
  reg [${AW - 1}:0] b_addr;
  reg [${DB}:0] b_cnt;
  wire [${AW - 1}:0] h_next = h_addr + ${AW}'d${beatBytes};
  wire page_end = h_next[11:0] == 12'd0;
  wire cap = b_cnt == ${DB + 1}'d${D - 1};
  wire contig = wr_valid && x_addr == h_next;
  // H's fate is known when it is the STORE's last beat, when the burst must end anyway, or when the next beat is offered
  wire known = h_last || page_end || cap || wr_valid;
  wire close = h_last || page_end || cap || !contig;
  wire q_full;
  wire aw_free = !awvalid || awready;
  wire b_room = b_out != ${OB}'d${KW};
  wire move = hv && known && !q_full && (!close || (aw_free && b_room));
  assign wr_ready = !hv || move;
  wire take = wr_valid && wr_ready;
  nibble_queue #(.W(${QW}), .DEPTH(${D}), .PW(${Math.max(1, DB)}), .CW(${Math.max(2, DB + 1)})) u_wq (
    .clk(clk), .rst(rst), .push(move), .din({close, h_strb, h_data}), .pop(wvalid && wready),
    .head({wlast, wstrb, wdata}), .nonempty(wvalid), .full(q_full));
  // write responses: bursts closed and not yet answered; the STORE's response once all are in
  reg last_pend;
  wire b_hs = bvalid;
  wire fin = last_pend && b_out == 0;
  assign wr_resp_valid = fin;
  assign resp_err = b_hs && bresp[1];
  assign resp_code = bresp;
  assign beat_sent = wvalid && wready;
  // B carries no address: the error address is the latest burst accepted when the error response came back
  always @(posedge clk) begin
    if (rst) begin
      hv <= 1'b0; h_last <= 1'b0; h_addr <= 0; h_data <= 0; h_strb <= 0;
      b_open <= 1'b0; b_addr <= 0; b_cnt <= 0;
      awvalid <= 1'b0; awaddr <= 0; awlen <= 8'd0;
      b_out <= 0; last_pend <= 1'b0; burst_addr <= 0;
    end else begin
      if (move) begin
        if (close) begin
          awvalid <= 1'b1; awaddr <= b_open ? b_addr : h_addr; awlen <= ${DB >= 8 ? `b_cnt[7:0]` : zext(`b_cnt[${DB}:0]`, DB + 1, 8)};
          b_open <= 1'b0; b_cnt <= 0;
        end else begin
          if (!b_open) b_addr <= h_addr;
          b_open <= 1'b1; b_cnt <= b_cnt + 1'b1;
        end
      end
      if (!(move && close) && awready) awvalid <= 1'b0;
      if (take) begin hv <= 1'b1; h_last <= wr_last; h_addr <= x_addr; h_data <= x_data; h_strb <= x_strb; end
      else if (move) hv <= 1'b0;
      b_out <= b_out + {${OB - 1}'d0, move && close} - {${OB - 1}'d0, b_hs};
      if (fin) last_pend <= 1'b0;
      else if (move && close && h_last) last_pend <= 1'b1;
      if (awvalid && awready) burst_addr <= awaddr;
    end
  end
endmodule
`;
}
