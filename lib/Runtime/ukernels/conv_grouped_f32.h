/*===- conv_grouped_f32.h - grouped convolutions, direct kernels ----------===*
 *
 * A grouped 2-D convolution (ResNeXt's 32 groups of 4 channels, RegNet's
 * groups of 8 to 24) with few filters per group: a GEMM per group has a
 * handful of rows and a short K, so it ran at 5-20 GFLOP/s on the patch
 * GEMM. Here a task is one (image, group): the group's input planes are
 * copied zero-padded, each row split into its `stride` column phases (so
 * that every tap reads consecutive output pixels from contiguous memory),
 * and register tiles of GC_FB filters x GC_NV vectors of output pixels
 * sum over the group's channels and taps, then take the bias, residual
 * and activation and are stored NCHW.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_UKERNELS_CONV_GROUPED_F32_H
#define KILN_UKERNELS_CONV_GROUPED_F32_H

#include <stdint.h>

typedef struct {
  const float *x;  /* image 0, channel 0 */
  int64_t xs[4];   /* its strides, elements */
  const float *w;  /* [F, Cg, KH, KW], dense; or NULL with wp */
  const float *wp; /* or the compiler's panels [F / 16][Cg * KH * KW][16] */
  const float *bias;
  const float *res;
  int64_t res_img;
  float *y;
  int64_t y_img;
  int64_t n, groups, cg, fg, h, w_, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw;
  int act;
  int failed;
} kiln_gconv_job;

/* Taps at most of a packed filter (the channel-vector tiles' table). */
#define KILN_GCONV_MAX_TAPS 64

/* Tasks [begin, end) of n * groups (image-major). */
void kiln_gconv_avx512(void *job, int64_t begin, int64_t end);
void kiln_gconv_avx2(void *job, int64_t begin, int64_t end);

#endif
