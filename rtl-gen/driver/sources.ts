/**
 * The C driver of the AXI shell: a small library (load a program image, start,
 * wait by polling or interrupt, read counters and errors) over a transport
 * (bare metal MMIO, Linux UIO or /dev/mem), and an example host program.
 * The same nibble_driver.c is compiled into the Verilator testbench
 * (rtl-gen/shell/harness.ts), whose transport drives the simulated
 * s_axi_control bus, so the code that runs on a board is the code the
 * co-simulation tests. Everything config-specific comes from the generated
 * nibble_regs.h (header.ts). C99; also valid C++.
 */

export const DRIVER_H = String.raw`/*
 * nibble_driver.h: host driver of the nibble AXI shell (docs/board.md).
 * Part of nibble; the register map and config constants come from nibble_regs.h.
 */
#ifndef NIBBLE_DRIVER_H
#define NIBBLE_DRIVER_H
#include <stddef.h>
#include <stdint.h>
#include "nibble_regs.h"
#ifdef __cplusplus
extern "C" {
#endif

/* Status codes: 0 is success, every error is negative; nibble_strerror() names it. */
enum {
  NIBBLE_OK = 0,
  NIBBLE_E_ARG = -1,      /* a NULL pointer or a zero length */
  NIBBLE_E_ID = -2,       /* the ID register does not read 'NIBL': no nibble shell at this address */
  NIBBLE_E_VERSION = -3,  /* the register map version differs from this header's */
  NIBBLE_E_CONFIG = -4,   /* the hardware was built for another config (CONFIG_HASH differs) */
  NIBBLE_E_TOO_LONG = -5, /* the program is longer than NIBBLE_MAX_PROGRAM_WORDS */
  NIBBLE_E_TOO_BIG = -6,  /* the data image is larger than NIBBLE_CFG_DRAM_SIZE_BYTES */
  NIBBLE_E_ALIGN = -7,    /* PROGRAM_BASE or DATA_BASE is not aligned (NIBBLE_PROGRAM_ALIGN, NIBBLE_DATA_ALIGN) */
  NIBBLE_E_BUSY = -8,     /* a run is in progress */
  NIBBLE_E_TIMEOUT = -9,  /* the run did not finish in time */
  NIBBLE_E_RUN = -10,     /* the run finished with ERROR bits set: see nibble_error_bits() */
  NIBBLE_E_IO = -11,      /* the transport failed (open, mmap, read, write) */
  NIBBLE_E_NO_IRQ = -12,  /* an interrupt wait was asked for but the transport has no interrupt */
  NIBBLE_E_RANGE = -13    /* a memory access outside the transport's memory window */
};

/* How the driver reaches the hardware. ctx is passed back to every call. */
typedef struct nibble_io {
  void *ctx;
  uint32_t (*read32)(void *ctx, uint32_t offset);
  void (*write32)(void *ctx, uint32_t offset, uint32_t value);
  /* copy to / from accelerator-visible memory at a bus address; 0 or a NIBBLE_E_ code */
  int (*mem_write)(void *ctx, uint64_t bus_addr, const void *src, size_t len);
  int (*mem_read)(void *ctx, uint64_t bus_addr, void *dst, size_t len);
  /* block until the interrupt line is high: 1 raised, 0 timeout, < 0 error; NULL: no interrupt */
  int (*wait_irq)(void *ctx, uint32_t timeout_ms);
  /* monotonic milliseconds; NULL: a timeout counts register polls instead */
  uint64_t (*now_ms)(void *ctx);
  /* transport state (the transports below keep theirs here) */
  uintptr_t regs, mem_virt;
  uint64_t mem_bus;
  size_t mem_size, regs_map_len;
  int fd, mem_fd;
} nibble_io;

typedef struct nibble_dev {
  const nibble_io *io;
  uint64_t program_base, data_base;
  uint32_t program_words;
  uint32_t error_bits;
} nibble_dev;

typedef struct nibble_counters {
  uint64_t value[NIBBLE_COUNTER_COUNT]; /* indexed by NIBBLE_COUNTER_* */
} nibble_counters;

/* Check that io reaches a shell built for this header's config. */
int nibble_open(nibble_dev *dev, const nibble_io *io);
/* Copy the program (words x 16 bytes) and the data image (the core's DRAM from address 0) into memory and
   program PROGRAM_BASE, PROGRAM_LENGTH and DATA_BASE. code NULL: the program is already at program_base
   (a board's flash); data_bytes 0: nothing is copied. */
int nibble_load(nibble_dev *dev, const void *code, uint32_t words, uint64_t program_base, const void *data,
                size_t data_bytes, uint64_t data_base);
/* Start a run; use_irq: enable the DONE and ERROR interrupts (else they stay disabled). */
int nibble_start(nibble_dev *dev, int use_irq);
/* Wait for the run to finish, by polling CTRL or by waiting for the interrupt. */
int nibble_wait(nibble_dev *dev, int use_irq, uint32_t timeout_ms);
/* nibble_start then nibble_wait. */
int nibble_run(nibble_dev *dev, int use_irq, uint32_t timeout_ms);
/* ERROR of the last run (NIBBLE_ERROR_* bits). */
uint32_t nibble_error_bits(const nibble_dev *dev);
int nibble_read_counters(nibble_dev *dev, nibble_counters *out);
/* Read or write the core's DRAM (DATA_BASE + dram_addr). */
int nibble_read_data(nibble_dev *dev, uint64_t dram_addr, void *dst, size_t len);
int nibble_write_data(nibble_dev *dev, uint64_t dram_addr, const void *src, size_t len);
const char *nibble_strerror(int status);
const char *nibble_error_name(unsigned bit);
const char *nibble_counter_name(unsigned index);

/* For transports: copy between buf and the mapped window [mem_bus, mem_bus + mem_size) at io->mem_virt, and
   32-bit accesses to registers mapped at io->regs (ctx is the nibble_io). */
int nibble_window_copy(const nibble_io *io, uint64_t bus_addr, void *buf, size_t len, int to_device);
uint32_t nibble_mmio_read32(void *ctx, uint32_t offset);
void nibble_mmio_write32(void *ctx, uint32_t offset, uint32_t value);

/* Bare metal: registers and memory mapped at these addresses (mem_virt is where the CPU sees bus address
   mem_bus). With a non-coherent port, flush the data cache after nibble_load and invalidate before reading. */
void nibble_io_baremetal(nibble_io *io, uintptr_t regs, uintptr_t mem_virt, uint64_t mem_bus, size_t mem_size);
#if defined(__linux__)
/* Linux: registers through /dev/mem (polling only), or a UIO device (its map 0, and its interrupt); the
   memory window [mem_phys, mem_phys + mem_size) through /dev/mem (a reserved, physically contiguous region). */
int nibble_io_devmem(nibble_io *io, uint64_t regs_phys, uint64_t mem_phys, size_t mem_size);
int nibble_io_uio(nibble_io *io, const char *uio_path, uint64_t mem_phys, size_t mem_size);
/* Linux: a board's UART host link (nibble fpga build): registers and the board's memory over the link. */
int nibble_io_uart(nibble_io *io, const char *tty, uint64_t mem_bus, size_t mem_size);
void nibble_io_close(nibble_io *io);
#endif

#ifdef __cplusplus
}
#endif
#endif /* NIBBLE_DRIVER_H */
`;

