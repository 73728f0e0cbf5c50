/*===- gemm_f16_avx512.c - fp16-weight GEMM tile kernel, AVX-512 ----------===*
 *
 * --precision fp16 on AVX-512 CPUs (which, like Zen 4, need not have
 * AVX512-FP16 arithmetic): gemm_tile_avx512_impl.h on fp16 panels, each 16
 * values widened to fp32 by one vcvtph2ps (exact, AVX512F) before the
 * FMAs; activations and accumulation stay fp32.
 *
 *===----------------------------------------------------------------------===*/

#include <stdint.h>

#define TILE_B uint16_t
#define LOAD_B16(p) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p)))
#define TILE_FN kiln_hgemm_tile_avx512
#include "gemm_tile_avx512_impl.h"
