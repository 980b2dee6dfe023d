/**
 * The Verilator testbench of the AXI shell (C++, generated per config):
 *  - nibble's own AXI4 slave memory model on m_axi_gmem: in-order bursts, W
 *    data accepted before its AW, SLVERR/DECERR for configured address ranges
 *    and DECERR outside the memory; either the deterministic bus model (every
 *    READY high, first R beat `rdLatency` cycles after AR, B `wrLatency`
 *    cycles after the burst's last W beat and AW, beats back to back) or
 *    seeded random READYs, latencies, gaps between beats and an "AW before W"
 *    slave on some seeds;
 *  - a streaming shell's refill master m_axi_insn gets a read-only slave port
 *    of its own on the same memory, with the same latencies and faults (the
 *    deterministic bus model's slave, or seeded random READY, latency, gaps);
 *  - a protocol checker on every cycle: VALID held until READY with a stable
 *    payload (AR, AW, W; and the shell's AXI-Lite R and B), INCR only, beats
 *    aligned to AxSIZE <= the bus, no burst across 4 KiB, WLAST on the last
 *    beat of its burst, strobes inside a narrow beat's lanes, AXI-Lite responses
 *    only for accepted requests, no VALID during reset;
 *  - the host: the generated C driver (nibble_driver.c, compiled in unchanged)
 *    over a transport whose register accesses are AXI-Lite transactions on
 *    s_axi_control (random delays on random seeds) and whose memory accesses
 *    reach the slave's memory, like a CPU writing DDR;
 *  - the core's trace events, re-based to the core's cycle 0.
 * Output: result.txt (driver status, counters read by the driver, trace lines
 * "D|S|R index cycle", bus statistics) and dump.bin (regions read back through
 * the driver). A protocol violation prints one line and exits with 4.
 */
import type { ArchConfig } from '../../arch/index.js';
import { headerComment } from '../generate.js';
import { PORT_BYTE_HELPERS } from '../harness.js';
import type { ShellParams } from './options.js';

export function generateShellHarness(cfg: ArchConfig, p: ShellParams): string {
  return `${headerComment(cfg, 'Verilator testbench for nibble_axi_top (docs/board.md)', '//')}
#include "Vnibble_axi_top.h"
#include "verilated.h"
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <vector>
#include "nibble_driver.c"

static const int BUS = ${p.busBytes};
static const int BUS_SIZE = ${p.busSize};
static const int ADDR_BITS = ${p.addrBits};

// ---------------------------------------------------------------- port helpers (Verilator widths)
template <typename T> static uint64_t u64(const T& x) { return (uint64_t)x; }
${PORT_BYTE_HELPERS}
template <typename T> static bool sameBytes(const T& a, const std::vector<uint8_t>& b, int n) {
  uint8_t x[512];
  getBytes(a, x, n);
  return memcmp(x, b.data(), n) == 0;
}

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

${harnessSlaveState()}
${p.streaming ? `${insnSlaveState()}\n` : ''}${harnessBus(p.streaming)}
${harnessTick(p.streaming)}
${harnessTransport()}
${harnessMain(p.streaming)}
`;
}

