/*===- softmax_f32_avx2.c - row softmax and P.V rows, AVX2 + FMA ----------===*
 *
 * The vector exp is in vmath_avx2.h.
 *
 *===----------------------------------------------------------------------===*/

#include "softmax_f32.h"
#include "vmath_avx2.h"

#include <immintrin.h>
#include <math.h>

static inline __m256i tail_mask(int64_t cols) {
  const int32_t lane[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)cols),
                            _mm256_loadu_si256((const __m256i *)lane));
}

static inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}

static inline float hsum(__m256 v) {
  __m128 m = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_add_ps(m, _mm_movehl_ps(m, m));
  m = _mm_add_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}

void kiln_exp_avx2(float *x, int64_t n) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    _mm256_storeu_ps(x + j, exp8(_mm256_loadu_ps(x + j)));
  if (j < n) {
    __m256i m = tail_mask(n - j);
    _mm256_maskstore_ps(x + j, m, exp8(_mm256_maskload_ps(x + j, m)));
  }
}

void kiln_softmax_rows_avx2(float *s, int64_t rows, int64_t n, int64_t lds,
                            float *inv, const kiln_softmax_pre *pre) {
  for (int64_t r = 0; r < rows; ++r) {
    float *row = s + r * lds;
    __m256 mx = _mm256_set1_ps(-INFINITY);
    int64_t j = 0;
    const float *mrow = pre && pre->mask ? pre->mask + r * pre->ldm : NULL;
    if (pre) {
      __m256 sc = _mm256_set1_ps(pre->scale);
      for (; j + 8 <= n; j += 8) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(row + j), sc);
        if (mrow)
          v = _mm256_add_ps(v, _mm256_loadu_ps(mrow + j));
        _mm256_storeu_ps(row + j, v);
        mx = _mm256_max_ps(mx, v);
      }
    } else {
      for (; j + 8 <= n; j += 8)
        mx = _mm256_max_ps(mx, _mm256_loadu_ps(row + j));
    }
    float m = hmax(mx);
    for (int64_t t = j; t < n; ++t) {
      if (pre)
        row[t] = row[t] * pre->scale + (mrow ? mrow[t] : 0.0f);
      m = row[t] > m ? row[t] : m;
    }
    __m256 mv = _mm256_set1_ps(m), sum = _mm256_setzero_ps();
    for (j = 0; j + 8 <= n; j += 8) {
      __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(row + j), mv));
      _mm256_storeu_ps(row + j, e);
      sum = _mm256_add_ps(sum, e);
    }
    if (j < n) {
      __m256i tm = tail_mask(n - j);
      __m256 e = exp8(_mm256_sub_ps(_mm256_maskload_ps(row + j, tm), mv));
      e = _mm256_and_ps(e, _mm256_castsi256_ps(tm));
      _mm256_maskstore_ps(row + j, tm, e);
      sum = _mm256_add_ps(sum, e);
    }
    inv[r] = 1.0f / hsum(sum);
  }
}

#define AXPY_NAME kiln_axpy_rows_avx2
#define DOT_NAME kiln_dot_rows_avx2
#define DOT_VW 8
#include "axpy_f32_impl.h"
