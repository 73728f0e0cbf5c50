/*===- s4gemm_test.c - the int4 weight-only GEMM against references -----===*
 *
 * kiln_s4gemm_run (generic C tile, and AVX512-VNNI where the CPU has it)
 * with groups of 32 and 128 values of k, K not a multiple of the group,
 * M = 1 (decode) to 30, partial panels, and bias + GELU + residual. Two
 * references: the same quantization (int4 weights per column and group,
 * s8 activations per row) in double precision, which the kernels must
 * match to fp32 rounding (1e-5 of the output's largest value); and the
 * unquantized fp32 product, from which int4's own error must stay within
 * 0.1 of the output's largest value on random data. Then the same on
 * weights from an asymmetric 4-bit grid, which the packer must give zero
 * points and reproduce (the exact reference uses them as they are).
 *
 *===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L
#include "kiln/runtime.h"
#include "runtime_internal.h"
#include "ukernels/gemm_s4.h"
#include "ukernel_test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>




/* grid: w holds values of an asymmetric 4-bit grid per column and group
 * ((q - z) * s), which the zero-point layout reproduces: the exact
 * reference takes them as they are. */
static int grid;

static void reference(int exact, int64_t m, int64_t n, int64_t k, int64_t group,
                      const float *a, const float *w, const float *bias,
                      const float *res, double *out) {
  for (int64_t i = 0; i < m; ++i) {
    float amax = 0;
    for (int64_t kk = 0; kk < k; ++kk)
      amax = fabsf(a[i * k + kk]) > amax ? fabsf(a[i * k + kk]) : amax;
    float sa = amax > 0 ? amax / 127.0f : 1.0f;
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t g0 = 0; g0 < k; g0 += group) {
        float wmax = 0;
        for (int64_t kk = g0; kk < g0 + group && kk < k; ++kk)
          wmax = fabsf(w[kk * n + j]) > wmax ? fabsf(w[kk * n + j]) : wmax;
        float sb = wmax / 7.0f;
        for (int64_t kk = g0; kk < g0 + group && kk < k; ++kk) {
          if (!exact) {
            acc += (double)a[i * k + kk] * w[kk * n + j];
            continue;
          }
          float qa = nearbyintf(a[i * k + kk] * (1.0f / sa));
          if (grid) {
            acc += (double)qa * sa * w[kk * n + j];
            continue;
          }
          float qb = sb > 0 ? (float)lrintf(w[kk * n + j] * (1.0f / sb)) : 0;
          acc += (double)qa * qb * sa * sb;
        }
      }
      if (bias)
        acc += bias[j];
      if (res)
        acc = 0.5 * acc * (1 + erf(acc / sqrt(2.0))) + res[i * n + j];
      out[i * n + j] = acc;
    }
  }
}

static const char *isa_name(int isa) {
  return isa == KILN_ISA_AVX512 ? "avx512-vnni" : isa == KILN_ISA_AVX2 ? "avx2" : "generic";
}

static void test_isa(int isa) {
  rng_state = 777; /* the same data for every ISA */
  static const int64_t shapes[][3] = {{1, 16, 64},   {1, 70, 256}, {3, 33, 100},
                                      {13, 16, 128}, {30, 50, 300}, {12, 64, 512},
                                      {9, 24, 256}};
  int cases = 0;
  double worstExact = 0, worstFp32 = 0;
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s)
    for (int group = 32; group <= 128; group *= 4)
      for (int epi = 0; epi <= 1; ++epi) {
        int64_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        float *a = malloc(sizeof(float) * (size_t)(m * k));
        float *w = malloc(sizeof(float) * (size_t)(k * n));
        float *bias = malloc(sizeof(float) * (size_t)n);
        float *res = malloc(sizeof(float) * (size_t)(m * n));
        float *c = malloc(sizeof(float) * (size_t)(m * n));
        double *want = malloc(sizeof(double) * (size_t)(m * n));
        for (int64_t i = 0; i < m * k; ++i)
          a[i] = frand();
        for (int64_t i = 0; i < k * n; ++i)
          w[i] = frand() * 0.1f;
        if (grid) /* per column and group: scale s, zero point z in 0..15 */
          for (int64_t j = 0; j < n; ++j)
            for (int64_t g0 = 0; g0 < k; g0 += group) {
              float sc = 0.01f + 0.005f * (frand() + 1.0f);
              int z = (int)((frand() + 1.0f) * 7.5f);
              z = z < 0 ? 0 : z > 15 ? 15 : z;
              for (int64_t kk = g0; kk < g0 + group && kk < k; ++kk) {
                int q = (int)((frand() + 1.0f) * 8.0f);
                q = q < 0 ? 0 : q > 15 ? 15 : q;
                if (kk == g0) q = 0; /* the grid's ends present, as a */
                if (kk == g0 + 1) q = 15; /* min-max quantizer leaves them */
                w[kk * n + j] = (float)(q - z) * sc;
              }
            }
        int zp = kiln_s4_wants_zero_points(k, n, group, w, n, 1);
        if (zp != grid) {
          printf("FAIL s4gemm %s: zero points %s for m=%lld n=%lld k=%lld group=%d\n",
                 isa_name(isa), zp ? "chosen" : "not chosen", (long long)m,
                 (long long)n, (long long)k, group);
          ++failures;
        }
        for (int64_t i = 0; i < n; ++i)
          bias[i] = frand();
        for (int64_t i = 0; i < m * n; ++i)
          res[i] = frand();
        uint8_t *bp = malloc(kiln_s4_packed_bytes(k, n, group, zp));
        kiln_s4_pack_weights(k, n, group, zp, w, n, 1, bp);
        kiln_epilogue ep = {bias, res, n, KILN_ACT_GELU};
        kiln_s4gemm_run(isa, m, n, k, group, zp, a, k, 1, bp, c, n, epi ? &ep : NULL);
        for (int exact = 1; exact >= 0; --exact) {
          reference(exact, m, n, k, group, a, w, epi ? bias : NULL,
                    epi ? res : NULL, want);
          double e = rel_error(m * n, c, want);
          double limit = exact ? 1e-5 : 0.1;
          if (!(e <= limit)) {
            printf("FAIL s4gemm %s %s%s m=%lld n=%lld k=%lld group=%d epi=%d: error %g\n",
                   isa_name(isa), exact ? "exact" : "fp32", grid ? " zero points" : "",
                   (long long)m,
                   (long long)n, (long long)k, group, epi, e);
            ++failures;
          }
          if (exact)
            worstExact = e > worstExact ? e : worstExact;
          else
            worstFp32 = e > worstFp32 ? e : worstFp32;
        }
        ++cases;
        free(a), free(w), free(bias), free(res), free(c), free(want), free(bp);
      }
  printf("s4gemm %s%s: %d cases, against the same quantization %s, against fp32 %s\n",
         isa_name(isa), grid ? " zero points" : "", cases, worstExact <= 1e-5 ? "<= 1e-5" : "FAILED",
         worstFp32 <= 0.1 ? "<= 0.1" : "FAILED");
}

int main(void) {
  __builtin_cpu_init();
  for (grid = 0; grid <= 1; ++grid) {
    test_isa(KILN_ISA_GENERIC);
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
      test_isa(KILN_ISA_AVX2);
    else
      printf("s4gemm avx2: skipped, this CPU has no AVX2\n");
    if (has_avx512vnni())
      test_isa(KILN_ISA_AVX512);
    else
      printf("s4gemm avx512-vnni: skipped, this CPU has no AVX512-VNNI\n");
  }
  printf(failures ? "s4gemm: %d failures\n" : "s4gemm: ok\n", failures);
  return failures != 0;
}