/** Testbench part: the slave and checker state, seeded randomness, burst rules and held-payload checks. */
function harnessSlaveState(): string {
  return `// ---------------------------------------------------------------- seeded randomness (xorshift64*)
static uint64_t rngState = 1;
static uint64_t rnd() {
  rngState ^= rngState >> 12; rngState ^= rngState << 25; rngState ^= rngState >> 27;
  return rngState * 2685821657736338717ULL;
}
static bool chance(int pct) { return (int)(rnd() % 100) < pct; }
static int between(int lo, int hi) { return lo + (int)(rnd() % (uint64_t)(hi - lo + 1)); }

// ---------------------------------------------------------------- the simulated system
struct Burst { uint64_t addr; int len; int size; uint64_t t; int resp; };
struct WBeat { std::vector<uint8_t> data, strb; bool last; uint64_t t; };
struct Fault { uint64_t lo, hi; int resp; };

static Vnibble_axi_top* top;
static uint64_t cyc = 0;
static bool randomBus = false;
static int rdLatency = 1, wrLatency = 1;
static bool awFirst = false;      // random slave that takes W only for an accepted AW
static int readyPct = 100, gapPct = 0, maxExtraLatency = 0;
static std::vector<uint8_t> mem;
static uint64_t memBase = 0;
static std::vector<Fault> faults;
static FILE* res;

// read side
static std::deque<Burst> arq;     // accepted, not yet fully returned
static int rBeat = 0;             // beat of arq.front() being returned
static bool rValid = false;
static uint64_t rNext = 0;        // earliest cycle for the next beat
static uint64_t lastBeatT = 0;
static bool anyBeat = false;
// write side
static std::deque<Burst> awq;     // accepted AWs whose data is not complete
static std::deque<WBeat> wq;      // accepted W beats not yet matched to an AW
static int wBeat = 0;             // beats of awq.front() written so far
static std::deque<std::pair<uint64_t, int>> bq;  // scheduled B: cycle, resp
static bool bValid = false;
static int bResp = 0;
// statistics
static uint64_t nAr = 0, nAw = 0, maxArLen = 0, maxAwLen = 0, nWBeats = 0, nRBeats = 0, wBeforeAw = 0, at4k = 0;
// trace (core cycles)
static long long coreStart = -1;
static bool coreStarted = false;

static void violation(const char* rule, const char* detail) {
  fprintf(stderr, "protocol violation at cycle %llu: %s: %s\\n", (unsigned long long)cyc, rule, detail);
  fflush(res);
  exit(4);
}

static int respFor(uint64_t a, int bytes) {
  if (a < memBase || a + bytes > memBase + mem.size()) return 3;  // DECERR
  for (auto& f : faults) if (a < f.hi && a + bytes > f.lo) return f.resp;
  return 0;
}

static void checkBurst(const char* ch, uint64_t addr, int len, int size, int burst, int id, int lock) {
  char d[256];
  if (burst != 1) { snprintf(d, sizeof d, "%sBURST = %d (only INCR is used)", ch, burst); violation("burst type", d); }
  if (size > BUS_SIZE) { snprintf(d, sizeof d, "%sSIZE = %d exceeds the %d-byte bus", ch, size, BUS); violation("beat size", d); }
  if (addr & ((1ULL << size) - 1)) { snprintf(d, sizeof d, "%sADDR 0x%llx is not aligned to %d-byte beats", ch, (unsigned long long)addr, 1 << size); violation("alignment", d); }
  uint64_t bytes = (uint64_t)(len + 1) << size;
  if ((addr & 4095) + bytes > 4096) {
    snprintf(d, sizeof d, "%s burst at 0x%llx of %d beats x %d bytes crosses a 4 KiB boundary", ch, (unsigned long long)addr, len + 1, 1 << size);
    violation("4 KiB rule", d);
  }
  if (id != 0 || lock != 0) { snprintf(d, sizeof d, "%sID %d, %sLOCK %d", ch, id, ch, lock); violation("ID/LOCK", d); }
  if (((addr + bytes) & 4095) == 0) at4k++;
}

// held-payload checks: the previous cycle's VALID && !READY payload must be repeated
struct Held { bool pending = false; std::vector<uint8_t> bytes; };
static Held hAr, hAw, hW, hLr, hLb;
template <typename F> static void holdCheck(Held& h, bool valid, bool ready, const char* ch, F payload) {
  std::vector<uint8_t> now = payload();
  if (h.pending) {
    if (!valid) violation("VALID dropped before READY", ch);
    if (now != h.bytes) violation("payload changed while VALID and not READY", ch);
  }
  h.pending = valid && !ready;
  h.bytes = now;
}
template <typename T> static void pushBytes(std::vector<uint8_t>& v, const T& x, int n) {
  uint8_t b[512];
  getBytes(x, b, n);
  v.insert(v.end(), b, b + n);
}

`;
}

