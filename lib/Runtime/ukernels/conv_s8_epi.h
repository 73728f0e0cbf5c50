/*===- conv_s8_epi.h - the int8 convolution tiles' epilogue interface ---===*
 *
 * Shared by the AVX-512 tiles (conv_s8_tiles_impl.h) and the VBMI table
 * epilogue (conv_s8_lut_vbmi.c): where a tile's output vectors go and the
 * epilogue's signature.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_UKERNELS_CONV_S8_EPI_H
#define KILN_UKERNELS_CONV_S8_EPI_H

#include "conv_s8.h"
#include "dwconv_s8.h"

#include <immintrin.h>

/* Where a tile's output vectors go: per vector, runs of lanes (mask, and
 * the output element lane 0 would be) in the rows they fall on; columns
 * past OW are dropped. One run where the planes are dense (Wq = OW);
 * otherwise at most one per row a vector touches (Wq >= 2: 9). Worked out
 * once per tile for its 8 filters. */
typedef struct {
  int n[3];
  __mmask16 m[3][9];
  int64_t at[3][9];
} s8_lanes;

/* The epilogue of a tile's accumulators acc[m][v] (8 filters x nv
 * vectors; conv_s8_tiles_impl.h). */
typedef void (*s8_epilogue_fn)(const kiln_conv_s8_job *j, __m512i acc[][3],
                               int nv, int64_t mr, const s8_lanes *L,
                               float *y, uint8_t *y8, const float *r,
                               const float *scale, const int32_t *wsum,
                               const float *bias);


/* The epilogue of an output's Q -> DQ pair, its activation and the next
 * convolution's quantization as one table of 256 bytes, j->lut (the
 * requantized value is one of 256): vpermi2b lookups (AVX512-VBMI) instead
 * of the arithmetic and a second rounding division. For the int8
 * convolution's tiles and the depthwise kernel's rows (the latter's
 * signature is dwconv_s8_avx512.c's dw_epi_fn). */
void kiln_conv_s8_epi_lut_vbmi(const kiln_conv_s8_job *j, __m512i acc[][3], int nv,
                               int64_t mr, const s8_lanes *L, float *y,
                               uint8_t *y8, const float *r, const float *scale,
                               const int32_t *wsum, const float *bias);
void kiln_dwconv_s8_epi_lut_vbmi(const kiln_dwconv_s8_job *j, const float *sums,
                                 int nr, float sc, float b, float *y, uint8_t *y8);

/* Whether the CPU has AVX512-VBMI (checked once; KILN_NO_VNNI=1 says no
 * too). */
int kiln_cpu_has_avx512vbmi(void);

/* t[q] = act((q - zy) sy) for the 256 requantized values q, by the vector
 * epilogue's own operations (act16_conv; dwconv_s8_avx512.c): the
 * depthwise kernel's float table, and the u8 table's first step. */
void kiln_s8_act_table(float t[256], float sy, float zy, int act);

/* lut[q] = clip(round(act((q - zy) sy) / so) + zo, 0, 255) for the 256
 * requantized values q, by the vector epilogue's own operations (any
 * activation, act16_conv; conv_s8_lut_vbmi.c, so AVX512-VBMI CPUs only). */
void kiln_s8_requant_lut(uint8_t lut[256], float sy, float zy, int act, float so,
                         float zo);

#endif
