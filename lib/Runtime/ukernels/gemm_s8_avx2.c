/*===- gemm_s8_avx2.c - u8 x s8 GEMM tile kernel, AVX2 --------------------===*
 *
 * The x86-64-v3 variant of the int8 tile (gemm_s8_avx512.c has the VNNI
 * one), on the packed weights of gemm_s8.h: up to 6 rows x 8 columns (half
 * a panel). Without VNNI the products are widened to 16 bits so nothing
 * saturates (vpmaddubsw would: 255 * 127 * 2 > 32767). The activations are
 * packed already widened (kiln_qgemm_pack_a_avx2: each row's quad of k as
 * four u16, 8 bytes), so a row's quad is one vpbroadcastq from memory. Per
 * quad, the tile's 8 columns of 4 weights are sign-extended (vpmovsxbw, two
 * halves of 4 columns) and vpmaddwd gives each column's two pair sums in
 * adjacent int32 lanes (16 exact multiply-adds per instruction, the most
 * AVX2 has without saturating), added up in the epilogue (vphaddd). 6 x 2
 * accumulators, 2 weight registers and the broadcast fill 15 of the 16
 * registers. The int32 sums are exact, so results equal the VNNI and
 * generic tiles'. The epilogue is the fp32 kernels' (gemm_store_avx2.h).
 * Compiled with -mavx2.
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
  const uint16_t *a16 = (const uint16_t *)ap;
#pragma GCC unroll 6
  for (int i = 0; i < mr; ++i) {
    lo[i] = _mm256_setzero_si256();
    hi[i] = _mm256_setzero_si256();
  }
  int64_t q = 0;
  if (mr == MR && kq > 0) {
    /* GCC spills 6 x 2 accumulators (it hoists the broadcasts), so the full
     * tile's loop is written out: weights in ymm12-13, the broadcast in
     * ymm14, a product in ymm15, the accumulators in the other 12 */
    const uint16_t *ar = a16;
    const int8_t *br = b0;
    int64_t n = kq;
#define ROW(OFF, C0, C1)                                                       \
  "vpbroadcastq " #OFF "(%[a]), %%ymm14\n\t"                                  \
  "vpmaddwd %%ymm14, %%ymm12, %%ymm15\n\t"                                     \
  "vpaddd %%ymm15, %[" #C0 "], %[" #C0 "]\n\t"                                \
  "vpmaddwd %%ymm14, %%ymm13, %%ymm14\n\t"                                     \
  "vpaddd %%ymm14, %[" #C1 "], %[" #C1 "]\n\t"
    __asm__("1:\n\t"
            "vpmovsxbw (%[b]), %%ymm12\n\t"
            "vpmovsxbw 16(%[b]), %%ymm13\n\t"
            ROW(0, l0, h0) ROW(8, l1, h1) ROW(16, l2, h2)
            ROW(24, l3, h3) ROW(32, l4, h4) ROW(40, l5, h5)
            "add $64, %[b]\n\t"
            "add $48, %[a]\n\t"
            "dec %[n]\n\t"
            "jnz 1b\n\t"
            : [a] "+r"(ar), [b] "+r"(br), [n] "+r"(n), [l0] "+x"(lo[0]), [h0] "+x"(hi[0]), [l1] "+x"(lo[1]),
              [h1] "+x"(hi[1]), [l2] "+x"(lo[2]), [h2] "+x"(hi[2]),
              [l3] "+x"(lo[3]), [h3] "+x"(hi[3]), [l4] "+x"(lo[4]),
              [h4] "+x"(hi[4]), [l5] "+x"(lo[5]), [h5] "+x"(hi[5])
            :
            : "cc", "memory", "xmm12", "xmm13", "xmm14", "xmm15");
#undef ROW
    q = kq;
  }
  for (; q < kq; ++q) {
    __m256i w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b0 + q * 64)));
    __m256i w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b0 + q * 64 + 16)));
#pragma GCC unroll 6
    for (int i = 0; i < mr; ++i) {
      int64_t a4;
      memcpy(&a4, a16 + (q * mr + i) * 4, 8);
      __m256i av = _mm256_set1_epi64x(a4); /* the row's 4 u16, broadcast */
      lo[i] = _mm256_add_epi32(lo[i], _mm256_madd_epi16(w0, av));
      hi[i] = _mm256_add_epi32(hi[i], _mm256_madd_epi16(w1, av));
    }
  }
  __m256 sb = _mm256_loadu_ps(sb0);
  __m256i colsum = _mm256_loadu_si256((const __m256i *)(sb0 + 16));
  const kiln_epilogue *e = last ? ep : NULL;
