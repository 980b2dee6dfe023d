/**
 * The generated Verilator C++ testbench. Its DRAM model is exactly the one the
 * simulator assumes (docs/architecture.md sections 1, 5, 6):
 *  - read channel: a request (addr, entries, entry_bytes) accepted at cycle t
 *    yields entries * ceil(entry_bytes / busBytes) beats; each beat at
 *    max(t + L, previous beat + 1); beat b of entry x carries the busBytes at
 *    addr + x * entry_bytes + b * busBytes;
 *  - write channel: a beat is written in the cycle it is valid (byte strobes);
 *    the response for the beat marked last comes L cycles later.
 * The harness loads its memories itself (no $readmemh), so a missing file is an
 * error, never silent zeros.
 *
 * Files (all little-endian):
 *  - code.bin: the program's instruction words, 16 bytes each;
 *  - dram.bin: segments, each u64 address, u64 length, then the bytes;
 *  - regions.txt: "address length" per line: the DRAM ranges to dump;
 * Output: result.txt (cycles, perf counters, trace lines "D|S|R index cycle")
 * and dump.bin (the regions, concatenated).
 */
import type { ArchConfig } from '../arch/index.js';
import { INSTRUCTION_BYTES } from '../isa/index.js';
import { coreFacts } from './core-facts.js';
import { coreModules, headerComment } from './generate.js';

/** With waveform support: the VCD writer and a clock edge that dumps after every evaluation. */
/**
 * Byte access to a Verilator port of any width (plain integer or VlWide), little-endian:
 * shared by the core's and the AXI shell's testbenches.
 */
export const PORT_BYTE_HELPERS = `template <typename T> static void setBytes(T& port, const uint8_t* b, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n && i < 8; i++) v |= (uint64_t)b[i] << (8 * i);
  port = (T)v;
}
template <std::size_t W> static void setBytes(VlWide<W>& port, const uint8_t* b, int n) {
  for (std::size_t w = 0; w < W; w++) port[w] = 0;
  for (int i = 0; i < n; i++) port[i / 4] |= (uint32_t)b[i] << (8 * (i % 4));
}
template <typename T> static void getBytes(const T& port, uint8_t* b, int n) {
  uint64_t v = (uint64_t)port;
  for (int i = 0; i < n; i++) b[i] = i < 8 ? (uint8_t)(v >> (8 * i)) : 0;
}
template <std::size_t W> static void getBytes(const VlWide<W>& port, uint8_t* b, int n) {
  for (int i = 0; i < n; i++) b[i] = (uint8_t)(port[i / 4] >> (8 * (i % 4)));
}`;

const TRACE_PRELUDE = `#include "verilated_vcd_c.h"
static VerilatedVcdC* vcd = nullptr;
static uint64_t halfCycles = 0;
// 10 time units (ps, Verilator's default timescale) per clock cycle: one dump per clock edge
static void evalDump(Vnibble_top* top) { top->eval(); if (vcd) vcd->dump(5 * halfCycles++); }
`;

/** Includes, constants, port access helpers, file reading. */
function prelude(cfg: ArchConfig, trace: boolean): string {
  return `${headerComment(cfg, 'Verilator testbench for nibble_top (docs/rtl.md)')}
#include "Vnibble_top.h"
#include "verilated.h"
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <deque>
#include <vector>
#include <string>
${trace ? TRACE_PRELUDE : ''}
static const uint64_t DRAM_SIZE = ${cfg.dram.sizeBytes}ULL;
static const uint64_t LATENCY = ${cfg.dram.latency}ULL;
static const int BUS = ${cfg.dram.busBytes};
static const int WORD = ${INSTRUCTION_BYTES};  // bytes per instruction word

${PORT_BYTE_HELPERS}

static void die(const char* what, const char* arg) {
  fprintf(stderr, "harness: %s%s\\n", what, arg ? arg : "");
  exit(3);
}

static std::vector<uint8_t> readFile(const char* path) {
  FILE* f = fopen(path, "rb");
  if (!f) die("cannot open ", path);
  std::vector<uint8_t> out;
  uint8_t buf[65536];
  size_t k;
  while ((k = fread(buf, 1, sizeof buf, f)) > 0) out.insert(out.end(), buf, buf + k);
  fclose(f);
  return out;
}

`;
}

