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

/* The AMX-BF16 tile (gemm_bf16_avx512.c): up to 32 rows x 32 columns over
 * kq k-pairs, a multiple of 16, A from kiln_sbgemm_pack_a_amx (per 32 k the
 * block's rows: chunk c at ap + c * lda bytes, lda = rows * 64). Only
 * called when kiln_cpu_has_amx_bf16() (gemm_amx.h). */
#define KILN_SBGEMM_MR_AMX 32
/* from one row: a LLaMA 8 x 1024 bf16 decode step 1.04-1.05x faster on
 * AMX than on the AVX512-BF16 tile (`kiln run --against`, both orders;
 * the int8 one was 6-8% slower on AMX, KILN_QGEMM_AMX_MIN_M) */
#define KILN_SBGEMM_AMX_MIN_M 1
void kiln_sbgemm_tile_amx(int64_t mr, int64_t nc, int64_t kq, const uint16_t *ap,
                          int64_t lda, const uint16_t *b0, const uint16_t *b1,
                          float *c, int64_t ldc, int accumulate,
                          const kiln_epilogue *ep, const kiln_gemm_side *side);
void kiln_sbgemm_pack_a_amx(const float *a, int64_t lda, int64_t rows,
                            int64_t k, int64_t kq, uint16_t *dst);

#endif
