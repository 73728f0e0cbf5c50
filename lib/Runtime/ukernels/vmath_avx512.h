/*===- vmath_avx512.h - vector exp/tanh/GELU and activations, AVX-512 ----===*
 *
 * Included by the AVX-512 kernel files (compiled with -mavx512f).
 * exp(x) = 2^n * p(r) with n = round(x / ln 2), r = x - n ln 2 (two-part
 * ln 2), p the degree-6 Taylor polynomial (|r| <= ln2 / 2: truncation error
 * below 1.2e-7 relative); 2^n applied with vscalefps; x < -87.3 gives 0.
 * GELU's erf by the rational of vmath_gelu.h. tanh(u) =
 * 1 - 2 / (exp(2u) + 1), u clamped to +-9. Errors are measured by
 * test/runtime/ukernels.test.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_UKERNELS_VMATH_AVX512_H
#define KILN_UKERNELS_VMATH_AVX512_H

#include "gemm_f32.h"
#include "vmath_gelu.h"

#include <immintrin.h>

static inline __m512 exp16(__m512 x) {
  const __m512 lo = _mm512_set1_ps(-87.33654f);
  __mmask16 live = _mm512_cmp_ps_mask(x, lo, _CMP_GE_OQ);
  x = _mm512_min_ps(_mm512_max_ps(x, lo), _mm512_set1_ps(88.37626f));
  __m512 n = _mm512_roundscale_ps(
      _mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.0f / 720.0f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_maskz_scalef_ps(live, p, n);
}

/* GELU, erf form, by the rational of vmath_gelu.h */
static inline __m512 gelu16(__m512 v) {
  const __m512 lim = _mm512_set1_ps(KILN_GELU_CLAMP);
  __m512 x = _mm512_min_ps(_mm512_max_ps(v, _mm512_sub_ps(_mm512_setzero_ps(), lim)), lim);
  __m512 s = _mm512_mul_ps(x, x);
  __m512 p = _mm512_set1_ps(KILN_GELU_P6);
  p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(KILN_GELU_P5));
  p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(KILN_GELU_P4));
  p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(KILN_GELU_P3));
  p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(KILN_GELU_P2));
  p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(KILN_GELU_P1));
  p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(KILN_GELU_P0));
  __m512 q = _mm512_set1_ps(KILN_GELU_Q4);
  q = _mm512_fmadd_ps(q, s, _mm512_set1_ps(KILN_GELU_Q3));
  q = _mm512_fmadd_ps(q, s, _mm512_set1_ps(KILN_GELU_Q2));
  q = _mm512_fmadd_ps(q, s, _mm512_set1_ps(KILN_GELU_Q1));
  q = _mm512_fmadd_ps(q, s, _mm512_set1_ps(1.0f));
  __m512 h = _mm512_mul_ps(v, _mm512_set1_ps(0.5f));
  return _mm512_fmadd_ps(h, _mm512_div_ps(_mm512_mul_ps(x, p), q), h);
}

static inline __m512 tanh16(__m512 u) {
  u = _mm512_min_ps(_mm512_max_ps(u, _mm512_set1_ps(-9.0f)), _mm512_set1_ps(9.0f));
  __m512 e = exp16(_mm512_add_ps(u, u));
  return _mm512_sub_ps(_mm512_set1_ps(1.0f),
                       _mm512_div_ps(_mm512_set1_ps(2.0f),
                                     _mm512_add_ps(e, _mm512_set1_ps(1.0f))));
}

/* v / (1 + exp(-v)): the quotient as a reciprocal estimate (14 bits) and
 * one Newton step (about 28 bits) instead of a division, which is several
 * times its cost on these cores (EfficientNet's SiLU after every
 * convolution). Past -88 the sum overflows to inf and the estimate to 0,
 * giving -0 for v * e^v ~ -1e-36. */
static inline __m512 silu16(__m512 v) {
  __m512 d = _mm512_add_ps(_mm512_set1_ps(1.0f), exp16(_mm512_sub_ps(_mm512_setzero_ps(), v)));
  __m512 r = _mm512_rcp14_ps(d);
  r = _mm512_mul_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(2.0f)));
  return _mm512_mul_ps(v, r);
}

/* clamp(v, 0, 6) (NaN -> 0, as the scalar form) */
static inline __m512 relu6_16(__m512 v) {
  return _mm512_min_ps(_mm512_max_ps(v, _mm512_setzero_ps()), _mm512_set1_ps(6.0f));
}

