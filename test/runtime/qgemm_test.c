/*===- qgemm_test.c - the int8 GEMM (--quantize int8) against references -===*
 *
 * kiln_qgemm_run (generic C tile, AVX2, and AVX512-VNNI where the CPU has it) on
 * full and partial tiles and panels, k not a multiple of 4, k cut into
 * cache blocks, M = 1, strided A, accumulate and overwrite, bias /
 * activation / residual epilogues, and through the matmul entry point.
 * Two references:
 *  - exact: the same quantization (per-column symmetric weights to
 *    [-kiln_s8_weight_qmax(isa), qmax]: 7 bits for AVX2, 8 otherwise;
 *    per-row asymmetric u8 activations) done here in double precision: the kernels
 *    must match it to fp32 rounding (relative error <= 1e-5 of the output's
 *    largest value);
 *  - fp32: the unquantized product: int8's own error must stay small
 *    (<= 2% of the output's largest value on random data).
 *
 *===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L
#include "kiln/runtime.h"
#include "runtime_internal.h"
#include "ukernels/gemm_s8.h"
#include "ukernel_test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kiln_ukernel_qgemm_packed(int64_t flags, int64_t m, int64_t n, int64_t k,
                               intptr_t a, int64_t aoff, int64_t lda,
                               int64_t acs, intptr_t bp, int64_t bpoff,
                               intptr_t c, int64_t coff, int64_t ldc);


static double act_ref(double v, int act) {
  switch (act) {
  case KILN_ACT_RELU: return v > 0 ? v : 0;
  case KILN_ACT_GELU: return 0.5 * v * (1 + erf(v / sqrt(2.0)));
  default: return v;
  }
}


/* y = act(quantized(A) quantized(W) + bias) + residual in double, W to
 * [-qmax, qmax]; with exact == 0 the unquantized product. */
static void reference(int exact, int64_t qmax, int64_t m, int64_t n, int64_t k,
                      const float *a, int64_t lda, int64_t acs, const float *w,
                      const float *bias, const float *res, int act,
                      const float *c0, double *out) {
  double *sb = calloc((size_t)n, sizeof(double));
  int32_t *qb = calloc((size_t)(n * k), sizeof(int32_t));
  for (int64_t j = 0; j < n; ++j) {
    float amax = 0;
    for (int64_t kk = 0; kk < k; ++kk)
      amax = fabsf(w[kk * n + j]) > amax ? fabsf(w[kk * n + j]) : amax;
    float s = amax / (float)qmax;
    sb[j] = s;
    for (int64_t kk = 0; kk < k; ++kk)
      qb[kk * n + j] = s > 0 ? (int32_t)lrintf(w[kk * n + j] * (1.0f / s)) : 0;
  }
  for (int64_t i = 0; i < m; ++i) {
    float lo = 0, hi = 0;
    for (int64_t kk = 0; kk < k; ++kk) {
      float v = a[i * lda + kk * acs];
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
    }
    float s = (hi - lo) / 255.0f, zf = 0;
    if (!(s > 0))
      s = 1;
    else
      zf = nearbyintf(-lo / s);
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t kk = 0; kk < k; ++kk) {
        float x = a[i * lda + kk * acs];
        if (exact) {
          float q = nearbyintf(x * (1.0f / s)) + zf;
          q = q < 0 ? 0 : q > 255 ? 255 : q;
          acc += (double)s * (q - zf) * sb[j] * qb[kk * n + j];
        } else {
          acc += (double)x * w[kk * n + j];
        }
      }
      if (c0)
        acc += c0[i * n + j];
      if (bias)
        acc += bias[j];
      acc = act_ref(acc, act);
      if (res)
        acc += res[i * n + j];
      out[i * n + j] = acc;
    }
  }
  free(sb);
  free(qb);
}

static const char *isa_name(int isa) {
  return isa == KILN_ISA_AVX512 ? "avx512-vnni" : isa == KILN_ISA_AVX2 ? "avx2" : "generic";
}

/* test_isa's cases that took the AMX tile */
static int amx_cases;

