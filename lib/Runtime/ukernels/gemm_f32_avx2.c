/*===- gemm_f32_avx2.c - fp32 GEMM tile kernel, AVX2 + FMA ----------------===*
 *
 * The portable x86-64-v3 variant (gemm_tile_avx2_impl.h) on fp32 panels:
 * same packed layouts as the AVX-512 kernel. Compiled with -mavx2 -mfma.
 *
 *===----------------------------------------------------------------------===*/

#define TILE_B float
#define LOAD_B8(p) _mm256_loadu_ps(p)
#define TILE_FN kiln_sgemm_tile_avx2
#include "gemm_tile_avx2_impl.h"