/** Testbench part (streaming shells): the refill master's slave port and its checks. */
function insnSlaveState(): string {
  return `// ---------------------------------------------------------------- the refill master m_axi_insn: its own read port on the memory
static std::deque<Burst> iarq;    // accepted, not yet fully returned
static int iBeat = 0;
static bool iValid = false;
static uint64_t iNext = 0;
static Held hIar;
static uint64_t nIar = 0, nIBeats = 0;

static void driveInsnSlave() {
  if (!iValid && !iarq.empty() && cyc >= iNext && !(randomBus && chance(gapPct))) {
    Burst& b = iarq.front();
    if (iBeat > 0 || cyc >= b.t + rdLatency) {
      uint64_t a = b.addr + ((uint64_t)iBeat << b.size);
      uint8_t beat[512];
      int resp = respFor(a, 1 << b.size);
      for (int i = 0; i < BUS; i++) beat[i] = resp == 3 ? 0xEE : mem[a + i - memBase];
      setBytes(top->m_axi_insn_RDATA, beat, BUS);
      top->m_axi_insn_RRESP = resp;
      top->m_axi_insn_RLAST = iBeat == b.len;
      iValid = true;
    }
  }
  top->m_axi_insn_RVALID = iValid;
  top->m_axi_insn_ARREADY = !randomBus || chance(readyPct);
}

// sampled before the clock edge: returns the accepted AR (len -1: none) and whether a beat was taken
static Burst sampleInsn(bool inReset, bool& rHs) {
  if (inReset && cyc > 0 && top->m_axi_insn_ARVALID) violation("VALID during reset", "m_axi_insn");
  bool arHs = top->m_axi_insn_ARVALID && top->m_axi_insn_ARREADY;
  holdCheck(hIar, top->m_axi_insn_ARVALID, top->m_axi_insn_ARREADY, "m_axi_insn AR", [&] {
    std::vector<uint8_t> v; pushBytes(v, top->m_axi_insn_ARADDR, 8); v.push_back(top->m_axi_insn_ARLEN);
    v.push_back(top->m_axi_insn_ARSIZE); v.push_back(top->m_axi_insn_ARBURST); return v; });
  Burst ar{0, -1, 0, 0, 0};
  if (arHs) {
    ar = {u64(top->m_axi_insn_ARADDR), (int)top->m_axi_insn_ARLEN, (int)top->m_axi_insn_ARSIZE, cyc, 0};
    if (randomBus) ar.t += between(0, maxExtraLatency);
    checkBurst("m_axi_insn AR", ar.addr, ar.len, ar.size, top->m_axi_insn_ARBURST, top->m_axi_insn_ARID, 0);
    nIar++;
  }
  rHs = iValid && top->m_axi_insn_RREADY;
  return ar;
}

// after the clock edge
static void updateInsn(const Burst& ar, bool rHs) {
  if (ar.len >= 0) iarq.push_back(ar);
  if (rHs) {
    iValid = false;
    iNext = cyc + 1;
    nIBeats++;
    if (++iBeat > iarq.front().len) { iarq.pop_front(); iBeat = 0; }
  }
}

`;
}