#pragma GCC unroll 6
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
  tile_done(c, ldc, mr, nc, 0, e);
}

#define CASE(R)                                                                \
  case R:                                                                      \
    tile(R, nc, kq, ap, b0, sb0, rowq, c, ldc, accumulate, last, ep);          \
    return;

void kiln_qgemm_tile_avx2(int64_t mr, int64_t nc, int64_t kq,
                          const uint8_t *ap, const int8_t *b0, const int8_t *b1,
                          const float *sb0, const float *sb1, const float *rowq,
                          float *c, int64_t ldc, int accumulate, int last,
                          const kiln_epilogue *ep, const kiln_gemm_side *side) {
  (void)b1, (void)sb1;
  kiln_gemm_side_burst(side);
  switch (mr) {
    CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6)
  default:
    return;
  }
}

/* The 7-bit-weight tile: up to 5 rows x 16 columns (one panel). Per quad,
 * the panel's 64 bytes are two registers of 8 columns x 4 weights; each
 * row's 4 activations are broadcast (vpbroadcastd from memory) and
 * vpmaddubsw sums the u8 x s8 pairs into int16 (exact: |w| <= 63, so
 * 255 * 63 * 2 < 32767), then vpmaddwd with ones sums the two pairs of
 * each column into its int32 lane, in column order. 10 accumulators, 2
 * weight registers, the broadcast, a product and the ones: 15. */
#define MR7 KILN_QGEMM_MR_AVX2_S7

