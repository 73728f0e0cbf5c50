/*===- vmath_avx2.h - vector exp/tanh/GELU and activations, AVX2 ---------===*
 *
 * The functions of vmath_avx512.h on 8 lanes (same formulas and errors);
 * 2^n is built in the exponent field in two halves (n may be -127 near the
 * low clamp). Included by the AVX2 kernel files (-mavx2 -mfma).
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_UKERNELS_VMATH_AVX2_H
#define KILN_UKERNELS_VMATH_AVX2_H

#include "gemm_f32.h"
#include "vmath_gelu.h"

#include <immintrin.h>

static inline __m256 exp8(__m256 x) {
  const __m256 lo = _mm256_set1_ps(-87.33654f);
  __m256 live = _mm256_cmp_ps(x, lo, _CMP_GE_OQ);
  x = _mm256_min_ps(_mm256_max_ps(x, lo), _mm256_set1_ps(88.37626f));
  __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.0f / 720.0f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  /* 2^n in two halves, so n = -127 (x near the low clamp) stays normal. */
  __m256i ni = _mm256_cvtps_epi32(n);
  __m256i h1 = _mm256_srai_epi32(ni, 1), h2 = _mm256_sub_epi32(ni, h1);
  __m256 s1 = _mm256_castsi256_ps(
      _mm256_slli_epi32(_mm256_add_epi32(h1, _mm256_set1_epi32(127)), 23));
  __m256 s2 = _mm256_castsi256_ps(
      _mm256_slli_epi32(_mm256_add_epi32(h2, _mm256_set1_epi32(127)), 23));
  return _mm256_and_ps(_mm256_mul_ps(_mm256_mul_ps(p, s1), s2), live);
}

/* GELU, erf form, by the rational of vmath_gelu.h */
static inline __m256 gelu8(__m256 v) {
  const __m256 lim = _mm256_set1_ps(KILN_GELU_CLAMP);
  __m256 x = _mm256_min_ps(_mm256_max_ps(v, _mm256_sub_ps(_mm256_setzero_ps(), lim)), lim);
  __m256 s = _mm256_mul_ps(x, x);
  __m256 p = _mm256_set1_ps(KILN_GELU_P6);
  p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(KILN_GELU_P5));
  p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(KILN_GELU_P4));
  p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(KILN_GELU_P3));
  p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(KILN_GELU_P2));
  p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(KILN_GELU_P1));
  p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(KILN_GELU_P0));
  __m256 q = _mm256_set1_ps(KILN_GELU_Q4);
  q = _mm256_fmadd_ps(q, s, _mm256_set1_ps(KILN_GELU_Q3));
  q = _mm256_fmadd_ps(q, s, _mm256_set1_ps(KILN_GELU_Q2));
  q = _mm256_fmadd_ps(q, s, _mm256_set1_ps(KILN_GELU_Q1));
  q = _mm256_fmadd_ps(q, s, _mm256_set1_ps(1.0f));
  __m256 h = _mm256_mul_ps(v, _mm256_set1_ps(0.5f));
  return _mm256_fmadd_ps(h, _mm256_div_ps(_mm256_mul_ps(x, p), q), h);
}

static inline __m256 tanh8(__m256 u) {
  u = _mm256_min_ps(_mm256_max_ps(u, _mm256_set1_ps(-9.0f)), _mm256_set1_ps(9.0f));
  __m256 e = exp8(_mm256_add_ps(u, u));
  return _mm256_sub_ps(_mm256_set1_ps(1.0f),
                       _mm256_div_ps(_mm256_set1_ps(2.0f),
                                     _mm256_add_ps(e, _mm256_set1_ps(1.0f))));
}

/* clamp(v / 6 + 1/2, 0, 1), and v times it */
static inline __m256 hardsigmoid8(__m256 v) {
  return _mm256_min_ps(_mm256_max_ps(_mm256_fmadd_ps(v, _mm256_set1_ps(1.0f / 6.0f),
                                                     _mm256_set1_ps(0.5f)),
                                     _mm256_setzero_ps()),
                       _mm256_set1_ps(1.0f));
}
static inline __m256 hardswish8(__m256 v) { return _mm256_mul_ps(v, hardsigmoid8(v)); }

/* The activation of a dense layer's epilogue (KILN_ACT_*), inlined or out
 * of line (act8) as act16 is (vmath_avx512.h). */
static inline __attribute__((always_inline)) __m256 act8_inline(__m256 v, int act) {
  switch (act) {
  case KILN_ACT_RELU:
    return _mm256_max_ps(v, _mm256_setzero_ps());
  case KILN_ACT_GELU:
    return gelu8(v);
  case KILN_ACT_GELU_TANH: {
    __m256 v3 = _mm256_mul_ps(_mm256_mul_ps(v, v), v);
    __m256 u = _mm256_mul_ps(_mm256_set1_ps(0.7978845608028654f),
                             _mm256_fmadd_ps(v3, _mm256_set1_ps(0.044715f), v));
    return _mm256_mul_ps(_mm256_mul_ps(v, _mm256_set1_ps(0.5f)),
                         _mm256_add_ps(_mm256_set1_ps(1.0f), tanh8(u)));
  }
  case KILN_ACT_SILU:
    return _mm256_div_ps(v, _mm256_add_ps(_mm256_set1_ps(1.0f),
                                          exp8(_mm256_sub_ps(_mm256_setzero_ps(), v))));
  case KILN_ACT_HARDSIGMOID:
    return hardsigmoid8(v);
  case KILN_ACT_RELU6:
    return _mm256_min_ps(_mm256_max_ps(v, _mm256_setzero_ps()), _mm256_set1_ps(6.0f));
  case KILN_ACT_HARDSWISH:
    return hardswish8(v);
  default:
    return v;
  }
}

static __attribute__((noinline, unused)) __m256 act8(__m256 v, int act) {
  return act8_inline(v, act);
}

/* The convolutions' activations: ReLU, ReLU6, SiLU, HardSwish and GELU
 * inline, the rest through act8 (act16_conv, vmath_avx512.h). */
static inline __attribute__((always_inline, unused)) __m256 act8_conv(__m256 v, int act) {
  if (act == KILN_ACT_RELU)
    return _mm256_max_ps(v, _mm256_setzero_ps());
  if (act == KILN_ACT_RELU6)
    return _mm256_min_ps(_mm256_max_ps(v, _mm256_setzero_ps()), _mm256_set1_ps(6.0f));
  if (act == KILN_ACT_SILU)
    return _mm256_div_ps(v, _mm256_add_ps(_mm256_set1_ps(1.0f),
                                          exp8(_mm256_sub_ps(_mm256_setzero_ps(), v))));
  if (act == KILN_ACT_HARDSWISH)
    return hardswish8(v);
  if (act == KILN_ACT_GELU)
    return gelu8(v);
  return act ? act8(v, act) : v;
}

#endif
