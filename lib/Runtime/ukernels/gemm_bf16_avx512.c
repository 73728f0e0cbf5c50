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

#include "gemm_amx.h"
#include "gemm_bf16.h"
#include "gemm_store_avx512.h"
#include "transpose_avx512.h"

#include <string.h>

#define MR KILN_SGEMM_MR_AVX512
/* Panel values fetched ahead of the k loop (4 KiB: each row block's first
 * tile streams its panels from memory). BERT-base bf16, 1 thread: 60.7 ms
 * without, 58.7 at 512 values, 57.3 at 1024, 57.0 at 2048, 59.3 at 4096;
 * 2 threads 36.6 -> 34.7 ms at 2048. */
#define PF 2048


static inline __m512bh pair_bcast(const uint16_t *p) {
  int32_t v;
  memcpy(&v, p, 4);
  return (__m512bh)_mm512_set1_epi32(v);
}

/* lda == 0: A packed in k-pair order (gemm_bf16.c); otherwise A is
 * row-major bf16 with lda values per row (attention's Q and P blocks,
 * read in place from L1) */
static inline __attribute__((always_inline)) void
tile(const int mr, int two, int64_t nc, int64_t kq, const uint16_t *ap,
     const int64_t lda, const uint16_t *b0, const uint16_t *b1, float *c,
     int64_t ldc, int accumulate, const kiln_epilogue *ep,
     const kiln_gemm_side *side) {
  __m512 acc0[MR], acc1[MR];
#pragma GCC unroll 12
  for (int i = 0; i < mr; ++i) {
    acc0[i] = _mm512_setzero_ps();
    acc1[i] = _mm512_setzero_ps();
  }
  /* row-major A: rows 3t + u at base t, u row strides on (four bases and
   * one stride in registers: base + stride * {0, 1, 2} addressing) */
  const char *base[4];
  const int64_t ls = lda * 2;
  for (int t = 0; t < 4; ++t)
    base[t] = (const char *)ap + 3 * t * ls;
  KILN_GEMM_SIDE_BEGIN(side, kq);
  for (int64_t q = 0; q < kq; ++q) {
    KILN_GEMM_SIDE_STEP(q);
    __m512bh v0 = (__m512bh)_mm512_loadu_si512(b0 + q * 32);
    __m512bh v1 = two ? (__m512bh)_mm512_loadu_si512(b1 + q * 32) : v0;
    _mm_prefetch((const char *)(b0 + q * 32 + PF), _MM_HINT_T0);
    if (two)
      _mm_prefetch((const char *)(b1 + q * 32 + PF), _MM_HINT_T0);
#pragma GCC unroll 12
    for (int i = 0; i < mr; ++i) {
      __m512bh av = pair_bcast(lda ? (const uint16_t *)(base[i / 3] + (i % 3) * ls + q * 4)
                                   : ap + (q * mr + i) * 2);
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
      tile(R, 1, nc, kq, ap, 0, b0, b1, c, ldc, accumulate, ep, side);         \
    else                                                                       \
      tile(R, 0, nc, kq, ap, 0, b0, b1, c, ldc, accumulate, ep, side);         \
    return;

void kiln_sbgemm_tile_avx512bf16(int64_t mr, int64_t nc, int64_t kq,
                                 const uint16_t *ap, const uint16_t *b0,
                                 const uint16_t *b1, float *c, int64_t ldc,
                                 int accumulate, const kiln_epilogue *ep,
                                 const kiln_gemm_side *side) {
  switch (mr) {
    CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6)
    CASE(7) CASE(8) CASE(9) CASE(10) CASE(11) CASE(12)
  default:
    return;
  }
}

#define CASE_RM(R)                                                             \
  case R:                                                                      \
    if (nc > 16)                                                               \
      tile(R, 1, nc, kq, ap, lda, b0, b1, cc, ldc, 0, NULL, &none);            \
    else                                                                       \
      tile(R, 0, nc, kq, ap, lda, b0, b1, cc, ldc, 0, NULL, &none);            \
    break;

/* C[m x n] = A B with A row-major bf16 (lda values per row, k padded to
 * kq pairs with zeros) and B in k-pair panels (kiln_sbgemm_pack_b), no
 * epilogue, on the calling thread: attention's two products, whose A
 * blocks are small enough to stay in L1 without packing. */
static void sbgemm_rm_amx(int64_t m, int64_t n, int64_t kq, const uint16_t *a,
                          int64_t lda, const uint16_t *bp, float *c,
                          int64_t ldc);

void kiln_sbgemm_rm_avx512bf16(int64_t m, int64_t n, int64_t kq,
                               const uint16_t *a, int64_t lda,
                               const uint16_t *bp, float *c, int64_t ldc) {
  if (kq % 16 == 0 && m >= KILN_SBGEMM_AMX_MIN_M && kiln_cpu_has_amx_bf16()) {
    sbgemm_rm_amx(m, n, kq, a, lda, bp, c, ldc);
    return;
  }
  const kiln_gemm_side none = {NULL, NULL, 0};
  for (int64_t j0 = 0; j0 < n; j0 += 32) {
    int64_t nc = n - j0 < 32 ? n - j0 : 32;
    const uint16_t *b0 = bp + (j0 / 16) * kq * 32;
    const uint16_t *b1 = nc > 16 ? b0 + kq * 32 : b0;
    for (int64_t i0 = 0; i0 < m; i0 += MR) {
      int64_t mr = m - i0 < MR ? m - i0 : MR;
      const uint16_t *ap = a + i0 * lda;
      float *cc = c + i0 * ldc + j0;
      switch (mr) {
        CASE_RM(1) CASE_RM(2) CASE_RM(3) CASE_RM(4) CASE_RM(5) CASE_RM(6)
        CASE_RM(7) CASE_RM(8) CASE_RM(9) CASE_RM(10) CASE_RM(11) CASE_RM(12)
      default:
        break;
      }
    }
  }
}

/* rows x k floats (row stride lds) rounded to bf16, row-major with ldd
 * values per row; columns k .. kpad - 1 become 0. */
void kiln_bf16_rows_avx512bf16(const float *src, int64_t lds, int64_t rows,
                               int64_t k, int64_t kpad, uint16_t *dst,
                               int64_t ldd) {
  for (int64_t i = 0; i < rows; ++i) {
    const float *s = src + i * lds;
    uint16_t *d = dst + i * ldd;
    for (int64_t j = 0; j < kpad; j += 32) {
      __mmask16 lo = mask_of(k - j), hi = mask_of(k - j - 16);
      __m512i v = (__m512i)_mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(hi, s + j + 16),
                                               _mm512_maskz_loadu_ps(lo, s + j));
      if (kpad - j >= 32)
        _mm512_storeu_si512(d + j, v);
      else
        _mm512_mask_storeu_epi16(d + j, (__mmask32)((1ull << (kpad - j)) - 1u), v);
    }
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
      /* zero past k (the pad of an odd k) */
      kiln_bf16_rows_avx512bf16(src + k0, 0, 1, kn, 2 * nq, (uint16_t *)row, 0);
      for (int64_t q = 0; q < nq; ++q)
        d32[(q0 + q) * rows + i] = row[q];
    }
  }
}