export const DRIVER_C = String.raw`/*
 * nibble_driver.c: host driver of the nibble AXI shell (docs/board.md). Transport independent.
 */
#include <string.h>
#include "nibble_driver.h"

static uint32_t rd(const nibble_dev *d, uint32_t off) { return d->io->read32(d->io->ctx, off); }
static void wr(const nibble_dev *d, uint32_t off, uint32_t v) { d->io->write32(d->io->ctx, off, v); }

int nibble_open(nibble_dev *dev, const nibble_io *io) {
  uint32_t lo, hi;
  if (!dev || !io || !io->read32 || !io->write32) return NIBBLE_E_ARG;
  dev->io = io;
  dev->program_base = 0;
  dev->data_base = 0;
  dev->program_words = 0;
  dev->error_bits = 0;
  if (rd(dev, NIBBLE_REG_ID) != NIBBLE_ID_VALUE) return NIBBLE_E_ID;
  if (rd(dev, NIBBLE_REG_VERSION) != NIBBLE_VERSION_VALUE) return NIBBLE_E_VERSION;
  lo = rd(dev, NIBBLE_REG_CONFIG_HASH_LO);
  hi = rd(dev, NIBBLE_REG_CONFIG_HASH_HI);
  if (lo != NIBBLE_CONFIG_HASH_LO_VALUE || hi != NIBBLE_CONFIG_HASH_HI_VALUE) return NIBBLE_E_CONFIG;
  return NIBBLE_OK;
}

int nibble_load(nibble_dev *dev, const void *code, uint32_t words, uint64_t program_base, const void *data,
                size_t data_bytes, uint64_t data_base) {
  int r;
  if (!dev || !dev->io || (data_bytes && !data) || ((code || data_bytes) && !dev->io->mem_write)) return NIBBLE_E_ARG;
  if (words == 0 || words > NIBBLE_MAX_PROGRAM_WORDS) return NIBBLE_E_TOO_LONG;
  if ((uint64_t)data_bytes > NIBBLE_CFG_DRAM_SIZE_BYTES) return NIBBLE_E_TOO_BIG;
  if (program_base % NIBBLE_PROGRAM_ALIGN || data_base % NIBBLE_DATA_ALIGN) return NIBBLE_E_ALIGN;
  if (!(rd(dev, NIBBLE_REG_CTRL) & NIBBLE_CTRL_AP_IDLE_MASK)) return NIBBLE_E_BUSY;
  if (code) { /* NULL: the program is in memory already (a board's flash) */
    r = dev->io->mem_write(dev->io->ctx, program_base, code, (size_t)words * NIBBLE_INSN_BYTES);
    if (r) return r;
  }
  if (data_bytes) {
    r = dev->io->mem_write(dev->io->ctx, data_base, data, data_bytes);
    if (r) return r;
  }
  wr(dev, NIBBLE_REG_PROGRAM_BASE_LO, (uint32_t)program_base);
  wr(dev, NIBBLE_REG_PROGRAM_BASE_HI, (uint32_t)(program_base >> 32));
  wr(dev, NIBBLE_REG_PROGRAM_LENGTH, words);
  wr(dev, NIBBLE_REG_DATA_BASE_LO, (uint32_t)data_base);
  wr(dev, NIBBLE_REG_DATA_BASE_HI, (uint32_t)(data_base >> 32));
  dev->program_base = program_base;
  dev->data_base = data_base;
  dev->program_words = words;
  return NIBBLE_OK;
}

int nibble_start(nibble_dev *dev, int use_irq) {
  if (!dev || !dev->io) return NIBBLE_E_ARG;
  if (use_irq && !dev->io->wait_irq) return NIBBLE_E_NO_IRQ;
  if (!(rd(dev, NIBBLE_REG_CTRL) & NIBBLE_CTRL_AP_IDLE_MASK)) return NIBBLE_E_BUSY; /* this read also clears a stale AP_DONE */
  wr(dev, NIBBLE_REG_ISR, NIBBLE_ISR_DONE_MASK | NIBBLE_ISR_ERROR_MASK);
  wr(dev, NIBBLE_REG_IER, use_irq ? (NIBBLE_IER_DONE_MASK | NIBBLE_IER_ERROR_MASK) : 0u);
  wr(dev, NIBBLE_REG_GIE, use_irq ? 1u : 0u);
  dev->error_bits = 0;
  wr(dev, NIBBLE_REG_CTRL, NIBBLE_CTRL_AP_START_MASK);
  return NIBBLE_OK;
}

static int timed_out(const nibble_dev *dev, uint64_t t0, uint64_t *polls, uint32_t timeout_ms) {
  if (dev->io->now_ms) return dev->io->now_ms(dev->io->ctx) - t0 > timeout_ms;
  return ++*polls > timeout_ms;
}

int nibble_wait(nibble_dev *dev, int use_irq, uint32_t timeout_ms) {
  uint64_t t0, polls = 0;
  if (!dev || !dev->io) return NIBBLE_E_ARG;
  if (use_irq && !dev->io->wait_irq) return NIBBLE_E_NO_IRQ;
  t0 = dev->io->now_ms ? dev->io->now_ms(dev->io->ctx) : 0;
  for (;;) {
    if (use_irq) {
      uint32_t isr;
      int r = dev->io->wait_irq(dev->io->ctx, timeout_ms);
      if (r < 0) return NIBBLE_E_IO;
      if (r == 0) return NIBBLE_E_TIMEOUT;
      isr = rd(dev, NIBBLE_REG_ISR);
      wr(dev, NIBBLE_REG_ISR, isr); /* write 1 to clear: drops the interrupt line */
      if (isr & NIBBLE_ISR_DONE_MASK) {
        (void)rd(dev, NIBBLE_REG_CTRL); /* clears AP_DONE */
        break;
      }
      if (timed_out(dev, t0, &polls, timeout_ms)) return NIBBLE_E_TIMEOUT; /* an ERROR interrupt: the run still ends */
    } else {
      if (rd(dev, NIBBLE_REG_CTRL) & NIBBLE_CTRL_AP_DONE_MASK) break;
      if (timed_out(dev, t0, &polls, timeout_ms)) return NIBBLE_E_TIMEOUT;
    }
  }
  dev->error_bits = rd(dev, NIBBLE_REG_ERROR);
  return dev->error_bits ? NIBBLE_E_RUN : NIBBLE_OK;
}

int nibble_run(nibble_dev *dev, int use_irq, uint32_t timeout_ms) {
  int r = nibble_start(dev, use_irq);
  return r ? r : nibble_wait(dev, use_irq, timeout_ms);
}

uint32_t nibble_error_bits(const nibble_dev *dev) { return dev ? dev->error_bits : 0u; }

int nibble_read_counters(nibble_dev *dev, nibble_counters *out) {
  unsigned i;
  if (!dev || !dev->io || !out) return NIBBLE_E_ARG;
  for (i = 0; i < NIBBLE_COUNTER_COUNT; i++) {
    uint32_t off = NIBBLE_REG_CYCLES_LO + 8u * i;
    uint64_t lo = rd(dev, off); /* latches the high word */
    uint64_t hi = rd(dev, off + 4u);
    out->value[i] = (hi << 32) | lo;
  }
  return NIBBLE_OK;
}

int nibble_read_data(nibble_dev *dev, uint64_t dram_addr, void *dst, size_t len) {
  if (!dev || !dev->io || !dst || !dev->io->mem_read) return NIBBLE_E_ARG;
  if (dram_addr + len > NIBBLE_CFG_DRAM_SIZE_BYTES) return NIBBLE_E_RANGE;
  return dev->io->mem_read(dev->io->ctx, dev->data_base + dram_addr, dst, len);
}

int nibble_write_data(nibble_dev *dev, uint64_t dram_addr, const void *src, size_t len) {
  if (!dev || !dev->io || !src || !dev->io->mem_write) return NIBBLE_E_ARG;
  if (dram_addr + len > NIBBLE_CFG_DRAM_SIZE_BYTES) return NIBBLE_E_RANGE;
  return dev->io->mem_write(dev->io->ctx, dev->data_base + dram_addr, src, len);
}

int nibble_window_copy(const nibble_io *io, uint64_t bus_addr, void *buf, size_t len, int to_device) {
  unsigned char *at;
  if (bus_addr < io->mem_bus || bus_addr + len > io->mem_bus + io->mem_size) return NIBBLE_E_RANGE;
  at = (unsigned char *)(io->mem_virt + (uintptr_t)(bus_addr - io->mem_bus));
  if (to_device) memcpy(at, buf, len);
  else memcpy(buf, at, len);
  return NIBBLE_OK;
}

uint32_t nibble_mmio_read32(void *ctx, uint32_t offset) {
  const nibble_io *io = (const nibble_io *)ctx;
  return *(volatile const uint32_t *)(io->regs + offset);
}

void nibble_mmio_write32(void *ctx, uint32_t offset, uint32_t value) {
  const nibble_io *io = (const nibble_io *)ctx;
  *(volatile uint32_t *)(io->regs + offset) = value;
}

const char *nibble_strerror(int status) {
  switch (status) {
    case NIBBLE_OK: return "ok";
    case NIBBLE_E_ARG: return "invalid argument";
    case NIBBLE_E_ID: return "no nibble shell at this address (ID register mismatch)";
    case NIBBLE_E_VERSION: return "register map version differs from nibble_regs.h: regenerate the driver";
    case NIBBLE_E_CONFIG: return "the hardware was built for another config (CONFIG_HASH differs from nibble_regs.h)";
    case NIBBLE_E_TOO_LONG: return "the program is longer than the shell runs (NIBBLE_MAX_PROGRAM_WORDS)";
    case NIBBLE_E_TOO_BIG: return "the data image is larger than the core's DRAM (NIBBLE_CFG_DRAM_SIZE_BYTES)";
    case NIBBLE_E_ALIGN: return "PROGRAM_BASE or DATA_BASE is not aligned";
    case NIBBLE_E_BUSY: return "a run is in progress";
    case NIBBLE_E_TIMEOUT: return "timed out waiting for the run to finish";
    case NIBBLE_E_RUN: return "the run finished with errors (see the ERROR register)";
    case NIBBLE_E_IO: return "transport failure";
    case NIBBLE_E_NO_IRQ: return "the transport has no interrupt";
    case NIBBLE_E_RANGE: return "memory access outside the memory window";
    default: return "unknown status";
  }
}

const char *nibble_error_name(unsigned bit) {
  static const char *const names[] = NIBBLE_ERROR_NAMES;
  return bit < sizeof names / sizeof names[0] ? names[bit] : "unknown";
}

const char *nibble_counter_name(unsigned index) {
  static const char *const names[] = NIBBLE_COUNTER_NAMES;
  return index < NIBBLE_COUNTER_COUNT ? names[index] : "unknown";
}
`;

