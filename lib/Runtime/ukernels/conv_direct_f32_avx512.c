/*===- conv_direct_f32_avx512.c - direct convolution tiles, AVX-512 -------===*
 *
 * conv_direct_f32_impl.h with 16 lanes: a tile is up to 14 output pixels x
 * 32 channels (two filter panels), 28 zmm accumulators. Compiled with
 * -mavx512f; only called when the model was compiled for AVX-512.
 *
 *===----------------------------------------------------------------------===*/

#include "transpose_avx512.h"
#include "vmath_avx512.h"

#include <immintrin.h>


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
#define cd_act(v, act) act16_conv(v, act)
#define cd_mask(lo, hi) ((__mmask16)(((1u << (hi)) - 1u) & ~((1u << (lo)) - 1u)))
#define cd_maskload(m, p) _mm512_maskz_loadu_ps(m, p)
#define cd_maskstore(p, m, v) _mm512_mask_storeu_ps(p, m, v)
#define cd_transpose(r) kiln_transpose16_ps(r)
#define cd_storen(p, v, n) _mm512_mask_storeu_ps(p, cd_mask(0, n), v)

#define cd_storeu(p, v) _mm512_storeu_ps(p, v)

#include "conv_direct_f32_impl.h"

#define DWCB_FN kiln_dwcb_avx512
#include "dwconv_cb_f32_impl.h"