/** Testbench part: the AXI-Lite master state, the slave driving its outputs, writes matched to AWs, trace lines. */
function harnessBus(streaming: boolean): string {
  return `// ---------------------------------------------------------------- AXI-Lite master (the host's register accesses)
static bool lAw = false, lW = false, lAr = false, lB = false, lR = false;
static uint32_t lAddr = 0, lData = 0;
static int lOutR = 0, lOutW = 0, lAwDone = 0, lWDone = 0;

static void driveSlave() {
  // R: a beat is presented when due and held until RREADY
  if (!rValid && !arq.empty() && cyc >= rNext && !(randomBus && chance(gapPct))) {
    Burst& b = arq.front();
    uint64_t due = rBeat == 0 ? b.t + rdLatency : 0;
    if (cyc >= due) {
      uint64_t a = b.addr + ((uint64_t)rBeat << b.size);
      uint8_t beat[512];
      int lane = (int)(a & (BUS - 1)) & ~((1 << b.size) - 1);
      for (int i = 0; i < BUS; i++) beat[i] = (uint8_t)(0xA5 ^ i);
      int resp = respFor(a, 1 << b.size);
      for (int i = 0; i < (1 << b.size); i++)
        beat[lane + i] = resp == 3 ? 0xEE : mem[a + i - memBase];
      setBytes(top->m_axi_gmem_RDATA, beat, BUS);
      top->m_axi_gmem_RRESP = resp;
      top->m_axi_gmem_RLAST = rBeat == b.len;
      top->m_axi_gmem_RID = 0;
      rValid = true;
    }
  }
  top->m_axi_gmem_RVALID = rValid;
  // B: in order, when due, held until BREADY
  if (!bValid && !bq.empty() && bq.front().first <= cyc) { bValid = true; bResp = bq.front().second; bq.pop_front(); }
  top->m_axi_gmem_BVALID = bValid;
  top->m_axi_gmem_BRESP = bResp;
  top->m_axi_gmem_BID = 0;
  top->m_axi_gmem_ARREADY = !randomBus || chance(readyPct);
  top->m_axi_gmem_AWREADY = !randomBus || chance(readyPct);
  bool wReady = !randomBus || chance(readyPct);
  if (awFirst && (awq.empty() || (int)wq.size() > 0)) wReady = false;  // takes W only for a burst whose AW it holds
  top->m_axi_gmem_WREADY = wReady;${streaming ? '\n  driveInsnSlave();' : ''}
  // AXI-Lite master outputs
  top->s_axi_control_AWVALID = lAw; top->s_axi_control_AWADDR = lAddr;
  top->s_axi_control_WVALID = lW; top->s_axi_control_WDATA = lData; top->s_axi_control_WSTRB = 0xF;
  top->s_axi_control_ARVALID = lAr; top->s_axi_control_ARADDR = lAddr;
  top->s_axi_control_BREADY = lB;
  top->s_axi_control_RREADY = lR;
}

static void applyWrites() {
  // match W beats to AWs in order (W may have come first)
  while (!awq.empty() && !wq.empty()) {
    Burst& b = awq.front();
    WBeat w = wq.front();
    wq.pop_front();
    uint64_t a = b.addr + ((uint64_t)wBeat << b.size);
    int lane = (int)(a & (BUS - 1)) & ~((1 << b.size) - 1);
    char d[256];
    for (int i = 0; i < BUS; i++) {
      bool on = (w.strb[i / 8] >> (i % 8)) & 1;
      if (on && (i < lane || i >= lane + (1 << b.size))) {
        snprintf(d, sizeof d, "WSTRB byte %d set outside the %d-byte beat at 0x%llx", i, 1 << b.size, (unsigned long long)a);
        violation("write strobes", d);
      }
      if (on && respFor(a - lane + i, 1) == 0) mem[a - lane + i - memBase] = w.data[i];
    }
    int resp = respFor(a, 1 << b.size);
    if (resp > b.resp) b.resp = resp;
    bool last = wBeat == b.len;
    if (w.last != last) {
      snprintf(d, sizeof d, "WLAST %d on beat %d of a %d-beat burst at 0x%llx", (int)w.last, wBeat + 1, b.len + 1, (unsigned long long)b.addr);
      violation("WLAST", d);
    }
    wBeat++;
    if (last) {
      uint64_t t = (b.t > w.t ? b.t : w.t) + (randomBus ? between(1, wrLatency + maxExtraLatency) : wrLatency);
      if (!bq.empty() && bq.back().first > t) t = bq.back().first;
      bq.push_back({t, b.resp});
      awq.pop_front();
      wBeat = 0;
    }
  }
}

// trace lines: first occurrence per instruction and kind, in core cycles
static void traceEvent(char kind, unsigned idx, uint64_t t) {
  if (coreStart < 0) return;
  fprintf(res, "%c %u %lld\\n", kind, idx, (long long)t - coreStart - 1);
}

`;
}