export const IO_BAREMETAL_C = String.raw`/*
 * nibble_io_baremetal.c: memory-mapped transport for bare-metal programs (no OS, no interrupt controller:
 * wait by polling, or set io->wait_irq to your own handler).
 */
#include <string.h>
#include "nibble_driver.h"

static int bm_mem_write(void *ctx, uint64_t addr, const void *src, size_t len) {
  return nibble_window_copy((const nibble_io *)ctx, addr, (void *)(uintptr_t)src, len, 1);
}

static int bm_mem_read(void *ctx, uint64_t addr, void *dst, size_t len) {
  return nibble_window_copy((const nibble_io *)ctx, addr, dst, len, 0);
}

void nibble_io_baremetal(nibble_io *io, uintptr_t regs, uintptr_t mem_virt, uint64_t mem_bus, size_t mem_size) {
  memset(io, 0, sizeof *io);
  io->ctx = io;
  io->read32 = nibble_mmio_read32;
  io->write32 = nibble_mmio_write32;
  io->mem_write = bm_mem_write;
  io->mem_read = bm_mem_read;
  io->regs = regs;
  io->mem_virt = mem_virt;
  io->mem_bus = mem_bus;
  io->mem_size = mem_size;
  io->fd = io->mem_fd = -1;
}
`;

