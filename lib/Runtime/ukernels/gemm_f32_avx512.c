/*===- gemm_f32_avx512.c - fp32 GEMM tile kernel, AVX-512 -----------------===*
 *
 * gemm_tile_avx512_impl.h on fp32 panels. Compiled with -mavx512f; only
 * called when the model was compiled for a CPU with AVX-512.
 *
 *===----------------------------------------------------------------------===*/

#define TILE_B float
/* panel values fetched ahead in the k loop (1 KiB): on the AMX Xeon,
 * gemm_bench at BERT-base's shapes 151-174 -> 178-207 GFLOP/s (2 KiB
 * 175-195), BERT-base fp32 1.10x and ViT 4x256 1.03-1.07x faster (`kiln
 * run --against`, both orders); not measured on Zen 4 */
#define TILE_PF 256
#define LOAD_B16(p) _mm512_loadu_ps(p)
#define TILE_FN kiln_sgemm_tile_avx512
#include "gemm_tile_avx512_impl.h"
