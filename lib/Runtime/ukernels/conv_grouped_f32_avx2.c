/*===- conv_grouped_f32_avx2.c - grouped convolutions, AVX2 ---------------===*
 *
 * conv_grouped_f32_impl.h with 8-lane vectors: tiles of 4 filters x 24
 * pixels (12 accumulators).
 *
 *===----------------------------------------------------------------------===*/

#include "vmath_avx2.h"

#include <immintrin.h>

static inline __m256i gc_mask8(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

#define GC_VEC __m256
#define GC_LANES 8
#define GC_TASKS kiln_gconv_avx2
#define GC_ZERO() _mm256_setzero_ps()
#define GC_SET1(x) _mm256_set1_ps(x)
#define GC_LOAD(p) _mm256_loadu_ps(p)
#define GC_STORE(p, v) _mm256_storeu_ps(p, v)
#define GC_LOADN(p, n) _mm256_maskload_ps(p, gc_mask8(n))
#define GC_STOREN(p, n, v) _mm256_maskstore_ps(p, gc_mask8(n), v)
#define GC_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define GC_ADD(a, b) _mm256_add_ps(a, b)
#define GC_ACT(v, act) act8_conv(v, act)
#define GC_CV_ACC 12 /* channel-vector tiles: accumulators at most */
#define GC_CV_NR 3
#define GC_CV_RW 12
#define GC_CV_WIDTHS 4, 6, 7, 8, 12
#define GC_CV_CASES GC_CV_NRS(4) GC_CV_NRS(6) GC_CV_NRS(7) GC_CV_NRS(8) GC_CV_NRS(12)

#include "conv_grouped_f32_impl.h"
