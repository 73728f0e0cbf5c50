/*===- gemm_store_avx2.h - the GEMM tiles' store + epilogue, AVX2 --------===*
 *
 * Shared by the fp32 and int8 AVX2 tile kernels (gemm_f32_avx2.c,
 * gemm_s8_avx2.c): 8 columns of one row of the register tile are (added to
 * C,) given the epilogue (gemm_f32.h) and stored, masked when the row is
 * partial.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_UKERNELS_GEMM_STORE_AVX2_H
#define KILN_UKERNELS_GEMM_STORE_AVX2_H

#include "gemm_f32.h"
#include "vmath_avx2.h"

#include <immintrin.h>

static inline __m256i mask_of(int64_t cols) {
  const int32_t lane[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)cols),
                            _mm256_loadu_si256((const __m256i *)lane));
}

/* Row i, columns col..col+7 of the tile: (+ C), then the epilogue. */
static inline __attribute__((always_inline)) void
store8(float *c, __m256 v, int64_t cols, int accumulate,
       const kiln_epilogue *ep, int64_t i, int64_t col) {
  if (cols <= 0)
    return;
  __m256i m = mask_of(cols);
  int full = cols >= 8;
  if (accumulate)
    v = _mm256_add_ps(v, full ? _mm256_loadu_ps(c) : _mm256_maskload_ps(c, m));
  if (ep) {
    if (ep->bias)
      v = _mm256_add_ps(v, full ? _mm256_loadu_ps(ep->bias + col)
                                : _mm256_maskload_ps(ep->bias + col, m));
    if (ep->row_bias)
      v = _mm256_add_ps(v, _mm256_set1_ps(ep->row_bias[i]));
    const float *r = ep->residual ? ep->residual + i * ep->ldr + col : NULL;
    if (r && ep->res_first)
      v = _mm256_add_ps(v, full ? _mm256_loadu_ps(r) : _mm256_maskload_ps(r, m));
    v = act8(v, ep->act);
    if (r && !ep->res_first)
      v = _mm256_add_ps(v, full ? _mm256_loadu_ps(r) : _mm256_maskload_ps(r, m));
  }
  if (full)
    _mm256_storeu_ps(c, v);
  else
    _mm256_maskstore_ps(c, m, v);
}

#endif
