/*===- gemm_s4_avx2.c - int4 weight-only tile, AVX2 -----------------------===*
 *
 * The x86-64-v3 variant of gemm_s4_avx512.c, on the same packed weights
 * (gemm_s4.h): up to 4 rows x 16 columns, run as two halves of 8 columns
 * (32 bytes of each 64-byte row of nibbles), group by group over all of
 * K. Per row of a group's block, a mask and a shift split the 32 bytes
 * into the nibbles of quad q (low) and q + 1 (high); each row's two 4-byte
 * s8 quads are broadcast, and vpmaddubsw takes the nibbles as its unsigned
 * operand. Nibbles are at most 15, so a pair sum is at most
 * 15 * 127 * 2 = 3810 and the two quads' sums add in int16 exactly
 * (vpaddw) before vpmaddwd with ones widens each column's lanes to int32.
 * At the group's end each row's int32 sum minus its group sum times the
 * zero point (8, or the group's z_gj) is scaled by sa_i * sb_gj into fp32
 * accumulators; the epilogue is the fp32
 * kernels' (gemm_store_avx2.h). Compiled with -mavx2 -mfma.
 *
 *===----------------------------------------------------------------------===*/

#include "gemm_s4.h"
#include "gemm_store_avx2.h"

#include <string.h>

#define MR KILN_S4GEMM_MR_AVX2

static inline __m256i quad_bcast(const int8_t *p) {
  int32_t v;
  memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

static inline __attribute__((always_inline)) void
half(const int mr, int64_t nc, int64_t ng, int64_t group, const int zp,
     const int8_t *ap, const uint8_t *bp, const float *sa, const int32_t *rs,
     float *c, int64_t ldc, const kiln_epilogue *ep, int64_t col) {
  __m256 facc[MR];
#pragma GCC unroll 4
  for (int i = 0; i < mr; ++i)
    facc[i] = _mm256_setzero_ps();
  const __m256i low = _mm256_set1_epi8(0x0f), ones = _mm256_set1_epi16(1);
  const int64_t rowsPerGroup = group / 8,
                groupBytes = (rowsPerGroup + 1 + zp) * 64;
  for (int64_t g = 0; g < ng; ++g) {
    const uint8_t *blk = bp + g * groupBytes + col * 4;
    const int8_t *a = ap + g * (group / 4) * mr * 4;
    __m256i iacc[MR];
#pragma GCC unroll 4
    for (int i = 0; i < mr; ++i)
      iacc[i] = _mm256_setzero_si256();
    for (int64_t r = 0; r < rowsPerGroup; ++r) {
      __m256i v = _mm256_loadu_si256((const __m256i *)(blk + r * 64));
      __m256i lo = _mm256_and_si256(v, low);
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
      const int8_t *a0 = a + 2 * r * mr * 4, *a1 = a0 + mr * 4;
#pragma GCC unroll 4
      for (int i = 0; i < mr; ++i) {
        __m256i s = _mm256_add_epi16(_mm256_maddubs_epi16(lo, quad_bcast(a0 + i * 4)),
                                     _mm256_maddubs_epi16(hi, quad_bcast(a1 + i * 4)));
        iacc[i] = _mm256_add_epi32(iacc[i], _mm256_madd_epi16(s, ones));
      }
    }
    __m256 sb = _mm256_loadu_ps((const float *)(blk + rowsPerGroup * 64));
    __m256i z = zp ? _mm256_loadu_si256((const __m256i *)(blk + (rowsPerGroup + 1) * 64))
                   : _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int i = 0; i < mr; ++i) {
      __m256i corr = zp ? _mm256_mullo_epi32(_mm256_set1_epi32(rs[i * ng + g]), z)
                        : _mm256_set1_epi32(8 * rs[i * ng + g]);
      __m256i s = _mm256_sub_epi32(iacc[i], corr);
      facc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s),
                                _mm256_mul_ps(_mm256_set1_ps(sa[i]), sb), facc[i]);
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < mr; ++i)
    store8(c + i * ldc + col, facc[i], nc - col, 0, ep, i, col);
  tile_done(c + col, ldc, mr, nc - col < 8 ? nc - col : 8, col, ep);
}

static inline __attribute__((always_inline)) void
tile(const int mr, int64_t nc, int64_t ng, int64_t group, const int zp,
     const int8_t *ap, const uint8_t *bp, const float *sa, const int32_t *rs,
     float *c, int64_t ldc, const kiln_epilogue *ep) {
  half(mr, nc, ng, group, zp, ap, bp, sa, rs, c, ldc, ep, 0);
  if (nc > 8)
    half(mr, nc, ng, group, zp, ap, bp, sa, rs, c, ldc, ep, 8);
}

#define CASE(R)                                                                \
  case R:                                                                      \
    if (zp)                                                                    \
      tile(R, nc, ng, group, 1, ap, bp, sa, rs, c, ldc, ep);                   \
    else                                                                       \
      tile(R, nc, ng, group, 0, ap, bp, sa, rs, c, ldc, ep);                   \
    return;

void kiln_s4gemm_tile_avx2(int64_t mr, int64_t nc, int64_t ng, int64_t group,
                           int zp, const int8_t *ap, const uint8_t *bp,
                           const float *sa, const int32_t *rs, float *c,
                           int64_t ldc, const kiln_epilogue *ep) {
  switch (mr) {
    CASE(1) CASE(2) CASE(3) CASE(4)
  default:
    return;
  }
}