/** main(): arguments, the program, the DRAM image, the regions to dump. */
function loadInputs(): string {
  return `struct Beat { uint64_t t; uint64_t addr; };

int main(int argc, char** argv) {
  if (argc < 6) die("usage: sim code.bin dram.bin regions.txt outdir max_cycles [+verilator+...]", nullptr);
  Verilated::commandArgs(argc, argv);  // +verilator+rand+reset+2 +verilator+seed+N randomize the initial state
  std::vector<uint8_t> code = readFile(argv[1]);
  if (code.size() % WORD) die("code.bin is not a whole number of instruction words: ", argv[1]);
  uint8_t* dram = (uint8_t*)calloc(DRAM_SIZE, 1);
  if (!dram) die("cannot allocate DRAM", nullptr);
  {
    std::vector<uint8_t> img = readFile(argv[2]);
    size_t p = 0;
    while (p < img.size()) {
      if (p + 16 > img.size()) die("truncated segment header in ", argv[2]);
      uint64_t addr, len;
      memcpy(&addr, &img[p], 8); memcpy(&len, &img[p + 8], 8);
      p += 16;
      if (p + len > img.size() || addr + len > DRAM_SIZE) die("bad segment in ", argv[2]);
      memcpy(dram + addr, &img[p], len);
      p += len;
    }
  }
  std::vector<std::pair<uint64_t, uint64_t>> regions;
  {
    FILE* f = fopen(argv[3], "r");
    if (!f) die("cannot open ", argv[3]);
    unsigned long long a, l;
    while (fscanf(f, "%llu %llu", &a, &l) == 2) regions.push_back({a, l});
    fclose(f);
  }
  std::string outdir = argv[4];
  uint64_t maxCycles = strtoull(argv[5], nullptr, 10);
  FILE* res = fopen((outdir + "/result.txt").c_str(), "w");
  if (!res) die("cannot write result.txt in ", argv[4]);
  static char resbuf[1 << 20];
  setvbuf(res, resbuf, _IOFBF, sizeof resbuf);

`;
}

/** The cycle loop: DRAM read beats and write responses in, requests, writes and trace events out. */
function cycleLoop(traceLines: string): string {
  return `  Vnibble_top* top = new Vnibble_top;
  top->clk = 0; top->rst = 1; top->start = 0;
  top->rd_req_ready = 1; top->wr_ready = 1; top->rd_resp_valid = 0; top->wr_resp_valid = 0;
  for (int i = 0; i < 4; i++) { top->clk = 0; top->eval(); top->clk = 1; top->eval(); }
  top->rst = 0;
  top->start = 1;
  top->clk = 0; top->eval(); top->clk = 1; top->eval();  // cycle -1: start
  top->start = 0;

  std::deque<Beat> beats;
  std::deque<uint64_t> wresp;
  uint64_t lastBeat = 0;
  bool anyBeat = false;
  uint8_t zeros[WORD] = {0};
  setBytes(top->insn_data, zeros, WORD);
  uint8_t bbuf[512];
  uint64_t T = 0;
  bool finished = false;
  for (uint64_t t = 0; t < maxCycles; t++) {
    // inputs of cycle t
    if (!beats.empty() && beats.front().t == t) {
      uint64_t a = beats.front().addr;
      for (int i = 0; i < BUS; i++) bbuf[i] = dram[(a + i) & (DRAM_SIZE - 1)];
      setBytes(top->rd_resp_data, bbuf, BUS);
      top->rd_resp_valid = 1;
      beats.pop_front();
    } else {
      top->rd_resp_valid = 0;
    }
    top->wr_resp_valid = (!wresp.empty() && wresp.front() == t) ? 1 : 0;
    if (top->wr_resp_valid) wresp.pop_front();
    top->clk = 0;
    top->eval();
    if (top->done) { T = t; finished = true; break; }
    // outputs of cycle t
    if (top->rd_req_valid) {
      uint64_t a = top->rd_req_addr, ne = top->rd_req_entries, eb = top->rd_req_entry_bytes;
      uint64_t bpe = (eb + BUS - 1) / BUS;
      for (uint64_t x = 0; x < ne; x++)
        for (uint64_t b = 0; b < bpe; b++) {
          uint64_t bt = t + LATENCY;
          if (anyBeat && bt < lastBeat + 1) bt = lastBeat + 1;
          lastBeat = bt; anyBeat = true;
          beats.push_back({bt, a + x * eb + b * BUS});
        }
    }
    if (top->wr_valid) {
      uint8_t strb[64];
      getBytes(top->wr_data, bbuf, BUS);
      getBytes(top->wr_strb, strb, (BUS + 7) / 8);
      uint64_t a = top->wr_addr;
      for (int i = 0; i < BUS; i++)
        if ((strb[i / 8] >> (i % 8)) & 1) dram[(a + i) & (DRAM_SIZE - 1)] = bbuf[i];
      if (top->wr_last) wresp.push_back(t + LATENCY);
    }
${traceLines}
    // instruction port: one cycle of read latency
    uint8_t word[WORD];
    bool load = top->insn_rd;
    uint64_t ia = top->insn_addr;
    if (load) {
      if ((ia + 1) * WORD <= code.size()) memcpy(word, &code[ia * WORD], WORD);
      else memset(word, 0, WORD);
    }
    top->clk = 1;
    top->eval();
    if (load) setBytes(top->insn_data, word, WORD);
  }
`;
}

