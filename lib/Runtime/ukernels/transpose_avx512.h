/*===- transpose_avx512.h - a 16 x 16 transpose in zmm registers ---------===*
 *
 * Used by the direct convolution's NCHW stores (conv_direct_f32_avx512.c)
 * and attention's bf16 packing of K^T (gemm_bf16_avx512.c, on dwords
 * through casts).
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_UKERNELS_TRANSPOSE_AVX512_H
#define KILN_UKERNELS_TRANSPOSE_AVX512_H

#include <immintrin.h>

/* r[i] (lane c) -> r[c] (lane i): a 16 x 16 transpose in registers. */
static inline __attribute__((always_inline)) void kiln_transpose16_ps(__m512 *r) {
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

#endif
