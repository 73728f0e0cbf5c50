/*===- conv_s8_lut_vbmi.c - int8 epilogues by table, AVX512-VBMI --------===*
 *
 * The epilogue of an int8 convolution (group 1 or depthwise) whose output
 * takes its Q -> DQ pair and an activation, and is stored as
 * the next convolution's u8 input: after the sums are scaled and the pair's
 * rounding division (round_div16), the requantized value q is one of 256,
 * and act((q - zy) sy) quantized with (so, zo) is one table lookup
 * (conv_s8_epi.h, built here by kiln_s8_requant_lut with the vector
 * epilogue's own operations, so that the bytes are those it would store,
 * for any activation): two vpermi2b over the 256-byte table and a blend
 * on the index's high bit per 48-64 outputs (a tile's three vectors of a
 * filter, or four of a depthwise row, packed into one register), instead
 * of the activation (a SiLU's exponential) and a second rounding division. Compiled with -mavx512vbmi; called only where
 * the CPU has it.
 *
 *===----------------------------------------------------------------------===*/

#include "conv_s8_epi.h"
#include "vmath_avx512.h"

#include <immintrin.h>

typedef struct {
  __m512i t0, t1, t2, t3;
  __m512 sy, ry, zy;
} lut_k;

static inline lut_k lut_consts(const uint8_t *lut, float sy, float ry, float zy) {
  lut_k k = {_mm512_loadu_si512(lut),       _mm512_loadu_si512(lut + 64),
             _mm512_loadu_si512(lut + 128), _mm512_loadu_si512(lut + 192),
             _mm512_set1_ps(sy),            _mm512_set1_ps(ry),
             _mm512_set1_ps(zy)};
  return k;
}

/* 16 outputs (f32, before the pair) -> the requantized values, int32. */
static inline __m512i requant16(__m512 o, const lut_k *k) {
  return _mm512_cvttps_epi32(quant_u8_16(o, k->sy, k->ry, k->zy));
}

/* The table at 64 byte indices. */
static inline __m512i lookup64(__m512i idx, const lut_k *k) {
  __m512i lo = _mm512_permutex2var_epi8(k->t0, idx, k->t1);
  __m512i hi = _mm512_permutex2var_epi8(k->t2, idx, k->t3);
  return _mm512_mask_blend_epi8(_mm512_movepi8_mask(idx), lo, hi);
}

/* Up to four vectors of values in [0, 255] as 64 bytes, vector v at
 * bytes 16 v: one lookup for all of them (vpermi2b is the table's cost). */
static inline __m512i bytes64(__m512i a, __m512i b, __m512i c, __m512i d) {
  /* per 128-bit lane L: dwords a[4L..], b[4L..], c[4L..], d[4L..] */
  __m512i p = _mm512_packus_epi16(_mm512_packus_epi32(a, b), _mm512_packus_epi32(c, d));
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7,
                                          11, 15);
  return _mm512_permutexvar_epi32(order, p);
}

static inline __m128i part16(__m512i v, int i) {
  switch (i) {
  case 0:
    return _mm512_castsi512_si128(v);
  case 1:
    return _mm512_extracti32x4_epi32(v, 1);
  case 2:
    return _mm512_extracti32x4_epi32(v, 2);
  default:
    return _mm512_extracti32x4_epi32(v, 3);
  }
}

static inline void put16(uint8_t *y8, __mmask16 m, __m128i b) {
  if (m == 0xffff)
    _mm_storeu_si128((__m128i *)(void *)y8, b);
  else
    _mm_mask_storeu_epi8(y8, m, b);
}

void kiln_conv_s8_epi_lut_vbmi(const kiln_conv_s8_job *j, __m512i acc[][3], int nv,
                               int64_t mr, const s8_lanes *L, float *y,
                               uint8_t *y8, const float *r, const float *scale,
                               const int32_t *wsum, const float *bias) {
  (void)y;
  (void)r;
  int64_t plane = j->y_plane;
  lut_k k = lut_consts(j->lut, j->sy, j->ry, j->zy);
  for (int64_t m = 0; m < mr; ++m) {
    __m512i corr = _mm512_set1_epi32(j->zp * wsum[m]);
    __m512 sc = _mm512_set1_ps(j->sx * scale[m]);
    __m512 bv = _mm512_set1_ps(bias ? bias[m] : 0.0f);
    __m512i q[3] = {_mm512_setzero_si512(), _mm512_setzero_si512(),
                    _mm512_setzero_si512()};
    for (int v = 0; v < nv; ++v)
      q[v] = requant16(_mm512_fmadd_ps(
                           _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[m][v], corr)), sc, bv),
                       &k);
    __m512i b = lookup64(bytes64(q[0], q[1], q[2], _mm512_setzero_si512()), &k);
    for (int v = 0; v < nv; ++v)
      for (int t = 0; t < L->n[v]; ++t)
        put16(y8 + m * plane + L->at[v][t], L->m[v][t], part16(b, v));
  }
}

void kiln_dwconv_s8_epi_lut_vbmi(const kiln_dwconv_s8_job *j, const float *sums,
                                 int nr, float sc, float b, float *y, uint8_t *y8) {
  (void)y;
  lut_k k = lut_consts(j->lut, j->sy, j->ry, j->zy);
  const __m512 scv = _mm512_set1_ps(sc), bv = _mm512_set1_ps(b);
  for (int r = 0; r < nr; ++r)
    for (int64_t o0 = 0; o0 < j->ow; o0 += 64) { /* four vectors a lookup */
      __m512i q[4];
      for (int v = 0; v < 4; ++v)
        q[v] = o0 + 16 * v < j->ow
                   ? requant16(_mm512_fmadd_ps(
                                   _mm512_loadu_ps(sums + r * j->ws + o0 + 16 * v), scv, bv),
                               &k)
                   : _mm512_setzero_si512();
      __m512i b = lookup64(bytes64(q[0], q[1], q[2], q[3]), &k);
      for (int v = 0; v < 4 && o0 + 16 * v < j->ow; ++v) {
        int64_t left = j->ow - o0 - 16 * v;
        __mmask16 m = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1u);
        put16(y8 + r * j->ow + o0 + 16 * v, m, part16(b, v));
      }
    }
}

void kiln_s8_requant_lut(uint8_t lut[256], float sy, float zy, int act, float so,
                         float zo) {
  float t[256];
  kiln_s8_act_table(t, sy, zy, act);
  const __m512 sov = _mm512_set1_ps(so), rov = _mm512_set1_ps(kiln_quant_rcp(so));
  const __m512 zov = _mm512_set1_ps(zo);
  for (int q0 = 0; q0 < 256; q0 += 16)
    _mm_storeu_si128((__m128i *)(void *)(lut + q0),
                     _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(
                         quant_u8_16(_mm512_loadu_ps(t + q0), sov, rov, zov))));
}
