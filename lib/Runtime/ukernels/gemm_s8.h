/*===- gemm_s8.h - int8 dense layers (--quantize int8) -------------------===*
 *
 * Dense layers compiled with `--quantize int8` keep their weights as int8,
 * quantized per output column (symmetric, scale = max|W[:, j]| / qmax:
 * qmax 127, or 63 for AVX2 models, kiln_s8_weight_qmax) and
 * packed at compile time by kiln_s8_pack_weights (pack_s8.c, which the
 * compiler links too, so there is one definition of the layout). The
 * activations are quantized per row at run time (asymmetric u8: scale =
 * (max(0, max) - min(0, min)) / 255 and a zero point), and the products
 * run as u8 x s8 -> int32 dot products of four (AVX512-VNNI's vpdpbusd):
 *
 *   y[i, j] = (sa_i * sb_j) * (sum_k qa[i, k] qb[k, j] - zp_i * colsum_j)
 *
 * colsum_j = sum_k qb[k, j] is computed at pack time; the bracket is exact
 * in int32 (when K fits one k block), then scaled once by sa_i * sb_j, the
 * arithmetic of ONNX Runtime's MatMulInteger + Cast + Mul.
 *
 * Packed weights, panel p of 16 columns [16p, 16p + 16), KQ = ceil(K / 4)
 * quads of k, each panel (KQ + 2) rows of 64 bytes:
 *   row q < KQ: byte j * 4 + r = qb[4q + r][16p + j]   (0 past K and N)
 *   row KQ:     16 floats sb_j                        (0 past N)
 *   row KQ + 1: 16 int32 colsum_j
 * That is the operand layout of vpdpbusd (16 lanes of 4 bytes).
 *
 * Models that arrive quantized (ONNX Runtime's DynamicQuantizeLinear +
 * MatMulInteger form) keep their own int8 weights and scales
 * (kiln_s8_pack_quantized) and quantize the activations per tensor, as
 * DynamicQuantizeLinear does: one scale and zero point from the whole
 * tensor's range, x / scale rounded to nearest even.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_UKERNELS_GEMM_S8_H
#define KILN_UKERNELS_GEMM_S8_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes of a packed [K, N] weight: ceil(N/16) * (ceil(K/4) + 2) * 64. */
size_t kiln_s8_packed_bytes(int64_t k, int64_t n);

/* Quantizes and packs W (element (kk, j) at w[kk * rs + j * cs]) into
 * `out` (kiln_s8_packed_bytes(k, n) bytes), each column to [-qmax, qmax]
 * (scale max|W[:, j]| / qmax): kiln_s8_weight_qmax of the model's ISA. */
void kiln_s8_pack_weights(int64_t k, int64_t n, const float *w, int64_t rs,
                          int64_t cs, int64_t qmax, int8_t *out);

/* The weight range --quantize int8 packs for an ISA (0 generic, 1 AVX2,
 * 2 AVX-512): 127, except 63 (7 bits) for AVX2, whose tile multiplies
 * with vpmaddubsw: u8 x s8 pairs summed in int16, which saturate unless
 * 255 * |w0| + 255 * |w1| <= 32767 (ONNX Runtime's reduce_range does the
 * same for CPUs without VNNI). */
int64_t kiln_s8_weight_qmax(int isa);

/* Packs weights that are already int8 (wq row-major [K, N]) with their
 * scales (`scales` values: 1 for the whole tensor, or N, one per column). */
void kiln_s8_pack_quantized(int64_t k, int64_t n, const int8_t *wq,
                            const float *scale, int64_t scales, int8_t *out);

#ifdef __cplusplus
}
#endif

#ifndef __cplusplus
#include "gemm_amx.h"
#include "gemm_f32.h"

/* C = (C +) act(A W + ...) over the run's threads, A (fp32, A[i, kk] at
 * a[i * lda + kk * acs]) quantized per row; bp packed as above. Returns 0
 * when scratch memory cannot be had. */
int kiln_qgemm_run(int isa, int accumulate, int64_t m, int64_t n, int64_t k,
                   const float *a, int64_t lda, int64_t acs, const int8_t *bp,
                   float *c, int64_t ldc, const kiln_epilogue *ep);
/* Whether this CPU has AVX512-VNNI (and AVX512BW), checked once. */
int kiln_cpu_has_avx512vnni(void);
/* Whether it has AVX512BW and AVX512VL (conv_s8.c). */
int kiln_cpu_has_avx512bw(void);
/* kiln_qgemm_run_mode's mode bits. */
enum {
  /* A quantized per tensor instead of per row: with `given` (scale, zero
   * point), those (a QuantizeLinear's constants, or calibrated ranges),
   * else from A's range as DynamicQuantizeLinear computes them */
  KILN_QGEMM_PER_TENSOR = 1,
  /* with PER_TENSOR: W was packed by kiln_s8_pack_weights at the ISA's
   * kiln_s8_weight_qmax (7 bits on AVX2), not a model's own 8-bit weights,
   * so the AVX2 7-bit tile may run (without PER_TENSOR that is implied) */
  KILN_QGEMM_KILN_WEIGHTS = 2,
};
/* kiln_qgemm_run with the activations quantized as `mode` says. */
int kiln_qgemm_run_mode(int isa, int accumulate, int mode,
                        const float *given, int64_t m, int64_t n, int64_t k,
                        const float *a, int64_t lda, int64_t acs,
                        const int8_t *bp, float *c, int64_t ldc,
                        const kiln_epilogue *ep);

