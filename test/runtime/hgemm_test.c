/*===- hgemm_test.c - the fp16-weight GEMM (--precision fp16) -------------===*
 *
 * kiln_f32_to_f16 / kiln_f16_to_f32 against the compiler's own fp16
 * (_Float16: GCC's conversion, round to nearest even) on every fp16 value
 * and on fp32 values around every rounding boundary; then kiln_hgemm_run
 * (generic C tile, AVX2 + F16C and AVX-512 where the CPU has them) on full
 * and partial tiles and panels, M = 1 (decode) to 37, K across a cache
 * block, packed and in-place A, accumulate, and a bias + GELU + residual
 * epilogue, against the same fp16 weights multiplied in double precision
 * (1e-5 of the output's largest value), and through the linear_f32 entry
 * point.
 *
 *===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L
#include "kiln/runtime.h"
#include "ukernels/gemm_f32.h"
#include "ukernels/pack_f16.h"
#include "ukernel_ref.h"
#include "ukernel_test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_conversions(void) {
  int bad = 0;
  for (uint32_t h = 0; h < 65536; ++h) {
    _Float16 ref;
    uint16_t hb = (uint16_t)h;
    memcpy(&ref, &hb, 2);
    float f = kiln_f16_to_f32(hb), want = (float)ref;
    if (memcmp(&f, &want, 4) != 0 && !(f != f && want != want))
      ++bad;
    /* back: every fp16 value round-trips (NaNs stay NaN) */
    uint16_t back = kiln_f32_to_f16(f);
    if (back != hb && !(f != f && (back & 0x7c00) == 0x7c00 && (back & 0x3ff)))
      ++bad;
  }
  /* fp32 values near each fp16 value and between neighbours (ties, and one
   * ulp of fp32 either side), both signs, subnormals and overflow */
  uint32_t checked = 0;
  for (uint32_t h = 0; h < 0x7c00; ++h) {
    float lo = kiln_f16_to_f32((uint16_t)h), hi = kiln_f16_to_f32((uint16_t)(h + 1));
    float mid = lo + (hi - lo) / 2; /* exact in fp32 */
    float probes[5] = {mid, nextafterf(mid, 0), nextafterf(mid, INFINITY), lo, hi};
    for (int p = 0; p < 5; ++p)
      for (int s = 0; s < 2; ++s) {
        float x = s ? -probes[p] : probes[p];
        _Float16 ref = (_Float16)x;
        uint16_t rb;
        memcpy(&rb, &ref, 2);
        if (kiln_f32_to_f16(x) != rb)
          ++bad;
        ++checked;
      }
  }
  float big[4] = {65504.0f, 65519.0f, 65520.0f, 1e30f};
  for (int i = 0; i < 4; ++i) {
    _Float16 ref = (_Float16)big[i];
    uint16_t rb;
    memcpy(&rb, &ref, 2);
    if (kiln_f32_to_f16(big[i]) != rb)
      ++bad;
  }
  if (bad) {
    printf("FAIL fp16 conversions: %d mismatches\n", bad);
    ++failures;
  }
  printf("fp16 conversions: 65536 fp16 values and %u rounding probes %s\n",
         checked, bad ? "FAILED" : "ok");
}

static double gelu(double v) { return 0.5 * v * (1 + erf(v / sqrt(2.0))); }

static void test_isa(int isa) {
  static const int64_t shapes[][3] = {
      {1, 16, 64}, {1, 100, 1300}, {4, 48, 33}, {6, 16, 7},   {7, 40, 100},
      {12, 32, 64}, {13, 33, 200}, {25, 70, 1100}, {37, 96, 129}};
  int cases = 0;
  double worst = 0;
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s)
    for (int variant = 0; variant < 3; ++variant) {
      int64_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
      int epi = variant == 1, accumulate = variant == 2;
      int64_t lda = k + (variant == 2 ? 5 : 0);
      float *a = malloc(sizeof(float) * (size_t)(m * lda));
      float *w = malloc(sizeof(float) * (size_t)(k * n));
      float *bias = malloc(sizeof(float) * (size_t)n);
      float *res = malloc(sizeof(float) * (size_t)(m * n));
      float *c = malloc(sizeof(float) * (size_t)(m * n));
      double *want = malloc(sizeof(double) * (size_t)(m * n));
      uint16_t *bp = malloc(sizeof(uint16_t) * (size_t)(((n + 15) / 16) * 16 * k));
      for (int64_t i = 0; i < m * lda; ++i)
        a[i] = frand();
      for (int64_t i = 0; i < k * n; ++i)
        w[i] = frand() * 3.0f;
      for (int64_t j = 0; j < n; ++j)
        bias[j] = frand();
      for (int64_t i = 0; i < m * n; ++i)
        res[i] = c[i] = frand();
      kiln_hgemm_pack_b(k, n, w, n, 1, bp);
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          double acc = accumulate ? c[i * n + j] : 0;
          for (int64_t kk = 0; kk < k; ++kk)
            acc += (double)a[i * lda + kk] *
                   kiln_f16_to_f32(kiln_f32_to_f16(w[kk * n + j]));
          if (epi)
            acc = gelu(acc + bias[j]) + res[i * n + j];
          want[i * n + j] = acc;
        }
      kiln_epilogue ep = {bias, res, n, KILN_ACT_GELU, NULL, 0};
      if (!kiln_hgemm_run(isa, accumulate, m, n, k, a, lda, 1, bp, c, n,
                          epi ? &ep : NULL)) {
        printf("FAIL hgemm: out of memory\n");
        ++failures;
      }
      double e = rel_error(m * n, c, want);
      if (!(e <= 1e-5)) {
        printf("FAIL hgemm %s m=%lld n=%lld k=%lld variant=%d: error %g\n",
               isa_name(isa), (long long)m, (long long)n, (long long)k, variant, e);
        ++failures;
      }
      worst = e > worst ? e : worst;
      ++cases;
      free(a), free(w), free(bias), free(res), free(c), free(want), free(bp);
    }
  printf("hgemm %s: %d cases, against the fp16 weights in double %s\n",
         isa_name(isa), cases, worst <= 1e-5 ? "<= 1e-5" : "FAILED");
}

int main(void) {
  test_conversions();
  int isas[3], count = test_isas(isas);
  for (int i = 0; i < count; ++i)
    test_isa(isas[i]);
  if (!has_avx2())
    printf("hgemm avx2: skipped, this CPU has no AVX2\n");
  if (!has_avx512())
    printf("hgemm avx512: skipped, this CPU has no AVX-512\n");
  printf(failures ? "hgemm: %d failures\n" : "hgemm: ok\n", failures);
  return failures != 0;
}
