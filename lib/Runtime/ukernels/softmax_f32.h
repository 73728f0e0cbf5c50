/*===- softmax_f32.h - row softmax kernels (internal) ---------------------===*
 *
 * kiln_softmax_rows_<isa>(s, rows, n, lds, inv, pre): for each of `rows` rows
 * of `n` floats (row r at s + r * lds), first (with `pre`) s = s * scale +
 * mask[r * ldm + j] (no mask: the scale alone), in the pass that finds the
 * row's max; then replaces s by exp(s - rowmax) and sets inv[r] = 1 / sum
 * of the row, so that softmax = s * inv[r]. exp is a
 * degree-6 polynomial on a range-reduced argument (relative error below
 * 2e-7, checked by test/runtime/ukernels.test against double precision);
 * arguments below -87.3 give exactly 0.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_UKERNELS_SOFTMAX_F32_H
#define KILN_UKERNELS_SOFTMAX_F32_H

#include <stdint.h>

/* Attention's scale and additive mask, applied by the softmax's first
 * pass instead of a pass of their own. mask: NULL, or unit-stride rows of
 * stride ldm (0: one row for all). */
typedef struct {
  float scale;
  const float *mask;
  int64_t ldm;
} kiln_softmax_pre;

void kiln_softmax_rows_generic(float *s, int64_t rows, int64_t n, int64_t lds,
                               float *inv, const kiln_softmax_pre *pre);
void kiln_softmax_rows_avx2(float *s, int64_t rows, int64_t n, int64_t lds,
                            float *inv, const kiln_softmax_pre *pre);
void kiln_softmax_rows_avx512(float *s, int64_t rows, int64_t n, int64_t lds,
                              float *inv, const kiln_softmax_pre *pre);
/* o[e] += sum_j p[j] * v[j * ldv + e] for e < dv, j < n: the P.V product
 * of one query row, streaming V's rows once (decode steps). */
void kiln_axpy_rows_generic(float *o, const float *p, const float *v,
                            int64_t n, int64_t dv, int64_t ldv);
void kiln_axpy_rows_avx2(float *o, const float *p, const float *v, int64_t n,
                         int64_t dv, int64_t ldv);
void kiln_axpy_rows_avx512(float *o, const float *p, const float *v,
                           int64_t n, int64_t dv, int64_t ldv);
/* s[j] = sum_e k[j * ldk + e] * q[e] for j < n, e < d: the scores of one
 * query row, streaming K's rows once (decode steps). */
void kiln_dot_rows_avx2(float *s, const float *q, const float *k, int64_t n,
                        int64_t d, int64_t ldk);
void kiln_dot_rows_avx512(float *s, const float *q, const float *k, int64_t n,
                          int64_t d, int64_t ldk);
/* exp of n floats in place (for the accuracy test). */
void kiln_exp_avx512(float *x, int64_t n);
void kiln_exp_avx2(float *x, int64_t n);

#endif
