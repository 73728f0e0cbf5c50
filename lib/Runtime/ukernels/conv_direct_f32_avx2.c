/*===- conv_direct_f32_avx2.c - direct convolution tiles, AVX2 ------------===*
 *
 * conv_direct_f32_impl.h with 8 lanes: a tile is up to 6 output pixels x
 * 16 channels (one filter panel), 12 ymm accumulators. Compiled with
 * -mavx2 -mfma; only called when the model was compiled for AVX2 or better.
 *
 *===----------------------------------------------------------------------===*/

#include "vmath_avx2.h"

#include <immintrin.h>
#include <string.h>

/* r[i] (lane c) -> r[c] (lane i): an 8 x 8 transpose in registers. */
static inline __attribute__((always_inline)) void transpose8(__m256 *r) {
  __m256 t[8], s[8];
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  /* lane L of s[4h + j]: column 4L + j of rows 4h .. 4h + 3 */
#pragma GCC unroll 2
  for (int h = 0; h < 2; ++h) {
    s[4 * h] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0x44);
    s[4 * h + 1] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0xEE);
    s[4 * h + 2] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0x44);
    s[4 * h + 3] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0xEE);
  }
#pragma GCC unroll 4
  for (int jj = 0; jj < 4; ++jj) {
    r[jj] = _mm256_permute2f128_ps(s[jj], s[4 + jj], 0x20);
    r[4 + jj] = _mm256_permute2f128_ps(s[jj], s[4 + jj], 0x31);
  }
}