/** Testbench part: one clock cycle: drive, sample and check, clock, update the slave. */
function harnessTick(streaming: boolean): string {
  return `static void tick() {
  driveSlave();
  top->ap_clk = 0;
  top->eval();
  char d[128];
  // ---- sample and check the master side
  bool inReset = !top->ap_rst_n;
  if (inReset && cyc > 0 && (top->m_axi_gmem_ARVALID || top->m_axi_gmem_AWVALID || top->m_axi_gmem_WVALID))
    violation("VALID during reset", "m_axi_gmem");
  bool arHs = top->m_axi_gmem_ARVALID && top->m_axi_gmem_ARREADY;
  bool awHs = top->m_axi_gmem_AWVALID && top->m_axi_gmem_AWREADY;
  bool wHs = top->m_axi_gmem_WVALID && top->m_axi_gmem_WREADY;
  holdCheck(hAr, top->m_axi_gmem_ARVALID, top->m_axi_gmem_ARREADY, "AR", [&] {
    std::vector<uint8_t> v; pushBytes(v, top->m_axi_gmem_ARADDR, 8); v.push_back(top->m_axi_gmem_ARLEN);
    v.push_back(top->m_axi_gmem_ARSIZE); v.push_back(top->m_axi_gmem_ARBURST); return v; });
  holdCheck(hAw, top->m_axi_gmem_AWVALID, top->m_axi_gmem_AWREADY, "AW", [&] {
    std::vector<uint8_t> v; pushBytes(v, top->m_axi_gmem_AWADDR, 8); v.push_back(top->m_axi_gmem_AWLEN);
    v.push_back(top->m_axi_gmem_AWSIZE); v.push_back(top->m_axi_gmem_AWBURST); return v; });
  holdCheck(hW, top->m_axi_gmem_WVALID, top->m_axi_gmem_WREADY, "W", [&] {
    std::vector<uint8_t> v; pushBytes(v, top->m_axi_gmem_WDATA, BUS); pushBytes(v, top->m_axi_gmem_WSTRB, (BUS + 7) / 8);
    v.push_back(top->m_axi_gmem_WLAST); return v; });
  holdCheck(hLr, top->s_axi_control_RVALID, lR, "s_axi_control R", [&] {
    std::vector<uint8_t> v; pushBytes(v, top->s_axi_control_RDATA, 4); v.push_back(top->s_axi_control_RRESP); return v; });
  holdCheck(hLb, top->s_axi_control_BVALID, lB, "s_axi_control B", [&] {
    std::vector<uint8_t> v; v.push_back(top->s_axi_control_BRESP); return v; });
  if (top->s_axi_control_RVALID && lOutR == 0) violation("AXI-Lite", "RVALID without an accepted read");
  if (top->s_axi_control_BVALID && !(lAwDone > 0 && lWDone > 0)) violation("AXI-Lite", "BVALID before both AW and W were accepted");
  if (top->s_axi_control_RVALID && top->s_axi_control_RRESP) violation("AXI-Lite", "RRESP is not OKAY");
  if (top->s_axi_control_BVALID && top->s_axi_control_BRESP) violation("AXI-Lite", "BRESP is not OKAY");
  Burst ar{}, aw{};
  if (arHs) {
    ar = {u64(top->m_axi_gmem_ARADDR), (int)top->m_axi_gmem_ARLEN, (int)top->m_axi_gmem_ARSIZE, cyc, 0};
    if (randomBus) ar.t += between(0, maxExtraLatency);
    checkBurst("AR", ar.addr, ar.len, ar.size, top->m_axi_gmem_ARBURST, top->m_axi_gmem_ARID, top->m_axi_gmem_ARLOCK);
    nAr++; if ((uint64_t)ar.len + 1 > maxArLen) maxArLen = ar.len + 1;
  }
  if (awHs) {
    aw = {u64(top->m_axi_gmem_AWADDR), (int)top->m_axi_gmem_AWLEN, (int)top->m_axi_gmem_AWSIZE, cyc, 0};
    checkBurst("AW", aw.addr, aw.len, aw.size, top->m_axi_gmem_AWBURST, top->m_axi_gmem_AWID, top->m_axi_gmem_AWLOCK);
    nAw++; if ((uint64_t)aw.len + 1 > maxAwLen) maxAwLen = aw.len + 1;
  }
  WBeat wb;
  if (wHs) {
    wb.data.resize(BUS); wb.strb.resize((BUS + 7) / 8);
    getBytes(top->m_axi_gmem_WDATA, wb.data.data(), BUS);
    getBytes(top->m_axi_gmem_WSTRB, wb.strb.data(), (BUS + 7) / 8);
    wb.last = top->m_axi_gmem_WLAST; wb.t = cyc;
    nWBeats++;
    if (awq.empty()) wBeforeAw++;
  }
  bool rHs = rValid && top->m_axi_gmem_RREADY;
  bool bHs = bValid && top->m_axi_gmem_BREADY;${streaming ? '\n  bool iRHs = false;\n  Burst iAr = sampleInsn(inReset, iRHs);' : ''}
  // AXI-Lite handshakes seen by the master
  bool lArHs = lAr && top->s_axi_control_ARREADY, lAwHs = lAw && top->s_axi_control_AWREADY, lWHs = lW && top->s_axi_control_WREADY;
  bool lRHs = lR && top->s_axi_control_RVALID, lBHs = lB && top->s_axi_control_BVALID;
  if (lRHs) lData = top->s_axi_control_RDATA;
  // ---- trace
  if (top->tr_core_start) { coreStart = (long long)cyc; coreStarted = true; }
  if (top->tr_disp) traceEvent('D', top->tr_disp_idx, cyc);
  if (top->tr_ld_start) traceEvent('S', top->tr_ld_start_idx, cyc);
  if (top->tr_cp_start) traceEvent('S', top->tr_cp_start_idx, cyc);
  if (top->tr_st_start) traceEvent('S', top->tr_st_start_idx, cyc);
  if (top->tr_ld_ret) traceEvent('R', top->tr_ld_ret_idx, cyc);
  if (top->tr_cp_ret) traceEvent('R', top->tr_cp_ret_idx, cyc);
  if (top->tr_st_ret) traceEvent('R', top->tr_st_ret_idx, cyc);
  // ---- clock edge
  top->ap_clk = 1;
  top->eval();
  // ---- slave state after the edge
  if (arHs) arq.push_back(ar);
  if (awHs) awq.push_back(aw);
  if (wHs) wq.push_back(wb);
  if (awHs || wHs) applyWrites();
  if (rHs) {
    Burst& b = arq.front();
    int resp = respFor(b.addr + ((uint64_t)rBeat << b.size), 1 << b.size);
    (void)resp;
    nRBeats++;
    rValid = false;
    lastBeatT = cyc; anyBeat = true;
    rNext = cyc + 1;
    if (++rBeat > b.len) { arq.pop_front(); rBeat = 0; }
  }
  if (bHs) bValid = false;${streaming ? '\n  updateInsn(iAr, iRHs);' : ''}
  if (lArHs) { lAr = false; lOutR++; }
  if (lRHs) { lR = false; lOutR--; }
  if (lAwHs) { lAw = false; lAwDone++; }
  if (lWHs) { lW = false; lWDone++; }
  if (lBHs) { lB = false; lAwDone--; lWDone--; }
  cyc++;
  (void)d;
}

`;
}