/* kiln_sbgemm_pack_b (gemm_bf16.c) for unit row stride (B = K^T: each
 * column's k values contiguous) or unit column stride (B = V: rows
 * contiguous), rounded by vcvtne2ps2bf16. Returns 0 for other strides. */
int kiln_sbgemm_pack_b_avx512bf16(int64_t k, int64_t kqs, int64_t n,
                                  const float *b, int64_t rs, int64_t cs,
                                  uint16_t *out) {
  int64_t kq = (k + 1) / 2, panels = (n + 15) / 16;
  uint32_t *o32 = (uint32_t *)out;
  if (rs != 1 && cs != 1)
    return 0;
  for (int64_t p = 0; p < panels; ++p) /* the pairs past k: zeros */
    memset(o32 + (p * kqs + kq) * 16, 0, (size_t)((kqs - kq) * 16) * sizeof(uint32_t));
  if (cs == 1) {
    /* dword j of pair q: B[2q][j] low, B[2q + 1][j] high */
    const __m512i spread = _mm512_set_epi16(
        31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7,
        22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    for (int64_t p = 0; p < panels; ++p) {
      __mmask16 mc = mask_of(n - p * 16);
      for (int64_t q = 0; q < kq; ++q) {
        const float *r0 = b + 2 * q * rs + p * 16;
        __m512 lo = _mm512_maskz_loadu_ps(mc, r0);
        __m512 hi = 2 * q + 1 < k ? _mm512_maskz_loadu_ps(mc, r0 + rs)
                                  : _mm512_setzero_ps();
        __m512i v = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
        _mm512_storeu_si512(o32 + (p * kqs + q) * 16,
                            _mm512_permutexvar_epi16(spread, v));
      }
    }
    return 1;
  }
  if (rs != 1)
    return 0;
  for (int64_t p = 0; p < panels; ++p) {
    int64_t cols = n - p * 16 < 16 ? n - p * 16 : 16;
    for (int64_t q0 = 0; q0 < kq; q0 += 16) {
      /* r[j]: pairs q0 .. q0 + 15 of column j, then transposed */
      __m512 r[16]; /* dwords of bf16 pairs, transposed as floats */
      __mmask16 mlo = mask_of(k - 2 * q0), mhi = mask_of(k - 2 * q0 - 16);
      for (int64_t j = 0; j < 16; ++j) {
        const float *src = b + (p * 16 + j) * cs + 2 * q0;
        r[j] = j < cols ? (__m512)_mm512_cvtne2ps_pbh(
                              _mm512_maskz_loadu_ps(mhi, src + 16),
                              _mm512_maskz_loadu_ps(mlo, src))
                        : _mm512_setzero_ps();
      }
      kiln_transpose16_ps(r);
      int64_t nq = kq - q0 < 16 ? kq - q0 : 16;
      for (int64_t m = 0; m < nq; ++m)
        _mm512_storeu_ps(o32 + (p * kqs + q0 + m) * 16, r[m]);
    }
  }
  return 1;
}

/* ---- AMX-BF16: tdpbf16ps on 16 x 64-byte tiles ------------------------- *
 * As the int8 AMX tile (gemm_s8_avx512.c, configuration in gemm_amx.h),
 * with 16 k-pairs per step: an A tile is 16 rows of 32 bf16, a B tile 16
 * pairs of one panel as packed (1 KiB), a C tile 16 x 16 fp32; up to 2 x 2
 * C tiles over the whole k, stored to a buffer and given the fp32
 * epilogue. */

KILN_AMX_SUMS(amx_sums_bf16, _tile_dpbf16ps)

void kiln_sbgemm_tile_amx(int64_t mr, int64_t nc, int64_t kq, const uint16_t *ap,
                          int64_t lda, const uint16_t *b0, const uint16_t *b1,
                          float *c, int64_t ldc, int accumulate,
                          const kiln_epilogue *ep, const kiln_gemm_side *side) {
  _Alignas(64) float buf[32 * 32];
  KILN_AMX_RUN(amx_sums_bf16, mr, nc, kq, ap, lda, 64, b0, b1, buf, side);
  int two = nc > 16;
  __mmask16 m0 = mask_of(nc), m1 = mask_of(nc - 16);
  for (int64_t i = 0; i < mr; ++i) {
    store_row(c + i * ldc, _mm512_load_ps(buf + i * 32), m0, accumulate, ep, i, 0);
    if (two)
      store_row(c + i * ldc + 16, _mm512_load_ps(buf + i * 32 + 16), m1,
                accumulate, ep, i, 16);
  }
  tile_done(c, ldc, mr, nc, 0, ep);
}

/* A row block (rows x k, unit column stride) rounded to bf16 in the AMX
 * tile's order: per 32 k, the block's rows of 32 values
 * (dst[((kk / 32) * rows + i) * 32 + kk % 32]; kq pairs, zero past k). */
void kiln_sbgemm_pack_a_amx(const float *a, int64_t lda, int64_t rows,
                            int64_t k, int64_t kq, uint16_t *dst) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < kq * 2; j += 32)
      kiln_bf16_rows_avx512bf16(a + i * lda + j, 0, 1, k - j, 32,
                                dst + ((j / 32) * rows + i) * 32, 0);
}

