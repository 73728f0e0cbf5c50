/*===- resize_f32_avx512.c - a Resize output row on AVX-512 ---------------===*
 *
 * kiln_resize_row (resize_f32.c) with the vertical blend and the
 * horizontal taps 16 pixels at a time: the row buffer is in L1, each
 * output vector two gathers of it (or one, nearest) and the blend.
 *
 *===----------------------------------------------------------------------===*/

#include "resize_f32.h"

#include <immintrin.h>

void kiln_resize_row_avx512(const kiln_resize_job *j, const float *r0,
                            const float *r1, float wy0, float wy1, float *t,
                            float *yr) {
  int64_t w = j->w, ow = j->ow;
  const float *src = r0;
  if (j->mode == 1 && r1 != r0) {
    __m512 a = _mm512_set1_ps(wy0), b = _mm512_set1_ps(wy1);
    int64_t i = 0;
    for (; i + 16 <= w; i += 16)
      _mm512_storeu_ps(t + i, _mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(r0 + i), a),
                                            _mm512_mul_ps(_mm512_loadu_ps(r1 + i), b)));
    for (; i < w; ++i)
      t[i] = r0[i] * wy0 + r1[i] * wy1;
    src = t;
  }
  if (j->identity_w) {
    for (int64_t o = 0; o < ow; ++o)
      yr[o] = src[o];
    return;
  }
  int64_t o = 0;
  if (j->mode == 0) {
    for (; o + 16 <= ow; o += 16)
      _mm512_storeu_ps(yr + o, _mm512_i32gather_ps(
                                   _mm512_loadu_si512(j->xi0 + o), src, 4));
    for (; o < ow; ++o)
      yr[o] = src[j->xi0[o]];
    return;
  }
  for (; o + 16 <= ow; o += 16) {
    __m512 v0 = _mm512_i32gather_ps(_mm512_loadu_si512(j->xi0 + o), src, 4);
    __m512 v1 = _mm512_i32gather_ps(_mm512_loadu_si512(j->xi1 + o), src, 4);
    _mm512_storeu_ps(yr + o, _mm512_add_ps(_mm512_mul_ps(v0, _mm512_loadu_ps(j->xw0 + o)),
                                           _mm512_mul_ps(v1, _mm512_loadu_ps(j->xw1 + o))));
  }
  for (; o < ow; ++o)
    yr[o] = src[j->xi0[o]] * j->xw0[o] + src[j->xi1[o]] * j->xw1[o];
}
