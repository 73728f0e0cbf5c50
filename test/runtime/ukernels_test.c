/*===- ukernels_test.c - the runtime's microkernels against references ----===*
 *
 * Every GEMM variant (generic C, AVX2, AVX-512 when the CPU has it) on
 * shapes that hit full tiles, partial row blocks, partial column blocks and
 * panels, k = 1, k cut into cache blocks (k > 512), M = 1 (decode), strided A, accumulate and overwrite, packed
 * and per-call-packed B, batched (the attention kernel is attention_test.c's);
 * layer and RMS norms
 * (rank 2 and 3, padded rows, a large mean); the vector exp against
 * double-precision exp (convolutions: conv_test.c). Prints one line per
 * family with the worst error.
 *
 *===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L
#include "kiln/runtime.h"
#include "runtime_internal.h"
#include "ukernels/gemm_f32.h"
#include "ukernels/softmax_f32.h"
#include "ukernel_test_util.h"
#include "ukernels/gemm_amx.h"
#include "ukernels/gemm_bf16.h"
#include "ukernel_ref.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


void kiln_ukernel_sgemm(int64_t flags, int64_t m, int64_t n, int64_t k,
                        intptr_t a, int64_t aoff, int64_t lda, int64_t acs,
                        intptr_t b, int64_t boff, int64_t ldb, int64_t bcs,
                        intptr_t c, int64_t coff, int64_t ldc);
void kiln_ukernel_sgemm_batched(int64_t flags, int64_t batch, int64_t m,
                                int64_t n, int64_t k, intptr_t a, int64_t aoff,
                                int64_t abs_, int64_t lda, int64_t acs,
                                intptr_t b, int64_t boff, int64_t bbs,
                                int64_t ldb, int64_t bcs, intptr_t c,
                                int64_t coff, int64_t cbs, int64_t ldc);
void kiln_ukernel_norm_f32(const int64_t *desc, const float *fparams);

uint16_t kiln_f32_to_bf16(float f);
static float bf16_round(float f) {
  uint32_t u = (uint32_t)kiln_f32_to_bf16(f) << 16;
  float r;
  memcpy(&r, &u, 4);
  return r;
}
void kiln_ukernel_linear_f32(const int64_t *desc, const float *fparams);


/* kiln.linear through kiln_ukernel_linear_f32: y = act(x W + bias) + res,
 * W raw [K, N], transposed [N, K] or pre-packed. Error relative to
 * 1 + |ref|. */
