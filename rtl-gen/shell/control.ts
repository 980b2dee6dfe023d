/**
 * nibble_axil_regs: the AXI4-Lite slave (s_axi_control) and the register file
 * of registers.ts. Writes take the address and the data in any order (each has
 * its own one-entry buffer), then answer on B; reads answer on R the cycle after
 * AR. Every handshake holds VALID and the payload until READY.
 */
import type { RegisterDef, RegisterMap } from './registers.js';
import { COUNTERS, ERROR_BITS } from './registers.js';

/** The read value of one register as a 32-bit Verilog expression. */
function readExpr(r: RegisterDef, addrBits: number): string {
  const s = r.source;
  const half = (sig: string, h: 0 | 1) => (addrBits > 32 || h === 0 ? `${sig}_64[${h * 32 + 31}:${h * 32}]` : "32'd0");
  switch (s.kind) {
    case 'ctrl':
      return "{28'd0, ready_r, idle, done_r, !idle}";
    case 'gie':
      return "{31'd0, gie}";
    case 'ier':
      return "{30'd0, ier}";
    case 'isr':
      return "{30'd0, isr}";
    case 'status':
      return "{28'd0, error_bits != 0, done_sticky, running, fetching}";
    case 'error':
      return `{${32 - ERROR_BITS.length}'d0, error_bits}`;
    case 'errorResp':
      return "{29'd0, error_resp}";
    case 'programLength':
      return 'program_length';
    case 'const':
      return `32'h${s.value.toString(16)}`;
    case 'errorAddr':
      return half('error_addr', s.half);
    case 'programBase':
      return half('program_base', s.half);
    case 'dataBase':
      return half('data_base', s.half);
    case 'counter':
      return s.half === 0 ? `counters[${s.index * 64 + 31}:${s.index * 64}]` : 'cnt_hi';
  }
}

/** Byte-strobed write of a 32-bit word into part `h` of a `w`-bit register. */
function strobeWrite(reg: string, w: number, h: 0 | 1): string {
  const lines: string[] = [];
  for (let b = 0; b < 4; b++) {
    const lo = h * 32 + b * 8;
    if (lo >= w) break;
    const hi = Math.min(w, lo + 8) - 1;
    lines.push(`if (w_strb[${b}]) ${reg}[${hi}:${lo}] <= w_data[${hi - h * 32}:${lo - h * 32}];`);
  }
  return lines.join(' ');
}

