/**
 * nibble_axi_rd: the AR side of the AXI4 master. It takes one transfer at a
 * time (an AXI address, a beat count and the beat size: the program fetch,
 * then the core's LOAD rows) and cuts it into INCR bursts of at most
 * `bus.readBurst` beats that never cross a 4 KiB boundary, one burst per
 * cycle while fewer than `bus.readOutstanding` bursts are in flight (AR
 * issued, last beat not yet received): the next request is taken in the
 * cycle its predecessor's last burst goes into the AR register, so
 * back-to-back one-burst requests flow at one per cycle. ARVALID and the AR
 * payload are registers, held until ARREADY. sim/bus/read-path.ts
 * models it cycle by cycle.
 */
import type { ShellParams } from './options.js';

const zext = (expr: string, from: number, to: number) => (to > from ? `{${to - from}'d0, ${expr}}` : expr);

export function axiReadModule(p: ShellParams): string {
  const AW = p.addrBits;
  const BC = p.beatCountBits;
  const CW = Math.max(BC, 13);
  const MB = p.bus.readBurst;
  const K = p.bus.readOutstanding;
  const OW = Math.max(2, Math.ceil(Math.log2(K + 1)));
  return `// AXI4 read address channel: 4 KiB-safe INCR bursts of at most ${MB} beats, at most ${K} in flight
module nibble_axi_rd (
  input wire clk,
  input wire rst,
  input wire rq_valid,
  output wire rq_ready,
  input wire [${AW - 1}:0] rq_addr,
  input wire [${BC - 1}:0] rq_beats,
  input wire [2:0] rq_size,
  output reg arvalid,
  input wire arready,
  output reg [${AW - 1}:0] araddr,
  output reg [7:0] arlen,
  output reg [2:0] arsize,
  input wire burst_done
);
  reg act;
  reg [${AW - 1}:0] s_addr;
  reg [${BC - 1}:0] s_left;
  reg [2:0] s_size;
  reg [${OW - 1}:0] o_cnt;  // bursts issued whose last beat has not arrived
  // beats to the next 4 KiB boundary: at least 1, since every address is aligned to its beat size
  wire [12:0] to4k = (13'd4096 - {1'b0, s_addr[11:0]}) >> s_size;
  wire [${CW - 1}:0] left_w = ${zext('s_left', BC, CW)};
  wire [${CW - 1}:0] to4k_w = ${zext('to4k', 13, CW)};
  wire [${CW - 1}:0] m1 = (left_w < to4k_w) ? left_w : to4k_w;
  wire [8:0] blen = (m1 > ${CW}'d${MB}) ? 9'd${MB} : m1[8:0];
  wire [15:0] bbytes = {7'd0, blen} << s_size;
  wire ar_free = !arvalid || arready;
  wire issue = act && ar_free && o_cnt != ${OW}'d${K};
  wire last_burst = left_w == ${zext('blen', 9, CW)};
  assign rq_ready = !act || (issue && last_burst);
  always @(posedge clk) begin
    if (rst) begin
      act <= 1'b0; s_addr <= 0; s_left <= 0; s_size <= 3'd0; o_cnt <= 0;
      arvalid <= 1'b0; araddr <= 0; arlen <= 8'd0; arsize <= 3'd0;
    end else begin
      o_cnt <= o_cnt + {${OW - 1}'d0, issue} - {${OW - 1}'d0, burst_done};
      if (issue) begin
        arvalid <= 1'b1; araddr <= s_addr; arlen <= blen[7:0] - 8'd1; arsize <= s_size;
        s_addr <= s_addr + ${zext('bbytes', 16, AW)};
        s_left <= s_left - ${BC >= 9 ? zext('blen', 9, BC) : `blen[${BC - 1}:0]`};
        if (last_burst) act <= 1'b0;
      end else if (arready) arvalid <= 1'b0;
      if (rq_valid && rq_ready) begin
        act <= rq_beats != 0; s_addr <= rq_addr; s_left <= rq_beats; s_size <= rq_size;
      end
    end
  end
endmodule
`;
}
