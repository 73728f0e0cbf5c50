/*===- vmath_gelu.h - the rational GELU's coefficients -------------------===*
 *
 * GELU(x) = x/2 + x/2 * erf(x / sqrt 2), with
 *   erf(x / sqrt 2) = x * P(x^2) / Q(x^2),  x clamped to +-KILN_GELU_CLAMP
 * (erf(5.6 / sqrt 2) = 1 - 2e-8). Fitted by scripts/fit_gelu.py, which also
 * prints the float32 errors: erf within 3.4e-7, GELU within 1.1e-6 absolute
 * (x/2 times the erf error, plus rounding). One division and ten FMAs per
 * vector instead of the exp-based erfc (a division, an exp and fourteen
 * more operations): 2.5 against 7.7 ns per 16 floats on the Zen machine.
 * Used by vmath_avx512.h and vmath_avx2.h.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_UKERNELS_VMATH_GELU_H
#define KILN_UKERNELS_VMATH_GELU_H

#define KILN_GELU_CLAMP 5.6f
#define KILN_GELU_P0 7.978842258e-01f
#define KILN_GELU_P1 7.424200326e-02f
#define KILN_GELU_P2 9.176254272e-03f
#define KILN_GELU_P3 3.651150037e-04f
#define KILN_GELU_P4 6.725268122e-06f
#define KILN_GELU_P5 -4.399710107e-08f
#define KILN_GELU_P6 2.160281953e-10f
#define KILN_GELU_Q1 2.597126663e-01f
#define KILN_GELU_Q2 2.979097702e-02f
#define KILN_GELU_Q3 1.901994227e-03f
#define KILN_GELU_Q4 6.627835683e-05f

#endif