export function axilRegsModule(m: RegisterMap): string {
  const A = m.addrBits;
  const AW = m.params.addrBits;
  const word = (r: RegisterDef) => `${A - 2}'d${r.offset >> 2}`;
  const readCases = m.registers.map((r) => `      ${word(r)}: rmux = ${readExpr(r, AW)};`).join('\n');
  const writeCases = m.registers
    // CTRL (start) and ISR (write 1 to clear) act through start_req / isr_clr below
    .filter((r) => r.access !== 'RO' && r.source.kind !== 'ctrl' && r.source.kind !== 'isr')
    .map((r) => {
      const s = r.source;
      let body: string;
      if (s.kind === 'gie') body = 'if (w_strb[0]) gie <= w_data[0];';
      else if (s.kind === 'ier') body = 'if (w_strb[0]) ier <= w_data[1:0];';
      else if (s.kind === 'programLength') body = strobeWrite('program_length', 32, 0);
      else if (s.kind === 'programBase') body = strobeWrite('program_base', AW, s.half);
      else if (s.kind === 'dataBase') body = strobeWrite('data_base', AW, s.half);
      else throw new Error(`internal: register ${r.name} (${s.kind}) is writable but has no write logic`);
      return `        ${word(r)}: begin ${body} end`;
    })
    .join('\n');
  const nc = COUNTERS.length;
  const cntHiCases = COUNTERS.map((_, i) => {
    const lo = m.registers.find((r) => r.source.kind === 'counter' && r.source.index === i && r.source.half === 0)!;
    return `        ${word(lo)}: cnt_hi <= counters[${i * 64 + 63}:${i * 64 + 32}];`;
  }).join('\n');
  return `// AXI4-Lite slave and register file (docs/registers.md)
// the low two address bits are ignored: every register is a 32-bit word
/* verilator lint_off UNUSEDSIGNAL */
module nibble_axil_regs (
  input wire clk,
  input wire rst,
  input wire [${A - 1}:0] awaddr,
  input wire awvalid,
  output wire awready,
  input wire [31:0] wdata,
  input wire [3:0] wstrb,
  input wire wvalid,
  output wire wready,
  output wire [1:0] bresp,
  output wire bvalid,
  input wire bready,
  input wire [${A - 1}:0] araddr,
  input wire arvalid,
  output wire arready,
  output wire [31:0] rdata,
  output wire [1:0] rresp,
  output wire rvalid,
  input wire rready,
  // shell side
  output reg start,
  input wire idle,
  input wire fetching,
  input wire running,
  input wire done_evt,
  input wire error_evt,
  input wire done_sticky,
  input wire [${ERROR_BITS.length - 1}:0] error_bits,
  input wire [2:0] error_resp,
  input wire [${AW - 1}:0] error_addr,
  output reg [${AW - 1}:0] program_base,
  output reg [31:0] program_length,
  output reg [${AW - 1}:0] data_base,
  input wire [${nc * 64 - 1}:0] counters,
  output reg interrupt
);
  /* verilator lint_on UNUSEDSIGNAL */
  /* verilator lint_off UNUSEDSIGNAL */
  wire [63:0] program_base_64 = ${AW < 64 ? `{${64 - AW}'d0, program_base}` : 'program_base'};
  wire [63:0] data_base_64 = ${AW < 64 ? `{${64 - AW}'d0, data_base}` : 'data_base'};
  wire [63:0] error_addr_64 = ${AW < 64 ? `{${64 - AW}'d0, error_addr}` : 'error_addr'};
  /* verilator lint_on UNUSEDSIGNAL */
  reg gie;
  reg [1:0] ier, isr;
  reg done_r, ready_r;
  reg [31:0] cnt_hi;
  // write side: address and data buffered independently, then one B response
  reg aw_full, w_full, bv;
  reg [${A - 3}:0] aw_q;
  reg [31:0] w_data;
  reg [3:0] w_strb;
  assign awready = !aw_full;
  assign wready = !w_full;
  assign bvalid = bv;
  assign bresp = 2'b00;
  wire do_write = aw_full && w_full && !bv;
  // read side: one outstanding read, data registered
  reg rv;
  reg [31:0] r_q;
  assign arready = !rv;
  assign rvalid = rv;
  assign rdata = r_q;
  assign rresp = 2'b00;
  wire do_read = arvalid && !rv;
  reg [31:0] rmux;
  always @(*) begin
    case (araddr[${A - 1}:2])
${readCases}
      default: rmux = 32'd0;
    endcase
  end
  reg start_req;
  reg [1:0] isr_clr;
  always @(*) begin
    start_req = 1'b0;
    isr_clr = 2'b00;
    if (do_write) begin
      case (aw_q)
        ${word(m.registers.find((r) => r.source.kind === 'isr')!)}: if (w_strb[0]) isr_clr = w_data[1:0];
        ${word(m.registers.find((r) => r.source.kind === 'ctrl')!)}: start_req = w_data[0] && w_strb[0];
        default: ;
      endcase
    end
  end
  wire read_ctrl = do_read && araddr[${A - 1}:2] == ${word(m.registers.find((r) => r.source.kind === 'ctrl')!)};
  always @(posedge clk) begin
    if (rst) begin
      aw_full <= 1'b0; w_full <= 1'b0; bv <= 1'b0; aw_q <= 0; w_data <= 32'd0; w_strb <= 4'd0;
      rv <= 1'b0; r_q <= 32'd0; cnt_hi <= 32'd0;
      gie <= 1'b0; ier <= 2'b00; isr <= 2'b00; done_r <= 1'b0; ready_r <= 1'b0; start <= 1'b0; interrupt <= 1'b0;
      program_base <= 0; program_length <= 32'd0; data_base <= 0;
    end else begin
      if (awvalid && !aw_full) begin aw_full <= 1'b1; aw_q <= awaddr[${A - 1}:2]; end
      if (wvalid && !w_full) begin w_full <= 1'b1; w_data <= wdata; w_strb <= wstrb; end
      if (do_write) begin
        aw_full <= 1'b0; w_full <= 1'b0; bv <= 1'b1;
        case (aw_q)
${writeCases}
          default: ;
        endcase
      end else if (bv && bready) bv <= 1'b0;
      if (do_read) begin
        rv <= 1'b1; r_q <= rmux;
        case (araddr[${A - 1}:2])
${cntHiCases}
          default: ;
        endcase
      end else if (rv && rready) rv <= 1'b0;
      start <= start_req && idle;
      // clear on read, but an event in the same cycle wins
      if (read_ctrl) begin done_r <= 1'b0; ready_r <= 1'b0; end
      if (done_evt) begin done_r <= 1'b1; ready_r <= 1'b1; end
      isr <= (isr & ~isr_clr) | {error_evt, done_evt};
      interrupt <= gie && ((isr & ier) != 2'b00);
    end
  end
endmodule
`;
}