static double check_linear(int isa, int64_t m, int64_t n, int64_t k, int act,
                           int mode, int bias, int res) {
  float *x = malloc(sizeof(float) * (size_t)(m * k));
  float *w = malloc(sizeof(float) * (size_t)(k * n));
  float *wp = malloc(sizeof(float) * (size_t)(((n + 15) / 16) * 16 * k));
  float *b = malloc(sizeof(float) * (size_t)n);
  float *r = malloc(sizeof(float) * (size_t)(m * n));
  float *y = malloc(sizeof(float) * (size_t)(m * n));
  for (int64_t i = 0; i < m * k; ++i)
    x[i] = 2.0f * frand();
  for (int64_t i = 0; i < k * n; ++i)
    w[i] = frand() / 4; /* mode 1 reads it as [N, K] */
  for (int64_t i = 0; i < n; ++i)
    b[i] = frand();
  for (int64_t i = 0; i < m * n; ++i)
    r[i] = frand();
  int64_t desc[64], *d = desc;
  int64_t kq = (k + 1) / 2, panels = (n + 15) / 16;
  uint16_t *w16 = calloc((size_t)(panels * kq * 32 + 1), sizeof(uint16_t));
  if (mode == 3) {
    /* bf16 k-pair panels (gemm_bf16.c); the reference then sees the
     * bf16-rounded x and W the kernel multiplies */
    for (int64_t kk = 0; kk < k; ++kk)
      for (int64_t j = 0; j < n; ++j)
        w16[((j / 16 * kq + kk / 2) * 16 + j % 16) * 2 + kk % 2] =
            kiln_f32_to_bf16(w[kk * n + j]);
    for (int64_t i = 0; i < k * n; ++i)
      w[i] = bf16_round(w[i]);
  }
  *d++ = isa;
  *d++ = (mode == 1 ? 1 : 0) | (bias ? 2 : 0) | (res ? 4 : 0) | (mode == 2 ? 8 : 0) |
         (mode == 3 ? 16 : 0);
  *d++ = act;
  *d++ = (intptr_t)x; *d++ = 0; *d++ = m; *d++ = k; *d++ = k; *d++ = 1;
  if (mode == 3) {
    *d++ = (intptr_t)w16; *d++ = 0; *d++ = panels; *d++ = kq; *d++ = 32;
    *d++ = kq * 32; *d++ = 32; *d++ = 1;
  } else if (mode == 2) {
    kiln_sgemm_pack_b(k, n, w, n, 1, wp);
    int64_t p = (n + 15) / 16;
    *d++ = (intptr_t)wp; *d++ = 0; *d++ = p; *d++ = k; *d++ = 16;
    *d++ = k * 16; *d++ = 16; *d++ = 1;
  } else if (mode == 1) {
    *d++ = (intptr_t)w; *d++ = 0; *d++ = n; *d++ = k; *d++ = k; *d++ = 1;
  } else {
    *d++ = (intptr_t)w; *d++ = 0; *d++ = k; *d++ = n; *d++ = n; *d++ = 1;
  }
  if (bias) {
    *d++ = (intptr_t)b; *d++ = 0; *d++ = n; *d++ = 1;
  }
  if (res) {
    *d++ = (intptr_t)r; *d++ = 0; *d++ = m; *d++ = n; *d++ = n; *d++ = 1;
  }
  *d++ = (intptr_t)y; *d++ = 0; *d++ = m; *d++ = n; *d++ = n; *d++ = 1;
  kiln_ukernel_linear_f32(desc, NULL);
  if (mode == 3)
    for (int64_t i = 0; i < m * k; ++i)
      x[i] = bf16_round(x[i]);
  double worst = 0;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0, mag = 0;
      for (int64_t kk = 0; kk < k; ++kk) {
        double t = (double)x[i * k + kk] * (mode == 1 ? w[j * k + kk] : w[kk * n + j]);
        acc += t;
        mag += fabs(t);
      }
      if (bias)
        acc += b[j];
      acc = act_ref(acc, act);
      if (res)
        acc += r[i * n + j];
      /* relative to the sum of |terms| or |y|, whichever is larger */
      double scale = 1 + (mag > fabs(acc) ? mag : fabs(acc));
      double e = fabs(y[i * n + j] - acc) / scale;
      worst = e > worst ? e : worst;
    }
  free(x); free(w); free(wp); free(b); free(r); free(y); free(w16);
  return worst;
}

/* Dense layers with bf16 weights (--precision bf16) against the double
 * reference on the same bf16-rounded operands: only fp32 accumulation
 * differs. Odd k (a zero-padded last pair), k cut into blocks, M = 1. */
static void test_linear_bf16(int isa) {
  static const int64_t shapes[][3] = {
      {13, 40, 9}, {128, 96, 64}, {1, 33, 100}, {30, 16, 1}, {40, 50, 1030}, {7, 70, 777},
      /* k a multiple of 32 from 8 rows: the AMX-BF16 tile where the CPU
       * has it (16 + 1 rows, one and two panels, k of 3072 at once) */
      {33, 48, 128}, {300, 40, 192}, {64, 80, 3072},
      /* and from one row (decode steps) */
      {1, 48, 64}, {5, 20, 96}};
  double worst = 0;
  int cases = 0, amx = 0;
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s)
    for (int act = 0; act <= KILN_ACT_HARDSWISH; ++act)
      for (int br = 0; br < 4; ++br) {
        double e = check_linear(isa, shapes[s][0], shapes[s][1], shapes[s][2], act, 3,
                                br & 1, br >> 1);
        ++cases;
        amx += isa == KILN_ISA_AVX512 && kiln_cpu_has_amx_bf16() &&
               shapes[s][2] % 32 == 0 && shapes[s][0] >= KILN_SBGEMM_AMX_MIN_M;
        if (e > 2e-6) {
          printf("FAIL linear bf16 %s m=%lld n=%lld k=%lld act=%d: error %g\n",
                 isa_name(isa), (long long)shapes[s][0], (long long)shapes[s][1],
                 (long long)shapes[s][2], act, e);
          ++failures;
        }
        worst = e > worst ? e : worst;
      }
  printf("linear bf16 %s: %d cases, max error %s\n", isa_name(isa), cases,
         worst <= 2e-6 ? "<= 2e-6" : "TOO LARGE");
  if (isa == KILN_ISA_AVX512)
    printf(kiln_cpu_has_amx_bf16() ? "linear bf16 amx: %d of them on the AMX tile\n"
                                   : "linear bf16 amx: unavailable\n", amx);
}

