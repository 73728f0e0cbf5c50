/*===- gemm_s8_avx2.c - u8 x s8 GEMM tile kernel, AVX2 --------------------===*
 *
 * The x86-64-v3 variant of the int8 tile (gemm_s8_avx512.c has the VNNI
 * one), on the same packed layouts (gemm_s8.h): up to 5 rows x 8 columns
 * (half a panel). Without VNNI the products are widened to 16 bits so
 * nothing saturates (vpmaddubsw would: 255 * 127 * 2 > 32767): per quad,
 * the 8 columns' 4 weights are sign-extended (vpmovsxbw, two halves of 4
 * columns), each row's 4 activations broadcast and zero-extended in place
 * (vpshufb), and vpmaddwd gives each column's two pair
 * sums in adjacent int32 lanes, added up in the epilogue (vphaddd). The
 * int32 sums are exact, so results equal the VNNI and generic tiles'. The
 * epilogue is the fp32 kernels' (gemm_store_avx2.h). Compiled with -mavx2.
 *
 *===----------------------------------------------------------------------===*/

#include "gemm_s8.h"
#include "gemm_store_avx2.h"

#include <math.h>
#include <string.h>

#define MR KILN_QGEMM_MR_AVX2

static inline __attribute__((always_inline)) void
tile(const int mr, int64_t nc, int64_t kq, const uint8_t *ap, const int8_t *b0,
     const float *sb0, const float *rowq, float *c, int64_t ldc,
     int accumulate, int last, const kiln_epilogue *ep) {
  __m256i lo[MR], hi[MR]; /* columns 0-3 / 4-7, two lanes per column */
  const __m256i widen = _mm256_setr_epi8(
      0, -1, 1, -1, 2, -1, 3, -1, 0, -1, 1, -1, 2, -1, 3, -1,
      0, -1, 1, -1, 2, -1, 3, -1, 0, -1, 1, -1, 2, -1, 3, -1);
#pragma GCC unroll 5
  for (int i = 0; i < mr; ++i) {
    lo[i] = _mm256_setzero_si256();
    hi[i] = _mm256_setzero_si256();
  }
  for (int64_t q = 0; q < kq; ++q) {
    __m256i w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b0 + q * 64)));
    __m256i w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b0 + q * 64 + 16)));
#pragma GCC unroll 5
    for (int i = 0; i < mr; ++i) {
      int32_t a4;
      memcpy(&a4, ap + (q * mr + i) * 4, 4);
      /* the row's 4 bytes broadcast, then zero-extended in place */
      __m256i av = _mm256_shuffle_epi8(_mm256_set1_epi32(a4), widen);
      lo[i] = _mm256_add_epi32(lo[i], _mm256_madd_epi16(w0, av));
      hi[i] = _mm256_add_epi32(hi[i], _mm256_madd_epi16(w1, av));
    }
  }
  __m256 sb = _mm256_loadu_ps(sb0);
  __m256i colsum = _mm256_loadu_si256((const __m256i *)(sb0 + 16));
  const kiln_epilogue *e = last ? ep : NULL;
#pragma GCC unroll 5
  for (int i = 0; i < mr; ++i) {
    /* [c0 c1 c4 c5 | c2 c3 c6 c7] -> columns in order */
    __m256i acc = _mm256_permute4x64_epi64(_mm256_hadd_epi32(lo[i], hi[i]), 0xD8);
    if (last)
      acc = _mm256_sub_epi32(
          acc, _mm256_mullo_epi32(_mm256_set1_epi32((int32_t)rowq[2 * i + 1]), colsum));
    __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc),
                             _mm256_mul_ps(_mm256_set1_ps(rowq[2 * i]), sb));
    store8(c + i * ldc, v, nc, accumulate, e, i, 0);
  }
}

#define CASE(R)                                                                \
  case R:                                                                      \
    tile(R, nc, kq, ap, b0, sb0, rowq, c, ldc, accumulate, last, ep);          \
    return;

void kiln_qgemm_tile_avx2(int64_t mr, int64_t nc, int64_t kq,
                          const uint8_t *ap, const int8_t *b0, const int8_t *b1,
                          const float *sb0, const float *sb1, const float *rowq,
                          float *c, int64_t ldc, int accumulate, int last,
                          const kiln_epilogue *ep) {
  (void)b1, (void)sb1;
  switch (mr) {
    CASE(1) CASE(2) CASE(3) CASE(4) CASE(5)
  default:
    return;
  }
}

/* Quantizes a row block of A (unit column stride) 8 values at a time, as
 * kiln_qgemm_pack_a_avx512 does (same results: the same float operations
 * per value, round to nearest even, saturated to [0, 255]). */
void kiln_qgemm_pack_a_avx2(const float *a, int64_t lda, int64_t rows,
                            int64_t k, int64_t kq, uint8_t *dst, float *rowq,
                            const float *fixed) {
  uint32_t *d32 = (uint32_t *)dst;
  for (int64_t i = 0; i < rows; ++i) {
    const float *src = a + i * lda;
    float s, zf;
    if (fixed) {
      s = fixed[0];
      zf = fixed[1];
    } else {
      __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
      int64_t kk = 0;
      for (; kk + 8 <= k; kk += 8) {
        __m256 v = _mm256_loadu_ps(src + kk);
        lo = _mm256_min_ps(v, lo);
        hi = _mm256_max_ps(v, hi);
      }
      float l[8], h[8];
      _mm256_storeu_ps(l, lo);
      _mm256_storeu_ps(h, hi);
      float fl = 0.0f, fh = 0.0f;
      for (int t = 0; t < 8; ++t) {
        fl = l[t] < fl ? l[t] : fl;
        fh = h[t] > fh ? h[t] : fh;
      }
      for (; kk < k; ++kk) {
        fl = src[kk] < fl ? src[kk] : fl;
        fh = src[kk] > fh ? src[kk] : fh;
      }
      s = (fh - fl) / 255.0f;
      zf = 0.0f;
      if (!(s > 0.0f) || !(s < INFINITY))
        s = 1.0f;
      else
        zf = nearbyintf(-fl / s);
      zf = zf < 0.0f ? 0.0f : zf > 255.0f ? 255.0f : zf;
    }
    rowq[2 * i] = s;
    rowq[2 * i + 1] = zf;
    __m256 sv = _mm256_set1_ps(s), inv = _mm256_set1_ps(1.0f / s);
    __m256 zv = _mm256_set1_ps(zf), top = _mm256_set1_ps(255.0f);
    for (int64_t k0 = 0; k0 < kq * 4; k0 += 8) {
      float buf[8] = {0};
      const float *p = src + k0;
      if (k0 + 8 > k) {
        for (int64_t t = 0; t < 8 && k0 + t < k; ++t)
          buf[t] = src[k0 + t];
        p = buf;
      }
      __m256 v = _mm256_loadu_ps(p);
      v = fixed ? _mm256_div_ps(v, sv) : _mm256_mul_ps(v, inv);
      v = _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      v = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(v, zv), _mm256_setzero_ps()), top);
      int32_t q[8];
      _mm256_storeu_si256((__m256i *)q, _mm256_cvtps_epi32(v));
      int64_t nq = (kq * 4 - k0) / 4 < 2 ? (kq * 4 - k0) / 4 : 2;
      for (int64_t t = 0; t < nq; ++t)
        d32[(k0 / 4 + t) * rows + i] = (uint32_t)q[4 * t] | (uint32_t)q[4 * t + 1] << 8 |
                                       (uint32_t)q[4 * t + 2] << 16 | (uint32_t)q[4 * t + 3] << 24;
    }
  }
}
