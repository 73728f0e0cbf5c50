/*===- conv_patch_f32_avx512.c - 16 x 16 patch rows into a B panel -------===*
 *
 * The patch GEMM's gather (conv_patch_f32.c) for non-overlapping 16-wide
 * patches (ViT's 16 x 16 / 16 embedding): the 16 pixels of a full panel
 * each read 16 consecutive input values (one row of their patch), which
 * become 16 panel rows of 16 pixels: one 16 x 16 transpose in registers
 * instead of 256 scalar copies.
 *
 *===----------------------------------------------------------------------===*/

#include "conv_f32_internal.h"
#include "transpose_avx512.h"

void kiln_patch_rows16_avx512(const float *const src[16], float *dst) {
  __m512 r[16];
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i)
    r[i] = _mm512_loadu_ps(src[i]);
  kiln_transpose16_ps(r);
#pragma GCC unroll 16
  for (int b = 0; b < 16; ++b)
    _mm512_storeu_ps(dst + 16 * b, r[b]);
}