/** Testbench part: the driver's transport over the simulated bus. */
function harnessTransport(): string {
  return `// ---------------------------------------------------------------- the driver's transport over the simulated bus
static uint64_t tickBudget = 0;
static void waitTicks(int n) { for (int i = 0; i < n; i++) tick(); }
static void guard() { if (cyc > tickBudget) { fprintf(res, "budget_exceeded 1\\n"); fflush(res); die("cycle budget exceeded in a register access", nullptr); } }

static uint32_t simRead32(void*, uint32_t off) {
  if (randomBus) waitTicks(between(0, 3));
  lAddr = off; lAr = true;
  while (lAr) { tick(); guard(); }
  if (randomBus) waitTicks(between(0, 3));
  lR = true;
  while (lR) { tick(); guard(); }
  return lData;
}

static void simWrite32(void*, uint32_t off, uint32_t v) {
  lAddr = off; lData = v;
  if (randomBus && chance(50)) {  // data before address, address before data, or both at once
    lW = true; waitTicks(between(0, 3)); lAw = true;
  } else if (randomBus && chance(50)) {
    lAw = true; waitTicks(between(0, 3)); lW = true;
  } else { lAw = true; lW = true; }
  while (lAw || lW) { tick(); guard(); }
  if (randomBus) waitTicks(between(0, 3));
  lB = true;
  while (lB) { tick(); guard(); }
}

static int simMemWrite(void*, uint64_t a, const void* src, size_t len) {
  if (a < memBase || a + len > memBase + mem.size()) return NIBBLE_E_RANGE;
  memcpy(&mem[a - memBase], src, len);
  return 0;
}
static int simMemRead(void*, uint64_t a, void* dst, size_t len) {
  if (a < memBase || a + len > memBase + mem.size()) return NIBBLE_E_RANGE;
  memcpy(dst, &mem[a - memBase], len);
  return 0;
}
static int simWaitIrq(void*, uint32_t timeoutMs) {
  uint64_t end = cyc + (uint64_t)timeoutMs * 1000;
  while (!top->__SYM__interrupt) {
    if (cyc >= end || cyc > tickBudget) return 0;
    tick();
  }
  return 1;
}
// one simulated millisecond = 1000 cycles
static uint64_t simNowMs(void*) { return cyc / 1000; }

`;
}

