/*===- conv_pw_f32_avx2.c - 1 x 1 convolutions on NCHW planes, AVX2 -------===*
 *
 * conv_pw_f32_impl.h with 8-lane vectors: a tile is 4 output channels x
 * 24 pixels (three vectors): 12 accumulators, three loads and four
 * broadcasts per input channel.
 *
 * Replaces the GEMM tile with a strided B on this path (6 x 16 tiles, the
 * GEMM's generic epilogue): six row pointers, a loop-carried test of lda and the
 * stores' run-time activation switch left that loop at 33-44 GFLOP/s on
 * MobileNetV3's 1 x 1 layers with 16-48 input channels.
 *
 *===----------------------------------------------------------------------===*/

#include "vmath_avx2.h"

#include <immintrin.h>

#define PW_MR 4
#define PW_NV 3
#define PW_LANES 8
#define PW_TASKS kiln_conv_pw_avx2
#define PW_BLOCK_ACC kiln_pw_block_acc_avx2
#define PW_BLOCK kiln_pw_block_avx2
#define PW_VEC __m256
#define PW_MASK_T __m256i
#define PW_MASK(last)                                                          \
  _mm256_cmpgt_epi32(_mm256_set1_epi32(last),                                  \
                     _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define PW_ZERO() _mm256_setzero_ps()
#define PW_SET1(x) _mm256_set1_ps(x)
#define PW_LOAD(p) _mm256_loadu_ps(p)
#define PW_LOADM(p, m) _mm256_maskload_ps(p, m)
#define PW_STORE(p, v) _mm256_storeu_ps(p, v)
#define PW_STOREM(p, m, v) _mm256_maskstore_ps(p, m, v)
#define PW_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define PW_ADD(a, b) _mm256_add_ps(a, b)
#define PW_RELU(v) _mm256_max_ps(v, _mm256_setzero_ps())
#define PW_HARDSWISH(v) hardswish8(v)
#define PW_SILU(v) act8_conv(v, KILN_ACT_SILU)
#define PW_RELU6(v) act8_conv(v, KILN_ACT_RELU6)
#define PW_ACT(v, act) act8_conv(v, act)

#include "conv_pw_f32_impl.h"
