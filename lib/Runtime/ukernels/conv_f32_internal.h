/*===- conv_f32_internal.h - shared by the convolution drivers -----------===*
 *
 * conv_f32.c (group 1, profiled entry points) and dwconv_f32.c (depthwise):
 * the desc flags and how their operands are read.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_UKERNELS_CONV_F32_INTERNAL_H
#define KILN_UKERNELS_CONV_F32_INTERNAL_H

#include "view.h"
#include "../runtime_internal.h"

#include <stdint.h>

/* CONV_XSCALE: the input is scaled per (image, channel) by an extra
 * operand s [N or 1, C, 1, 1] before the convolution (a squeeze-excite
 * gate, x * s, taken into the convolution that consumes it). */
enum { CONV_BIAS = 1, CONV_RESIDUAL = 2, CONV_PACKED = 4, CONV_C8 = 8,
       CONV_XSCALE = 16, CONV_MEAN = 32, CONV_WINO = 64, CONV_GROUPS = 128,
       CONV_S8 = 256, CONV_REQUANT = 512, CONV_OUT_U8 = 1024,
       CONV_IN_U8 = 2048, CONV_BF16 = 4096, CONV_DYNAMIC = 8192,
       CONV_IM2COL = 16384, CONV_TAPS = 32768 };
/* CONV_TAPS (with CONV_PACKED): a stride-1 convolution that reads mostly
 * zero padding (dilated), its filter packed [KH * KW, F, C], summed tap by
 * tap over each tap's valid outputs (conv_taps_f32.c). */
/* CONV_IM2COL (with CONV_S8): a convolution over few channels (a stem)
 * whose filter was packed as a 1 x 1 one over its C * KH * KW values: the
 * kernel's input units are those values' planes (conv_s8.h). */
/* CONV_DYNAMIC (with CONV_S8): --quantize int8's convolution, no fparams:
 * the input's scale and zero point from its whole range per call, as
 * DynamicQuantizeLinear computes them. */
/* CONV_BF16 (with CONV_S8): --precision bf16's convolution, its filter
 * packed by kiln_conv_bf16_pack (conv_s8.h), no fparams; bias, residual,
 * input scale and activation as for f32. */
/* CONV_S8: a QDQ model's convolution in int8 (conv_s8.h), its filter
 * packed at compile time (1-D i8), KH and KW appended to the params,
 * fparams (input scale, zero point). With CONV_REQUANT the output's
 * QuantizeLinear -> DequantizeLinear pair too, before the residual and
 * activation: fparams (output scale, zero point) follow. CONV_OUT_U8: y
 * is u8, quantized with the last two fparams; CONV_IN_U8: x is u8,
 * already quantized with (input scale, zero point) (conv_s8.h). */
/* CONV_GROUPS (unpacked filters, no input scale): a grouped convolution,
 * G = C / the filter's channels groups of F / G filters (ResNeXt, RegNet);
 * each group runs the patch GEMM on its channels' views. */
/* CONV_WINO (with CONV_PACKED): a 3 x 3 stride-1 convolution whose filter
 * the compiler transformed for Winograd F(2x2, 3x3), [16, F, C]
 * (conv_wino_f32.h). */
/* CONV_MEAN (depthwise): a second output, mean [N, C, 1, 1], the global
 * average pool of y (a squeeze-excite block's, taken into the kernel). */

/* Whether dims [from, 4) of `v` are row-major dense (size-1 dims read with
 * stride 0, view.h, so they are skipped). kiln's lowering gives dense
 * buffers; the kernels check rather than assume. */
static inline int dense_from(const view4 *v, int from) {
  int64_t expect = 1;
  for (int d = 3; d >= from; --d) {
    if (v->size[d] != 1 && v->stride[d] != expect)
      return 0;
    expect *= v->size[d];
  }
  return 1;
}

/* conv_patch_f32_avx512.c: dst[16 b + i] = src[i][b] for b, i < 16 (16
 * pixels' runs of 16 input values into 16 rows of a B panel). */
void kiln_patch_rows16_avx512(const float *const src[16], float *dst);

/* Below this many multiply-adds a convolution runs on one thread. */
#define DIRECT_PARALLEL_MIN_MACS (1 << 18)

