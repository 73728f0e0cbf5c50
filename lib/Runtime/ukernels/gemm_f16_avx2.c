/*===- gemm_f16_avx2.c - fp16-weight GEMM tile kernel, AVX2 + F16C --------===*
 *
 * --precision fp16: the fp32 tile (gemm_tile_avx2_impl.h) on fp16 panels,
 * each 8 values widened to fp32 by one vcvtph2ps (exact) before the FMAs;
 * activations and accumulation stay fp32. Compiled with -mavx2 -mfma
 * -mf16c (all part of x86-64-v3).
 *
 *===----------------------------------------------------------------------===*/

#include <stdint.h>

#define TILE_B uint16_t
#define LOAD_B8(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))
#define TILE_FN kiln_hgemm_tile_avx2
#include "gemm_tile_avx2_impl.h"