/* A tile: C[0:mr, 0:nc] (+)= the dequantized products over kq quads
 * (b0/b1: the tile's two panels at its first quad, sb0/sb1: their scale
 * rows, followed by their column sums; rowq: sa_i, zp_i per row), with the
 * zero-point correction
 * and the epilogue when `last`; `side`: the tile's share of the next column
 * block's prefetch (kiln_gemm_side). */
typedef void (*kiln_qgemm_tile_fn)(int64_t mr, int64_t nc, int64_t kq,
                                   const uint8_t *ap, const int8_t *b0,
                                   const int8_t *b1, const float *sb0,
                                   const float *sb1, const float *rowq,
                                   float *c, int64_t ldc, int accumulate,
                                   int last, const kiln_epilogue *ep,
                                   const kiln_gemm_side *side);
void kiln_qgemm_tile_avx512vnni(int64_t mr, int64_t nc, int64_t kq,
                                const uint8_t *ap, const int8_t *b0,
                                const int8_t *b1, const float *sb0,
                                const float *sb1, const float *rowq, float *c,
                                int64_t ldc, int accumulate, int last,
                                const kiln_epilogue *ep,
                                const kiln_gemm_side *side);
/* The AVX2 tile for weights packed 7-bit (kiln_s8_weight_qmax): up to
 * KILN_QGEMM_MR_AVX2_S7 rows x 16 columns (one panel, as the VNNI tile's
 * b0; b1 and sb1 unused), activations in the VNNI tile's u8 quads. */
#define KILN_QGEMM_MR_AVX2_S7 5
void kiln_qgemm_tile_avx2_s7(int64_t mr, int64_t nc, int64_t kq,
                             const uint8_t *ap, const int8_t *b0,
                             const int8_t *b1, const float *sb0,
                             const float *sb1, const float *rowq, float *c,
                             int64_t ldc, int accumulate, int last,
                             const kiln_epilogue *ep,
                             const kiln_gemm_side *side);
/* The AVX2 tile for any int8 weights (no VNNI): up to KILN_QGEMM_MR_AVX2 rows x 8 columns (half
 * a panel: b0 and sb0 point at the tile's first column; b1 and sb1 are
 * unused), its activations widened to u16 (ap as uint16_t, same order). */
#define KILN_QGEMM_MR_AVX2 6
void kiln_qgemm_tile_avx2(int64_t mr, int64_t nc, int64_t kq,
                          const uint8_t *ap, const int8_t *b0, const int8_t *b1,
                          const float *sb0, const float *sb1, const float *rowq,
                          float *c, int64_t ldc, int accumulate, int last,
                          const kiln_epilogue *ep, const kiln_gemm_side *side);
/* The AMX tile (gemm_s8_avx512.c): up to 32 rows x 32 columns (two
 * panels) over kq quads, a multiple of 16, A in the AMX layout of
 * kiln_qgemm_pack_a_avx512 (per 64 k, the tile's rows of 64 bytes: chunk
 * c at ap + c * lda, lda = rows * 64); otherwise as
 * kiln_qgemm_tile_avx512vnni.
 * Only called when kiln_cpu_has_amx_int8(). */
#define KILN_QGEMM_MR_AMX 32
/* Fewer rows stay on the VNNI tile (decode steps: a LLaMA 8 x 1024 int8
 * step ran 6-8% slower on AMX from one row). */
#define KILN_QGEMM_AMX_MIN_M 8
void kiln_qgemm_tile_amx(int64_t mr, int64_t nc, int64_t kq, const uint8_t *ap,
                         int64_t lda, const int8_t *b0, const int8_t *b1,
                         const float *sb0, const float *sb1, const float *rowq,
                         float *c, int64_t ldc, int accumulate, int last,
                         const kiln_epilogue *ep, const kiln_gemm_side *side);

/* Quantizes rows [0, rows) of A into the quad layout of a row block
 * (dst[(q * rows + i) * 4 + r] = qa[i, 4q + r]), or with `rowmajor` in
 * rows of 64 (dst[((kk / 64) * rows + i) * 64 + kk % 64], the AMX
 * tile's; kq a multiple of 16), and rowq (AVX-512): each
 * row with its own range, or, with `fixed` (scale, zero point), with
 * those (x / scale, as DynamicQuantizeLinear divides). */
void kiln_qgemm_pack_a_avx512(const float *a, int64_t lda, int64_t rows,
                              int64_t k, int64_t kq, uint8_t *dst, float *rowq,
                              const float *fixed, int rowmajor);
/* The same with AVX2; `wide`: each value written as a u16 (dst as
 * uint16_t) for kiln_qgemm_tile_avx2. */
void kiln_qgemm_pack_a_avx2(const float *a, int64_t lda, int64_t rows,
                            int64_t k, int64_t kq, uint8_t *dst, float *rowq,
                            const float *fixed, int wide);
#endif

/* DynamicQuantizeLinear's u8 scale and zero point for values in [lo, hi]
 * (the range widened to include 0; scale 1, zero point 0 for an empty or
 * non-finite one). */
void kiln_s8_dynamic_params(float lo, float hi, float *scale, int32_t *zp);

#endif