static void test_isa(int isa) {
  static const int64_t shapes[][3] = {
      {1, 1, 1},    {1, 16, 4},   {12, 32, 64},  {13, 33, 65},
      {5, 70, 3},   {24, 64, 384}, {30, 50, 1001}, {1, 768, 768},
      {4, 40, 900}, {128, 96, 256}, {97, 40, 100}, {200, 72, 130},
      /* k a multiple of 64 from 8 rows: the AMX tile where the CPU has it
       * (a 16 + 1 row block, one and two panels; split by rows: 150 rows
       * per thread in blocks of 30 = 16 + 14; k of 3072 in one block) */
      {33, 48, 128}, {300, 40, 192}, {64, 80, 3072}};
  int cases = 0, amx = 0;
  double worstExact = 0, worstFp32 = 0;
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s)
    for (int variant = 0; variant < 4; ++variant) {
      int64_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
      /* variant 0: plain; 1: bias + GELU + residual; 2: accumulate into C
       * with ReLU and bias; 3: A with column stride 2 */
      int64_t acs = variant == 3 ? 2 : 1, lda = k * acs + 3;
      float *a = malloc(sizeof(float) * (size_t)(m * lda + 1));
      float *w = malloc(sizeof(float) * (size_t)(k * n));
      float *bias = malloc(sizeof(float) * (size_t)n);
      float *res = malloc(sizeof(float) * (size_t)(m * n));
      float *c = malloc(sizeof(float) * (size_t)(m * n));
      float *c0 = malloc(sizeof(float) * (size_t)(m * n));
      double *want = malloc(sizeof(double) * (size_t)(m * n));
      for (int64_t i = 0; i < m * lda + 1; ++i)
        a[i] = frand() + (variant == 1 ? 0.5f : 0.0f); /* an offset range */
      for (int64_t i = 0; i < k * n; ++i)
        w[i] = frand() * 0.1f;
      for (int64_t i = 0; i < n; ++i)
        bias[i] = frand();
      for (int64_t i = 0; i < m * n; ++i) {
        res[i] = frand();
        c0[i] = frand();
        c[i] = c0[i];
      }
      int8_t *bp = malloc(kiln_s8_packed_bytes(k, n));
      kiln_s8_pack_weights(k, n, w, n, 1, kiln_s8_weight_qmax(isa), bp);
      kiln_epilogue ep = {variant == 1 || variant == 2 ? bias : NULL,
                          variant == 1 ? res : NULL, n,
                          variant == 1 ? KILN_ACT_GELU
                                       : variant == 2 ? KILN_ACT_RELU
                                                      : KILN_ACT_NONE};
      int accumulate = variant == 2;
      if (variant == 0)
        kiln_ukernel_qgemm_packed(isa | KILN_GEMM_OVERWRITE, m, n, k,
                                  (intptr_t)a, 0, lda, acs, (intptr_t)bp, 0,
                                  (intptr_t)c, 0, n);
      else
        kiln_qgemm_run(isa, accumulate, m, n, k, a, lda, acs, bp, c, n, &ep);
      for (int exact = 1; exact >= 0; --exact) {
        reference(exact, kiln_s8_weight_qmax(isa), m, n, k, a, lda, acs, w, ep.bias, ep.residual, ep.act,
                  accumulate ? c0 : NULL, want);
        double e = rel_error(m * n, c, want);
        double limit = exact ? 1e-5 : 2e-2;
        if (!(e <= limit)) {
          printf("FAIL qgemm %s %s m=%lld n=%lld k=%lld variant=%d: error %g\n",
                 isa_name(isa), exact ? "exact" : "fp32", (long long)m,
                 (long long)n, (long long)k, variant, e);
          ++failures;
        }
        if (exact)
          worstExact = e > worstExact ? e : worstExact;
        else
          worstFp32 = e > worstFp32 ? e : worstFp32;
      }
      ++cases;
      amx += isa == KILN_ISA_AVX512 && kiln_cpu_has_amx_int8() && k % 64 == 0 &&
             m >= KILN_QGEMM_AMX_MIN_M && acs == 1;
      free(a), free(w), free(bias), free(res), free(c), free(c0), free(want);
      free(bp);
    }
  printf("qgemm %s: %d cases, against the same quantization %s, against fp32 "
         "%s\n",
         isa_name(isa), cases, worstExact <= 1e-5 ? "<= 1e-5" : "FAILED",
         worstFp32 <= 2e-2 ? "<= 2e-2" : "FAILED");
  amx_cases += amx;
}