void kiln_ukernel_sbgemm_packed(int64_t flags, int64_t m, int64_t n, int64_t k,
                                intptr_t a, int64_t aoff, int64_t lda,
                                int64_t acs, intptr_t bp, int64_t bpoff,
                                intptr_t c, int64_t coff, int64_t ldc);

/* A matmul with a bf16-packed constant right-hand side, accumulating into
 * C (no zero fill before it) and overwriting it. */
static void test_sbgemm_packed(int isa) {
  int64_t m = 21, n = 37, k = 901, kq = (k + 1) / 2, panels = (n + 15) / 16;
  float *a = malloc(sizeof(float) * (size_t)(m * k));
  float *b = malloc(sizeof(float) * (size_t)(k * n));
  float *c = malloc(sizeof(float) * (size_t)(m * n));
  float *c0 = malloc(sizeof(float) * (size_t)(m * n));
  uint16_t *bp = calloc((size_t)(panels * kq * 32), sizeof(uint16_t));
  for (int64_t i = 0; i < m * k; ++i)
    a[i] = bf16_round(frand());
  for (int64_t i = 0; i < k * n; ++i)
    b[i] = bf16_round(frand());
  for (int64_t kk = 0; kk < k; ++kk)
    for (int64_t j = 0; j < n; ++j)
      bp[((j / 16 * kq + kk / 2) * 16 + j % 16) * 2 + kk % 2] = kiln_f32_to_bf16(b[kk * n + j]);
  double worst = 0;
  for (int acc = 0; acc < 2; ++acc) {
    for (int64_t i = 0; i < m * n; ++i)
      c[i] = c0[i] = frand();
    kiln_ukernel_sbgemm_packed(isa | (acc ? 0 : KILN_GEMM_OVERWRITE), m, n, k,
                               (intptr_t)a, 0, k, 1, (intptr_t)bp, 0, (intptr_t)c, 0, n);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = acc ? c0[i * n + j] : 0.0, mag = fabs(s);
        for (int64_t kk = 0; kk < k; ++kk) {
          s += (double)a[i * k + kk] * b[kk * n + j];
          mag += fabs((double)a[i * k + kk] * b[kk * n + j]);
        }
        double e = fabs(c[i * n + j] - s) / (1 + mag);
        worst = e > worst ? e : worst;
      }
  }
  if (worst > 2e-6) {
    printf("FAIL sbgemm packed %s: error %g\n", isa_name(isa), worst);
    ++failures;
  }
  printf("sbgemm packed %s: accumulate and overwrite, max error %s\n", isa_name(isa),
         worst <= 2e-6 ? "<= 2e-6" : "TOO LARGE");
  free(a); free(b); free(c); free(c0); free(bp);
}

static void test_linear(int isa) {
  static const int64_t shapes[][3] = {{13, 40, 9}, {128, 96, 64}, {1, 33, 100}, {30, 16, 1}, {40, 50, 1030}};
  double worst = 0;
  int cases = 0;
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s)
    for (int act = 0; act <= KILN_ACT_SILU; ++act)
      for (int mode = 0; mode < 3; ++mode)
        for (int br = 0; br < 4; ++br) {
          double e = check_linear(isa, shapes[s][0], shapes[s][1], shapes[s][2],
                                  act, mode, br & 1, br >> 1);
          ++cases;
          if (e > 2e-6) {
            printf("FAIL linear %s m=%lld n=%lld k=%lld act=%d mode=%d bias=%d "
                   "residual=%d: error %g\n", isa_name(isa),
                   (long long)shapes[s][0], (long long)shapes[s][1],
                   (long long)shapes[s][2], act, mode, br & 1, br >> 1, e);
            ++failures;
          }
          worst = e > worst ? e : worst;
        }
  printf("linear epilogues %s: %d cases, max error %s\n", isa_name(isa), cases,
         worst <= 2e-6 ? "<= 2e-6" : "TOO LARGE");
}