static inline __m256i mask8(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* Lanes [0, n) of v to p (n a constant after inlining): plain 16-, 8- and
 * 4-byte stores, as masked stores (vmaskmovps) are slow on AMD cores. */
static inline __attribute__((always_inline)) void storen8(float *p, __m256 v,
                                                         const int n) {
  if (n == 8) {
    _mm256_storeu_ps(p, v);
    return;
  }
  __m128 lo = _mm256_castps256_ps128(v);
  if (n >= 4) {
    _mm_storeu_ps(p, lo);
    lo = _mm256_extractf128_ps(v, 1);
    p += 4;
  }
  int r = n & 3;
  if (r >= 2) {
    _mm_storel_pi((__m64 *)p, lo);
    lo = _mm_movehl_ps(lo, lo);
    p += 2;
  }
  if (r & 1)
    _mm_store_ss(p, lo);
}


#define CD_FN kiln_conv_direct_avx2
#define CD_VW 8
#define CD_MR 6
typedef __m256 cd_v;
typedef __m256i cd_mask_t;
#define cd_zero() _mm256_setzero_ps()
#define cd_set1(f) _mm256_set1_ps(f)
#define cd_loadu(p) _mm256_loadu_ps(p)
#define cd_fma(a, b, c) _mm256_fmadd_ps(a, b, c)
#define cd_add(a, b) _mm256_add_ps(a, b)
#define cd_act(v, act) act8_conv(v, act)
#define cd_mask(lo, hi) _mm256_andnot_si256(mask8(lo), mask8(hi))
#define cd_maskload(m, p) _mm256_maskload_ps(p, m)
#define cd_maskstore(p, m, v) _mm256_maskstore_ps(p, m, v)
#define cd_transpose(r) transpose8(r)
#define cd_storen(p, v, n) storen8(p, v, n)

#define cd_storeu(p, v) _mm256_storeu_ps(p, v)

/* The channel-blocked 6 x 16 and 5 x 16 tiles' taps (conv_direct_f32_impl.h,
 * CD_C8, nv 2) in inline assembly: GCC's allocation of the accumulators,
 * 2 filter vectors and the broadcasts put register moves and
 * accumulator-rotating FMA forms into the loop; here each has its own
 * register (ymm0-5 and ymm6-11: pixels 0-5 of the two channel vectors;
 * ymm12-13 the filter; ymm14-15 the broadcasts; r8-r13 the pixels' input
 * pointers, r14 the group's koff entry). Per group of 8 taps: the 8 x 16
 * filter values at w (512 bytes), pixel i's 8 channels at xp[i] + 4 *
 * koff[g]. The accumulators are read from and written back to a0 / a1. */

/* tap ci of pixel p (input pointer r, broadcast register b) */
#define CD_PX(ci, r, b, p, q)                                                  \
  "vbroadcastss 4*" #ci "(%%r" #r ",%%r14,4), %%ymm" #b "\n\t"                 \
  "vfmadd231ps %%ymm12, %%ymm" #b ", %%ymm" #p "\n\t"                          \
  "vfmadd231ps %%ymm13, %%ymm" #b ", %%ymm" #q "\n\t"
#define CD_W(ci)                                                               \
  "vmovups 64*" #ci "(%[w]), %%ymm12\n\t"                                      \
  "vmovups 64*" #ci "+32(%[w]), %%ymm13\n\t"
#define CD_TAP5(ci)                                                            \
  CD_W(ci) CD_PX(ci, 8, 14, 0, 6) CD_PX(ci, 9, 15, 1, 7)                       \
  CD_PX(ci, 10, 14, 2, 8) CD_PX(ci, 11, 15, 3, 9) CD_PX(ci, 12, 14, 4, 10)
#define CD_TAP6(ci) CD_TAP5(ci) CD_PX(ci, 13, 15, 5, 11)
#define CD_IO5(op, a, b)                                                       \
  op(0, a, 0) op(1, a, 1) op(2, a, 2) op(3, a, 3) op(4, a, 4)                  \
  op(0, b, 6) op(1, b, 7) op(2, b, 8) op(3, b, 9) op(4, b, 10)
#define CD_IO6(op, a, b) CD_IO5(op, a, b) op(5, a, 5) op(5, b, 11)
#define CD_LD(i, a, y) "vmovups 32*" #i "(%[" #a "]), %%ymm" #y "\n\t"
#define CD_ST(i, a, y) "vmovups %%ymm" #y ", 32*" #i "(%[" #a "])\n\t"
#define CD_PTRS5                                                               \
  "mov (%[xa]), %%r8\n\t" "mov 8(%[xa]), %%r9\n\t" "mov 16(%[xa]), %%r10\n\t"   \
  "mov 24(%[xa]), %%r11\n\t" "mov 32(%[xa]), %%r12\n\t"
#define CD_PTRS6 CD_PTRS5 "mov 40(%[xa]), %%r13\n\t"
#define CD_GROUPS_ASM(M)                                                       \
  __asm__ volatile(                                                            \
      CD_PTRS##M CD_IO##M(CD_LD, a0, a1)                                       \
      "1:\n\t"                                                                 \
      "movslq (%[kp]), %%r14\n\t"                                              \
      CD_TAP##M(0) CD_TAP##M(1) CD_TAP##M(2) CD_TAP##M(3)                      \
      CD_TAP##M(4) CD_TAP##M(5) CD_TAP##M(6) CD_TAP##M(7)                      \
      "add $4, %[kp]\n\t"                                                      \
      "add $512, %[w]\n\t"                                                     \
      "dec %[ng]\n\t"                                                          \
      "jnz 1b\n\t"                                                             \
      CD_IO##M(CD_ST, a0, a1)                                                  \
      : [kp] "+r"(koff), [w] "+r"(w), [ng] "+r"(ng)                            \
      : [xa] "r"(xp), [a0] "r"(a0), [a1] "r"(a1)                               \
      : "cc", "memory", "r8", "r9", "r10", "r11", "r12", "r13", "r14",         \
        "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",        \
        "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15")

static inline __attribute__((always_inline)) void
cd_c8_groups_6x2(const float *const *xp, const int32_t *koff, int64_t ng,
                 const float *w, __m256 *a0, __m256 *a1) {
  if (ng > 0)
    CD_GROUPS_ASM(6);
}

static inline __attribute__((always_inline)) void
cd_c8_groups_5x2(const float *const *xp, const int32_t *koff, int64_t ng,
                 const float *w, __m256 *a0, __m256 *a1) {
  if (ng > 0)
    CD_GROUPS_ASM(5);
}
#ifndef KILN_CONV_NO_ASM /* (A/B measurements) */
#define CD_C8_GROUPS(mr) ((mr) == 6 ? cd_c8_groups_6x2 : cd_c8_groups_5x2)
#endif

#include "conv_direct_f32_impl.h"

#define DWCB_FN kiln_dwcb_avx2
#include "dwconv_cb_f32_impl.h"

/* kiln_conv_c8_job (conv_direct_f32.h): 8 input columns of the block's 8
 * channel rows are one 8 x 8 transpose into 8 pixels x 8 channels. */
void kiln_conv_c8_pack_avx2(void *vjob, int64_t begin, int64_t end) {
  const kiln_conv_c8_job *j = vjob;
  int64_t cb_n = j->c / 8, row = j->wp * 8;
  /* input columns [lo, hi) of a padded row hold data; the rest are zero */
  int64_t ss = j->ss, wss = (j->w + ss - 1) / ss; /* columns taken */
  int64_t lo = j->pl < j->wp ? j->pl : j->wp;
  int64_t hi = j->pl + wss < j->wp ? j->pl + wss : j->wp;
  hi = hi > lo ? hi : lo;
  for (int64_t t = begin; t < end; ++t) {
    const float *src = j->x + t / cb_n * j->xs[0] + t % cb_n * 8 * j->xs[1];
    float *dst = j->xp + t * j->hp * row;
    float one[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    const float *scs = j->sc ? j->sc + t / cb_n * j->sc_img + t % cb_n * 8 : one;
    __m256 sv = _mm256_loadu_ps(scs);
    for (int64_t r = 0; r < j->hp; ++r) {
      float *d = dst + r * row;
      int64_t sr = r * ss - j->pt;
      if (sr < 0 || sr >= j->h) {
        memset(d, 0, (size_t)row * sizeof(float));
        continue;
      }
      memset(d, 0, (size_t)lo * 8 * sizeof(float));
      memset(d + hi * 8, 0, (size_t)(j->wp - hi) * 8 * sizeof(float));
      const float *s = src + sr * j->xs[2];
      int64_t col = lo;
      if (j->xs[3] == 1 && ss == 1)
        for (; col + 8 <= hi; col += 8) {
          __m256 v[8];
#pragma GCC unroll 8
          for (int ci = 0; ci < 8; ++ci)
            v[ci] = _mm256_loadu_ps(s + ci * j->xs[1] + (col - j->pl));
          transpose8(v);
#pragma GCC unroll 8
          for (int q = 0; q < 8; ++q)
            _mm256_storeu_ps(d + (col + q) * 8, _mm256_mul_ps(v[q], sv));
        }
      for (; col < hi; ++col)
        for (int ci = 0; ci < 8; ++ci)
          d[col * 8 + ci] = s[ci * j->xs[1] + (col - j->pl) * ss * j->xs[3]] * scs[ci];
    }
  }
}
