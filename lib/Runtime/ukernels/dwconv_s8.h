/*===- dwconv_s8.h - depthwise convolutions of statically quantized models ===*
 *
 * A QDQ model's depthwise convolution, conv(DQ(Q(x)), DQ(Wq)) with group
 * = C = F, x quantized per tensor to u8 (scale sx, zero point zx) and an
 * int8 filter with zero point 0 per tensor or per channel (scales sw_c),
 * runs as kiln.ukernel "dwconv2d_f32" with flag 256
 * (codegen/cpu/SelectConvUkernels.cpp):
 *
 *   y[c, p] = sx * sw_c * sum_t qw[c, t] (qx[c, p + t] - zx) + bias_c
 *
 * then as conv_s8.h's group-1 kernel: flag 512 the output's Q -> DQ pair
 * before the activation, 1024 a u8 output quantized with the last two
 * float params, 2048 a u8 input already quantized with (sx, zx). The sums
 * are exact: qw (|qw| <= 128) times qx - zx (|.| <= 255) summed over at
 * most 500 taps stays below 2^24, so f32 multiply-adds of the integers
 * lose nothing and give conv_s8's int32 sums, in any order.
 *
 * Operands: x [N, C, H, W] (f32, or u8 with 2048), the filter's integers
 * as f32 [C, 1, KH, KW], [bias [C],] the filter's scales f32 [C], y [N,
 * C, OH, OW] (f32, or u8 with 1024); float params sx, zx, [sy, zy,] [so,
 * zo]. Per task one channel plane: its input quantized (or read) into
 * f32 phase planes of qx - zx by column stride (padding 0), then rows of
 * output vectors, the epilogue on each finished row.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_UKERNELS_DWCONV_S8_H
#define KILN_UKERNELS_DWCONV_S8_H

#include <stdint.h>

typedef struct {
  const float *x;
  const uint8_t *x8;
  int64_t x_img, x_ch;   /* elements between images' and channels' planes */
  const float *w;        /* [C][KH * KW] integers */
  const float *bias;     /* [C] or NULL */
  const float *scale;    /* [C] */
  float *y;
  uint8_t *y8;
  int64_t y_img, y_ch;
  int64_t c, h, wd, kh, kw, sh, sw, pt, pl, oh, ow;
  int64_t pb;            /* column phases: min(sw, kw) */
  int64_t hp, wq, ws;    /* phase rows, useful and allocated row length */
  const int64_t *toff;   /* per tap: its phase plane's row and column
                            offset (floats) from an output's position */
  float sx, rx, zx;      /* input scale, kiln_quant_rcp(sx), zero point */
  int requant;
  float sy, ry, zy;
  float so, ro, zo;
  const uint8_t *lut;    /* as conv_s8.h's (conv_s8_epi.h), or NULL */
  const float *lutf;     /* f32 output after the pair: act((q - zy) sy)
                            of each requantized q (costly activations:
                            SiLU, GELU, HardSwish), or NULL */
  int act;
  int failed;
} kiln_dwconv_s8_job;

/* Floats of one task's scratch (dwconv_s8_avx512.c): the phase planes,
 * a padded input row and two rows of sums. */
static inline int64_t kiln_dwconv_s8_scratch(const kiln_dwconv_s8_job *j) {
  return j->pb * j->hp * j->ws + j->ws * j->sw + 32 + 2 * j->ws + 16;
}

/* Tasks [begin, end) of (image, channel): portable C (dwconv_s8.c),
 * AVX-512 (dwconv_s8_avx512.c). */
void kiln_dwconv_s8_generic(void *job, int64_t begin, int64_t end);
void kiln_dwconv_s8_avx512(void *job, int64_t begin, int64_t end);

/* kiln.ukernel "dwconv2d_f32" with CONV_S8 (conv_f32.c dispatches). */
void kiln_dwconv2d_s8(const int64_t *desc, const float *fparams);

#endif