/* Layer norm (or RMS norm) of x [rows, n] (row stride ldx) against double
 * precision, through the kernel's entry point with a rank-2 or rank-3
 * descriptor. */
static double check_norm(int isa, int64_t rows, int64_t n, int64_t ldx,
                         int rms, int bias) {
  float *x = malloc(sizeof(float) * (size_t)(rows * ldx + 1));
  float *y = malloc(sizeof(float) * (size_t)(rows * n + 1));
  float *g = malloc(sizeof(float) * (size_t)n), *b = malloc(sizeof(float) * (size_t)n);
  for (int64_t i = 0; i < rows * ldx; ++i)
    x[i] = 3.0f + 2.0f * frand(); /* a large mean: the two-pass variance */
  for (int64_t i = 0; i < n; ++i) {
    g[i] = 1.0f + frand();
    b[i] = frand();
  }
  /* x as rank 3 [2, rows/2, n] when rows is even, else rank 2 */
  int rank = rows % 2 == 0 ? 3 : 2;
  int64_t desc[64], *d = desc;
  *d++ = isa;
  *d++ = (rms ? 1 : 0) | (bias ? 2 : 0);
  *d++ = rank;
  int64_t *ys = NULL;
  for (int which = 0; which < 2; ++which) {
    float *p = which == 0 ? x : y;
    int64_t ld = which == 0 ? ldx : n;
    *d++ = (intptr_t)p;
    *d++ = 0;
    if (rank == 3) {
      *d++ = 2; *d++ = rows / 2; *d++ = n;
      *d++ = rows / 2 * ld; *d++ = ld; *d++ = 1;
    } else {
      *d++ = rows; *d++ = n;
      *d++ = ld; *d++ = 1;
    }
    if (which == 0) {
      *d++ = (intptr_t)g; *d++ = 0; *d++ = n; *d++ = 1;
      if (bias) {
        *d++ = (intptr_t)b; *d++ = 0; *d++ = n; *d++ = 1;
      }
    }
  }
  (void)ys;
  float eps = 1e-5f;
  kiln_ukernel_norm_f32(desc, &eps);
  double worst = 0;
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0, var = 0;
    if (!rms) {
      for (int64_t c = 0; c < n; ++c)
        mean += x[r * ldx + c];
      mean /= n;
    }
    for (int64_t c = 0; c < n; ++c)
      var += (x[r * ldx + c] - mean) * (x[r * ldx + c] - mean);
    double inv = 1.0 / sqrt(var / n + eps);
    for (int64_t c = 0; c < n; ++c) {
      double ref = (x[r * ldx + c] - mean) * inv * g[c] + (bias ? b[c] : 0.0);
      double e = fabs(y[r * n + c] - ref) / (1 + fabs(ref));
      worst = e > worst ? e : worst;
    }
  }
  free(x);
  free(y);
  free(g);
  free(b);
  return worst;
}

static void test_norm(int isa);


