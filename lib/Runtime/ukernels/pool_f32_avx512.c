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

/* The depthwise convolution along NCHW rows (dwconv_rows_f32_impl.h) uses
 * the same lane shifts. */
#include "vmath_avx512.h"

#define DWR_R 4 /* output rows */
#define DWR_NB 2 /* vectors per row (3 x 3 filters; larger ones 1) */
#define DWR_FN kiln_dwrows_avx512
#define P_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define P_ODD(a, b)                                                            \
  _mm512_permutex2var_ps(a,                                                    \
                         _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19,  \
                                           21, 23, 25, 27, 29, 31),            \
                         b)
#define P_ACT(v, act) act16_conv(v, act)
#define P_HSUM(v) _mm512_reduce_add_ps(v)
#define P_FIRST(v, n) _mm512_maskz_mov_ps(P_MASK(n), v)
#define P_LOADZ(p, m) _mm512_maskz_loadu_ps(m, p)
#include "dwconv_rows_f32_impl.h"

/* Small planes (see kiln_pool_job.fmask): planes [begin, end) of N * C,
 * each flattened into ceil(P / 16) vectors. Inception-v3's 3 x 3 average
 * pools on 17 x 17 and 8 x 8 planes: each output row took a vector
 * (mostly masked lanes) and its own reduction before. */
void kiln_pool2d_flat_avx512(void *vjob, int64_t begin, int64_t end) {
  const kiln_pool_job *j = vjob;
  int64_t p = j->y.size[2] * j->y.size[3], nv = (p + 15) / 16;
  int64_t taps = j->kh * j->kw;
  const __m512 idv = _mm512_set1_ps(j->avg ? 0.0f : -__builtin_inff());
  for (int64_t pl = begin; pl < end; ++pl) {
    const float *x = kiln_pool_xplane(j, pl);
    float *y = kiln_pool_yplane(j, pl);
    for (int64_t v = 0; v < nv; ++v) {
      const uint16_t *m = j->fmask + v * taps;
      __m512 acc = idv;
      for (int64_t t = 0; t < taps; ++t) {
        __m512 in = _mm512_mask_loadu_ps(idv, m[t], x + 16 * v + j->foff[t]);
        acc = j->avg ? _mm512_add_ps(acc, in) : _mm512_max_ps(in, acc);
      }
      __mmask16 out = p - 16 * v >= 16 ? 0xffff : P_MASK(p - 16 * v);
      if (j->avg)
        acc = _mm512_div_ps(acc, _mm512_maskz_loadu_ps(out, j->fcnt + 16 * v));
      _mm512_mask_storeu_ps(y + 16 * v, out, acc);
    }
  }
}