/** Cycles, counters and the DRAM regions out. */
function results(perfLines: string): string {
  return `  fprintf(res, "finished %d\\n", finished ? 1 : 0);
  fprintf(res, "cycles %llu\\n", (unsigned long long)T);
  fprintf(res, "err %d\\n", (int)top->err);
  fprintf(res, "acc_ovf %d\\n", (int)top->acc_ovf);
${perfLines}
  fclose(res);
  FILE* d = fopen((outdir + "/dump.bin").c_str(), "wb");
  if (!d) die("cannot write dump.bin in ", argv[4]);
  for (auto& r : regions) {
    for (uint64_t i = 0; i < r.second; i++) fputc(dram[(r.first + i) & (DRAM_SIZE - 1)], d);
  }
  fclose(d);
  top->final();
  delete top;
  free(dram);
  return 0;
}
`;
}

/** The testbench of `cfg`'s core: the trace and counter ports are read off nibble_top's port list. */
export function generateHarness(cfg: ArchConfig, opts: { trace?: boolean } = {}): string {
  const trace = opts.trace === true;
  const top = coreModules(coreFacts(cfg)).at(-1)!;
  const events = top.ports.filter((p) => /^tr_\w+$/.test(p.name) && !p.name.endsWith('_idx'));
  const kind = (name: string) => (name === 'tr_disp' ? 'D' : name.endsWith('_start') ? 'S' : 'R');
  const traceLines = events
    .map(
      (p) =>
        `    if (top->${p.name}) fprintf(res, "${kind(p.name)} %u %llu\\n", (unsigned)top->${p.name}_idx, (unsigned long long)t);`,
    )
    .join('\n');
  const perfLines = top.ports
    .filter((p) => p.name.startsWith('perf_'))
    .map((p) => `  fprintf(res, "${p.name} %llu\\n", (unsigned long long)top->${p.name});`)
    .join('\n');
  const body = loadInputs() + cycleLoop(traceLines) + results(perfLines);
  if (!trace) return prelude(cfg, false) + body;
  // +vcd+FILE opens the waveform after the model exists; every eval() dumps; close() before final()
  return (
    prelude(cfg, true) +
    body
      .replaceAll('top->eval();', 'evalDump(top);')
      .replace(
        '  Verilated::commandArgs(argc, argv);',
        '  Verilated::commandArgs(argc, argv);\n  Verilated::traceEverOn(true);',
      )
      .replace(
        '  Vnibble_top* top = new Vnibble_top;\n',
        `  Vnibble_top* top = new Vnibble_top;
  for (int i = 6; i < argc; i++)
    if (!strncmp(argv[i], "+vcd+", 5)) {
      vcd = new VerilatedVcdC;
      top->trace(vcd, 99);
      vcd->open(argv[i] + 5);
      if (!vcd->isOpen()) die("cannot write the waveform ", argv[i] + 5);
    }
`,
      )
      .replace('  top->final();\n', '  if (vcd) vcd->close();\n  top->final();\n')
  );
}
