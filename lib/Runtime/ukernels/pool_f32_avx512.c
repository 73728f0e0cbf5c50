/*===- pool_f32_avx512.c - 2-D max and average pooling, AVX-512 ----------===*
 *
 * pool_f32_impl.h with 16-lane vectors and masked tails.
 *
 *===----------------------------------------------------------------------===*/

#include <immintrin.h>

#define P_FN kiln_pool2d_avx512
#define P_V __m512
#define P_L 16
#define P_SET1(f) _mm512_set1_ps(f)
#define P_LOAD(p) _mm512_loadu_ps(p)
#define P_STORE(p, v) _mm512_storeu_ps(p, v)
#define P_MAX(a, b) _mm512_max_ps(a, b)
#define P_ADD(a, b) _mm512_add_ps(a, b)
#define P_MUL(a, b) _mm512_mul_ps(a, b)
#define P_DIV(a, b) _mm512_div_ps(a, b)
#define P_MASK(n) ((__mmask16)((1u << (n)) - 1u))
#define P_LOADOR(d, p, n) _mm512_mask_loadu_ps(d, P_MASK(n), p)
#define P_STOREN(p, v, n) _mm512_mask_storeu_ps(p, P_MASK(n), v)
#define P_EVEN(a, b)                                                           \
  _mm512_permutex2var_ps(a,                                                    \
                         _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18,  \
                                           20, 22, 24, 26, 28, 30),            \
                         b)

#define P_M __mmask16
#define P_LMASK(a, b) ((__mmask16)(((1u << (b)) - 1u) & ~((1u << (a)) - 1u)))
#define P_LOADM(d, p, m) _mm512_mask_loadu_ps(d, m, p)
#define P_SHIFT(a, b, s)                                                       \
  _mm512_permutex2var_ps(                                                      \
      a,                                                                       \
      _mm512_add_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, \
                                         12, 13, 14, 15),                      \
                       _mm512_set1_epi32((int)(s))),                           \
      b)

#include "pool_f32_impl.h"