export const IO_LINUX_C = String.raw`/*
 * nibble_io_linux.c: Linux transports. nibble_io_uio: registers through a UIO device's map 0 and the
 * interrupt through its file descriptor (the generic uio_pdrv_genirq driver: write 1 to enable, read to
 * wait). nibble_io_devmem: registers through /dev/mem (polling only). Both reach the accelerator's memory
 * through /dev/mem at a reserved, physically contiguous region (bus address = physical address).
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "nibble_driver.h"

#define NIBBLE_REGS_SPAN 4096u

static int lx_mem_write(void *ctx, uint64_t addr, const void *src, size_t len) {
  int r = nibble_window_copy((const nibble_io *)ctx, addr, (void *)(uintptr_t)src, len, 1);
  __sync_synchronize();
  return r;
}

static int lx_mem_read(void *ctx, uint64_t addr, void *dst, size_t len) {
  __sync_synchronize();
  return nibble_window_copy((const nibble_io *)ctx, addr, dst, len, 0);
}

static uint64_t lx_now_ms(void *ctx) {
  struct timespec ts;
  (void)ctx;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int lx_wait_irq(void *ctx, uint32_t timeout_ms) {
  const nibble_io *io = (const nibble_io *)ctx;
  uint32_t on = 1, count;
  struct pollfd p;
  int r;
  if (io->read32(ctx, NIBBLE_REG_ISR) & io->read32(ctx, NIBBLE_REG_IER)) return 1; /* already pending */
  if (write(io->fd, &on, sizeof on) != (ssize_t)sizeof on) return NIBBLE_E_IO;
  p.fd = io->fd;
  p.events = POLLIN;
  p.revents = 0;
  do r = poll(&p, 1, (int)timeout_ms);
  while (r < 0 && errno == EINTR);
  if (r < 0) return NIBBLE_E_IO;
  if (r == 0) return 0;
  if (read(io->fd, &count, sizeof count) != (ssize_t)sizeof count) return NIBBLE_E_IO;
  return 1;
}

static int lx_map(int fd, uint64_t phys, size_t len, uintptr_t *out) {
  long page = sysconf(_SC_PAGESIZE);
  uint64_t base = phys & ~(uint64_t)(page - 1);
  size_t skew = (size_t)(phys - base);
  void *m = mmap(NULL, len + skew, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)base);
  if (m == MAP_FAILED) return NIBBLE_E_IO;
  *out = (uintptr_t)m + skew;
  return 0;
}

static int lx_open_mem(nibble_io *io, uint64_t mem_phys, size_t mem_size) {
  io->mem_fd = open("/dev/mem", O_RDWR | O_SYNC);
  if (io->mem_fd < 0) return NIBBLE_E_IO;
  if (lx_map(io->mem_fd, mem_phys, mem_size, &io->mem_virt)) return NIBBLE_E_IO;
  io->mem_bus = mem_phys;
  io->mem_size = mem_size;
  return 0;
}

static void lx_init(nibble_io *io) {
  memset(io, 0, sizeof *io);
  io->ctx = io;
  io->read32 = nibble_mmio_read32;
  io->write32 = nibble_mmio_write32;
  io->mem_write = lx_mem_write;
  io->mem_read = lx_mem_read;
  io->now_ms = lx_now_ms;
  io->fd = io->mem_fd = -1;
}

int nibble_io_devmem(nibble_io *io, uint64_t regs_phys, uint64_t mem_phys, size_t mem_size) {
  lx_init(io);
  if (lx_open_mem(io, mem_phys, mem_size)) return NIBBLE_E_IO;
  if (lx_map(io->mem_fd, regs_phys, NIBBLE_REGS_SPAN, &io->regs)) return NIBBLE_E_IO;
  io->regs_map_len = NIBBLE_REGS_SPAN;
  return NIBBLE_OK;
}

int nibble_io_uio(nibble_io *io, const char *uio_path, uint64_t mem_phys, size_t mem_size) {
  void *m;
  lx_init(io);
  io->fd = open(uio_path, O_RDWR);
  if (io->fd < 0) return NIBBLE_E_IO;
  m = mmap(NULL, NIBBLE_REGS_SPAN, PROT_READ | PROT_WRITE, MAP_SHARED, io->fd, 0); /* map 0 */
  if (m == MAP_FAILED) return NIBBLE_E_IO;
  io->regs = (uintptr_t)m;
  io->regs_map_len = NIBBLE_REGS_SPAN;
  io->wait_irq = lx_wait_irq;
  return lx_open_mem(io, mem_phys, mem_size) ? NIBBLE_E_IO : NIBBLE_OK;
}

void nibble_io_close(nibble_io *io) {
  if (io->fd >= 0) close(io->fd);
  if (io->mem_fd >= 0) close(io->mem_fd);
  io->fd = io->mem_fd = -1;
}
`;