/* The bias [f] and the residual [n, f, oh, ow] (dense per image) of the
 * packed paths, checked against the output's extents. */
static inline void check_epilogue_views(int64_t flags, const view4 *bias,
                                 const view4 *res, int64_t n, int64_t f,
                                 int64_t oh, int64_t ow) {
  if (flags & CONV_BIAS)
    kiln_rt_check_dim(bias->size[3], f);
  if (flags & CONV_RESIDUAL) {
    kiln_rt_check_dim(res->size[0], n);
    kiln_rt_check_dim(res->size[1], f);
    kiln_rt_check_dim(res->size[2], oh);
    kiln_rt_check_dim(res->size[3], ow);
    kiln_rt_check_dim(dense_from(res, 1), 1);
  }
}

/* The views after a conv2d_f32 desc's params: x, the filter (rank wrank:
 * 4 as given, 3 when packed), [bias,] [residual,] [input scale,] y. */
static inline void read_conv_views(const int64_t *d, int64_t flags, int wrank,
                            view4 *x, view4 *w, view4 *bias, view4 *res,
                            view4 *sc, view4 *y) {
  d = kiln_read_view(d, 4, 4, x);
  d = kiln_read_view(d, wrank, 4, w);
  if (flags & CONV_BIAS)
    d = kiln_read_view(d, 1, 4, bias);
  if (flags & CONV_RESIDUAL)
    d = kiln_read_view(d, 4, 4, res);
  if (flags & CONV_XSCALE)
    d = kiln_read_view(d, 4, 4, sc);
  kiln_read_view(d, 4, 4, y);
}

/* The input scale's floats for image 0 and the floats between images'
 * scales (0: one scale for the batch), checked against x [n, c, ...]; NULL
 * without CONV_XSCALE. */
static inline const float *conv_xscale(int64_t flags, const view4 *sc,
                                       int64_t n, int64_t c,
                                       int64_t *img_stride) {
  *img_stride = 0;
  if (!(flags & CONV_XSCALE))
    return NULL;
  kiln_rt_check_dim(sc->size[0] == n || sc->size[0] == 1, 1);
  kiln_rt_check_dim(sc->size[1], c);
  kiln_rt_check_dim(sc->size[2] == 1 && sc->size[3] == 1, 1);
  kiln_rt_check_dim(sc->stride[1] == 1 || c == 1, 1);
  *img_stride = sc->stride[0]; /* 0 for a size-1 dim (view.h) */
  return (const float *)sc->base;
}

/* x [n, c, h, w] (strides xs) times the scale (per image sc_img apart)
 * as a dense copy in this thread's scratch (the paths that do not scale
 * on their own input copy). */
float *kiln_conv_scaled_copy(const float *x, const int64_t xs[4], int64_t n,
                             int64_t c, int64_t h, int64_t w, const float *sc,
                             int64_t sc_img);

/* conv2d_f32 on the patch GEMM (conv_patch_f32.c): filters the compiler
 * did not pack. */
void kiln_conv2d_patch(const int64_t *desc);

/* The views after a dwconv2d_f32 desc's params: x, w, [bias,] y, [mean]. */
static inline void read_dw_views(const int64_t *d, int64_t flags, view4 *x,
                          view4 *w, view4 *bias, view4 *y, view4 *mean) {
  d = kiln_read_view(d, 4, 4, x);
  d = kiln_read_view(d, 4, 4, w);
  if (flags & CONV_BIAS)
    d = kiln_read_view(d, 1, 4, bias);
  d = kiln_read_view(d, 4, 4, y);
  if (flags & CONV_MEAN)
    kiln_read_view(d, 4, 4, mean);
}

/* conv2d_f32 with CONV_IM2COL and no CONV_S8: a stem as a 1 x 1
 * convolution over its gathered patches (conv_im2col_f32.c). */
void kiln_conv2d_im2col_f32(const int64_t *desc);

/* conv2d_f32 with CONV_TAPS (conv_taps_f32.c). */
void kiln_conv2d_taps(const int64_t *desc);

/* kiln.ukernel "dwconv2d_f32" (dwconv_f32.c); profiled by conv_f32.c. */
void kiln_dwconv2d_f32_run(const int64_t *desc);

#endif
