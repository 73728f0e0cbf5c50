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

/* Activations applied over the stored tile by act_tile rather than in
 * registers: the costly ones (GELU: BERT-base int8 1.026x faster so, from
 * a call per vector that spilled the register tile). ReLU and HardSwish
 * stay in registers: over the stored tile, MobileNetV3 batch 8 ran 2%
 * slower (reloading what was just stored). */
static inline int act_deferred(int act) {
  return act != KILN_ACT_NONE && act != KILN_ACT_RELU &&
         act != KILN_ACT_HARDSWISH;
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
    /* ReLU and HardSwish here; the others, and the residual after them,
     * are act_tile's */
    if (ep->act == KILN_ACT_RELU)
      v = _mm512_max_ps(v, _mm512_setzero_ps());
    else if (ep->act == KILN_ACT_HARDSWISH)
      v = hardswish16(v);
    if (r && !ep->res_first && !act_deferred(ep->act))
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

/* The activation of `ep` (already moved to the tile), and the residual when
 * it comes after it, over the rows x nc values a tile stored at c whose
 * first column is `col` of the tile: called once per tile after store_row's
 * stores (tile_done). Applying them in store_row called the out-of-line
 * act16 once per vector with the whole register tile live, so every call
 * spilled it: BERT-base int8 spent 5% of its time there. */
static __attribute__((noinline, unused)) void
act_tile(float *c, int64_t ldc, int64_t rows, int64_t nc, int64_t col,
         const kiln_epilogue *ep) {
  const float *after =
      ep->residual && !ep->res_first ? ep->residual + col : NULL;
  switch (ep->act) {
  case KILN_ACT_RELU:
    KILN_ACT_TILE_LOOP(KILN_ACT_RELU)
  case KILN_ACT_GELU:
    KILN_ACT_TILE_LOOP(KILN_ACT_GELU)
  case KILN_ACT_GELU_TANH:
    KILN_ACT_TILE_LOOP(KILN_ACT_GELU_TANH)
  case KILN_ACT_SILU:
    KILN_ACT_TILE_LOOP(KILN_ACT_SILU)
  case KILN_ACT_HARDSIGMOID:
    KILN_ACT_TILE_LOOP(KILN_ACT_HARDSIGMOID)
  case KILN_ACT_HARDSWISH:
    KILN_ACT_TILE_LOOP(KILN_ACT_HARDSWISH)
  default:
    return;
  }
}
#undef KILN_ACT_TILE_LOOP

/* After a tile's store_row calls: the activation, if ep has one. */
static inline __attribute__((always_inline)) void
tile_done(float *c, int64_t ldc, int64_t rows, int64_t nc, int64_t col,
          const kiln_epilogue *ep) {
  if (ep && act_deferred(ep->act))
    act_tile(c, ldc, rows, nc, col, ep);
}

#endif