static inline __attribute__((always_inline)) void
tile7(const int mr, int64_t nc, int64_t kq, const uint8_t *ap,
      const int8_t *b0, const float *sb0, const float *rowq, float *c,
      int64_t ldc, int accumulate, int last, const kiln_epilogue *ep) {
  __m256i lo[MR7], hi[MR7]; /* columns 0-7 / 8-15 */
#pragma GCC unroll 5
  for (int i = 0; i < mr; ++i) {
    lo[i] = _mm256_setzero_si256();
    hi[i] = _mm256_setzero_si256();
  }
  int64_t q = 0;
  if (mr == MR7 && kq > 0) {
    /* written out, as the 16-bit tile's loop is: weights in ymm12-13, the
     * broadcast in ymm14, a product in ymm15, ones in ymm11 */
    const uint8_t *ar = ap;
    const int8_t *br = b0;
    int64_t n = kq;
#define ROW7(OFF, C0, C1)                                                      \
  "vpbroadcastd " #OFF "(%[a]), %%ymm14\n\t"                                  \
  "vpmaddubsw %%ymm12, %%ymm14, %%ymm15\n\t"                                   \
  "vpmaddwd %%ymm11, %%ymm15, %%ymm15\n\t"                                     \
  "vpaddd %%ymm15, %[" #C0 "], %[" #C0 "]\n\t"                                \
  "vpmaddubsw %%ymm13, %%ymm14, %%ymm14\n\t"                                   \
  "vpmaddwd %%ymm11, %%ymm14, %%ymm14\n\t"                                     \
  "vpaddd %%ymm14, %[" #C1 "], %[" #C1 "]\n\t"
    __asm__("vpcmpeqw %%ymm11, %%ymm11, %%ymm11\n\t"
            "vpsrlw $15, %%ymm11, %%ymm11\n\t" /* 16-bit ones */
            "1:\n\t"
            "vmovdqu (%[b]), %%ymm12\n\t"
            "vmovdqu 32(%[b]), %%ymm13\n\t"
            ROW7(0, l0, h0) ROW7(4, l1, h1) ROW7(8, l2, h2)
            ROW7(12, l3, h3) ROW7(16, l4, h4)
            "add $64, %[b]\n\t"
            "add $20, %[a]\n\t"
            "dec %[n]\n\t"
            "jnz 1b\n\t"
            : [a] "+r"(ar), [b] "+r"(br), [n] "+r"(n), [l0] "+x"(lo[0]),
              [h0] "+x"(hi[0]), [l1] "+x"(lo[1]), [h1] "+x"(hi[1]),
              [l2] "+x"(lo[2]), [h2] "+x"(hi[2]), [l3] "+x"(lo[3]),
              [h3] "+x"(hi[3]), [l4] "+x"(lo[4]), [h4] "+x"(hi[4])
            :
            : "cc", "memory", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
#undef ROW7
    q = kq;
  }
  const __m256i ones = _mm256_set1_epi16(1);
  for (; q < kq; ++q) {
    __m256i w0 = _mm256_loadu_si256((const __m256i *)(b0 + q * 64));
    __m256i w1 = _mm256_loadu_si256((const __m256i *)(b0 + q * 64 + 32));
#pragma GCC unroll 5
    for (int i = 0; i < mr; ++i) {
      int32_t a4;
      memcpy(&a4, ap + (q * mr + i) * 4, 4);
      __m256i av = _mm256_set1_epi32(a4);
      lo[i] = _mm256_add_epi32(lo[i], _mm256_madd_epi16(_mm256_maddubs_epi16(av, w0), ones));
      hi[i] = _mm256_add_epi32(hi[i], _mm256_madd_epi16(_mm256_maddubs_epi16(av, w1), ones));
    }
  }
  __m256 sb0v = _mm256_loadu_ps(sb0), sb1v = _mm256_loadu_ps(sb0 + 8);
  __m256i cs0 = _mm256_loadu_si256((const __m256i *)(sb0 + 16));
  __m256i cs1 = _mm256_loadu_si256((const __m256i *)(sb0 + 24));
  const kiln_epilogue *e = last ? ep : NULL;
#pragma GCC unroll 5
  for (int i = 0; i < mr; ++i) {
    __m256i a0 = lo[i], a1 = hi[i];
    if (last) {
      __m256i zp = _mm256_set1_epi32((int32_t)rowq[2 * i + 1]);
      a0 = _mm256_sub_epi32(a0, _mm256_mullo_epi32(zp, cs0));
      a1 = _mm256_sub_epi32(a1, _mm256_mullo_epi32(zp, cs1));
    }
    __m256 sa = _mm256_set1_ps(rowq[2 * i]);
    store8(c + i * ldc, _mm256_mul_ps(_mm256_cvtepi32_ps(a0), _mm256_mul_ps(sa, sb0v)),
           nc, accumulate, e, i, 0);
    store8(c + i * ldc + 8, _mm256_mul_ps(_mm256_cvtepi32_ps(a1), _mm256_mul_ps(sa, sb1v)),
           nc - 8, accumulate, e, i, 8);
  }
  tile_done(c, ldc, mr, nc, 0, e);
}

#define CASE7(R)                                                               \
  case R:                                                                      \
    tile7(R, nc, kq, ap, b0, sb0, rowq, c, ldc, accumulate, last, ep);         \
    return;

void kiln_qgemm_tile_avx2_s7(int64_t mr, int64_t nc, int64_t kq,
                             const uint8_t *ap, const int8_t *b0,
                             const int8_t *b1, const float *sb0,
                             const float *sb1, const float *rowq, float *c,
                             int64_t ldc, int accumulate, int last,
                             const kiln_epilogue *ep,
                             const kiln_gemm_side *side) {
  (void)b1, (void)sb1;
  kiln_gemm_side_burst(side);
  switch (mr) {
    CASE7(1) CASE7(2) CASE7(3) CASE7(4) CASE7(5)
  default:
    return;
  }
}

/* Quantizes a row block of A (unit column stride) 8 values at a time, as
 * kiln_qgemm_pack_a_avx512 does (same results: the same float operations
 * per value, round to nearest even, saturated to [0, 255]), as u8 quads
 * or, `wide`, widened to u16 for the tile above. */
void kiln_qgemm_pack_a_avx2(const float *a, int64_t lda, int64_t rows,
                            int64_t k, int64_t kq, uint8_t *dst, float *rowq,
                            const float *fixed, int wide) {
  uint64_t *d64 = (uint64_t *)dst;
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
      /* 8 int32 -> 8 u16 (in range, so packus does not clip) = quads
       * k0 / 4 and k0 / 4 + 1 of this row */
      __m256i q32 = _mm256_cvtps_epi32(v);
      __m128i q16 = _mm_packus_epi32(_mm256_castsi256_si128(q32),
                                     _mm256_extracti128_si256(q32, 1));
      int64_t q0 = k0 / 4;
      if (!wide) { /* u8 quads */
        __m128i q8 = _mm_packus_epi16(q16, q16);
        d32[q0 * rows + i] = (uint32_t)_mm_cvtsi128_si32(q8);
        if (q0 + 1 < kq)
          d32[(q0 + 1) * rows + i] = (uint32_t)_mm_extract_epi32(q8, 1);
        continue;
      }
      _mm_storel_epi64((__m128i *)(d64 + q0 * rows + i), q16);
      if (q0 + 1 < kq)
        _mm_storel_epi64((__m128i *)(d64 + (q0 + 1) * rows + i),
                         _mm_unpackhi_epi64(q16, q16));
    }
  }
}
