/*===- gemm_s8_avx512.c - u8 x s8 GEMM tile kernel, AVX512-VNNI ----------===*
 *
 * A register tile of up to 12 rows x 32 columns, like the fp32 kernel
 * (gemm_f32_avx512.c), over quads of k: per quad, two 64-byte panel loads
 * (16 columns x 4 k each) and, per row, one 32-bit broadcast of the row's
 * four u8 values feeding two vpdpbusd (each 64 multiply-adds into 16 int32
 * accumulators: four times the fp32 FMA's work per instruction). The int32
 * sums are scaled to fp32 (sa_i * sb_j), after the zero-point correction
 * (zp_i * colsum_j, in int32) on the last k block, then
 * the fp32 epilogue (gemm_store_avx512.h). Layouts in gemm_s8.h. Compiled
 * with -mavx512vnni; only called when the CPU has it.
 *
 *===----------------------------------------------------------------------===*/

#include "gemm_s8.h"
#include "gemm_store_avx512.h"

#include <math.h>
#include <string.h>

#define MR KILN_SGEMM_MR_AVX512

static inline __m512i quad_bcast(const uint8_t *p) {
  int32_t v;
  memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

/* (sa_i * sb_j) * (acc - zp_i * colsum_j), the correction in int32 on the
 * last k block */
static inline __attribute__((always_inline)) __m512
dequant(__m512i acc, __m512 sb, __m512i colsum, const float *rq, int last) {
  if (last)
    acc = _mm512_sub_epi32(
        acc, _mm512_mullo_epi32(_mm512_set1_epi32((int32_t)rq[1]), colsum));
  return _mm512_mul_ps(_mm512_cvtepi32_ps(acc),
                       _mm512_mul_ps(_mm512_set1_ps(rq[0]), sb));
}

static inline __attribute__((always_inline)) void
tile(const int mr, int two, int64_t nc, int64_t kq, const uint8_t *ap,
     const int8_t *b0, const int8_t *b1, const float *sb0, const float *sb1,
     const float *rowq, float *c, int64_t ldc, int accumulate, int last,
     const kiln_epilogue *ep) {
  __m512i acc0[MR], acc1[MR];
#pragma GCC unroll 12
  for (int i = 0; i < mr; ++i) {
    acc0[i] = _mm512_setzero_si512();
    acc1[i] = _mm512_setzero_si512();
  }
  for (int64_t q = 0; q < kq; ++q) {
    __m512i v0 = _mm512_loadu_si512(b0 + q * 64);
    __m512i v1 = two ? _mm512_loadu_si512(b1 + q * 64) : v0;
    /* weights are read once per call, often from DRAM: fetch 64 quads
     * (4 KiB) ahead. BERT-base int8, 1 thread: 2.5% slower without, 31.7
     * ms at 1 KiB, 31.0 at 4 KiB, 31.6 at 8 KiB */
    _mm_prefetch((const char *)(b0 + q * 64 + 4096), _MM_HINT_T0);
    if (two)
      _mm_prefetch((const char *)(b1 + q * 64 + 4096), _MM_HINT_T0);
#pragma GCC unroll 12
    for (int i = 0; i < mr; ++i) {
      __m512i av = quad_bcast(ap + (q * mr + i) * 4);
      acc0[i] = _mm512_dpbusd_epi32(acc0[i], av, v0);
      if (two)
        acc1[i] = _mm512_dpbusd_epi32(acc1[i], av, v1);
    }
  }
  __mmask16 m0 = mask_of(nc), m1 = mask_of(nc - 16);
  __m512 s0 = _mm512_loadu_ps(sb0), s1 = two ? _mm512_loadu_ps(sb1) : s0;
  __m512i c0 = _mm512_loadu_si512(sb0 + 16);
  __m512i c1 = two ? _mm512_loadu_si512(sb1 + 16) : c0;
  const kiln_epilogue *e = last ? ep : NULL;
#pragma GCC unroll 12
  for (int i = 0; i < mr; ++i) {
    store_row(c + i * ldc, dequant(acc0[i], s0, c0, rowq + 2 * i, last), m0,
              accumulate, e, i, 0);
    if (two)
      store_row(c + i * ldc + 16, dequant(acc1[i], s1, c1, rowq + 2 * i, last),
                m1, accumulate, e, i, 16);
  }
  tile_done(c, ldc, mr, nc, 0, e);
}

#define CASE(R)                                                                \
  case R:                                                                      \
    if (nc > 16)                                                               \
      tile(R, 1, nc, kq, ap, b0, b1, sb0, sb1, rowq, c, ldc, accumulate, last, \
           ep);                                                                \
    else                                                                       \
      tile(R, 0, nc, kq, ap, b0, b1, sb0, sb1, rowq, c, ldc, accumulate, last, \
           ep);                                                                \
    return;

void kiln_qgemm_tile_avx512vnni(int64_t mr, int64_t nc, int64_t kq,
                                const uint8_t *ap, const int8_t *b0,
                                const int8_t *b1, const float *sb0,
                                const float *sb1, const float *rowq, float *c,
                                int64_t ldc, int accumulate, int last,
                                const kiln_epilogue *ep) {
  switch (mr) {
    CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6)
    CASE(7) CASE(8) CASE(9) CASE(10) CASE(11) CASE(12)
  default:
    return;
  }
}

