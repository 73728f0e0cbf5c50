/*===- conv_wino_f32.h - 3 x 3 convolutions by Winograd F(2x2, 3x3) ------===*
 *
 * A 3 x 3 convolution at stride 1, dilation 1, group 1 computes each 2 x 2
 * block of outputs ("tile") from a 4 x 4 block of input as
 *
 *   Y = A^T [ sum_c (G g_fc G^T) .* (B^T d_c B) ] A
 *
 * (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks"):
 * 16 multiplies per tile and (f, c) pair instead of the direct form's 36,
 * 2.25x fewer. The 16 element-wise products, summed over c, are 16
 * independent GEMMs, one per position xi of the 4 x 4 transformed block:
 *
 *   M[xi] [F, tiles] = U[xi] [F, C] x V[xi] [C, tiles]
 *
 * U = G g G^T is computed by the compiler (codegen/cpu/ConvFilters.cpp) and
 * stored as [16, F, C] (U[xi] row-major, the GEMM's left operand read in
 * place). V is the transformed input, written straight into the GEMM's
 * 16-column B panels (gemm_f32.h); M is transformed back (A^T M A) with
 * the bias, the residual and the activation, into NCHW.
 *
 * Tiles are numbered row-major over (image, tile row, tile column): a
 * "tile row" of image n is the tw = ceil(ow / 2) tiles of output rows
 * 2 ty and 2 ty + 1. Work items are groups of whole tile rows, times parts
 * of F (conv_f32.c chooses). Below 256 input channels a group's V is
 * about 512 KiB (all of it stays in L2) and each block of 12 output
 * channels is multiplied and transformed back in turn; from 256, U is the
 * larger operand: V is about 128 KiB per xi, all of an item's channels
 * are multiplied xi by xi (each U[xi] read once per group) before the
 * output transform (`whole`). AVX-512 only (conv_wino_f32_avx512.c); AVX2
 * models keep the direct kernel.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_UKERNELS_CONV_WINO_F32_H
#define KILN_UKERNELS_CONV_WINO_F32_H

#include <stdint.h>

typedef struct {
  const float *x;         /* x [n, c, h, w], unit column stride */
  int64_t xs0, xs1, xs2;  /* its image, channel and row strides */
  const float *u;         /* [16, f, c] */
  const float *bias;      /* [f] or NULL */
  const float *res;       /* dense [n, f, oh, ow] per image, or NULL */
  int64_t rs0;
  float *y;               /* dense [n, f, oh, ow] per image */
  int64_t ys0;
  int64_t n, c, h, w, f, oh, ow, pt, pl;
  int64_t th, tw;         /* tile rows per image, tiles per tile row */
  /* group g: tile rows [R g / groups, R (g + 1) / groups) of the R =
   * n * th; fparts parts of the output channels (in blocks of 12) */
  int64_t groups, fparts;
  /* all of an item's output channels' M at once (each U[xi] read once
   * per group, V[xi] L2-resident while its channel blocks pass over it),
   * instead of a block of 12 channels at a time (all of V L2-resident):
   * for many input channels, where U is large and V[xi] small */
  int whole;
  int act;
  int failed;             /* set when scratch memory cannot be had */
} kiln_wino_job;

/* kiln.ukernel "conv2d_f32" with flags 4 | 64: desc as the direct path's
 * (conv_f32.c), the filter view U [16, F, C] (conv_wino_f32.c). */
void kiln_conv2d_winograd(const int64_t *desc);

/* Work items [begin, end) of groups * fparts (a kiln_range_fn). */
void kiln_conv_wino_avx512(void *job, int64_t begin, int64_t end);

#endif
