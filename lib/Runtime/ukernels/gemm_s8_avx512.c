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

#include "gemm_amx.h"
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
     const kiln_epilogue *ep, const kiln_gemm_side *side) {
  __m512i acc0[MR], acc1[MR];
#pragma GCC unroll 12
  for (int i = 0; i < mr; ++i) {
    acc0[i] = _mm512_setzero_si512();
    acc1[i] = _mm512_setzero_si512();
  }
  KILN_GEMM_SIDE_BEGIN(side, kq);
  for (int64_t q = 0; q < kq; ++q) {
    KILN_GEMM_SIDE_STEP(q);
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
           ep, side);                                                          \
    else                                                                       \
      tile(R, 0, nc, kq, ap, b0, b1, sb0, sb1, rowq, c, ldc, accumulate, last, \
           ep, side);                                                          \
    return;

void kiln_qgemm_tile_avx512vnni(int64_t mr, int64_t nc, int64_t kq,
                                const uint8_t *ap, const int8_t *b0,
                                const int8_t *b1, const float *sb0,
                                const float *sb1, const float *rowq, float *c,
                                int64_t ldc, int accumulate, int last,
                                const kiln_epilogue *ep,
                                const kiln_gemm_side *side) {
  switch (mr) {
    CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6)
    CASE(7) CASE(8) CASE(9) CASE(10) CASE(11) CASE(12)
  default:
    return;
  }
}

/* 16 values of a row: round(x / s) (or x * (1 / s)) to nearest even, plus
 * the zero point, saturated to [0, 255]; masked-off lanes become zp
 * (harmless: their weights are 0). With `divide`, x / s beyond int32
 * saturates too (it converted to INT_MIN, then 0, before). */
static inline __m128i quant16(const float *src, __mmask16 mk, __m512 sv,
                              __m512 inv, __m512i zp, int divide) {
  __m512 v = _mm512_maskz_loadu_ps(mk, src);
  if (divide) /* round(x / s) exactly without a vdivps per vector (inv is
                 round_div16's reciprocal), saturated in float */
    return _mm512_cvtusepi32_epi8(_mm512_cvtps_epi32(
        quant_u8_16(v, sv, inv, _mm512_cvtepi32_ps(zp))));
  v = _mm512_mul_ps(v, inv);
  __m512i q = _mm512_add_epi32(
      _mm512_cvt_roundps_epi32(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC),
      zp);
  return _mm512_cvtusepi32_epi8(_mm512_max_epi32(q, _mm512_setzero_si512()));
}

/* Row i of a row block, written in quads with stride rows. */
static void pack_row(const float *src, int64_t k, int64_t kq, int64_t rows,
                     int64_t i, const float *rq, int divide, uint32_t *d32) {
  __m512 sv = _mm512_set1_ps(rq[0]), inv = _mm512_set1_ps(1.0f / rq[0]);
  __m512i zp = _mm512_set1_epi32((int32_t)rq[1]);
  for (int64_t k0 = 0; k0 < kq * 4; k0 += 16) {
    __m128i b = quant16(src + k0, mask_of(k - k0), sv, inv, zp, divide);
    uint32_t w[4];
    memcpy(w, &b, 16);
    int64_t nq = (kq * 4 - k0) / 4 < 4 ? (kq * 4 - k0) / 4 : 4;
    for (int64_t t = 0; t < nq; ++t)
      d32[(k0 / 4 + t) * rows + i] = w[t];
  }
}

/* Rows i .. i + 3 together: their 16 values of each step become one zmm
 * of 4 quads per row, regrouped by quad (one dword permutation) into 4
 * runs of 4 rows, each one 16-byte store (instead of 16 scattered
 * dwords). */
static void pack_rows4(const float *a, int64_t lda, int64_t k, int64_t kq,
                       int64_t rows, int64_t i, const float *rowq, int divide,
                       uint32_t *d32) {
  const __m512i byquad = _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9,
                                          5, 1, 12, 8, 4, 0);
  __m512 sv[4], inv[4];
  __m512i zp[4];
  for (int r = 0; r < 4; ++r) {
    const float *rq = rowq + 2 * (i + r);
    sv[r] = _mm512_set1_ps(rq[0]);
    inv[r] = _mm512_set1_ps(1.0f / rq[0]);
    zp[r] = _mm512_set1_epi32((int32_t)rq[1]);
  }
  for (int64_t k0 = 0; k0 < kq * 4; k0 += 16) {
    __mmask16 mk = mask_of(k - k0);
    __m512i z = _mm512_castsi128_si512(
        quant16(a + i * lda + k0, mk, sv[0], inv[0], zp[0], divide));
    z = _mm512_inserti32x4(
        z, quant16(a + (i + 1) * lda + k0, mk, sv[1], inv[1], zp[1], divide), 1);
    z = _mm512_inserti32x4(
        z, quant16(a + (i + 2) * lda + k0, mk, sv[2], inv[2], zp[2], divide), 2);
    z = _mm512_inserti32x4(
        z, quant16(a + (i + 3) * lda + k0, mk, sv[3], inv[3], zp[3], divide), 3);
    z = _mm512_permutexvar_epi32(byquad, z);
    uint32_t *d = d32 + (k0 / 4) * rows + i;
    int64_t nq = (kq * 4 - k0) / 4 < 4 ? (kq * 4 - k0) / 4 : 4;
    _mm_storeu_si128((__m128i *)d, _mm512_castsi512_si128(z));
    if (nq > 1)
      _mm_storeu_si128((__m128i *)(d + rows), _mm512_extracti32x4_epi32(z, 1));
    if (nq > 2)
      _mm_storeu_si128((__m128i *)(d + 2 * rows), _mm512_extracti32x4_epi32(z, 2));
    if (nq > 3)
      _mm_storeu_si128((__m128i *)(d + 3 * rows), _mm512_extracti32x4_epi32(z, 3));
  }
}

