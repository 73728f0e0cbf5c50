/*===- gemm_bench.c - GFLOP/s of kiln's fp32 GEMM kernels vs FMA peak ------===*
 *
 * Measures the machine's fp32 FMA peak on one core (independent AVX-512
 * FMA chains), then the runtime's packed GEMM (weights pre-packed, as
 * compiled models run it) at 1024^3 and BERT-base's shapes (seq 128), at
 * the given thread count. Prints median GFLOP/s of repeated runs and the
 * fraction of peak x threads. Not a test.
 *
 *   bench/gemm_bench.sh [threads]      (builds against build/lib)
 *
 *===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L
#include "kiln/runtime.h"
#include "../lib/Runtime/runtime_internal.h"
#include "../lib/Runtime/ukernels/gemm_f32.h"
#include "../lib/Runtime/ukernels/gemm_s8.h"

#include <immintrin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The runtime archive expects a compiled model's two symbols. */
void kiln_model_entry(void **inputs, void *ctx) { (void)inputs; (void)ctx; }
const char *kiln_model_signature(void) { return ""; }

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* 12 independent FMA chains in registers (more than latency x ports). */
#define FMA12(op, T, set1, red)                                                \
  T a0 = set1(0.f), a1 = set1(1.f), a2 = set1(2.f), a3 = set1(3.f),            \
    a4 = set1(4.f), a5 = set1(5.f), a6 = set1(6.f), a7 = set1(7.f),            \
    a8 = set1(8.f), a9 = set1(9.f), a10 = set1(10.f), a11 = set1(11.f);        \
  T m = set1(0.999999f), c = set1(1e-7f);                                      \
  long iters = 20000000;                                                       \
  double t = now();                                                            \
  for (long it = 0; it < iters; ++it) {                                        \
    a0 = op(a0, m, c); a1 = op(a1, m, c); a2 = op(a2, m, c);                   \
    a3 = op(a3, m, c); a4 = op(a4, m, c); a5 = op(a5, m, c);                   \
    a6 = op(a6, m, c); a7 = op(a7, m, c); a8 = op(a8, m, c);                   \
    a9 = op(a9, m, c); a10 = op(a10, m, c); a11 = op(a11, m, c);               \
    __asm__ volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3));             \
  }                                                                            \
  t = now() - t;                                                               \
  T s = op(a0, a1, a2);                                                        \
  s = op(s, a3, a4); s = op(s, a5, a6); s = op(s, a7, a8);                     \
  s = op(s, a9, a10); s = op(s, a11, c);                                       \
  if (red(s) == 12345.0f)                                                      \
    puts("");

__attribute__((target("avx512f"))) static inline float red512(__m512 v) {
  return _mm512_reduce_add_ps(v);
}
__attribute__((target("avx512f"), noinline)) static double fma_peak512(void) {
  FMA12(_mm512_fmadd_ps, __m512, _mm512_set1_ps, red512)
  return iters * 12.0 * 32.0 / t / 1e9;
}
__attribute__((target("avx2,fma"))) static inline float red256(__m256 v) {
  float f[8];
  _mm256_storeu_ps(f, v);
  return f[0] + f[1] + f[2] + f[3] + f[4] + f[5] + f[6] + f[7];
}
__attribute__((target("avx2,fma"), noinline)) static double fma_peak256(void) {
  FMA12(_mm256_fmadd_ps, __m256, _mm256_set1_ps, red256)
  return iters * 12.0 * 16.0 / t / 1e9;
}
/* The widest ISA of this CPU that the runtime has kernels for. */
static int top_isa;
static double fma_peak(void) {
  return top_isa == KILN_ISA_AVX512 ? fma_peak512() : fma_peak256();
}
/* Read bandwidth: sums a 512 MiB array (beyond every cache) on the pool's
 * threads, GB/s. */
typedef struct {
  const float *x;
  float sums[64];
} bw_job;