/* kiln_sbgemm_rm_avx512bf16 on AMX-BF16 (kq a multiple of 16): A's rows
 * read in place as tiles (row stride lda values), C through the buffer. */
static void sbgemm_rm_amx(int64_t m, int64_t n, int64_t kq, const uint16_t *a,
                          int64_t lda, const uint16_t *bp, float *c,
                          int64_t ldc) {
  _Alignas(64) float buf[32 * 32];
  for (int64_t j0 = 0; j0 < n; j0 += 32) {
    int64_t nc = n - j0 < 32 ? n - j0 : 32;
    const uint16_t *b0 = bp + (j0 / 16) * kq * 32;
    const uint16_t *b1 = nc > 16 ? b0 + kq * 32 : b0;
    int two = nc > 16;
    __mmask16 m0 = mask_of(nc), m1 = mask_of(nc - 16);
    for (int64_t i0 = 0; i0 < m; i0 += 32) {
      int64_t mr = m - i0 < 32 ? m - i0 : 32;
      KILN_AMX_RUN(amx_sums_bf16, mr, nc, kq, a + i0 * lda, 64, lda * 2, b0, b1,
                   buf, NULL);
      for (int64_t i = 0; i < mr; ++i) {
        _mm512_mask_storeu_ps(c + (i0 + i) * ldc + j0, m0, _mm512_load_ps(buf + i * 32));
        if (two)
          _mm512_mask_storeu_ps(c + (i0 + i) * ldc + j0 + 16, m1,
                                _mm512_load_ps(buf + i * 32 + 16));
      }
    }
  }
}
