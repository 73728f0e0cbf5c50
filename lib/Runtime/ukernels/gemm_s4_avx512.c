/*===- gemm_s4_avx512.c - int4 weight-only tile, AVX512-VNNI --------------===*
 *
 * Up to 12 rows x 16 columns (one panel) over all of K, group by group:
 * per row of a group's block, one 64-byte load gives two quads of nibbles
 * (low: quad q, high: quad q + 1; a mask and a 16-bit shift split them),
 * each fed with the rows' 4-byte s8 broadcasts to vpdpbusd (nibbles as the
 * unsigned operand). At the group's end each row's int32 sum minus
 * its group sum times the zero point (8, or the group's z_gj) is scaled
 * by sa_i * sb_gj into an fp32 accumulator;
 * the epilogue is the fp32 kernels' (gemm_store_avx512.h). Layouts in
 * gemm_s4.h. Compiled with -mavx512vnni; only called when the CPU has it.
 *
 *===----------------------------------------------------------------------===*/

#include "gemm_s4.h"
#include "gemm_store_avx512.h"

#include <string.h>

#define MR 12

static inline __m512i quad_bcast(const int8_t *p) {
  int32_t v;
  memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

static inline __attribute__((always_inline)) void
tile(const int mr, int64_t nc, int64_t ng, int64_t group, const int zp,
     const int8_t *ap, const uint8_t *bp, const float *sa, const int32_t *rs,
     float *c, int64_t ldc, const kiln_epilogue *ep) {
  __m512 facc[MR];
#pragma GCC unroll 12
  for (int i = 0; i < mr; ++i)
    facc[i] = _mm512_setzero_ps();
  const __m512i low = _mm512_set1_epi8(0x0f);
  const int64_t rowsPerGroup = group / 8,
                groupBytes = (rowsPerGroup + 1 + zp) * 64;
  for (int64_t g = 0; g < ng; ++g) {
    const uint8_t *blk = bp + g * groupBytes;
    const int8_t *a = ap + g * (group / 4) * mr * 4;
    __m512i iacc[MR];
#pragma GCC unroll 12
    for (int i = 0; i < mr; ++i)
      iacc[i] = _mm512_setzero_si512();
    for (int64_t r = 0; r < rowsPerGroup; ++r) {
      __m512i v = _mm512_loadu_si512(blk + r * 64);
      __m512i lo = _mm512_and_si512(v, low);
      __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low);
      const int8_t *a0 = a + 2 * r * mr * 4, *a1 = a0 + mr * 4;
#pragma GCC unroll 12
      for (int i = 0; i < mr; ++i) {
        iacc[i] = _mm512_dpbusd_epi32(iacc[i], lo, quad_bcast(a0 + i * 4));
        iacc[i] = _mm512_dpbusd_epi32(iacc[i], hi, quad_bcast(a1 + i * 4));
      }
    }
    __m512 sb = _mm512_loadu_ps((const float *)(blk + rowsPerGroup * 64));
    __m512i z = zp ? _mm512_loadu_si512(blk + (rowsPerGroup + 1) * 64)
                   : _mm512_setzero_si512();
#pragma GCC unroll 12
    for (int i = 0; i < mr; ++i) {
      __m512i corr = zp ? _mm512_mullo_epi32(_mm512_set1_epi32(rs[i * ng + g]), z)
                        : _mm512_set1_epi32(8 * rs[i * ng + g]);
      __m512i s = _mm512_sub_epi32(iacc[i], corr);
      facc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s),
                                _mm512_mul_ps(_mm512_set1_ps(sa[i]), sb), facc[i]);
    }
  }
  __mmask16 m0 = mask_of(nc);
#pragma GCC unroll 12
  for (int i = 0; i < mr; ++i)
    store_row(c + i * ldc, facc[i], m0, 0, ep, i, 0);
  tile_done(c, ldc, mr, nc, 0, ep);
}

#define CASE(R)                                                                \
  case R:                                                                      \
    if (zp)                                                                    \
      tile(R, nc, ng, group, 1, ap, bp, sa, rs, c, ldc, ep);                   \
    else                                                                       \
      tile(R, nc, ng, group, 0, ap, bp, sa, rs, c, ldc, ep);                   \
    return;

void kiln_s4gemm_tile_avx512vnni(int64_t mr, int64_t nc, int64_t ng,
                                 int64_t group, int zp, const int8_t *ap,
                                 const uint8_t *bp, const float *sa,
                                 const int32_t *rs, float *c, int64_t ldc,
                                 const kiln_epilogue *ep) {
  switch (mr) {
    CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6)
    CASE(7) CASE(8) CASE(9) CASE(10) CASE(11) CASE(12)
  default:
    return;
  }
}
