/*===- dwconv_rows_f32.h - depthwise convolution along NCHW rows ---------===*
 *
 * Shared by dwconv_f32.c (the driver) and dwconv_rows_f32_impl.h (the
 * AVX-512 body, compiled in pool_f32_avx512.c): which convolutions the row
 * kernel takes, and its entry point.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_UKERNELS_DWCONV_ROWS_F32_H
#define KILN_UKERNELS_DWCONV_ROWS_F32_H

#include <stdint.h>

/* A square 3 x 3, 5 x 5 or 7 x 7 filter, the same stride (1 or 2) along
 * both dims, no dilation, and output rows of at least one 16-lane vector
 * that fill at least 3/4 of the vectors they take. Narrower rows (14 x 14
 * and 7 x 7 planes) go to the channel-blocked kernel: their tiles are
 * short, and an expensive activation (SiLU) on a vector of 14 columns
 * measured 1.2x slower than on the channel-blocked tiles. */
static inline int dwr_fits(int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                           int64_t dh, int64_t dw, int64_t ow) {
  int64_t vecs = (ow + 15) / 16;
  return kh == kw && (kw == 3 || kw == 5 || kw == 7) && sh == sw &&
         (sw == 1 || sw == 2) && dh == 1 && dw == 1 && ow >= 16 &&
         4 * ow >= 3 * vecs * 16;
}

/* Output rows [r0, r1) of one plane: x [h, wd], y [oh, ow] (dense), w the
 * plane's filter [k, k], bias its bias, s the stride; returns the sum of
 * the rows' outputs. Only for dwr_fits shapes. */
float kiln_dwrows_avx512(const float *x, float *y, const float *w, float bias,
                         int64_t h, int64_t wd, int64_t ow, int64_t k,
                         int64_t s, int64_t pt, int64_t pl, int act, int64_t r0,
                         int64_t r1);

#endif
