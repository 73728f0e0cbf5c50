/*===- conv_direct_f32.h - direct 2-D convolution on packed filters -------===*
 *
 * The group-1 convolution of conv_f32.c when the compiler packed the filter
 * (flag 4): no patch matrix. A register tile is a few output pixels of
 * one output row (or of the flattened plane for a 1 x 1, stride-1,
 * unpadded convolution: 14 on AVX-512, 6 on AVX2) x two vectors of output
 * channels (32 or 16). At each k = (c, kh, kw) the tile loads the two panels' 16
 * filter values and broadcasts each pixel's input value straight from the
 * (zero-padded) NCHW input: pixel i of the tile reads x[koff[k] + i *
 * step], so no patch is ever copied
 * (conv_direct_f32_impl.h). The tile is transposed in registers
 * to NCHW rows of pixels for the epilogue (bias, residual, activation) and
 * the store.
 *
 * The filter layout is the GEMM's panel layout (codegen/cpu/ConvFilters.cpp):
 * panel p holds output channels [16p, 16p + 16) as K rows of 16 floats,
 * zero-padded past F, with K ordered (c, kh, kw).
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_UKERNELS_CONV_DIRECT_F32_H
#define KILN_UKERNELS_CONV_DIRECT_F32_H

#include <stdint.h>

typedef struct {
  const float *x;      /* input, image 0, at padded (0, 0) */
  int64_t x_img;       /* floats between images of x */
  const int32_t *koff; /* [k]: offset of (c, kh, kw) from a pixel's origin */
  int64_t k;
  const float *wp;     /* packed filter panels [ceil(f / 16), k, 16] */
  int64_t f;
  float *y;            /* output [n, f, oh, ow], dense per image */
  int64_t y_img;
  const float *bias;   /* [f] or NULL */
  const float *res;    /* residual laid out as y, or NULL */
  int64_t res_img;
  int act;
  int64_t oh, ow;      /* output extents */
  int64_t pitch;       /* floats between rows of x */
  int64_t sh;          /* row stride of the convolution */
  int step;            /* floats between neighbouring pixels' inputs (1
                          or 2 but in gather mode) */
  int flat;            /* tiles run over the virtual plane of pitch-wide rows */
  int gather;          /* tiles run over the output plane, each pixel's
                          input origin computed (any stride, no waste) */
  int64_t fblocks;     /* ceil(f / channels per tile) */
  int64_t rows;        /* tasks per (image, channel block) */
  int rows_outer;      /* tasks in (image, row, block) order, not (image,
                          block, row): the filter is small and the rows'
                          inputs are what should stay in cache */
  int64_t row_px;      /* flat, gather: about this many pixels per task */
  int kblocks;         /* tasks run their taps in k blocks (when their tiles'
                          accumulators fit the buffer): gather mode, and any
                          mode on a filter past KILN_CONV_BIG_FILTER */
  int c8;              /* gather only: x is NCHW8c (conv2d_direct) and the
                          filter's K runs (c / 8, kh, kw, c % 8); koff has
                          one entry per 8 taps */
} kiln_conv_direct_job;

/* The zero-padded NCHW8c copy of x for c8 jobs: tasks [begin, end) of
 * n * c / 8 (image, block of 8 channels), each written as hp rows of wp
 * pixels x 8 channels. */
typedef struct {
  const float *x;
  int64_t xs[4];
  int64_t c, h, w, hp, wp, pt, pl;
  int64_t ss; /* rows and columns of x taken: every ss-th (a strided 1 x 1
                 convolution then runs at stride 1 on the copy) */
  float *xp;  /* [n, c / 8, hp, wp, 8] */
  const float *sc; /* per-channel input scale [n (sc_img apart), c], or NULL */
  int64_t sc_img;
} kiln_conv_c8_job;
void kiln_conv_c8_pack_avx2(void *job, int64_t begin, int64_t end);

/* Output channels and (at most) pixels per tile of each ISA's kernel. */
#define KILN_CONV_CT_AVX512 32
#define KILN_CONV_MR_AVX512 14
#define KILN_CONV_CT_AVX2 16
#define KILN_CONV_MR_AVX2 6
/* Tiles whose accumulators may wait between k blocks (one task's), and the
 * filter block (bytes per tile's channels) from which row and flat tasks
 * run in k blocks: such a filter comes from memory once per run (ResNet-18's
 * layer 4: 590 KB per 32 channels); k blocks on smaller ones ran ResNet-18
 * 2-3% slower on AVX-512. */
#define KILN_CONV_MAX_TILES 24
#define KILN_CONV_BIG_FILTER (256 << 10)

/* Tasks [begin, end) of n * fblocks * rows: (image, channel block, row). */
void kiln_conv_direct_avx512(void *job, int64_t begin, int64_t end);
void kiln_conv_direct_avx2(void *job, int64_t begin, int64_t end);

#endif
