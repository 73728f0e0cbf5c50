/*===- gemm_store_avx512.h - the GEMM tiles' store + epilogue, AVX-512 ---===*
 *
 * Shared by the fp32 and bf16 tile kernels (gemm_f32_avx512.c,
 * gemm_bf16_avx512.c): one row of 16 columns of the register tile is
 * (added to C,) given the epilogue (gemm_f32.h) and stored, masked when the
 * row is partial; an activation is applied over the stored tile afterwards
 * (act_tile).
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
    if (ep->requant) {
      __m512 s = _mm512_set1_ps(ep->requant[0]), z = _mm512_set1_ps(ep->requant[1]);
      v = _mm512_mul_ps(
          _mm512_sub_ps(quant_u8_16(v, s, _mm512_set1_ps(ep->requant[2]), z), z), s);
    }
    if (ep->bias)
      v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, ep->bias + col));
    if (ep->row_bias)
      v = _mm512_add_ps(v, _mm512_set1_ps(ep->row_bias[i]));
    const float *r = ep->residual ? ep->residual + i * ep->ldr + col : NULL;
    if (r && ep->res_first)
      v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, r));
    /* ReLU, ReLU6 and HardSwish here; the others, and the residual after
     * them, are act_tile's */
    if (ep->act == KILN_ACT_RELU)
      v = _mm512_max_ps(v, _mm512_setzero_ps());
    else if (ep->act == KILN_ACT_RELU6)
      v = relu6_16(v);
    else if (ep->act == KILN_ACT_HARDSWISH)
      v = hardswish16(v);
    if (r && !ep->res_first && !kiln_act_deferred(ep->act))
      v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, r));
  }
  if (mask == 0xffff)
    _mm512_storeu_ps(c, v);
  else
    _mm512_mask_storeu_ps(c, mask, v);
}

/* 16 floats by two 256-bit loads: stored a moment ago by 512-bit stores,
 * which Zen 4 writes as two halves, they are forwarded from the store
 * queue half by half, while one 512-bit load waits for the stores to reach
 * the cache (act_tile spent 40-50% of its time on that load). */
static inline __m512 load_halves(const float *p) {
  return _mm512_castpd_ps(_mm512_insertf64x4(
      _mm512_castpd256_pd512(_mm256_castps_pd(_mm256_loadu_ps(p))),
      _mm256_castps_pd(_mm256_loadu_ps(p + 8)), 1));
}

#define KILN_ACT_TILE_LOOP(ACT)                                                \
  for (int64_t i = 0; i < rows; ++i) {                                         \
    float *ci = c + i * ldc;                                                   \
    const float *r = after ? after + i * ep->ldr : NULL;                       \
    for (int64_t j = 0; j < nc; j += 16) {                                     \
      if (nc - j >= 16) { /* unmasked: a masked load waits for the stores */ \
        __m512 v = act16_inline(load_halves(ci + j), ACT);                     \
        if (r)                                                                 \
          v = _mm512_add_ps(v, _mm512_loadu_ps(r + j));                        \
        _mm512_storeu_ps(ci + j, v);                                           \
        continue;                                                              \
      }                                                                        \
      __mmask16 m = mask_of(nc - j);                                           \
      __m512 v = act16_inline(_mm512_maskz_loadu_ps(m, ci + j), ACT);          \
      if (r)                                                                   \
        v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, r + j));                 \
      _mm512_mask_storeu_ps(ci + j, m, v);                                     \
    }                                                                          \
  }                                                                            \
  return;

#include "gemm_act_tile_impl.h"

#endif