export const EXAMPLE_C = String.raw`/*
 * nibble_run.c: run a program image on the accelerator from Linux and write the DRAM back.
 *   nibble_run uio /dev/uio0 MEM_PHYS MEM_SIZE code.bin data.bin out.bin
 *   nibble_run devmem REGS_PHYS MEM_PHYS MEM_SIZE code.bin data.bin out.bin
 *   nibble_run uart /dev/ttyUSB1 MEM_BUS MEM_SIZE code.bin data.bin out.bin      (a board: nibble fpga build)
 * code.bin: the instruction words (16 bytes each); data.bin: the core's DRAM image from address 0
 * (write both with: nibble fpga image PROGRAM.nbl -o DIR). The program goes at the start of the memory
 * window, the data right after it (64-byte aligned); out.bin receives the DRAM after the run.
 *   nibble_run classify /dev/ttyUSB1 model.txt images.bin outputs.bin [TIMEOUT_MS]
 * a model in the board's flash (nibble fpga build --model M: model.txt, flash.bin, images.bin): per image of
 * images.bin, write it into the block RAM, run, read the output tensor back (appended to outputs.bin) and
 * print its class.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nibble_driver.h"

static void *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  void *buf;
  long n;
  if (!f) return NULL;
  if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) { fclose(f); return NULL; }
  buf = malloc(n ? (size_t)n : 1u);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static int fail(const char *what, int status) {
  fprintf(stderr, "nibble_run: %s: %s\n", what, nibble_strerror(status));
  return 1;
}

static int report_run(nibble_dev *dev, int r) {
  int a;
  if (r == NIBBLE_E_RUN) {
    for (a = 0; a < 32; a++)
      if (nibble_error_bits(dev) >> a & 1u) fprintf(stderr, "nibble_run: error: %s\n", nibble_error_name((unsigned)a));
    return 1;
  }
  return r ? fail("run", r) : 0;
}

/* model.txt (nibble fpga build --model): "key value..." lines */
#define MAX_CLASSES 1024
typedef struct model_file {
  char config_hash[32];
  uint64_t mem_bus, mem_size, program_base, program_words, data_base, rw_addr, rw_bytes;
  uint64_t input_addr, input_bytes, output_addr, output_bytes, class_bits, classes;
  uint64_t class_byte[MAX_CLASSES], class_shift[MAX_CLASSES];
} model_file;

static int read_model(const char *path, model_file *m) {
  static const char *const keys[] = {"mem_bus", "mem_size", "program_base", "program_words", "data_base",
                                     "rw_addr", "rw_bytes", "input_addr", "input_bytes", "output_addr",
                                     "output_bytes", "class_bits"};
  uint64_t *const vals[] = {&m->mem_bus, &m->mem_size, &m->program_base, &m->program_words, &m->data_base,
                            &m->rw_addr, &m->rw_bytes, &m->input_addr, &m->input_bytes, &m->output_addr,
                            &m->output_bytes, &m->class_bits};
  char line[256], key[64], v1[64], v2[64], v3[64];
  unsigned i, lineno = 0, seen = 0;
  FILE *f = fopen(path, "r");
  memset(m, 0, sizeof *m);
  if (!f) { fprintf(stderr, "nibble_run: cannot read %s\n", path); return 1; }
  while (fgets(line, sizeof line, f)) {
    int n;
    lineno++;
    if (line[0] == '#' || line[0] == '\n') continue;
    n = sscanf(line, "%63s %63s %63s %63s", key, v1, v2, v3);
    if (n >= 2 && !strcmp(key, "config_hash")) { strncpy(m->config_hash, v1, sizeof m->config_hash - 1); continue; }
    if (n == 4 && !strcmp(key, "class") && m->classes < MAX_CLASSES) {
      m->class_byte[m->classes] = strtoull(v2, NULL, 0);
      m->class_shift[m->classes++] = strtoull(v3, NULL, 0);
      continue;
    }
    for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
      if (n == 2 && !strcmp(key, keys[i])) { *vals[i] = strtoull(v1, NULL, 0); seen |= 1u << i; break; }
    if (i == sizeof keys / sizeof keys[0]) {
      fprintf(stderr, "nibble_run: %s:%u: unknown line '%s'\n", path, lineno, key);
      fclose(f);
      return 1;
    }
  }
  fclose(f);
  for (i = 0; i < m->classes; i++)
    if (m->class_byte[i] >= m->output_bytes || m->class_shift[i] + m->class_bits > 8) seen = 0;
  if (seen != (1u << (sizeof keys / sizeof keys[0])) - 1u || !m->classes || !m->class_bits || m->class_bits > 8 ||
      !m->input_bytes || !m->output_bytes) {
    fprintf(stderr, "nibble_run: %s: incomplete (write it with nibble fpga build --model)\n", path);
    return 1;
  }
  if (strcmp(m->config_hash, NIBBLE_CONFIG_HASH_STR)) {
    fprintf(stderr, "nibble_run: %s: compiled for config %s, this driver is for %s\n", path, m->config_hash,
            NIBBLE_CONFIG_HASH_STR);
    return 1;
  }
  return 0;
}

static int classify(int argc, char **argv) {
  nibble_io io;
  nibble_dev dev;
  nibble_counters c;
  model_file m;
  size_t images_len, k, count;
  unsigned char *images, *out, *zeros;
  uint32_t timeout = argc > 6 ? (uint32_t)strtoul(argv[6], NULL, 0) : 60000u;
  FILE *outs;
  int r;
  if (read_model(argv[3], &m)) return 1;
  images = (unsigned char *)slurp(argv[4], &images_len);
  if (!images || images_len % m.input_bytes) { fprintf(stderr, "nibble_run: %s is not a whole number of %llu-byte images\n", argv[4], (unsigned long long)m.input_bytes); return 1; }
  count = images_len / m.input_bytes;
  if ((r = nibble_io_uart(&io, argv[2], m.mem_bus, (size_t)m.mem_size))) return fail("open", r);
  if ((r = nibble_open(&dev, &io))) return fail("probe", r);
  /* the program and the read-only tensors are in flash: only the registers are set */
  r = nibble_load(&dev, NULL, (uint32_t)m.program_words, m.program_base, NULL, 0, m.data_base);
  if (r) return fail("load", r);
  zeros = (unsigned char *)calloc(m.rw_bytes ? m.rw_bytes : 1u, 1);
  out = (unsigned char *)malloc(m.output_bytes ? m.output_bytes : 1u);
  outs = fopen(argv[5], "wb");
  if (!zeros || !out || !outs) { fprintf(stderr, "nibble_run: cannot write %s\n", argv[5]); return 1; }
  if ((r = nibble_write_data(&dev, m.rw_addr, zeros, (size_t)m.rw_bytes))) return fail("clear the block RAM", r);
  for (k = 0; k < count; k++) {
    unsigned i, best = 0;
    int best_v = -1000;
    if ((r = nibble_write_data(&dev, m.input_addr, images + k * m.input_bytes, (size_t)m.input_bytes))) return fail("write the image", r);
    if ((r = report_run(&dev, nibble_run(&dev, 0, timeout)))) return r;
    nibble_read_counters(&dev, &c);
    if ((r = nibble_read_data(&dev, m.output_addr, out, (size_t)m.output_bytes))) return fail("read the output", r);
    if (fwrite(out, 1, (size_t)m.output_bytes, outs) != m.output_bytes) { fprintf(stderr, "nibble_run: cannot write %s\n", argv[5]); return 1; }
    for (i = 0; i < m.classes; i++) {
      unsigned raw = ((unsigned)out[m.class_byte[i]] >> m.class_shift[i]) & ((1u << m.class_bits) - 1u);
      int v = raw >> (m.class_bits - 1) ? (int)raw - (1 << m.class_bits) : (int)raw; /* two's complement */
      if (v > best_v) { best_v = v; best = i; }
    }
    printf("image %lu class %u cycles %llu total_cycles %llu\n", (unsigned long)k, best,
           (unsigned long long)c.value[NIBBLE_COUNTER_CYCLES], (unsigned long long)c.value[NIBBLE_COUNTER_TOTAL_CYCLES]);
    fflush(stdout);
  }
  if (fclose(outs)) { fprintf(stderr, "nibble_run: cannot write %s\n", argv[5]); return 1; }
  nibble_io_close(&io);
  return 0;
}

int main(int argc, char **argv) {
  nibble_io io;
  nibble_dev dev;
  nibble_counters c;
  size_t code_len, data_len, mem_size;
  void *code, *data;
  uint64_t mem_base;
  int mode, r, i, k;
  FILE *out;
  mode = argc > 1 ? argv[1][0] : 0; /* 'u' uio, 'd' devmem, 'a' uart (argv[1] = "uart"), 'c' classify */
  if (argc > 1 && !strcmp(argv[1], "uart")) mode = 'a';
  if (argc > 1 && strcmp(argv[1], "classify") && mode == 'c') mode = 0;
  if (!(((mode == 'u' || mode == 'd' || mode == 'a') && argc == 8) || (mode == 'c' && (argc == 6 || argc == 7)))) {
    fprintf(stderr, "usage: nibble_run uio /dev/uioN MEM_PHYS MEM_SIZE code.bin data.bin out.bin\n"
                    "       nibble_run devmem REGS_PHYS MEM_PHYS MEM_SIZE code.bin data.bin out.bin\n"
                    "       nibble_run uart /dev/ttyUSBn MEM_BUS MEM_SIZE code.bin data.bin out.bin\n"
                    "       nibble_run classify /dev/ttyUSBn model.txt images.bin outputs.bin [TIMEOUT_MS]\n");
    return 2;
  }
  if (mode == 'c') return classify(argc, argv);
  k = 5; /* first file argument */
  mem_base = strtoull(argv[3], NULL, 0);
  mem_size = (size_t)strtoull(argv[4], NULL, 0);
  if (mode == 'a') r = nibble_io_uart(&io, argv[2], mem_base, mem_size);
  else if (mode == 'u') r = nibble_io_uio(&io, argv[2], mem_base, mem_size);
  else r = nibble_io_devmem(&io, strtoull(argv[2], NULL, 0), mem_base, mem_size);
  if (r) return fail("open", r);
  if ((r = nibble_open(&dev, &io))) return fail("probe", r);
  code = slurp(argv[k], &code_len);
  data = slurp(argv[k + 1], &data_len);
  if (!code || !data || code_len % NIBBLE_INSN_BYTES) { fprintf(stderr, "nibble_run: cannot read %s or %s\n", argv[k], argv[k + 1]); return 1; }
  r = nibble_load(&dev, code, (uint32_t)(code_len / NIBBLE_INSN_BYTES), mem_base, data, data_len,
                  mem_base + ((code_len + 63u) & ~(size_t)63u));
  if (r) return fail("load", r);
  if ((r = report_run(&dev, nibble_run(&dev, mode == 'u', 10000u)))) return r;
  nibble_read_counters(&dev, &c);
  for (i = 0; i < NIBBLE_COUNTER_COUNT; i++) printf("%-14s %llu\n", nibble_counter_name((unsigned)i), (unsigned long long)c.value[i]);
  if ((r = nibble_read_data(&dev, 0, data, data_len))) return fail("read back", r);
  out = fopen(argv[k + 2], "wb");
  if (!out || fwrite(data, 1, data_len, out) != data_len) { fprintf(stderr, "nibble_run: cannot write %s\n", argv[k + 2]); return 1; }
  fclose(out);
  nibble_io_close(&io);
  return 0;
}
`;