/* C (+)= A B with A [m x k] at stride (lda, acs), B [k x n] at (ldb, bcs). */
static double check_gemm(int isa, int64_t m, int64_t n, int64_t k, int64_t acs,
                         int packed, int accumulate) {
  int64_t lda = acs == 1 ? k + 3 : 1, aspan = acs == 1 ? m * lda : k * acs;
  if (acs != 1)
    lda = 1; /* column-major A: A[i, kk] = a[i + kk * acs] */
  float *a = malloc(sizeof(float) * (size_t)(aspan + m + k + 8));
  float *b = malloc(sizeof(float) * (size_t)(k * n + 1));
  float *c = malloc(sizeof(float) * (size_t)(m * (n + 5) + 1));
  double *ref = malloc(sizeof(double) * (size_t)(m * n + 1));
  double *mag = malloc(sizeof(double) * (size_t)(m * n + 1));
  for (int64_t i = 0; i < aspan + m + k + 8; ++i)
    a[i] = frand();
  for (int64_t i = 0; i < k * n; ++i)
    b[i] = frand();
  int64_t ldc = n + 5;
  for (int64_t i = 0; i < m * ldc; ++i)
    c[i] = frand();
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = accumulate ? c[i * ldc + j] : 0.0, sa = fabs(s);
      for (int64_t kk = 0; kk < k; ++kk) {
        s += (double)a[i * lda + kk * acs] * b[kk * n + j];
        sa += fabs((double)a[i * lda + kk * acs] * b[kk * n + j]);
      }
      ref[i * n + j] = s;
      mag[i * n + j] = sa;
    }
  int64_t flags = isa | (accumulate ? 0 : KILN_GEMM_OVERWRITE);
  if (packed) {
    int64_t panels = (n + 15) / 16;
    float *bp = malloc(sizeof(float) * (size_t)(panels * k * 16 + 1));
    kiln_sgemm_pack_b(k, n, b, n, 1, bp);
    kiln_sgemm_packed_run(isa, accumulate, m, n, k, a, lda, acs, bp, c, ldc);
    free(bp);
  } else {
    kiln_ukernel_sgemm(flags, m, n, k, (intptr_t)a, 0, lda, acs, (intptr_t)b,
                       0, n, 1, (intptr_t)c, 0, ldc);
  }
  double worst = 0;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      /* relative to the sum of |terms| (the rounding bound of a float dot
       * product), so long k is held to the same standard as short k */
      double e = fabs(c[i * ldc + j] - ref[i * n + j]) / (1.0 + mag[i * n + j]);
      worst = e > worst ? e : worst;
    }
  /* the padding columns of C are never written */
  free(a);
  free(b);
  free(c);
  free(ref);
  free(mag);
  return worst;
}


static void test_gemm(int isa) {
  static const int64_t shapes[][3] = {
      {1, 1, 1},    {1, 768, 256}, {12, 32, 64},  {13, 33, 7},  {24, 64, 128},
      {5, 17, 3},   {100, 1000, 30}, {37, 48, 257}, {128, 96, 64}, {2, 15, 9},
      {64, 256, 1}, {7, 16, 16},   {300, 40, 50}, {50, 40, 1100},
      {200, 70, 777}, {1, 20, 2000}};
  double worst = 0;
  int cases = 0;
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s)
    for (int packed = 0; packed < 2; ++packed)
      for (int acc = 0; acc < 2; ++acc)
        for (int strided = 0; strided < 2; ++strided) {
          int64_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
          double e = check_gemm(isa, m, n, k, strided ? m + 2 : 1, packed, acc);
          worst = e > worst ? e : worst;
          ++cases;
          if (e > 1e-5) {
            printf("FAIL gemm %s m=%lld n=%lld k=%lld packed=%d acc=%d "
                   "strided=%d: error %g\n",
                   isa_name(isa), (long long)m, (long long)n, (long long)k,
                   packed, acc, strided, e);
            ++failures;
          }
        }
  printf("gemm %s: %d cases, max error %s\n", isa_name(isa), cases,
         worst < 1e-5 ? "< 1e-5" : "TOO LARGE");
}

