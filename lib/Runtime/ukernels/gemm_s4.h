/*===- gemm_s4.h - int4 weight-only dense layers (--quantize int4) -------===*
 *
 * Dense layers compiled with `--quantize int4` keep their weights as 4-bit
 * integers, symmetric, one scale per output column per group of G values
 * of k (G = 32 or 128): sb = max|W[g, j]| / 7, q = round(W / sb) in
 * [-7, 7], stored as the nibble q + 8. Activations are quantized per row
 * at run time to s8 (symmetric, scale max|x| / 127); the products run on
 * vpdpbusd with the nibbles as the unsigned operand:
 *
 *   sum_k (q + 8) a = sum_k q a + 8 * rowsum_g(a)
 *
 * so each group's int32 sum is corrected by 8 * rowsum (computed when A is
 * packed) and scaled by sa_i * sb_gj into fp32 accumulators. The weights
 * take an eighth of fp32's bytes (plus a scale per 16 x G values): decode
 * steps, which stream every weight once, run at that much less traffic.
 *
 * With zero points (pack_s4.c chooses them for weights from an
 * asymmetric 4-bit source) a group's stored nibble of 0 is z_gj in [0, 15]
 * instead of 8: the correction is rowsum_g(a) * z_gj, one int32 multiply
 * per row and group.
 *
 * Packed weights, panel p of 16 columns, K padded to a multiple of G with
 * zero weights (nibble 8), NG = K / G groups, each group G / 8 + 1 rows of
 * 64 bytes (G / 8 + 2 with zero points):
 *   row r < G / 8: byte j * 4 + t = nibble of k = g G + 8 r + t (low half)
 *                                   and of k + 4 (high half), column 16p + j
 *   row G / 8:     16 floats sb_gj (0 past N)
 *   row G / 8 + 1: 16 int32 z_gj (zero-point layout only)
 * Low nibbles of a row are one quad of k in vpdpbusd's operand layout, the
 * high nibbles the next quad: one load, a mask and a shift give both.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_UKERNELS_GEMM_S4_H
#define KILN_UKERNELS_GEMM_S4_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes of a packed [K, N] weight with groups of `group` values of k, with
 * zero points when zp. */
size_t kiln_s4_packed_bytes(int64_t k, int64_t n, int64_t group, int zp);

/* 1 when W (element (kk, j) at w[kk * rs + j * cs]) is better packed with
 * zero points (pack_s4.c says when). */
int kiln_s4_wants_zero_points(int64_t k, int64_t n, int64_t group,
                              const float *w, int64_t rs, int64_t cs);

/* Quantizes W to int4 and packs it into `out`, with zero points when zp.
 * group: 32 or 128 (any multiple of 8 works). */
void kiln_s4_pack_weights(int64_t k, int64_t n, int64_t group, int zp,
                          const float *w, int64_t rs, int64_t cs,
                          uint8_t *out);

#ifdef __cplusplus
}
#endif

#ifndef __cplusplus
#include "gemm_f32.h"

/* kiln_ukernel_s4gemm_packed's flag: the packed weight has zero points. */
#define KILN_S4_ZERO_POINTS 0x200

/* C = act(A W + ...) over the run's threads (C overwritten), A fp32
 * (A[i, kk] at a[i * lda + kk * acs]) quantized per row to s8. */
int kiln_s4gemm_run(int isa, int64_t m, int64_t n, int64_t k, int64_t group,
                    int zp, const float *a, int64_t lda, int64_t acs,
                    const uint8_t *bp, float *c, int64_t ldc,
                    const kiln_epilogue *ep);

/* A tile: C[0:mr, 0:nc] = the products over ng groups of one panel (bp at
 * its first group), then the epilogue. ap: A's quads, row-block layout
 * (ap[(q * mr + i) * 4 + t]); sa: the rows' scales; rs: the rows' group
 * sums, [mr][ng]; zp: the weight has zero points. */
typedef void (*kiln_s4gemm_tile_fn)(int64_t mr, int64_t nc, int64_t ng,
                                    int64_t group, int zp, const int8_t *ap,
                                    const uint8_t *bp, const float *sa,
                                    const int32_t *rs, float *c, int64_t ldc,
                                    const kiln_epilogue *ep);
/* The AVX2 tile (gemm_s4_avx2.c): up to KILN_S4GEMM_MR_AVX2 rows. */
#define KILN_S4GEMM_MR_AVX2 4
void kiln_s4gemm_tile_avx2(int64_t mr, int64_t nc, int64_t ng, int64_t group,
                           int zp, const int8_t *ap, const uint8_t *bp,
                           const float *sa, const int32_t *rs, float *c,
                           int64_t ldc, const kiln_epilogue *ep);
void kiln_s4gemm_tile_avx512vnni(int64_t mr, int64_t nc, int64_t ng,
                                 int64_t group, int zp, const int8_t *ap,
                                 const uint8_t *bp, const float *sa,
                                 const int32_t *rs, float *c, int64_t ldc,
                                 const kiln_epilogue *ep);
#endif

#endif
