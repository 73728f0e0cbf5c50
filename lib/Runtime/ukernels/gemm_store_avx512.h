/*===- gemm_store_avx512.h - the GEMM tiles' store + epilogue, AVX-512 ---===*
 *
 * Shared by the fp32 and bf16 tile kernels (gemm_f32_avx512.c,
 * gemm_bf16_avx512.c): one row of 16 columns of the register tile is
 * (added to C,) given the epilogue (gemm_f32.h) and stored, masked when the
 * row is partial.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_UKERNELS_GEMM_STORE_AVX512_H
#define KILN_UKERNELS_GEMM_STORE_AVX512_H

#include "gemm_f32.h"
#include "vmath_avx512.h"

#include <immintrin.h>

static inline __mmask16 mask_of(int64_t cols) {
  return cols >= 16 ? (__mmask16)0xffff
                    : cols <= 0 ? (__mmask16)0
                                : (__mmask16)((1u << cols) - 1u);
}

/* Row i, columns col..col+15 of the tile: (+ C), then the epilogue. */
static inline __attribute__((always_inline)) void
store_row(float *c, __m512 v, __mmask16 mask, int accumulate,
          const kiln_epilogue *ep, int64_t i, int64_t col) {
  if (!mask)
    return;
  if (accumulate)
    v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, c));
  if (ep) {
    if (ep->bias)
      v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, ep->bias + col));
    if (ep->row_bias)
      v = _mm512_add_ps(v, _mm512_set1_ps(ep->row_bias[i]));
    const float *r = ep->residual ? ep->residual + i * ep->ldr + col : NULL;
    if (r && ep->res_first)
      v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, r));
    v = act16(v, ep->act);
    if (r && !ep->res_first)
      v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, r));
  }
  if (mask == 0xffff)
    _mm512_storeu_ps(c, v);
  else
    _mm512_mask_storeu_ps(c, mask, v);
}

#endif
