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
    if (ep->requant) { /* (clip(round(v / s) + z, 0, 255) - z) * s */
      __m256 s = _mm256_set1_ps(ep->requant[0]), z = _mm256_set1_ps(ep->requant[1]);
      __m256 q = _mm256_add_ps(
          _mm256_round_ps(_mm256_div_ps(v, s), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC),
          z);
      q = _mm256_min_ps(_mm256_max_ps(q, _mm256_setzero_ps()), _mm256_set1_ps(255.0f));
      v = _mm256_mul_ps(_mm256_sub_ps(q, z), s);
    }
    if (ep->bias)
      v = _mm256_add_ps(v, full ? _mm256_loadu_ps(ep->bias + col)
                                : _mm256_maskload_ps(ep->bias + col, m));
    if (ep->row_bias)
      v = _mm256_add_ps(v, _mm256_set1_ps(ep->row_bias[i]));
    const float *r = ep->residual ? ep->residual + i * ep->ldr + col : NULL;
    if (r && ep->res_first)
      v = _mm256_add_ps(v, full ? _mm256_loadu_ps(r) : _mm256_maskload_ps(r, m));
    /* ReLU, ReLU6 and HardSwish here; the others, and the residual after
     * them, are act_tile's */
    if (ep->act == KILN_ACT_RELU)
      v = _mm256_max_ps(v, _mm256_setzero_ps());
    else if (ep->act == KILN_ACT_RELU6)
      v = _mm256_min_ps(_mm256_max_ps(v, _mm256_setzero_ps()), _mm256_set1_ps(6.0f));
    else if (ep->act == KILN_ACT_HARDSWISH)
      v = hardswish8(v);
    if (r && !ep->res_first && !kiln_act_deferred(ep->act))
      v = _mm256_add_ps(v, full ? _mm256_loadu_ps(r) : _mm256_maskload_ps(r, m));
  }
  if (full)
    _mm256_storeu_ps(c, v);
  else
    _mm256_maskstore_ps(c, m, v);
}

#define KILN_ACT_TILE_LOOP(ACT)                                                \
  for (int64_t i = 0; i < rows; ++i) {                                         \
    float *ci = c + i * ldc;                                                   \
    const float *r = after ? after + i * ep->ldr : NULL;                       \
    for (int64_t j = 0; j < nc; j += 8) {                                      \
      int full = nc - j >= 8;                                                  \
      __m256i m = mask_of(nc - j);                                             \
      __m256 v = act8_inline(                                                  \
          full ? _mm256_loadu_ps(ci + j) : _mm256_maskload_ps(ci + j, m), ACT); \
      if (r)                                                                   \
        v = _mm256_add_ps(v, full ? _mm256_loadu_ps(r + j)                     \
                                  : _mm256_maskload_ps(r + j, m));             \
      if (full)                                                                \
        _mm256_storeu_ps(ci + j, v);                                           \
      else                                                                     \
        _mm256_maskstore_ps(ci + j, m, v);                                     \
    }                                                                          \
  }                                                                            \
  return;

#include "gemm_act_tile_impl.h"

#endif
