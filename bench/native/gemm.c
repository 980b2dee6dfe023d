/*
 * The machine's own ceiling for the simulator's arithmetic: a single-threaded
 * int8 GEMM, C[p][n] += sum_k A[p][k] * W[k][n], with 4-bit unsigned
 * activations and 4-bit signed weights stored in bytes, as fast as this CPU
 * runs it. Compiled by the bench (`cc -O3 -march=native`) when a C compiler is
 * present; the best instruction set the compiler targets is used:
 *   AVX-512 VNNI  vpdpbusd: 64 u8 x s8 products summed into 16 i32 lanes
 *   AVX-VNNI      the same on 256-bit vectors
 *   AVX2          vpmaddubsw + vpmaddwd (no saturation: |a*w + a*w| <= 240)
 *   scalar        plain loops (what -O3 makes of them)
 * usage: gemm PIXELS K N MIN_MS  (K a multiple of 4, N of 16)
 * prints: kernel name, runs, wall ns per run, CPU ns per run; exits 1 on a
 * wrong result (checked against a scalar reference before timing).
 */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ns(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* W packed as [K/4][N][4]: the four k values of one output lane are adjacent. */
static void pack(const int8_t *w, int8_t *wp, int k, int n) {
  for (int kk = 0; kk < k; kk += 4)
    for (int j = 0; j < n; j++)
      for (int q = 0; q < 4; q++) wp[(kk / 4) * n * 4 + j * 4 + q] = w[(kk + q) * n + j];
}

#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
static const char *KERNEL = "avx512-vnni";
/* four pixels x 16 lanes per block of accumulators */
static void gemm(const uint8_t *a, const int8_t *wp, int32_t *c, int pixels, int k, int n) {
  for (int j = 0; j < n; j += 16) {
    int p = 0;
    for (; p + 4 <= pixels; p += 4) {
      __m512i c0 = _mm512_loadu_si512(c + (p + 0) * n + j), c1 = _mm512_loadu_si512(c + (p + 1) * n + j);
      __m512i c2 = _mm512_loadu_si512(c + (p + 2) * n + j), c3 = _mm512_loadu_si512(c + (p + 3) * n + j);
      for (int kk = 0; kk < k; kk += 4) {
        __m512i w = _mm512_loadu_si512(wp + (kk / 4) * n * 4 + j * 4);
        int32_t x0, x1, x2, x3;
        memcpy(&x0, a + (p + 0) * k + kk, 4);
        memcpy(&x1, a + (p + 1) * k + kk, 4);
        memcpy(&x2, a + (p + 2) * k + kk, 4);
        memcpy(&x3, a + (p + 3) * k + kk, 4);
        c0 = _mm512_dpbusd_epi32(c0, _mm512_set1_epi32(x0), w);
        c1 = _mm512_dpbusd_epi32(c1, _mm512_set1_epi32(x1), w);
        c2 = _mm512_dpbusd_epi32(c2, _mm512_set1_epi32(x2), w);
        c3 = _mm512_dpbusd_epi32(c3, _mm512_set1_epi32(x3), w);
      }
      _mm512_storeu_si512(c + (p + 0) * n + j, c0);
      _mm512_storeu_si512(c + (p + 1) * n + j, c1);
      _mm512_storeu_si512(c + (p + 2) * n + j, c2);
      _mm512_storeu_si512(c + (p + 3) * n + j, c3);
    }
    for (; p < pixels; p++) {
      __m512i c0 = _mm512_loadu_si512(c + p * n + j);
      for (int kk = 0; kk < k; kk += 4) {
        int32_t x;
        memcpy(&x, a + p * k + kk, 4);
        c0 = _mm512_dpbusd_epi32(c0, _mm512_set1_epi32(x), _mm512_loadu_si512(wp + (kk / 4) * n * 4 + j * 4));
      }
      _mm512_storeu_si512(c + p * n + j, c0);
    }
  }
}
#elif defined(__AVX2__)
#if defined(__AVXVNNI__)
static const char *KERNEL = "avx-vnni";
static inline __m256i dot4(__m256i acc, __m256i a, __m256i w) { return _mm256_dpbusd_avx_epi32(acc, a, w); }
#else
static const char *KERNEL = "avx2";
static inline __m256i dot4(__m256i acc, __m256i a, __m256i w) {
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(a, w), _mm256_set1_epi16(1)));
}
#endif
/* four pixels x 16 lanes (two 8-lane vectors) per block of accumulators */
static void gemm(const uint8_t *a, const int8_t *wp, int32_t *c, int pixels, int k, int n) {
  for (int j = 0; j < n; j += 16) {
    int p = 0;
    for (; p + 4 <= pixels; p += 4) {
      __m256i acc[4][2];
      for (int q = 0; q < 4; q++) {
        acc[q][0] = _mm256_loadu_si256((const __m256i *)(c + (p + q) * n + j));
        acc[q][1] = _mm256_loadu_si256((const __m256i *)(c + (p + q) * n + j + 8));
      }
      for (int kk = 0; kk < k; kk += 4) {
        const int8_t *w = wp + (kk / 4) * n * 4 + j * 4;
        __m256i w0 = _mm256_loadu_si256((const __m256i *)w), w1 = _mm256_loadu_si256((const __m256i *)(w + 32));
        for (int q = 0; q < 4; q++) {
          int32_t x;
          memcpy(&x, a + (p + q) * k + kk, 4);
          __m256i xa = _mm256_set1_epi32(x);
          acc[q][0] = dot4(acc[q][0], xa, w0);
          acc[q][1] = dot4(acc[q][1], xa, w1);
        }
      }
      for (int q = 0; q < 4; q++) {
        _mm256_storeu_si256((__m256i *)(c + (p + q) * n + j), acc[q][0]);
        _mm256_storeu_si256((__m256i *)(c + (p + q) * n + j + 8), acc[q][1]);
      }
    }
    for (; p < pixels; p++)
      for (int jj = j; jj < j + 16; jj++) {
        int32_t s = 0;
        for (int kk = 0; kk < k; kk++) s += a[p * k + kk] * wp[(kk / 4) * n * 4 + jj * 4 + kk % 4];
        c[p * n + jj] += s;
      }
  }
}
#else
static const char *KERNEL = "scalar";
static void gemm(const uint8_t *a, const int8_t *wp, int32_t *c, int pixels, int k, int n) {
  for (int p = 0; p < pixels; p++)
    for (int jj = 0; jj < n; jj++) {
      int32_t s = 0;
      for (int kk = 0; kk < k; kk++) s += a[p * k + kk] * wp[(kk / 4) * n * 4 + jj * 4 + kk % 4];
      c[p * n + jj] += s;
    }
}
#endif

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: gemm PIXELS K N MIN_MS\n");
    return 2;
  }
  int pixels = atoi(argv[1]), k = atoi(argv[2]), n = atoi(argv[3]);
  double minNs = atof(argv[4]) * 1e6;
  if (pixels < 1 || k < 4 || k % 4 || n < 16 || n % 16) {
    fprintf(stderr, "gemm: PIXELS >= 1, K a multiple of 4, N a multiple of 16\n");
    return 2;
  }
  uint8_t *a = malloc((size_t)pixels * k);
  int8_t *w = malloc((size_t)k * n), *wp = malloc((size_t)k * n);
  int32_t *c = calloc((size_t)pixels * n, 4), *ref = calloc((size_t)pixels * n, 4);
  uint32_t s = 1;
  for (int i = 0; i < pixels * k; i++) a[i] = (uint8_t)((s = s * 1664525u + 1013904223u) >> 28);
  for (int i = 0; i < k * n; i++) w[i] = (int8_t)((int)((s = s * 1664525u + 1013904223u) >> 28) - 8);
  pack(w, wp, k, n);
  gemm(a, wp, c, pixels, k, n);
  for (int p = 0; p < pixels; p++)
    for (int j = 0; j < n; j++) {
      int32_t t = 0;
      for (int kk = 0; kk < k; kk++) t += a[p * k + kk] * w[kk * n + j];
      ref[p * n + j] = t;
    }
  if (memcmp(c, ref, (size_t)pixels * n * 4) != 0) {
    fprintf(stderr, "gemm: the %s kernel gives a wrong result\n", KERNEL);
    return 1;
  }
  /* warm up, then time runs until MIN_MS have passed */
  for (double t0 = now_ns(CLOCK_MONOTONIC); now_ns(CLOCK_MONOTONIC) - t0 < 1e8;) gemm(a, wp, c, pixels, k, n);
  long runs = 0;
  double w0 = now_ns(CLOCK_MONOTONIC), c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID), wall;
  do {
    gemm(a, wp, c, pixels, k, n);
    runs++;
    wall = now_ns(CLOCK_MONOTONIC) - w0;
  } while (wall < minNs);
  double cpu = now_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
  int64_t check = 0;
  for (int i = 0; i < pixels * n; i++) check += c[i];
  printf("%s %ld %.1f %.1f %lld\n", KERNEL, runs, wall / runs, cpu / runs, (long long)check);
  return 0;
}