static void test_batched(int isa) {
  int64_t batch = 3, m = 9, n = 20, k = 11;
  float *a = malloc(sizeof(float) * (size_t)(batch * m * k));
  float *b = malloc(sizeof(float) * (size_t)(batch * n * k));
  float *c = malloc(sizeof(float) * (size_t)(batch * m * n));
  for (int64_t i = 0; i < batch * m * k; ++i)
    a[i] = frand();
  for (int64_t i = 0; i < batch * n * k; ++i)
    b[i] = frand();
  /* B given transposed ([n, k] per batch): ldb = 1, bcs = k. */
  kiln_ukernel_sgemm_batched(isa | KILN_GEMM_OVERWRITE, batch, m, n, k,
                             (intptr_t)a, 0, m * k, k, 1, (intptr_t)b, 0, n * k,
                             1, k, (intptr_t)c, 0, m * n, n);
  double worst = 0;
  for (int64_t t = 0; t < batch; ++t)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t kk = 0; kk < k; ++kk)
          s += (double)a[t * m * k + i * k + kk] * b[t * n * k + j * k + kk];
        double e = fabs(c[t * m * n + i * n + j] - s) / (1 + fabs(s));
        worst = e > worst ? e : worst;
      }
  if (worst > 1e-5) {
    printf("FAIL batched gemm %s: error %g\n", isa_name(isa), worst);
    ++failures;
  }
  printf("batched gemm %s: max error %s\n", isa_name(isa),
         worst < 1e-5 ? "< 1e-5" : "TOO LARGE");
  free(a);
  free(b);
  free(c);
}

static void test_norm(int isa) {
  static const int64_t cs[][3] = {{128, 768, 768}, {7, 33, 40}, {2, 1, 1},
                                  {300, 256, 260}, {1, 17, 17}};
  double worst = 0;
  int cases = 0;
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; ++i)
    for (int rms = 0; rms < 2; ++rms)
      for (int bias = 0; bias < 2 - rms; ++bias) {
        double e = check_norm(isa, cs[i][0], cs[i][1], cs[i][2], rms, bias);
        ++cases;
        if (e > 1e-5) {
          printf("FAIL norm %s rows=%lld n=%lld rms=%d bias=%d: error %g\n",
                 isa_name(isa), (long long)cs[i][0], (long long)cs[i][1], rms,
                 bias, e);
          ++failures;
        }
        worst = e > worst ? e : worst;
      }
  printf("norm %s: %d cases, max error %s\n", isa_name(isa), cases,
         worst < 1e-5 ? "< 1e-5" : "TOO LARGE");
}

static void test_exp(int isa) {
  double worst = 0;
  enum { N = 100003 };
  static float x[N];
  for (int i = 0; i < N; ++i)
    x[i] = -87.0f + 175.0f * (float)i / (N - 1);
  static float y[N];
  memcpy(y, x, sizeof x);
  if (isa == KILN_ISA_AVX512)
    kiln_exp_avx512(y, N);
  else
    kiln_exp_avx2(y, N);
  for (int i = 0; i < N; ++i) {
    double r = exp((double)x[i]);
    double e = fabs(y[i] - r) / r;
    worst = e > worst ? e : worst;
  }
  float lo[3] = {-100.0f, -INFINITY, -88.0f};
  if (isa == KILN_ISA_AVX512)
    kiln_exp_avx512(lo, 3);
  else
    kiln_exp_avx2(lo, 3);
  if (lo[0] != 0.0f || lo[1] != 0.0f || lo[2] != 0.0f) {
    printf("FAIL exp %s: exp of -100/-inf/-88 is not 0\n", isa_name(isa));
    ++failures;
  }
  if (worst > 1e-6) {
    printf("FAIL exp %s: relative error %g\n", isa_name(isa), worst);
    ++failures;
  }
  printf("exp %s on [-87, 88]: max relative error %s 1e-6 (%.1e)\n",
         isa_name(isa), worst <= 1e-6 ? "<=" : ">", worst);
}

/* GELU (erf form) of the epilogue, swept over [-10, 10] through a k = 1
 * dense layer with weight 1, against double precision: absolute error
 * <= 1.5e-6 (the rational of vmath_gelu.h; scripts/fit_gelu.py). */