/* Row i of a row block: round(x / s) (or x * (1 / s)) to nearest even, add
 * the zero point, saturate to [0, 255]; lanes past k become zp (harmless:
 * their weights are 0). */
static void pack_row(const float *src, int64_t k, int64_t kq, int64_t rows,
                     int64_t i, float s, float zf, int divide, uint32_t *d32,
                     float *rowq) {
  rowq[2 * i] = s;
  rowq[2 * i + 1] = zf;
  __m512 sv = _mm512_set1_ps(s), inv = _mm512_set1_ps(1.0f / s);
  __m512i zp = _mm512_set1_epi32((int32_t)zf);
  for (int64_t k0 = 0; k0 < kq * 4; k0 += 16) {
    __mmask16 mk = mask_of(k - k0);
    __m512 v = _mm512_maskz_loadu_ps(mk, src + k0);
    v = divide ? _mm512_div_ps(v, sv) : _mm512_mul_ps(v, inv);
    __m512i q = _mm512_add_epi32(
        _mm512_cvt_roundps_epi32(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC),
        zp);
    q = _mm512_max_epi32(q, _mm512_setzero_si512());
    __m128i b = _mm512_cvtusepi32_epi8(q);
    uint32_t w[4];
    memcpy(w, &b, 16);
    int64_t nq = (kq * 4 - k0) / 4 < 4 ? (kq * 4 - k0) / 4 : 4;
    for (int64_t t = 0; t < nq; ++t)
      d32[(k0 / 4 + t) * rows + i] = w[t];
  }
}

/* Quantizes a row block of A (unit column stride) 16 values at a time:
 * the row's range, then round(x / scale) + zp saturated to u8 (vpmovusdb),
 * written in quads with stride rows (gemm_s8.h). */
void kiln_qgemm_pack_a_avx512(const float *a, int64_t lda, int64_t rows,
                              int64_t k, int64_t kq, uint8_t *dst, float *rowq,
                              const float *fixed) {
  uint32_t *d32 = (uint32_t *)dst;
  for (int64_t i = 0; i < rows; ++i) {
    const float *src = a + i * lda;
    if (fixed) {
      pack_row(src, k, kq, rows, i, fixed[0], fixed[1], 1, d32, rowq);
      continue;
    }
    __m512 lo = _mm512_setzero_ps(), hi = _mm512_setzero_ps();
    int64_t kk = 0;
    for (; kk + 16 <= k; kk += 16) {
      __m512 v = _mm512_loadu_ps(src + kk);
      lo = _mm512_min_ps(lo, v);
      hi = _mm512_max_ps(hi, v);
    }
    __mmask16 tail = mask_of(k - kk);
    if (tail) {
      __m512 v = _mm512_maskz_loadu_ps(tail, src + kk);
      lo = _mm512_min_ps(lo, v);
      hi = _mm512_max_ps(hi, v);
    }
    float fl = _mm512_reduce_min_ps(lo), fh = _mm512_reduce_max_ps(hi);
    float s = (fh - fl) / 255.0f, zf = 0.0f;
    if (!(s > 0.0f) || !isfinite(s))
      s = 1.0f;
    else
      zf = nearbyintf(-fl / s);
    zf = zf < 0.0f ? 0.0f : zf > 255.0f ? 255.0f : zf;
    pack_row(src, k, kq, rows, i, s, zf, 0, d32, rowq);
  }
}
