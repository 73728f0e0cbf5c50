/*===- gemm_bf16_avx2.c - bf16 weights on AVX2 (--precision bf16) ---------===*
 *
 * The x86-64-v3 tile of gemm_bf16.c, for CPUs without AVX512-BF16: up to
 * KILN_SBGEMM_MR_AVX2 (4) rows x 16 columns (one panel; 5 rows spilled an
 * accumulator) over k-pairs of the
 * packed bf16 weights. A panel's k-pair row is 16 (even k, odd k) bf16
 * pairs: two 32-byte loads give 8 columns each, and a shift (even k) and a
 * mask (odd k) widen them to fp32 exactly. The activations are packed as
 * fp32 values rounded to bf16 (kiln_sbgemm_pack_a_avx2), so each row's
 * value is one broadcast from memory and the products are those of the
 * AVX512-BF16 tile (bf16 x bf16, exact in fp32), accumulated in fp32. The
 * epilogue is the fp32 kernels' (gemm_store_avx2.h). Compiled with -mavx2
 * -mfma.
 *
 *===----------------------------------------------------------------------===*/

#include "gemm_bf16.h"
#include "gemm_store_avx2.h"

#define MR KILN_SBGEMM_MR_AVX2

static inline __attribute__((always_inline)) void
tile(const int mr, int64_t nc, int64_t kq, const float *ap, const uint16_t *b0,
     float *c, int64_t ldc, int accumulate, const kiln_epilogue *ep) {
  __m256 lo[MR], hi[MR];
#pragma GCC unroll 4
  for (int i = 0; i < mr; ++i) {
    lo[i] = _mm256_setzero_ps();
    hi[i] = _mm256_setzero_ps();
  }
  const __m256i odd = _mm256_set1_epi32((int32_t)0xffff0000u);
  for (int64_t q = 0; q < kq; ++q) {
    __m256i r0 = _mm256_loadu_si256((const __m256i *)(b0 + q * 32));
    __m256i r1 = _mm256_loadu_si256((const __m256i *)(b0 + q * 32 + 16));
    __m256 e0 = _mm256_castsi256_ps(_mm256_slli_epi32(r0, 16));
    __m256 e1 = _mm256_castsi256_ps(_mm256_slli_epi32(r1, 16));
#pragma GCC unroll 4
    for (int i = 0; i < mr; ++i) {
      __m256 a = _mm256_broadcast_ss(ap + (q * mr + i) * 2);
      lo[i] = _mm256_fmadd_ps(a, e0, lo[i]);
      hi[i] = _mm256_fmadd_ps(a, e1, hi[i]);
    }
    __m256 o0 = _mm256_castsi256_ps(_mm256_and_si256(r0, odd));
    __m256 o1 = _mm256_castsi256_ps(_mm256_and_si256(r1, odd));
#pragma GCC unroll 4
    for (int i = 0; i < mr; ++i) {
      __m256 a = _mm256_broadcast_ss(ap + (q * mr + i) * 2 + 1);
      lo[i] = _mm256_fmadd_ps(a, o0, lo[i]);
      hi[i] = _mm256_fmadd_ps(a, o1, hi[i]);
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < mr; ++i) {
    store8(c + i * ldc, lo[i], nc, accumulate, ep, i, 0);
    store8(c + i * ldc + 8, hi[i], nc - 8, accumulate, ep, i, 8);
  }
  tile_done(c, ldc, mr, nc, 0, ep);
}

#define CASE(R)                                                                \
  case R:                                                                      \
    tile(R, nc, kq, (const float *)ap, b0, c, ldc, accumulate, ep);            \
    return;

void kiln_sbgemm_tile_avx2(int64_t mr, int64_t nc, int64_t kq,
                           const uint16_t *ap, const uint16_t *b0,
                           const uint16_t *b1, float *c, int64_t ldc,
                           int accumulate, const kiln_epilogue *ep,
                           const kiln_gemm_side *side) {
  (void)b1;
  kiln_gemm_side_burst(side);
  switch (mr) {
    CASE(1) CASE(2) CASE(3) CASE(4)
  default:
    return;
  }
}
