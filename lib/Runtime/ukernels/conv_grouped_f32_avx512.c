/*===- conv_grouped_f32_avx512.c - grouped convolutions, AVX-512 ----------===*
 *
 * conv_grouped_f32_impl.h with 16-lane vectors: tiles of 4 filters x 48
 * pixels (12 accumulators, three loads and four broadcasts per tap).
 *
 *===----------------------------------------------------------------------===*/

#include "vmath_avx512.h"

#include <immintrin.h>

#define GC_VEC __m512
#define GC_LANES 16
#define GC_TASKS kiln_gconv_avx512
#define GC_ZERO() _mm512_setzero_ps()
#define GC_SET1(x) _mm512_set1_ps(x)
#define GC_LOAD(p) _mm512_loadu_ps(p)
#define GC_STORE(p, v) _mm512_storeu_ps(p, v)
#define GC_LOADN(p, n) _mm512_maskz_loadu_ps((__mmask16)((1u << (n)) - 1u), p)
#define GC_STOREN(p, n, v) _mm512_mask_storeu_ps(p, (__mmask16)((1u << (n)) - 1u), v)
#define GC_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define GC_ADD(a, b) _mm512_add_ps(a, b)
#define GC_ACT(v, act) act16_conv(v, act)
#define GC_CV_ACC 24 /* channel-vector tiles: accumulators at most */
#define GC_CV_NR 3
#define GC_CV_RW 16
#define GC_CV_WIDTHS 7, 8, 12, 14, 16
#define GC_CV_CASES GC_CV_NRS(7) GC_CV_NRS(8) GC_CV_NRS(12) GC_CV_NRS(14) GC_CV_NRS(16)

#include "conv_grouped_f32_impl.h"