/* Quantizes a row block of A (unit column stride): each row's range and
 * (scale, zero point), or the given per-tensor ones, then round(x / scale)
 * + zp saturated to u8 (vpmovusdb), written in quads with stride rows
 * (gemm_s8.h), four rows at a time. */
void kiln_qgemm_pack_a_avx512(const float *a, int64_t lda, int64_t rows,
                              int64_t k, int64_t kq, uint8_t *dst, float *rowq,
                              const float *fixed, int rowmajor) {
  uint32_t *d32 = (uint32_t *)dst;
  for (int64_t i = 0; i < rows; ++i) {
    const float *src = a + i * lda;
    if (fixed) {
      rowq[2 * i] = fixed[0];
      rowq[2 * i + 1] = fixed[1];
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
    rowq[2 * i] = s;
    rowq[2 * i + 1] = zf < 0.0f ? 0.0f : zf > 255.0f ? 255.0f : zf;
  }
  /* per tensor: x / scale, as DynamicQuantizeLinear divides */
  int divide = fixed != NULL;
  if (rowmajor) { /* the AMX tile's: per 64 k, the block's rows of 64 */
    for (int64_t r = 0; r < rows; ++r) {
      const float *rq = rowq + 2 * r;
      __m512 sv = _mm512_set1_ps(rq[0]), inv = _mm512_set1_ps(1.0f / rq[0]);
      __m512i zp = _mm512_set1_epi32((int32_t)rq[1]);
      for (int64_t k0 = 0; k0 < kq * 4; k0 += 16)
        _mm_storeu_si128((__m128i *)(dst + ((k0 >> 6) * rows + r) * 64 + (k0 & 63)),
                         quant16(a + r * lda + k0, mask_of(k - k0), sv, inv, zp,
                                 divide));
    }
    return;
  }
  int64_t i = 0;
  for (; i + 4 <= rows; i += 4)
    pack_rows4(a, lda, k, kq, rows, i, rowq, divide, d32);
  for (; i < rows; ++i)
    pack_row(a + i * lda, k, kq, rows, i, rowq + 2 * i, divide, d32);
}

/* ---- AMX (AMX-TILE + AMX-INT8): tdpbusd on 16 x 64-byte tiles ---------- *
 * A C tile is 16 rows x 16 int32 columns; per 16 quads of k, an A tile (16
 * rows of 64 u8, row-major activations) and a B tile (16 quads of one panel:
 * 1 KiB of the packed weights as they are, 16 columns x 4 k per row) give
 * one tdpbusd: 16 x 16 x 64 multiply-adds. The tile is up to 2 x 2 C tiles
 * (32 rows x 32 columns; tmm0-1 A, tmm2-3 B, tmm4-7 C) over the whole k
 * (a multiple of 64), its int32 sums stored to a buffer, then dequantized
 * and given the epilogue as the VNNI tile's. The tile configuration:
 * gemm_amx.h. */

typedef struct {
  uint8_t palette, start_row, reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
} amx_config;

static _Thread_local int amx_rows0 = -1, amx_rows1 = -1;

void kiln_amx_configure(int r0, int r1) {
  if (r0 == amx_rows0 && r1 == amx_rows1)
    return;
  amx_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.palette = 1;
  const int rows[8] = {r0, r1, 16, 16, r0, r0, r1, r1};
  for (int t = 0; t < 8; ++t) {
    cfg.rows[t] = (uint8_t)rows[t];
    cfg.colsb[t] = rows[t] ? 64 : 0;
  }
  /* not _tile_loadconfig: GCC 12's gives the asm an 8-byte memory
   * operand, so the stores of the rows and widths were dropped */
  __asm__ volatile("ldtilecfg %0" ::"m"(cfg));
  amx_rows0 = r0;
  amx_rows1 = r1;
}

KILN_AMX_SUMS(amx_sums, _tile_dpbusd)

void kiln_qgemm_tile_amx(int64_t mr, int64_t nc, int64_t kq, const uint8_t *ap,
                         int64_t lda, const int8_t *b0, const int8_t *b1,
                         const float *sb0, const float *sb1, const float *rowq,
                         float *c, int64_t ldc, int accumulate, int last,
                         const kiln_epilogue *ep, const kiln_gemm_side *side) {
  _Alignas(64) int32_t buf[32 * 32];
  KILN_AMX_RUN(amx_sums, mr, nc, kq, ap, lda, 64, b0, b1, buf, side);
  int two = nc > 16;
  __mmask16 m0 = mask_of(nc), m1 = mask_of(nc - 16);
  __m512 s0 = _mm512_loadu_ps(sb0), s1 = two ? _mm512_loadu_ps(sb1) : s0;
  __m512i c0 = _mm512_loadu_si512(sb0 + 16);
  __m512i c1 = two ? _mm512_loadu_si512(sb1 + 16) : c0;
  const kiln_epilogue *e = last ? ep : NULL;
  for (int64_t i = 0; i < mr; ++i) {
    store_row(c + i * ldc,
              dequant(_mm512_load_si512(buf + i * 32), s0, c0, rowq + 2 * i, last),
              m0, accumulate, e, i, 0);
    if (two)
      store_row(c + i * ldc + 16,
                dequant(_mm512_load_si512(buf + i * 32 + 16), s1, c1,
                        rowq + 2 * i, last),
                m1, accumulate, e, i, 16);
  }
  tile_done(c, ldc, mr, nc, 0, e);
}
