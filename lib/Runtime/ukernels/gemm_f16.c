/*===- gemm_f16.c - fp16-weight GEMM: portable tile and entry point -------===*
 *
 * --precision fp16 (pack_f16.h): the fp32 GEMM driver (gemm_f32.c,
 * kiln_hgemm_run) runs the AVX2 (gemm_f16_avx2.c) or AVX-512
 * (gemm_f16_avx512.c) tile, else this plain C one.
 *
 *===----------------------------------------------------------------------===*/

#include "gemm_f32.h"
#include "pack_f16.h"
#include "../runtime_internal.h"

void kiln_hgemm_tile_generic(int64_t mr, int64_t nc, int64_t k,
                             const float *ap, int64_t lda, const uint16_t *b0,
                             const uint16_t *b1, float *c, int64_t ldc,
                             int accumulate, const kiln_epilogue *ep,
                             const kiln_gemm_side *side) {
  kiln_gemm_side_burst(side);
  for (int64_t i = 0; i < mr; ++i)
    for (int64_t j = 0; j < nc; ++j) {
      const uint16_t *b = j < KILN_GEMM_NR ? b0 + j : b1 + (j - KILN_GEMM_NR);
      float s = 0.0f;
      for (int64_t kk = 0; kk < k; ++kk)
        s += (lda ? ap[i * lda + kk] : ap[kk * mr + i]) *
             kiln_f16_to_f32(b[kk * KILN_GEMM_NR]);
      c[i * ldc + j] =
          kiln_epilogue_scalar(accumulate ? c[i * ldc + j] + s : s, ep, i, j);
    }
}

/* Entry point of the generated code for a linalg.matmul whose constant
 * right-hand side kiln-cpu-ukernels packed in fp16 (--precision fp16); the
 * arguments are kiln_ukernel_sgemm_packed's (gemm_f32.c). */
static void hgemm_packed_call(int64_t flags, int64_t m, int64_t n, int64_t k,
                               intptr_t a, int64_t aoff, int64_t lda,
                               int64_t acs, intptr_t bp, int64_t bpoff,
                               intptr_t c, int64_t coff, int64_t ldc) {
  if (!kiln_hgemm_run((int)(flags & 0xff), !(flags & KILN_GEMM_OVERWRITE), m, n,
                      k, (const float *)a + aoff, lda, acs,
                      (const uint16_t *)bp + bpoff, (float *)c + coff, ldc, NULL))
    kiln_rt_fail_oom();
}

/* Profiled entry point (KILN_PROFILE=1, profile.c). */
KILN_PROF_GEMM_ENTRY(kiln_ukernel_hgemm_packed, "gemm-f16", hgemm_packed_call)