/* One case of the reference checks below: a failure named, the worst
 * error and the count kept. */
static void check_case(const char *what, int isa, int64_t m, int64_t n,
                       int64_t k, double e, double limit, double *worst,
                       int *cases) {
  if (!(e <= limit)) {
    printf("FAIL qgemm %s %s m=%lld n=%lld k=%lld: error %g\n", what,
           isa_name(isa), (long long)m, (long long)n, (long long)k, e);
    ++failures;
  }
  *worst = e > *worst ? e : *worst;
  ++*cases;
}

/* Models that arrive quantized: given int8 weights with one scale (or one
 * per column) packed by kiln_s8_pack_quantized, A quantized per tensor
 * with division, as DynamicQuantizeLinear does; against the same
 * arithmetic in double precision. */
static void test_per_tensor(int isa) {
  static const int64_t shapes[][3] = {{1, 16, 4}, {13, 33, 65}, {30, 50, 1001}, {128, 96, 256}};
  int cases = 0;
  double worst = 0;
  for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; ++sh)
    for (int percol = 0; percol <= 1; ++percol) {
      int64_t m = shapes[sh][0], n = shapes[sh][1], k = shapes[sh][2];
      float *a = malloc(sizeof(float) * (size_t)(m * k));
      int8_t *wq = malloc((size_t)(k * n));
      float *scale = malloc(sizeof(float) * (size_t)n);
      float *c = malloc(sizeof(float) * (size_t)(m * n));
      double *want = malloc(sizeof(double) * (size_t)(m * n));
      for (int64_t i = 0; i < m * k; ++i)
        a[i] = frand() * (1 + (float)(i % 7)) + 0.3f;
      for (int64_t i = 0; i < k * n; ++i)
        wq[i] = (int8_t)((int)(frand() * 128.0f) - (i % 2));
      for (int64_t j = 0; j < n; ++j)
        scale[j] = 0.01f + 0.001f * (float)(j % 5);
      int8_t *bp = malloc(kiln_s8_packed_bytes(k, n));
      kiln_s8_pack_quantized(k, n, wq, scale, percol ? n : 1, bp);
      kiln_qgemm_run_mode(isa, 0, 1, NULL, m, n, k, a, k, 1, bp, c, n, NULL);
      float lo = 0, hi = 0;
      for (int64_t i = 0; i < m * k; ++i) {
        lo = a[i] < lo ? a[i] : lo;
        hi = a[i] > hi ? a[i] : hi;
      }
      float s = (hi - lo) / 255.0f, zf = nearbyintf(-lo / s);
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          double acc = 0;
          for (int64_t kk = 0; kk < k; ++kk) {
            float q = nearbyintf(a[i * k + kk] / s) + zf;
            q = q < 0 ? 0 : q > 255 ? 255 : q;
            acc += (q - zf) * (double)wq[kk * n + j];
          }
          want[i * n + j] = acc * s * scale[percol ? j : 0];
        }
      check_case(percol ? "per-tensor (per-column weights)" : "per-tensor", isa, m,
                 n, k, rel_error(m * n, c, want), 1e-5, &worst, &cases);
      free(a), free(wq), free(scale), free(c), free(want), free(bp);
    }
  printf("qgemm per-tensor %s: %d cases, against the same quantization %s\n",
         isa_name(isa), cases, worst <= 1e-5 ? "<= 1e-5" : "FAILED");
}

/* A QDQ model's matmul with its output pair (kiln_epilogue.requant):
 * given int8 weights per column, A quantized with a given scale and zero
 * point, then (clip(round(v / sy) + zy, 0, 255) - zy) * sy on the scaled
 * int32 sums, then the bias, ReLU and the residual; against the same
 * float operations done here (the sums exact, one scale product), so any
 * value rounded across a step of sy fails (1e-6 of the largest value). */
