/*===- gemm_tile_avx512_impl.h - the AVX-512 GEMM tile, per B type -------===*
 *
 * A register tile of up to 12 rows x 32 columns: 24 zmm accumulators, two
 * panel loads and one broadcast per row at each k step (24 FMAs on 14
 * loads). mr is made a compile-time constant by the switch at the bottom, so
 * the accumulators live in registers. The epilogue (bias, activation,
 * residual) is applied on the registers before the single store. Partial
 * column blocks are written with masked stores (the panels are zero-padded,
 * so their loads are safe). Included by gemm_f32_avx512.c (fp32 panels) and
 * gemm_f16_avx512.c (fp16 panels, widened in registers) with
 *   TILE_B       the panels' element type,
 *   LOAD_B16(p)  16 of them from p as an __m512 of floats,
 *   TILE_FN      the entry point's name,
 *   TILE_PF      optionally, how many panel values ahead of the k loop's
 *                loads to fetch (0: none).
 *
 *===----------------------------------------------------------------------===*/

#include "gemm_f32.h"
#include "vmath_avx512.h"

#include <immintrin.h>

#define MR KILN_SGEMM_MR_AVX512
#ifndef TILE_PF
#define TILE_PF 0
#endif

#include "gemm_store_avx512.h"

/* A[i, kk]: packed k-major (lda == 0: ap[kk * mr + i]) or read in place
 * from rows of stride lda (ap[i * lda + kk]). */
#define A_AT(i, kk) (lda ? ap[(i) * lda + (kk)] : ap[(kk) * mr + (i)])

/* Two panels (nc in (16, 32]). */
static inline __attribute__((always_inline)) void
tile2(const int mr, int64_t nc, int64_t k, const float *ap, int64_t lda,
      const TILE_B *b0, const TILE_B *b1, float *c, int64_t ldc, int accumulate,
      const kiln_epilogue *ep, const kiln_gemm_side *side) {
  __m512 acc0[MR], acc1[MR];
#pragma GCC unroll 12
  for (int i = 0; i < mr; ++i) {
    acc0[i] = _mm512_setzero_ps();
    acc1[i] = _mm512_setzero_ps();
  }
  KILN_GEMM_SIDE_BEGIN(side, k);
  for (int64_t kk = 0; kk < k; ++kk) {
    KILN_GEMM_SIDE_STEP(kk);
    __m512 v0 = LOAD_B16(b0 + kk * KILN_GEMM_NR);
    __m512 v1 = LOAD_B16(b1 + kk * KILN_GEMM_NR);
#if TILE_PF
    _mm_prefetch((const char *)(b0 + kk * KILN_GEMM_NR + TILE_PF), _MM_HINT_T0);
    _mm_prefetch((const char *)(b1 + kk * KILN_GEMM_NR + TILE_PF), _MM_HINT_T0);
#endif
#pragma GCC unroll 12
    for (int i = 0; i < mr; ++i) {
      __m512 av = _mm512_set1_ps(A_AT(i, kk));
      acc0[i] = _mm512_fmadd_ps(av, v0, acc0[i]);
      acc1[i] = _mm512_fmadd_ps(av, v1, acc1[i]);
    }
  }
  __mmask16 m1 = mask_of(nc - 16);
#pragma GCC unroll 12
  for (int i = 0; i < mr; ++i) {
    store_row(c + i * ldc, acc0[i], 0xffff, accumulate, ep, i, 0);
    store_row(c + i * ldc + 16, acc1[i], m1, accumulate, ep, i, 16);
  }
  tile_done(c, ldc, mr, nc, 0, ep);
}

/* One panel (nc in (0, 16]). */
static inline __attribute__((always_inline)) void
tile1(const int mr, int64_t nc, int64_t k, const float *ap, int64_t lda,
      const TILE_B *b0, float *c, int64_t ldc, int accumulate,
      const kiln_epilogue *ep, const kiln_gemm_side *side) {
  __m512 acc[MR];
#pragma GCC unroll 12
  for (int i = 0; i < mr; ++i)
    acc[i] = _mm512_setzero_ps();
  KILN_GEMM_SIDE_BEGIN(side, k);
  for (int64_t kk = 0; kk < k; ++kk) {
    KILN_GEMM_SIDE_STEP(kk);
    __m512 v0 = LOAD_B16(b0 + kk * KILN_GEMM_NR);
#pragma GCC unroll 12
    for (int i = 0; i < mr; ++i)
      acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(A_AT(i, kk)), v0, acc[i]);
  }
  __mmask16 m0 = mask_of(nc);
#pragma GCC unroll 12
  for (int i = 0; i < mr; ++i)
    store_row(c + i * ldc, acc[i], m0, accumulate, ep, i, 0);
  tile_done(c, ldc, mr, nc, 0, ep);
}

/* The lda == 0 / lda != 0 split is made here, outside the k loop. */
#define CASE(R)                                                                \
  case R:                                                                      \
    if (lda == 0) {                                                            \
      if (nc > 16)                                                             \
        tile2(R, nc, k, ap, 0, b0, b1, c, ldc, accumulate, ep, side);          \
      else                                                                     \
        tile1(R, nc, k, ap, 0, b0, c, ldc, accumulate, ep, side);              \
    } else {                                                                   \
      if (nc > 16)                                                             \
        tile2(R, nc, k, ap, lda, b0, b1, c, ldc, accumulate, ep, side);        \
      else                                                                     \
        tile1(R, nc, k, ap, lda, b0, c, ldc, accumulate, ep, side);            \
    }                                                                          \
    return;

void TILE_FN(int64_t mr, int64_t nc, int64_t k, const float *ap, int64_t lda,
             const TILE_B *b0, const TILE_B *b1, float *c, int64_t ldc,
             int accumulate, const kiln_epilogue *ep,
             const kiln_gemm_side *side) {
  switch (mr) {
    CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6)
    CASE(7) CASE(8) CASE(9) CASE(10) CASE(11) CASE(12)
  default:
    return;
  }
}