export const IO_UART_C = String.raw`/*
 * nibble_io_uart.c: the host side of a board's UART link (nibble fpga build; docs/board.md). The board
 * bridges four byte commands to its AXI-Lite registers and its on-chip memory:
 *   'w' idx d0..d3 -> 'k'    'r' idx -> d0..d3    'W' a0 a1 a2 n0 n1 bytes -> 'k'    'R' a0 a1 a2 n0 n1 -> bytes
 * Polling only (the interrupt drives an LED, not the link).
 */
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "nibble_driver.h"

static int ux_put(const nibble_io *io, const uint8_t *b, size_t n) {
  while (n) {
    ssize_t k = write(io->fd, b, n);
    if (k <= 0) return NIBBLE_E_IO;
    b += k;
    n -= (size_t)k;
  }
  return 0;
}

static int ux_get(const nibble_io *io, uint8_t *b, size_t n) {
  while (n) {
    ssize_t k = read(io->fd, b, n); /* VTIME bounds each read */
    if (k <= 0) return NIBBLE_E_IO;
    b += k;
    n -= (size_t)k;
  }
  return 0;
}

static uint32_t ux_read32(void *ctx, uint32_t off) {
  const nibble_io *io = (const nibble_io *)ctx;
  uint8_t c[2], d[4];
  c[0] = 'r';
  c[1] = (uint8_t)(off >> 2);
  if (ux_put(io, c, 2) || ux_get(io, d, 4)) return 0xFFFFFFFFu;
  return (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
}

static void ux_write32(void *ctx, uint32_t off, uint32_t v) {
  const nibble_io *io = (const nibble_io *)ctx;
  uint8_t c[6], k;
  c[0] = 'w';
  c[1] = (uint8_t)(off >> 2);
  c[2] = (uint8_t)v;
  c[3] = (uint8_t)(v >> 8);
  c[4] = (uint8_t)(v >> 16);
  c[5] = (uint8_t)(v >> 24);
  if (!ux_put(io, c, 6)) (void)ux_get(io, &k, 1);
}

static int ux_mem(const nibble_io *io, char cmd, uint64_t addr, uint8_t *buf, size_t len) {
  while (len) {
    size_t n = len > 0xFFFFu ? 0xFFFFu : len;
    uint8_t c[6], k;
    int r;
    uint64_t at = addr - io->mem_bus; /* the link addresses the board's memory from 0 */
    if (addr < io->mem_bus || at + n > io->mem_size) return NIBBLE_E_RANGE;
    c[0] = (uint8_t)cmd;
    c[1] = (uint8_t)at;
    c[2] = (uint8_t)(at >> 8);
    c[3] = (uint8_t)(at >> 16);
    c[4] = (uint8_t)n;
    c[5] = (uint8_t)(n >> 8);
    r = ux_put(io, c, 6);
    if (!r) r = cmd == 'W' ? ux_put(io, buf, n) : ux_get(io, buf, n);
    if (!r && cmd == 'W') r = ux_get(io, &k, 1);
    if (r) return r;
    addr += n;
    buf += n;
    len -= n;
  }
  return 0;
}

static int ux_mem_write(void *ctx, uint64_t addr, const void *src, size_t len) {
  return ux_mem((const nibble_io *)ctx, 'W', addr, (uint8_t *)(uintptr_t)src, len);
}

static int ux_mem_read(void *ctx, uint64_t addr, void *dst, size_t len) {
  return ux_mem((const nibble_io *)ctx, 'R', addr, (uint8_t *)dst, len);
}

static uint64_t ux_now_ms(void *ctx) {
  struct timespec ts;
  (void)ctx;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* tty: the board's UART (e.g. /dev/ttyUSB1); [mem_bus, mem_bus + mem_size): the board's memory on its bus (the
   block RAM, nibble fpga boards). */
int nibble_io_uart(nibble_io *io, const char *tty, uint64_t mem_bus, size_t mem_size) {
  struct termios t;
  memset(io, 0, sizeof *io);
  io->ctx = io;
  io->read32 = ux_read32;
  io->write32 = ux_write32;
  io->mem_write = ux_mem_write;
  io->mem_read = ux_mem_read;
  io->now_ms = ux_now_ms;
  io->mem_bus = mem_bus;
  io->mem_size = mem_size;
  io->mem_fd = -1;
  io->fd = open(tty, O_RDWR | O_NOCTTY);
  if (io->fd < 0 || tcgetattr(io->fd, &t)) return NIBBLE_E_IO;
  cfmakeraw(&t);
  cfsetispeed(&t, B115200);
  cfsetospeed(&t, B115200);
  t.c_cc[VMIN] = 0;
  t.c_cc[VTIME] = 100; /* 10 s without a byte is a dead link */
  if (tcsetattr(io->fd, TCSANOW, &t)) return NIBBLE_E_IO;
  tcflush(io->fd, TCIOFLUSH);
  return NIBBLE_OK;
}
`;