static void test_requant(int isa) {
  static const int64_t shapes[][3] = {{5, 20, 100}, {13, 33, 64}, {64, 48, 768}, {40, 70, 1536}};
  int cases = 0;
  double worst = 0;
  for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; ++sh) {
    int64_t m = shapes[sh][0], n = shapes[sh][1], k = shapes[sh][2];
    float *a = malloc(sizeof(float) * (size_t)(m * k));
    int8_t *wq = malloc((size_t)(k * n));
    float *scale = malloc(sizeof(float) * (size_t)n);
    float *bias = malloc(sizeof(float) * (size_t)n);
    float *res = malloc(sizeof(float) * (size_t)(m * n));
    float *c = malloc(sizeof(float) * (size_t)(m * n));
    double *want = malloc(sizeof(double) * (size_t)(m * n));
    for (int64_t i = 0; i < m * k; ++i)
      a[i] = frand() * 2.0f - 0.5f;
    /* x / s past int32: QuantizeLinear saturates it to 255 */
    a[0] = 3e10f;
    a[m * k - 1] = -3e10f;
    for (int64_t i = 0; i < k * n; ++i)
      wq[i] = (int8_t)((int)(frand() * 255.0f) - 127);
    for (int64_t j = 0; j < n; ++j) {
      scale[j] = 0.002f + 0.0003f * (float)(j % 7);
      bias[j] = frand() - 0.5f;
    }
    for (int64_t i = 0; i < m * n; ++i)
      res[i] = frand();
    const float given[2] = {0.011f, 37.0f};
    /* the output's pair: a range of about half the products' */
    const float sy = 0.0007f * sqrtf((float)k), zy = 121.0f;
    float rq[3] = {sy, zy, 1.0f / sy};
    int8_t *bp = malloc(kiln_s8_packed_bytes(k, n));
    kiln_s8_pack_quantized(k, n, wq, scale, n, bp);
    kiln_epilogue ep = {bias, res, n, KILN_ACT_RELU, NULL, 0, rq};
    kiln_qgemm_run_mode(isa, 0, KILN_QGEMM_PER_TENSOR, given, m, n, k, a, k, 1,
                        bp, c, n, &ep);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        int64_t acc = 0;
        for (int64_t kk = 0; kk < k; ++kk) {
          float q = nearbyintf(a[i * k + kk] / given[0]) + given[1];
          q = q < 0 ? 0 : q > 255 ? 255 : q;
          acc += (int64_t)(q - given[1]) * wq[kk * n + j];
        }
        float v = (float)acc * (given[0] * scale[j]);
        v = kiln_requant_scalar(v, rq) + bias[j];
        want[i * n + j] = (v > 0.0f ? v : 0.0f) + res[i * n + j];
      }
    check_case("requant", isa, m, n, k, rel_error(m * n, c, want), 1e-6, &worst,
               &cases);
    free(a), free(wq), free(scale), free(bias), free(res), free(c), free(want);
    free(bp);
  }
  printf("qgemm requant %s: %d cases, against the same operations %s\n",
         isa_name(isa), cases, worst <= 1e-6 ? "<= 1e-6" : "FAILED");
}

/* --quantize int8-static: weights the compiler quantized
 * (kiln_s8_pack_weights at the ISA's qmax, so AVX2 runs its 7-bit tile)
 * and activations quantized per tensor with a given (calibrated) scale and
 * zero point, narrower than A's range so that values clip at 0 and 255. */