/* clamp(v / 6 + 1/2, 0, 1), and v times it */
static inline __m512 hardsigmoid16(__m512 v) {
  return _mm512_min_ps(_mm512_max_ps(_mm512_fmadd_ps(v, _mm512_set1_ps(1.0f / 6.0f),
                                                     _mm512_set1_ps(0.5f)),
                                     _mm512_setzero_ps()),
                       _mm512_set1_ps(1.0f));
}
static inline __m512 hardswish16(__m512 v) { return _mm512_mul_ps(v, hardsigmoid16(v)); }

/* The activation of a dense layer's epilogue (KILN_ACT_*): inlined where
 * `act` is a constant (the GEMM tiles' act_tile, gemm_store_avx512.h), and
 * called out of line as act16 elsewhere: inlined into every tile shape it
 * took clang with ASan 5 minutes per GEMM file. */
static inline __attribute__((always_inline)) __m512 act16_inline(__m512 v, int act) {
  switch (act) {
  case KILN_ACT_RELU:
    return _mm512_max_ps(v, _mm512_setzero_ps());
  case KILN_ACT_GELU:
    return gelu16(v);
  case KILN_ACT_GELU_TANH: {
    __m512 v3 = _mm512_mul_ps(_mm512_mul_ps(v, v), v);
    __m512 u = _mm512_mul_ps(_mm512_set1_ps(0.7978845608028654f),
                             _mm512_fmadd_ps(v3, _mm512_set1_ps(0.044715f), v));
    return _mm512_mul_ps(_mm512_mul_ps(v, _mm512_set1_ps(0.5f)),
                         _mm512_add_ps(_mm512_set1_ps(1.0f), tanh16(u)));
  }
  case KILN_ACT_SILU:
    return silu16(v);
  case KILN_ACT_HARDSIGMOID:
    return hardsigmoid16(v);
  case KILN_ACT_RELU6:
    return relu6_16(v);
  case KILN_ACT_HARDSWISH:
    return hardswish16(v);
  default:
    return v;
  }
}

static __attribute__((noinline, unused)) __m512 act16(__m512 v, int act) {
  return act16_inline(v, act);
}

/* The convolutions' activations: ReLU, ReLU6, SiLU, HardSwish and GELU
 * inline (a call per vector would spill the register tile around it), the
 * rest through act16. */
static inline __attribute__((always_inline, unused)) __m512 act16_conv(__m512 v, int act) {
  if (act == KILN_ACT_RELU)
    return _mm512_max_ps(v, _mm512_setzero_ps());
  if (act == KILN_ACT_RELU6)
    return relu6_16(v);
  if (act == KILN_ACT_SILU)
    return silu16(v);
  if (act == KILN_ACT_HARDSWISH)
    return hardswish16(v);
  if (act == KILN_ACT_GELU)
    return gelu16(v);
  return act ? act16(v, act) : v;
}

/* round(v / s) to nearest even, as the division rounds it, for results
 * that are then offset by a zero point in [0, 255] and saturated to a
 * byte (QuantizeLinear): v * r with r = kiln_quant_rcp(s), and the
 * division only in lanes where that product lies within 2^-11 of a half
 * or is not finite. Below 1024 in magnitude the product is within 2^-12
 * of the rounded quotient (two roundings of 2^-24 relative), so elsewhere
 * both round to the same integer; past 1024 both saturate. A vdivps per
 * vector took a quarter of a low-channel int8 convolution's time. */
static inline __attribute__((always_inline, unused)) __m512
round_div16(__m512 v, __m512 s, __m512 r) {
  __m512 t = _mm512_mul_ps(v, r);
  __m512 q = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 d = _mm512_abs_ps(_mm512_sub_ps(t, q));
  __mmask16 near = _mm512_cmp_ps_mask(d, _mm512_set1_ps(0.5f - 1.0f / 2048.0f),
                                      _CMP_NLE_UQ);
  if (__builtin_expect(near != 0, 0))
    q = _mm512_mask_roundscale_ps(q, near, _mm512_div_ps(v, s),
                                  _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  return q;
}

/* QuantizeLinear to u8 in float: clip(round(v / s) + z, 0, 255), whole
 * values (r: round_div16's; z a zero point in [0, 255]; NaN gives 0). */
static inline __attribute__((always_inline, unused)) __m512
quant_u8_16(__m512 v, __m512 s, __m512 r, __m512 z) {
  __m512 q = _mm512_add_ps(round_div16(v, s, r), z);
  return _mm512_min_ps(_mm512_max_ps(q, _mm512_setzero_ps()), _mm512_set1_ps(255.0f));
}

#endif
