/*===- gemm_f32_avx512.c - fp32 GEMM tile kernel, AVX-512 -----------------===*
 *
 * gemm_tile_avx512_impl.h on fp32 panels. Compiled with -mavx512f; only
 * called when the model was compiled for a CPU with AVX-512.
 *
 *===----------------------------------------------------------------------===*/

#define TILE_B float
#define LOAD_B16(p) _mm512_loadu_ps(p)
#define TILE_FN kiln_sgemm_tile_avx512
#include "gemm_tile_avx512_impl.h"
