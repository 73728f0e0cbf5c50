/*===- conv_pw_f32_avx512.c - 1 x 1 convolutions on NCHW planes, AVX-512 --===*
 *
 * conv_pw_f32_impl.h with 16-lane vectors: a tile is 8 output channels x
 * 48 pixels (three vectors): 24 accumulators, three loads and eight
 * broadcasts per input channel.
 *
 *===----------------------------------------------------------------------===*/

#include "vmath_avx512.h"

#include <immintrin.h>

#define PW_MR 8
#define PW_NV 3
#define PW_LANES 16
#define PW_TASKS kiln_conv_pw_avx512
#define PW_BLOCK_ACC kiln_pw_block_acc_avx512
#define PW_BLOCK kiln_pw_block_avx512
#define PW_VEC __m512
#define PW_MASK_T __mmask16
#define PW_MASK(last) ((__mmask16)((1u << (last)) - 1u))
#define PW_ZERO() _mm512_setzero_ps()
#define PW_SET1(x) _mm512_set1_ps(x)
#define PW_LOAD(p) _mm512_loadu_ps(p)
#define PW_LOADM(p, m) _mm512_maskz_loadu_ps(m, p)
#define PW_STORE(p, v) _mm512_storeu_ps(p, v)
#define PW_STOREM(p, m, v) _mm512_mask_storeu_ps(p, m, v)
#define PW_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define PW_ADD(a, b) _mm512_add_ps(a, b)
#define PW_RELU(v) _mm512_max_ps(v, _mm512_setzero_ps())
#define PW_HARDSWISH(v) hardswish16(v)
#define PW_SILU(v) silu16(v)
#define PW_RELU6(v) relu6_16(v)
#define PW_ACT(v, act) act16_conv(v, act)

#include "conv_pw_f32_impl.h"

/* d[q] = s[2 q], q < n (a stride-2 row of a stem's patches,
 * conv_im2col_f32.c): the even lanes of two vectors. */
void kiln_even_copy_avx512(float *d, const float *s, int64_t n) {
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10,
                                        8, 6, 4, 2, 0);
  int64_t q = 0;
  for (; q + 17 <= n; q += 16)
    _mm512_storeu_ps(d + q, _mm512_permutex2var_ps(_mm512_loadu_ps(s + 2 * q), even,
                                                   _mm512_loadu_ps(s + 2 * q + 16)));
  for (; q < n; ++q)
    d[q] = s[2 * q];
}