static void test_gelu(int isa) {
  enum { N = 20001 };
  static float x[N], y[N];
  float one = 1.0f;
  for (int i = 0; i < N; ++i)
    x[i] = -10.0f + 20.0f * (float)i / (N - 1);
  int64_t desc[32], *d = desc;
  *d++ = isa; *d++ = 0; *d++ = KILN_ACT_GELU;
  *d++ = (intptr_t)x; *d++ = 0; *d++ = N; *d++ = 1; *d++ = 1; *d++ = 1;
  *d++ = (intptr_t)&one; *d++ = 0; *d++ = 1; *d++ = 1; *d++ = 1; *d++ = 1;
  *d++ = (intptr_t)y; *d++ = 0; *d++ = N; *d++ = 1; *d++ = 1; *d++ = 1;
  kiln_ukernel_linear_f32(desc, NULL);
  double worst = 0;
  for (int i = 0; i < N; ++i) {
    double r = act_ref(x[i], KILN_ACT_GELU), e = fabs(y[i] - r);
    worst = e > worst ? e : worst;
  }
  if (worst > 1.5e-6) {
    printf("FAIL gelu %s: absolute error %g\n", isa_name(isa), worst);
    ++failures;
  }
  printf("gelu %s on [-10, 10]: max absolute error %s 1.5e-6 (%.1e)\n",
         isa_name(isa), worst <= 1.5e-6 ? "<=" : ">", worst);
}

/* kiln_sbgemm_pack_b (attention's K^T and V, packed per call; vectorized
 * on AVX512-BF16 CPUs for unit row or column stride) against the panel
 * layout built element by element: the same bits. */
static void test_sbgemm_pack_b(void) {
  const struct { int64_t k, n; } shapes[] = {{64, 128}, {64, 37}, {33, 16},
                                              {7, 5}, {128, 64}, {1, 19}};
  int cases = 0;
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s)
    for (int trans = 0; trans < 6; ++trans) {
      /* trans % 3 == 0: rows contiguous (V), 1: columns contiguous (K^T),
       * 2: neither; trans >= 3: panels of pairs rounded up to 16 past the
       * next multiple (kiln_sbgemm_pack_b_kq, zeros there) */
      int pad = trans >= 3;
      trans %= 3;
      int64_t k = shapes[s].k, n = shapes[s].n;
      int64_t kq = pad ? ((k + 1) / 2 + 16) / 16 * 16 : (k + 1) / 2;
      int64_t panels = (n + 15) / 16, ld = (trans ? k : n) + 3;
      int64_t rs = trans == 0 ? ld : trans == 1 ? 1 : 2 * ld;
      int64_t cs = trans == 0 ? 1 : trans == 1 ? ld : 2;
      size_t len = (size_t)((k - 1) * rs + (n - 1) * cs + 1);
      float *b = malloc(sizeof(float) * len);
      uint16_t *got = malloc(sizeof(uint16_t) * (size_t)(panels * kq * 32));
      uint16_t *want = calloc((size_t)(panels * kq * 32), sizeof(uint16_t));
      for (size_t i = 0; i < len; ++i)
        b[i] = frand();
      for (int64_t kk = 0; kk < k; ++kk)
        for (int64_t j = 0; j < n; ++j)
          want[((j / 16 * kq + kk / 2) * 16 + j % 16) * 2 + kk % 2] =
              kiln_f32_to_bf16(b[kk * rs + j * cs]);
      memset(got, 0xab, sizeof(uint16_t) * (size_t)(panels * kq * 32));
      if (pad)
        kiln_sbgemm_pack_b_kq(k, kq, n, b, rs, cs, got);
      else
        kiln_sbgemm_pack_b(k, n, b, rs, cs, got);
      if (memcmp(got, want, sizeof(uint16_t) * (size_t)(panels * kq * 32))) {
        printf("FAIL sbgemm pack_b k=%lld n=%lld strides %lld %lld\n",
               (long long)k, (long long)n, (long long)rs, (long long)cs);
        ++failures;
      }
      ++cases;
      free(b); free(got); free(want);
      trans += pad ? 3 : 0;
    }
  printf("sbgemm pack_b: %d cases\n", cases);
}

int main(void) {
  kiln_pool_start(2);
  int isas[3], n = test_isas(isas);
  test_sbgemm_pack_b();
  for (int i = 0; i < n; ++i) {
    test_gemm(isas[i]);
    test_batched(isas[i]);
    test_norm(isas[i]);
    test_linear(isas[i]);
    test_linear_bf16(isas[i]);
    test_sbgemm_packed(isas[i]);
    if (isas[i] != KILN_ISA_GENERIC)
      test_exp(isas[i]);
    test_gelu(isas[i]);
  }
  printf("ukernels: %s\n", failures ? "FAILED" : "ok");
  return failures != 0;
}