/** Testbench part: main: load the files, run the driver, write result.txt and dump.bin. */
function harnessMain(streaming: boolean): string {
  return `int main(int argc, char** argv) {
  if (argc < 13)
    die("usage: sim code.bin data.bin regions.txt outdir max_cycles bus(det|SEED) rd_latency wr_latency mem_base mem_size program_base data_base [irq] [faults]", nullptr);
  Verilated::commandArgs(argc, argv);
  std::vector<uint8_t> code = readFile(argv[1]);
  std::vector<uint8_t> data = readFile(argv[2]);
  if (code.size() % 16) die("code.bin is not a whole number of 16-byte words: ", argv[1]);
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
  std::string bus = argv[6];
  rdLatency = atoi(argv[7]);
  wrLatency = atoi(argv[8]);
  memBase = strtoull(argv[9], nullptr, 0);
  mem.assign(strtoull(argv[10], nullptr, 0), 0);
  uint64_t programBase = strtoull(argv[11], nullptr, 0);
  uint64_t dataBase = strtoull(argv[12], nullptr, 0);
  int useIrq = argc > 13 && argv[13][0] != '+' ? atoi(argv[13]) : 0;
  if (argc > 14 && argv[14][0] != '+') {  // faults: lo:hi:resp,...
    const char* s = argv[14];
    while (*s) {
      unsigned long long lo, hi; int r, n = 0;
      if (sscanf(s, "%lli:%lli:%d%n", &lo, &hi, &r, &n) != 3) die("bad fault list ", argv[14]);
      faults.push_back({lo, hi, r});
      s += n;
      if (*s == ',') s++;
    }
  }
  if (bus != "det") {
    randomBus = true;
    rngState = strtoull(bus.c_str(), nullptr, 10) * 0x9E3779B97F4A7C15ULL + 1;
    readyPct = between(35, 100);
    gapPct = between(0, 60);
    maxExtraLatency = between(0, 40);
    awFirst = chance(40);
  }
  res = fopen((outdir + "/result.txt").c_str(), "w");
  if (!res) die("cannot write result.txt in ", argv[4]);
  static char resbuf[1 << 20];
  setvbuf(res, resbuf, _IOFBF, sizeof resbuf);
  tickBudget = maxCycles;

  top = new Vnibble_axi_top;
  top->ap_rst_n = 0;
  for (int i = 0; i < 4; i++) tick();
  top->ap_rst_n = 1;
  tick();

  nibble_io io;
  memset(&io, 0, sizeof io);
  io.read32 = simRead32; io.write32 = simWrite32; io.mem_write = simMemWrite; io.mem_read = simMemRead;
  io.wait_irq = simWaitIrq; io.now_ms = simNowMs;
  nibble_dev dev;
  int st = nibble_open(&dev, &io);
  if (st == NIBBLE_OK) st = nibble_load(&dev, code.data(), (uint32_t)(code.size() / 16), programBase, data.data(), data.size(), dataBase);
  if (st == NIBBLE_OK) st = nibble_run(&dev, useIrq, (uint32_t)(maxCycles / 1000 + 1));
  fprintf(res, "driver_status %d %s\\n", st, nibble_strerror(st));
  fprintf(res, "error_bits %u\\n", (unsigned)nibble_error_bits(&dev));
  fprintf(res, "error_resp %u\\n", (unsigned)simRead32(nullptr, NIBBLE_REG_ERROR_RESP));
  uint64_t ea = simRead32(nullptr, NIBBLE_REG_ERROR_ADDR_LO) | ((uint64_t)simRead32(nullptr, NIBBLE_REG_ERROR_ADDR_HI) << 32);
  fprintf(res, "error_addr %llu\\n", (unsigned long long)ea);
  nibble_counters c;
  if (nibble_read_counters(&dev, &c) == NIBBLE_OK)
    for (unsigned i = 0; i < NIBBLE_COUNTER_COUNT; i++)
      fprintf(res, "counter_%s %llu\\n", nibble_counter_name(i), (unsigned long long)c.value[i]);
  fprintf(res, "core_started %d\\n", coreStarted ? 1 : 0);
  fprintf(res, "bus_ar %llu\\nbus_aw %llu\\nbus_max_ar_len %llu\\nbus_max_aw_len %llu\\nbus_r_beats %llu\\nbus_w_beats %llu\\nbus_w_before_aw %llu\\nbus_at_4k %llu\\n",
          (unsigned long long)nAr, (unsigned long long)nAw, (unsigned long long)maxArLen, (unsigned long long)maxAwLen,
          (unsigned long long)nRBeats, (unsigned long long)nWBeats, (unsigned long long)wBeforeAw, (unsigned long long)at4k);
${streaming ? '  fprintf(res, "bus_insn_ar %llu\\nbus_insn_beats %llu\\n", (unsigned long long)nIar, (unsigned long long)nIBeats);\n' : ''}  fprintf(res, "bus_mode %s ready %d gap %d extra %d aw_first %d\\n", randomBus ? "random" : "det", readyPct, gapPct, maxExtraLatency, awFirst ? 1 : 0);
  fprintf(res, "sim_cycles %llu\\n", (unsigned long long)cyc);
  fclose(res);
  FILE* d = fopen((outdir + "/dump.bin").c_str(), "wb");
  if (!d) die("cannot write dump.bin in ", argv[4]);
  for (auto& r : regions) {
    std::vector<uint8_t> buf(r.second);
    if (r.second && nibble_read_data(&dev, r.first, buf.data(), r.second) != NIBBLE_OK) die("cannot read back a region", nullptr);
    fwrite(buf.data(), 1, buf.size(), d);
  }
  fclose(d);
  top->final();
  delete top;
  (void)lastBeatT; (void)anyBeat; (void)ADDR_BITS;
  return 0;
}
`;
}
