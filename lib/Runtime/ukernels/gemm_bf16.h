/*===- gemm_bf16.h - the bf16 GEMM's AVX2 tile (--precision bf16) ---------===*
 *
 * Layouts in gemm_bf16.c. The AVX2 tile (gemm_bf16_avx2.c) reads its
 * activations as fp32 values rounded to bf16, packed in gemm_bf16.c's
 * order (row block of `rows`, k-pair q, row i at (q * rows + i) * 2 +
 * {0, 1}), through the tile interface's uint16_t pointer.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_UKERNELS_GEMM_BF16_H
#define KILN_UKERNELS_GEMM_BF16_H

#include "gemm_f32.h"

#define KILN_SBGEMM_MR_AVX2 4

void kiln_sbgemm_tile_avx2(int64_t mr, int64_t nc, int64_t kq,
                           const uint16_t *ap, const uint16_t *b0,
                           const uint16_t *b1, float *c, int64_t ldc,
                           int accumulate, const kiln_epilogue *ep,
                           const kiln_gemm_side *side);

#endif