static void test_static(int isa) {
  static const int64_t shapes[][3] = {{1, 40, 77}, {13, 33, 64}, {29, 70, 1600}};
  int64_t qmax = kiln_s8_weight_qmax(isa);
  int cases = 0;
  double worst = 0;
  for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; ++sh) {
    int64_t m = shapes[sh][0], n = shapes[sh][1], k = shapes[sh][2];
    float *a = malloc(sizeof(float) * (size_t)(m * k));
    float *w = malloc(sizeof(float) * (size_t)(k * n));
    float *c = malloc(sizeof(float) * (size_t)(m * n));
    double *want = malloc(sizeof(double) * (size_t)(m * n));
    for (int64_t i = 0; i < m * k; ++i)
      a[i] = 3.0f * frand() + 0.5f;
    for (int64_t i = 0; i < k * n; ++i)
      w[i] = frand();
    int8_t *bp = malloc(kiln_s8_packed_bytes(k, n));
    kiln_s8_pack_weights(k, n, w, n, 1, qmax, bp);
    /* the range [-1.5, 2] of A's [-2.5, 3.5] */
    float given[2] = {3.5f / 255.0f, nearbyintf(1.5f / (3.5f / 255.0f))};
    kiln_qgemm_run_mode(isa, 0, KILN_QGEMM_PER_TENSOR | KILN_QGEMM_KILN_WEIGHTS,
                        given, m, n, k, a, k, 1, bp, c, n, NULL);
    for (int64_t j = 0; j < n; ++j) {
      float amax = 0;
      for (int64_t kk = 0; kk < k; ++kk)
        amax = fabsf(w[kk * n + j]) > amax ? fabsf(w[kk * n + j]) : amax;
      float sw = amax / (float)qmax;
      for (int64_t i = 0; i < m; ++i) {
        double acc = 0;
        for (int64_t kk = 0; kk < k; ++kk) {
          float q = nearbyintf(a[i * k + kk] / given[0]) + given[1];
          q = q < 0 ? 0 : q > 255 ? 255 : q;
          acc += (q - given[1]) *
                 (double)lrintf(w[kk * n + j] * (1.0f / sw));
        }
        want[i * n + j] = acc * given[0] * sw;
      }
    }
    check_case("static", isa, m, n, k, rel_error(m * n, c, want), 1e-5, &worst,
               &cases);
    free(a), free(w), free(c), free(want), free(bp);
  }
  printf("qgemm static %s: %d cases, against the same quantization %s\n",
         isa_name(isa), cases, worst <= 1e-5 ? "<= 1e-5" : "FAILED");
}

/* A zero weight column and a row of zeros: scale 0 / scale 1 paths. */
static void test_zeros(void) {
  int64_t m = 3, n = 20, k = 9;
  float a[27] = {0}, w[180], c[60];
  for (int i = 0; i < 180; ++i)
    w[i] = (i % n == 5) ? 0.0f : frand();
  for (int i = 9; i < 27; ++i)
    a[i] = frand();
  int8_t bp[1024];
  if (kiln_s8_packed_bytes(k, n) > sizeof bp) {
    printf("FAIL zeros: packed size\n");
    ++failures;
    return;
  }
  kiln_s8_pack_weights(k, n, w, n, 1, kiln_s8_weight_qmax(KILN_ISA_AVX2), bp);
  for (int isa = 0; isa <= 2; ++isa) {
    kiln_qgemm_run(isa, 0, m, n, k, a, k, 1, bp, c, n, NULL);
    for (int j = 0; j < n; ++j)
      if (c[j] != 0.0f || c[n + 5] != 0.0f || c[2 * n + 5] != 0.0f) {
        printf("FAIL zeros %s: %g\n", isa_name(isa), c[j]);
        ++failures;
        break;
      }
  }
  printf("qgemm zeros: ok\n");
}

int main(void) {
  /* two threads: products of at least 4 tile heights of rows per thread
   * run split by rows (kiln_gemm_run_rows: 97 rows as 48 + 49 in blocks of
   * 10 and 8 / 9 on AVX-512), smaller ones by tiles or on one thread */
  kiln_pool_start(2);
  test_isa(KILN_ISA_GENERIC);
  test_per_tensor(KILN_ISA_GENERIC);
  test_requant(KILN_ISA_GENERIC);
  test_static(KILN_ISA_GENERIC);
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) {
    test_isa(KILN_ISA_AVX2);
    test_per_tensor(KILN_ISA_AVX2);
    test_requant(KILN_ISA_AVX2);
    test_static(KILN_ISA_AVX2);
  } else {
    printf("qgemm avx2: skipped, this CPU has no AVX2\n");
  }
  if (has_avx512vnni()) {
    test_isa(KILN_ISA_AVX512);
    test_per_tensor(KILN_ISA_AVX512);
    test_requant(KILN_ISA_AVX512);
    test_static(KILN_ISA_AVX512);
  } else {
    printf("qgemm avx512-vnni: skipped, this CPU has no AVX512-VNNI\n");
  }
  if (kiln_cpu_has_amx_int8())
    printf("qgemm amx: %d of the avx512 cases on the AMX tile\n", amx_cases);
  else
    printf("qgemm amx: unavailable\n");
  test_zeros();
  printf(failures ? "qgemm: %d failures\n" : "qgemm: ok\n", failures);
  return failures != 0;
}
