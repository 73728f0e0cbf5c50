/*===- pool_f32_avx2.c - 2-D max and average pooling, AVX2 ---------------===*
 *
 * pool_f32_impl.h with 8-lane vectors; tails through vmaskmov.
 *
 *===----------------------------------------------------------------------===*/

#include <immintrin.h>

#define P_FN kiln_pool2d_avx2
#define P_V __m256
#define P_L 8
#define P_SET1(f) _mm256_set1_ps(f)
#define P_LOAD(p) _mm256_loadu_ps(p)
#define P_STORE(p, v) _mm256_storeu_ps(p, v)
#define P_MAX(a, b) _mm256_max_ps(a, b)
#define P_ADD(a, b) _mm256_add_ps(a, b)
#define P_MUL(a, b) _mm256_mul_ps(a, b)
#define P_DIV(a, b) _mm256_div_ps(a, b)
#define P_MASK(n)                                                              \
  _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n)),                              \
                     _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define P_LOADOR(d, p, n)                                                      \
  _mm256_blendv_ps(d, _mm256_maskload_ps(p, P_MASK(n)),                        \
                   _mm256_castsi256_ps(P_MASK(n)))
#define P_STOREN(p, v, n) _mm256_maskstore_ps(p, P_MASK(n), v)
/* [a0 a2 b0 b2 | a4 a6 b4 b6] -> [a0 a2 a4 a6 b0 b2 b4 b6] */
#define P_EVEN(a, b)                                                           \
  _mm256_castpd_ps(_mm256_permute4x64_pd(                                      \
      _mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8))

#define P_IOTA _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)
#define P_M __m256i
#define P_LMASK(a, b)                                                          \
  _mm256_and_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32((int)(b)), P_IOTA),    \
                   _mm256_cmpgt_epi32(P_IOTA, _mm256_set1_epi32((int)(a) - 1)))
#define P_LOADM(d, p, m)                                                       \
  _mm256_blendv_ps(d, _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m))
/* lanes i + s of (a, b): a's lanes below 8, b's (index & 7) from 8 */
static inline __m256 p_shift_avx2(__m256 a, __m256 b, int s) {
  __m256i idx = _mm256_add_epi32(P_IOTA, _mm256_set1_epi32(s));
  return _mm256_blendv_ps(
      _mm256_permutevar8x32_ps(a, idx), _mm256_permutevar8x32_ps(b, idx),
      _mm256_castsi256_ps(_mm256_cmpgt_epi32(idx, _mm256_set1_epi32(7))));
}
#define P_SHIFT(a, b, s) p_shift_avx2(a, b, (int)(s))

#include "pool_f32_impl.h"
