/*===- softmax_f32_avx512.c - row softmax and P.V rows, AVX-512 -----------===*
 *
 * The vector exp is in vmath_avx512.h.
 *
 *===----------------------------------------------------------------------===*/

#include "softmax_f32.h"
#include "vmath_avx512.h"

#include <immintrin.h>
#include <math.h>

void kiln_exp_avx512(float *x, int64_t n) {
  int64_t j = 0;
  for (; j + 16 <= n; j += 16)
    _mm512_storeu_ps(x + j, exp16(_mm512_loadu_ps(x + j)));
  if (j < n) {
    __mmask16 m = (__mmask16)((1u << (n - j)) - 1u);
    _mm512_mask_storeu_ps(x + j, m, exp16(_mm512_maskz_loadu_ps(m, x + j)));
  }
}

void kiln_softmax_rows_avx512(float *s, int64_t rows, int64_t n, int64_t lds,
                              float *inv, const kiln_softmax_pre *pre) {
  for (int64_t r = 0; r < rows; ++r) {
    float *row = s + r * lds;
    __m512 mx = _mm512_set1_ps(-INFINITY);
    int64_t j = 0;
    __mmask16 tail = (__mmask16)((n % 16) ? (1u << (n % 16)) - 1u : 0u);
    if (pre) {
      __m512 sc = _mm512_set1_ps(pre->scale);
      const float *mrow = pre->mask ? pre->mask + r * pre->ldm : NULL;
      for (; j + 16 <= n; j += 16) {
        __m512 v = _mm512_mul_ps(_mm512_loadu_ps(row + j), sc);
        if (mrow)
          v = _mm512_add_ps(v, _mm512_loadu_ps(mrow + j));
        _mm512_storeu_ps(row + j, v);
        mx = _mm512_max_ps(mx, v);
      }
      if (tail) {
        __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, row + j), sc);
        if (mrow)
          v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(tail, mrow + j));
        _mm512_mask_storeu_ps(row + j, tail, v);
        mx = _mm512_mask_max_ps(mx, tail, mx, v);
      }
    } else {
      for (; j + 16 <= n; j += 16)
        mx = _mm512_max_ps(mx, _mm512_loadu_ps(row + j));
      if (tail)
        mx = _mm512_mask_max_ps(mx, tail, mx, _mm512_maskz_loadu_ps(tail, row + j));
    }
    __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
    __m512 sum = _mm512_setzero_ps();
    for (j = 0; j + 16 <= n; j += 16) {
      __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(row + j), m));
      _mm512_storeu_ps(row + j, e);
      sum = _mm512_add_ps(sum, e);
    }
    if (tail) {
      __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, row + j), m));
      e = _mm512_maskz_mov_ps(tail, e);
      _mm512_mask_storeu_ps(row + j, tail, e);
      sum = _mm512_add_ps(sum, e);
    }
    inv[r] = 1.0f / _mm512_reduce_add_ps(sum);
  }
}

#define AXPY_NAME kiln_axpy_rows_avx512
#define DOT_NAME kiln_dot_rows_avx512
#define DOT_VW 16
#include "axpy_f32_impl.h"
