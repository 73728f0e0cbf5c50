/*===- gemm_tile_avx2_impl.h - the AVX2 + FMA GEMM tile, per B type ------===*
 *
 * A register tile of up to 6 rows x 16 columns (one panel): 12 ymm
 * accumulators, two panel loads and one broadcast per row at each k step.
 * Included by gemm_f32_avx2.c (fp32 panels) and gemm_f16_avx2.c (fp16
 * panels, widened in registers) with
 *   TILE_B      the panels' element type,
 *   LOAD_B8(p)  8 of them from p as an __m256 of floats,
 *   TILE_FN     the entry point's name.
 *
 *===----------------------------------------------------------------------===*/

#include "gemm_store_avx2.h"

#define MR KILN_SGEMM_MR_AVX2

/* A[i, kk]: packed (lda == 0) or in place (see gemm_f32.h). */
#define A_AT(i, kk) (lda ? ap[(i) * lda + (kk)] : ap[(kk) * mr + (i)])

/* B's row kk is at b0 + kk * ldb (KILN_GEMM_NR: a packed panel). */
static inline __attribute__((always_inline)) void
tile(const int mr, int64_t nc, int64_t k, const float *ap, int64_t lda,
     const TILE_B *b0, int64_t ldb, float *c, int64_t ldc, int accumulate,
     const kiln_epilogue *ep, const kiln_gemm_side *side) {
  __m256 lo[MR], hi[MR];
#pragma GCC unroll 6
  for (int i = 0; i < mr; ++i) {
    lo[i] = _mm256_setzero_ps();
    hi[i] = _mm256_setzero_ps();
  }
  KILN_GEMM_SIDE_BEGIN(side, k);
  for (int64_t kk = 0; kk < k; ++kk) {
    KILN_GEMM_SIDE_STEP(kk);
    const TILE_B *br = b0 + kk * ldb;
    __m256 v0 = LOAD_B8(br);
    __m256 v1 = LOAD_B8(br + 8);
#pragma GCC unroll 6
    for (int i = 0; i < mr; ++i) {
      __m256 av = _mm256_set1_ps(A_AT(i, kk));
      lo[i] = _mm256_fmadd_ps(av, v0, lo[i]);
      hi[i] = _mm256_fmadd_ps(av, v1, hi[i]);
    }
  }
#pragma GCC unroll 6
  for (int i = 0; i < mr; ++i) {
    store8(c + i * ldc, lo[i], nc, accumulate, ep, i, 0);
    store8(c + i * ldc + 8, hi[i], nc - 8, accumulate, ep, i, 8);
  }
  tile_done(c, ldc, mr, nc, 0, ep);
}

#define CASE(R)                                                                \
  case R:                                                                      \
    if (lda == 0)                                                              \
      tile(R, nc, k, ap, 0, b0, KILN_GEMM_NR, c, ldc, accumulate, ep, side);   \
    else                                                                       \
      tile(R, nc, k, ap, lda, b0, KILN_GEMM_NR, c, ldc, accumulate, ep, side); \
    return;

void TILE_FN(int64_t mr, int64_t nc, int64_t k, const float *ap, int64_t lda,
             const TILE_B *b0, const TILE_B *b1, float *c, int64_t ldc,
             int accumulate, const kiln_epilogue *ep,
             const kiln_gemm_side *side) {
  (void)b1;
  switch (mr) {
    CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6)
  default:
    return;
  }
}