__attribute__((target("avx512f"))) static void bw_range512(void *vj, int64_t b,
                                                           int64_t e) {
  bw_job *j = vj;
  __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  for (int64_t i = b * 64; i < e * 64; i += 64) {
    s0 = _mm512_add_ps(s0, _mm512_load_ps(j->x + i));
    s1 = _mm512_add_ps(s1, _mm512_load_ps(j->x + i + 16));
    s2 = _mm512_add_ps(s2, _mm512_load_ps(j->x + i + 32));
    s3 = _mm512_add_ps(s3, _mm512_load_ps(j->x + i + 48));
  }
  j->sums[b % 64] += _mm512_reduce_add_ps(
      _mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

__attribute__((target("avx2,fma"))) static void bw_range256(void *vj, int64_t b,
                                                            int64_t e) {
  bw_job *j = vj;
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  for (int64_t i = b * 64; i < e * 64; i += 32) {
    s0 = _mm256_add_ps(s0, _mm256_load_ps(j->x + i));
    s1 = _mm256_add_ps(s1, _mm256_load_ps(j->x + i + 8));
    s2 = _mm256_add_ps(s2, _mm256_load_ps(j->x + i + 16));
    s3 = _mm256_add_ps(s3, _mm256_load_ps(j->x + i + 24));
  }
  j->sums[b % 64] += red256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

static void bw_range(void *vj, int64_t b, int64_t e) {
  bw_job *j = vj;
  if (top_isa != KILN_ISA_AVX512) {
    bw_range256(vj, b, e);
    return;
  }
  bw_range512(vj, b, e);
}

static double read_bandwidth(void) {
  size_t n = (size_t)128 << 20;
  float *x = aligned_alloc(64, n * sizeof(float));
  for (size_t i = 0; i < n; ++i)
    x[i] = 1.0f;
  bw_job j = {x, {0}};
  double best = 0;
  for (int r = 0; r < 3; ++r) {
    double t = now();
    kiln_parallel_for((int64_t)(n / 64), bw_range, &j);
    t = now() - t;
    double gbs = n * sizeof(float) / t / 1e9;
    best = gbs > best ? gbs : best;
  }
  if (j.sums[0] == 1.0f)
    puts("");
  free(x);
  return best;
}

/* Decode-style GEMV with weights beyond the caches: GB/s of weights read. */
static void bench_gemv(int64_t n, int64_t k, int isa, double bw, int threads) {
  float *a = aligned_alloc(64, (size_t)k * 4 + 64);
  int64_t panels = (n + 15) / 16;
  float *bp = aligned_alloc(64, (size_t)(panels * k * 16) * 4 + 64);
  float *c = aligned_alloc(64, (size_t)n * 4 + 64);
  for (int64_t i = 0; i < k; ++i)
    a[i] = 0.01f;
  for (int64_t i = 0; i < panels * k * 16; ++i)
    bp[i] = 0.001f;
  enum { RUNS = 21 };
  double t[RUNS];
  for (int r = 0; r < RUNS; ++r) {
    double s = now();
    kiln_sgemm_packed_run(isa, 0, 1, n, k, a, k, 1, bp, c, n);
    t[r] = now() - s;
  }
  qsort(t, RUNS, sizeof t[0], cmp);
  double gbs = (double)n * k * 4 / t[RUNS / 2] / 1e9;
  printf("| decode gemv, %lld MiB weights | 1x%lldx%lld | %s | %d | %.1f GB/s | %.0f%% of read bandwidth |\n",
         (long long)(n * k * 4 >> 20), (long long)n, (long long)k,
         isa == KILN_ISA_AVX512 ? "avx512" : "avx2", threads, gbs, 100.0 * gbs / bw);
  free(a);
  free(bp);
  free(c);
}

static void bench(const char *name, int64_t m, int64_t n, int64_t k, int isa,
                  double peak, int threads) {
  float *a = aligned_alloc(64, (size_t)(m * k) * 4 + 64);
  float *b = aligned_alloc(64, (size_t)(k * n) * 4 + 64);
  int64_t panels = (n + 15) / 16;
  float *bp = aligned_alloc(64, (size_t)(panels * k * 16) * 4 + 64);
  float *c = aligned_alloc(64, (size_t)(m * n) * 4 + 64);
  for (int64_t i = 0; i < m * k; ++i)
    a[i] = (float)((i * 7) % 13) * 0.01f;
  for (int64_t i = 0; i < k * n; ++i)
    b[i] = (float)((i * 5) % 11) * 0.01f;
  kiln_sgemm_pack_b(k, n, b, n, 1, bp);
  enum { RUNS = 21 };
  double t[RUNS];
  kiln_sgemm_packed_run(isa, 0, m, n, k, a, k, 1, bp, c, n);
  for (int r = 0; r < RUNS; ++r) {
    double s = now();
    kiln_sgemm_packed_run(isa, 0, m, n, k, a, k, 1, bp, c, n);
    t[r] = now() - s;
  }
  qsort(t, RUNS, sizeof t[0], cmp);
  double gf = 2.0 * m * n * k / t[RUNS / 2] / 1e9;
  printf("| %s | %lldx%lldx%lld | %s | %d | %.1f | %.0f%% |\n", name,
         (long long)m, (long long)n, (long long)k,
         isa == KILN_ISA_AVX512 ? "avx512" : "avx2", threads, gf,
         100.0 * gf / (peak * threads));
  free(a);
  free(b);
  free(bp);
  free(c);
}

void kiln_ukernel_conv2d_f32(const int64_t *desc, const float *fparams);

/* The low-precision GEMMs: bf16 (--precision bf16: weights pre-packed in
 * bf16 k-pair panels, activations rounded to bf16 per call, fp32
 * accumulation) and int8 (--quantize int8: s8 weights quantized and packed
 * ahead, u8 activations quantized per row per call, int32 accumulation). */
/* KILN_BENCH_COLD=1: each conv and low-precision GEMM run starts with its
 * filter or packed weights out of cache
 * (a model reads each layer's weights from memory once per run: 9.4 MB for
 * a ResNet-18 layer-4 3 x 3) and its input in cache. */
static int cold_weights;
static void evict_caches(void) {
  enum { EVICT = 96 << 20 };
  static char *buf;
  if (!buf)
    buf = malloc(EVICT);
  if (buf)
    memset(buf, (int)(now() * 1e3) & 0x7f, EVICT);
}

static void bench_lowp(const char *name, int int8, int isa, int64_t m,
                       int64_t n, int64_t k, double peak, int threads) {
  float *a = aligned_alloc(64, (size_t)(m * k) * 4 + 64);
  float *c = aligned_alloc(64, (size_t)(m * n) * 4 + 64);
  float *w = aligned_alloc(64, (size_t)(k * n) * 4 + 64);
  int64_t kq = (k + 1) / 2, panels = (n + 15) / 16;
  size_t bytes = int8 ? kiln_s8_packed_bytes(k, n) : (size_t)(panels * kq * 32) * 2;
  void *bp = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
  for (int64_t i = 0; i < m * k; ++i)
    a[i] = (float)((i * 7) % 13) * 0.01f;
  for (int64_t i = 0; i < k * n; ++i)
    w[i] = (float)((i * 5) % 11) * 0.01f - 0.05f;
  if (int8)
    kiln_s8_pack_weights(k, n, w, n, 1, kiln_s8_weight_qmax(isa), bp);
  else
    for (int64_t i = 0; i < panels * kq * 32; ++i)
      ((uint16_t *)bp)[i] = kiln_f32_to_bf16(w[i % (k * n)]);
  enum { RUNS = 21 };
  double t[RUNS];
  for (int r = -1; r < RUNS; ++r) {
    if (cold_weights) {
      evict_caches();
      volatile float sink = 0;
      for (int64_t i = 0; i < m * k; i += 16)
        sink += a[i];
    }
    double st = now();
    if (int8)
      kiln_qgemm_run(isa, 0, m, n, k, a, k, 1, bp, c, n, NULL);
    else
      kiln_sbgemm_run(KILN_ISA_AVX512, 0, m, n, k, a, k, 1, bp, c, n, NULL);
    if (r >= 0)
      t[r] = now() - st;
  }
  qsort(t, RUNS, sizeof t[0], cmp);
  double gf = 2.0 * m * n * k / t[RUNS / 2] / 1e9;
  printf("| %s | %lldx%lldx%lld | %s | %d | %.1f | %.0f%% of fp32 peak |\n",
         name, (long long)m, (long long)n, (long long)k,
         !int8 ? (cold_weights ? "bf16 (avx512-bf16), cold weights" : "bf16 (avx512-bf16)")
         : isa == KILN_ISA_AVX512 ? (cold_weights ? "int8 (avx512-vnni), cold weights" : "int8 (avx512-vnni)")
                                  : "int8 (avx2)",
         threads, gf,
         100.0 * gf / (peak * threads));
  free(a);
  free(c);
  free(w);
  free(bp);
}

/* One ResNet-style 3 x 3 (or stem) convolution through the conv kernel,
 * batch 1, with a bias and ReLU epilogue: GFLOP/s incl. the patch packing
 * (im2col rows) or of the direct kernel on a filter packed as the compiler
 * packs it (direct rows, which also give their largest difference from
 * the im2col kernel's output). */
static void conv_desc(int64_t *desc, int isa, int direct, int64_t s, int64_t pad,
                      int64_t c, int64_t h, int64_t f, int64_t kk, int64_t oh,
                      const float *x, const float *w, const float *b, float *y) {
  int64_t i = 0, k = c * kk * kk, panels = (f + 15) / 16;
  /* the compiler's channel-blocked packing for AVX2 (codegen/cpu/Ukernels.cpp) */
  int c8 = direct && isa == KILN_ISA_AVX2 && c % 8 == 0;
  int64_t head[] = {isa, 1 | (direct ? 4 : 0) | (c8 ? 8 : 0), 1, s, s, pad, pad, 1, 1};
  for (int j = 0; j < 9; ++j)
    desc[i++] = head[j];
  if (direct) {
    desc[i++] = kk;
    desc[i++] = kk;
  }
  int64_t xv[] = {(intptr_t)x, 0, 1, c, h, h, c * h * h, h * h, h, 1};
  for (int j = 0; j < 10; ++j)
    desc[i++] = xv[j];
  if (direct) {
    int64_t wv[] = {(intptr_t)w, 0, panels, k, 16, k * 16, 16, 1};
    for (int j = 0; j < 8; ++j)
      desc[i++] = wv[j];
  } else {
    int64_t wv[] = {(intptr_t)w, 0, f, c, kk, kk, c * kk * kk, kk * kk, kk, 1};
    for (int j = 0; j < 10; ++j)
      desc[i++] = wv[j];
  }
  int64_t bv[] = {(intptr_t)b, 0, f, 1};
  for (int j = 0; j < 4; ++j)
    desc[i++] = bv[j];
  int64_t yv[] = {(intptr_t)y, 0, 1, f, oh, oh, f * oh * oh, oh * oh, oh, 1};
  for (int j = 0; j < 10; ++j)
    desc[i++] = yv[j];
}

static void bench_conv(const char *name, int64_t c, int64_t h, int64_t f,
                       int64_t kk, int64_t s, int isa, int direct, double peak,
                       int threads) {
  /* same padding, none for non-overlapping patches (stride = kernel) */
  int64_t pad = kk == s ? 0 : kk / 2, oh = (h + 2 * pad - kk) / s + 1, k = c * kk * kk;
  int64_t panels = (f + 15) / 16;
  float *x = aligned_alloc(64, (size_t)(c * h * h) * 4 + 64);
  float *w = aligned_alloc(64, (size_t)(f * k) * 4 + 64);
  float *wp = aligned_alloc(64, (size_t)(panels * k * 16) * 4 + 64);
  float *b = aligned_alloc(64, (size_t)f * 4 + 64);
  float *y = aligned_alloc(64, (size_t)(f * oh * oh) * 4 + 64);
  float *ref = aligned_alloc(64, (size_t)(f * oh * oh) * 4 + 64);
  for (int64_t i = 0; i < c * h * h; ++i)
    x[i] = (float)((i * 7) % 13) * 0.01f - 0.05f;
  for (int64_t i = 0; i < f * k; ++i)
    w[i] = (float)((i * 5) % 11) * 0.01f - 0.05f;
  for (int64_t i = 0; i < f; ++i)
    b[i] = 0.1f;
  /* the compiler's panel layout; K in (c / 8, kh, kw, c % 8) order where
   * conv_desc blocks channels */
  int c8 = isa == KILN_ISA_AVX2 && c % 8 == 0;
  for (int64_t p = 0; p < panels; ++p)
    for (int64_t kk2 = 0; kk2 < k; ++kk2) {
      int64_t ci = kk2 / (kk * kk), t = kk2 % (kk * kk);
      int64_t to = c8 ? ((ci / 8) * kk * kk + t) * 8 + ci % 8 : kk2;
      for (int64_t j = 0; j < 16; ++j)
        wp[(p * k + to) * 16 + j] = p * 16 + j < f ? w[(p * 16 + j) * k + kk2] : 0.0f;
    }
  int64_t desc[64];
  conv_desc(desc, isa, direct, s, pad, c, h, f, kk, oh, x, direct ? wp : w, b, y);
  enum { RUNS = 21 };
  double t[RUNS];
  kiln_ukernel_conv2d_f32(desc, NULL);
  for (int r = 0; r < RUNS; ++r) {
    if (cold_weights) { /* as in a model: the filter from memory, x warm */
      evict_caches();
      volatile float sink = 0;
      for (int64_t i = 0; i < c * h * h; i += 16)
        sink += x[i];
    }
    double st = now();
    kiln_ukernel_conv2d_f32(desc, NULL);
    t[r] = now() - st;
  }
  qsort(t, RUNS, sizeof t[0], cmp);
  double gf = 2.0 * f * oh * oh * c * kk * kk / t[RUNS / 2] / 1e9;
  char diff[64] = "";
  if (direct) {
    int64_t rd[64];
    conv_desc(rd, isa, 0, s, pad, c, h, f, kk, oh, x, w, b, ref);
    kiln_ukernel_conv2d_f32(rd, NULL);
    double md = 0;
    for (int64_t i = 0; i < f * oh * oh; ++i) {
      double dd = y[i] - ref[i];
      md = dd < 0 ? (-dd > md ? -dd : md) : (dd > md ? dd : md);
    }
    snprintf(diff, sizeof diff, " (max diff %.1e)", md);
  }
  printf("| %s | %lldx%lldx%lld -> %lld, %lldx%lld/%lld | %s | %d | %.1f | %.0f%%%s |\n",
         name, (long long)c, (long long)h, (long long)h, (long long)f, (long long)kk,
         (long long)kk, (long long)s,
         isa == KILN_ISA_AVX512
             ? (direct ? (cold_weights ? "avx512 direct, cold filter" : "avx512 direct")
                       : "avx512 im2col")
             : (direct ? "avx2 direct" : "avx2 im2col"),
         threads, gf, 100.0 * gf / (peak * threads), diff);
  free(x);
  free(w);
  free(wp);
  free(b);
  free(y);
  free(ref);
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  const char *only = argc > 2 ? argv[2] : NULL; /* shape-name filter */
  cold_weights = getenv("KILN_BENCH_COLD") && atoi(getenv("KILN_BENCH_COLD"));
  kiln_pool_start(threads);
  top_isa = __builtin_cpu_supports("avx512f") ? KILN_ISA_AVX512 : KILN_ISA_AVX2;
  double peak = fma_peak();
  printf("fp32 FMA peak, one core: %.1f GFLOP/s\n", peak);
  printf("| shape | M x N x K | kernel | threads | GFLOP/s | of peak |\n");
  printf("|---|---|---|---|---|---|\n");
  const struct { const char *name; int64_t m, n, k; } shapes[] = {
      {"square", 1024, 1024, 1024},
      {"bert-base qkv/out", 128, 768, 768},
      {"bert-base ffn1", 128, 3072, 768},
      {"bert-base ffn2", 128, 768, 3072},
      {"bert-base ffn1 b8", 1024, 3072, 768},
      {"bert-base ffn2 b8", 1024, 768, 3072},
      {"hidden-256 qkv, 197 tokens", 197, 768, 256},
      {"hidden-256 ffn1, 197 tokens", 197, 1024, 256},
      {"hidden-256 ffn2, 197 tokens", 197, 256, 1024},
      {"attention Q.K^T, 197 tokens, head 64", 197, 197, 64},
      {"attention P.V, 197 tokens, head 64", 197, 64, 197},
      {"attention Q.K^T, 128 tokens, head 64", 128, 128, 64},
      {"attention P.V, 128 tokens, head 64", 128, 64, 128},
      {"decode gemv", 1, 3072, 768},
      {"classifier b8 1024->1000", 8, 1000, 1024},
      {"classifier b1 1024->1000", 1, 1000, 1024},
  };
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; ++i)
    for (int isa = top_isa;
         isa >= KILN_ISA_AVX2 && (!only || strstr(shapes[i].name, only)); --isa)
      bench(shapes[i].name, shapes[i].m, shapes[i].n, shapes[i].k, isa, peak,
            threads);
  const struct { const char *name; int64_t c, h, f, k, s; } convs[] = {
      {"resnet18 stem", 3, 224, 64, 7, 2},
      {"resnet18 layer1 3x3", 64, 56, 64, 3, 1},
      {"resnet18 layer2 3x3", 128, 28, 128, 3, 1},
      {"resnet18 layer3 3x3", 256, 14, 256, 3, 1},
      {"resnet18 layer4 3x3", 512, 7, 512, 3, 1},
      {"resnet18 layer2 3x3/2", 64, 56, 128, 3, 2},
      {"resnet18 layer2 1x1/2", 64, 56, 128, 1, 2},
      {"resnet18 layer4 1x1/2", 256, 14, 512, 1, 2},
      {"resnet50 1x1 64->256", 64, 56, 256, 1, 1},
      {"resnet50 1x1 256->64", 256, 56, 64, 1, 1},
      {"resnet50 layer2 3x3/2", 128, 56, 128, 3, 2},
      {"resnet50 layer3 3x3/2", 256, 28, 256, 3, 2},
      {"resnet50 layer4 3x3/2", 512, 14, 512, 3, 2},
      {"resnet50 1x1 64->64", 64, 56, 64, 1, 1},
      {"resnet50 1x1 256->128", 256, 56, 128, 1, 1},
      {"resnet50 1x1 512->128", 512, 28, 128, 1, 1},
      {"resnet50 1x1 128->512", 128, 28, 512, 1, 1},
      {"resnet50 1x1 256->1024", 256, 14, 1024, 1, 1},
      {"resnet50 1x1 1024->256", 1024, 14, 256, 1, 1},
      {"resnet50 1x1 1024->512", 1024, 14, 512, 1, 1},
      {"resnet50 1x1 2048->512", 2048, 7, 512, 1, 1},
      {"resnet50 layer2 1x1/2", 256, 56, 512, 1, 2},
      {"resnet50 layer3 1x1/2", 512, 28, 1024, 1, 2},
      {"resnet50 layer4 1x1/2", 1024, 14, 2048, 1, 2},
      {"mobilenet 1x1 16->72", 16, 56, 72, 1, 1},
      {"mobilenet 1x1 96->576", 96, 7, 576, 1, 1},
      {"mobilenet 1x1 576->96", 576, 7, 96, 1, 1},
      {"mobilenet 1x1 240->40", 240, 14, 40, 1, 1},
      {"mobilenet 1x1 96->40", 96, 14, 40, 1, 1},
      {"mobilenet 1x1 144->48", 144, 14, 48, 1, 1},
      {"mobilenet stem 3x3/2", 3, 224, 16, 3, 2},
      {"alexnet stem 11x11/4", 3, 224, 64, 11, 4},
      {"swin patch 4x4/4", 3, 224, 96, 4, 4},
      {"vit patch 16x16/16", 3, 224, 768, 16, 16},
  };
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; ++i)
    if (strstr(shapes[i].name, "bert-base") && (!only || strstr(shapes[i].name, only)))
      for (int int8 = 0; int8 <= 1; ++int8) {
        if (top_isa == KILN_ISA_AVX512 &&
            (int8 ? __builtin_cpu_supports("avx512vnni") : __builtin_cpu_supports("avx512bf16")))
          bench_lowp(shapes[i].name, int8, KILN_ISA_AVX512, shapes[i].m,
                     shapes[i].n, shapes[i].k, peak, threads);
        if (int8) /* the AVX2 tile (x86-64-v3, or AVX-512 without VNNI) */
          bench_lowp(shapes[i].name, int8, KILN_ISA_AVX2, shapes[i].m,
                     shapes[i].n, shapes[i].k, peak, threads);
      }
  for (size_t i = 0; i < sizeof convs / sizeof convs[0]; ++i)
    for (int v = 0; v < 4 && (!only || strstr(convs[i].name, only)); ++v)
      if (v >= 2 || top_isa == KILN_ISA_AVX512) /* direct, im2col per ISA */
        bench_conv(convs[i].name, convs[i].c, convs[i].h, convs[i].f,
                   convs[i].k, convs[i].s, v < 2 ? KILN_ISA_AVX512 : KILN_ISA_AVX2,
                   v % 2 == 0, peak, threads);
  /* the filter "bandwidth" matches no shape: the read bandwidth and the
   * decode GEMVs only */
  if (only && strcmp(only, "bandwidth") != 0)
    return 0;
  double bw = read_bandwidth();
  printf("\nmemory read bandwidth, %d thread%s: %.1f GB/s\n", threads,
         threads > 1 ? "s" : "", bw);
  /* K = 8192, and K = 1024 (a decode step's layers at hidden 1024) */
  for (int isa = top_isa; isa >= KILN_ISA_AVX2; --isa) {
    bench_gemv(16384, 8192, isa, bw, threads);
    bench_gemv(131072, 1024, isa, bw, threads);
  }
  return 0;
}
