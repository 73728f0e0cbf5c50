/*===- gemm_bf16_avx512.c - bf16 GEMM tile kernel, AVX512-BF16 -----------===*
 *
 * A register tile of up to 12 rows x 32 columns, like the fp32 kernel
 * (gemm_f32_avx512.c), over pairs of k: per k-pair, two 64-byte panel loads
 * (16 columns x 2 k each) and, per row, one 32-bit broadcast of the row's
 * two bf16 values feeding two vdpbf16ps (each 32 multiply-adds into 16 fp32
 * accumulators: twice the fp32 FMA's work per instruction). Layouts in
 * gemm_bf16.c; the epilogue is the fp32 kernels' (gemm_store_avx512.h).
 * Compiled with -mavx512bf16; only called when the CPU has it.
 *
 *===----------------------------------------------------------------------===*/

#include "gemm_store_avx512.h"

#include <string.h>

#define MR KILN_SGEMM_MR_AVX512

static inline __m512bh pair_bcast(const uint16_t *p) {
  int32_t v;
  memcpy(&v, p, 4);
  return (__m512bh)_mm512_set1_epi32(v);
}

static inline __attribute__((always_inline)) void
tile(const int mr, int two, int64_t nc, int64_t kq, const uint16_t *ap,
     const uint16_t *b0, const uint16_t *b1, float *c, int64_t ldc,
     int accumulate, const kiln_epilogue *ep) {
  __m512 acc0[MR], acc1[MR];
#pragma GCC unroll 12
  for (int i = 0; i < mr; ++i) {
    acc0[i] = _mm512_setzero_ps();
    acc1[i] = _mm512_setzero_ps();
  }
  for (int64_t q = 0; q < kq; ++q) {
    __m512bh v0 = (__m512bh)_mm512_loadu_si512(b0 + q * 32);
    __m512bh v1 = two ? (__m512bh)_mm512_loadu_si512(b1 + q * 32) : v0;
#pragma GCC unroll 12
    for (int i = 0; i < mr; ++i) {
      __m512bh av = pair_bcast(ap + (q * mr + i) * 2);
      acc0[i] = _mm512_dpbf16_ps(acc0[i], av, v0);
      if (two)
        acc1[i] = _mm512_dpbf16_ps(acc1[i], av, v1);
    }
  }
  __mmask16 m0 = mask_of(nc), m1 = mask_of(nc - 16);
#pragma GCC unroll 12
  for (int i = 0; i < mr; ++i) {
    store_row(c + i * ldc, acc0[i], m0, accumulate, ep, i, 0);
    if (two)
      store_row(c + i * ldc + 16, acc1[i], m1, accumulate, ep, i, 16);
  }
  tile_done(c, ldc, mr, nc, 0, ep);
}

#define CASE(R)                                                                \
  case R:                                                                      \
    if (nc > 16)                                                               \
      tile(R, 1, nc, kq, ap, b0, b1, c, ldc, accumulate, ep);                  \
    else                                                                       \
      tile(R, 0, nc, kq, ap, b0, b1, c, ldc, accumulate, ep);                  \
    return;

void kiln_sbgemm_tile_avx512bf16(int64_t mr, int64_t nc, int64_t kq,
                                 const uint16_t *ap, const uint16_t *b0,
                                 const uint16_t *b1, float *c, int64_t ldc,
                                 int accumulate, const kiln_epilogue *ep) {
  switch (mr) {
    CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6)
    CASE(7) CASE(8) CASE(9) CASE(10) CASE(11) CASE(12)
  default:
    return;
  }
}

/* Packs a row block of A (rows x k, unit column stride) into k-pair order
 * (gemm_bf16.c): each row is rounded to bf16 32 values at a time
 * (vcvtne2ps2bf16, nearest even), then its pairs are spread with stride
 * rows. */
void kiln_sbgemm_pack_a_avx512bf16(const float *a, int64_t lda, int64_t rows,
                                   int64_t k, int64_t kq, uint16_t *dst) {
  uint32_t *d32 = (uint32_t *)dst;
  uint32_t row[256];
  for (int64_t i = 0; i < rows; ++i) {
    const float *src = a + i * lda;
    for (int64_t q0 = 0; q0 < kq; q0 += 256) {
      int64_t nq = kq - q0 < 256 ? kq - q0 : 256;
      int64_t k0 = 2 * q0, kn = k - k0 < 2 * nq ? k - k0 : 2 * nq;
      int64_t j = 0;
      for (; j + 32 <= kn; j += 32) {
        __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + k0 + j + 16),
                                         _mm512_loadu_ps(src + k0 + j));
        _mm512_storeu_si512(row + j / 2, (__m512i)v);
      }
      if (j < 2 * nq) {
        /* the tail (and the zero pad of an odd k) through masked loads */
        int64_t left = kn - j;
        __mmask16 lo = left >= 16 ? 0xffff : left <= 0 ? 0 : (__mmask16)((1u << left) - 1u);
        __mmask16 hi = left >= 32 ? 0xffff : left <= 16 ? 0 : (__mmask16)((1u << (left - 16)) - 1u);
        __m512bh v = _mm512_cvtne2ps_pbh(
            _mm512_maskz_loadu_ps(hi, src + k0 + j + 16),
            _mm512_maskz_loadu_ps(lo, src + k0 + j));
        _mm512_storeu_si512(row + j / 2, (__m512i)v);
      }
      for (int64_t q = 0; q < nq; ++q)
        d32[(q0 + q) * rows + i] = row[q];
    }
  }
}
