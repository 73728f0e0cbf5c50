/*===- conv_direct_f32_avx512.c - direct convolution tiles, AVX-512 -------===*
 *
 * conv_direct_f32_impl.h with 16 lanes: a tile is up to 14 output pixels x
 * 32 channels (two filter panels), 28 zmm accumulators. Compiled with
 * -mavx512f; only called when the model was compiled for AVX-512.
 *
 *===----------------------------------------------------------------------===*/

#include "vmath_avx512.h"

#include <immintrin.h>

/* r[i] (lane c) -> r[c] (lane i): a 16 x 16 transpose in registers. */
static inline __attribute__((always_inline)) void transpose16(__m512 *r) {
  __m512 t[16];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  __m512 u[16];
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]),
            c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
    /* lane L of u[4i + j]: column 4L + j of rows 4i .. 4i + 3 */
    u[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    u[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    u[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    u[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
#pragma GCC unroll 4
  for (int jj = 0; jj < 4; ++jj) {
    __m512 v0 = _mm512_shuffle_f32x4(u[jj], u[4 + jj], 0x44);
    __m512 v1 = _mm512_shuffle_f32x4(u[jj], u[4 + jj], 0xEE);
    __m512 v2 = _mm512_shuffle_f32x4(u[8 + jj], u[12 + jj], 0x44);
    __m512 v3 = _mm512_shuffle_f32x4(u[8 + jj], u[12 + jj], 0xEE);
    r[jj] = _mm512_shuffle_f32x4(v0, v2, 0x88);
    r[4 + jj] = _mm512_shuffle_f32x4(v0, v2, 0xDD);
    r[8 + jj] = _mm512_shuffle_f32x4(v1, v3, 0x88);
    r[12 + jj] = _mm512_shuffle_f32x4(v1, v3, 0xDD);
  }
}

/* ReLU and HardSwish (the convolutions' own) inline; the rest through
 * act16, which the compiler keeps out of line. */
static inline __attribute__((always_inline)) __m512 conv_act(__m512 v, int act) {
  if (act == KILN_ACT_RELU)
    return _mm512_max_ps(v, _mm512_setzero_ps());
  if (act == KILN_ACT_HARDSWISH)
    return hardswish16(v);
  return act ? act16(v, act) : v;
}

#define CD_FN kiln_conv_direct_avx512
#define CD_VW 16
#define CD_MR 14
typedef __m512 cd_v;
typedef __mmask16 cd_mask_t;
#define cd_zero() _mm512_setzero_ps()
#define cd_set1(f) _mm512_set1_ps(f)
#define cd_loadu(p) _mm512_loadu_ps(p)
#define cd_fma(a, b, c) _mm512_fmadd_ps(a, b, c)
#define cd_add(a, b) _mm512_add_ps(a, b)
#define cd_act(v, act) conv_act(v, act)
#define cd_mask(lo, hi) ((__mmask16)(((1u << (hi)) - 1u) & ~((1u << (lo)) - 1u)))
#define cd_maskload(m, p) _mm512_maskz_loadu_ps(m, p)
#define cd_maskstore(p, m, v) _mm512_mask_storeu_ps(p, m, v)
#define cd_transpose(r) transpose16(r)
#define cd_storen(p, v, n) _mm512_mask_storeu_ps(p, cd_mask(0, n), v)

#define cd_storeu(p, v) _mm512_storeu_ps(p, v)

#include "conv_direct_f32_impl.h"

#define DWCB_FN kiln_dwcb_avx512
#include "dwconv_cb_f32_impl.h"
