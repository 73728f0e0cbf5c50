/*===- conv_lanes_f32.h - convolutions with output pixels in the lanes ----===*
 *
 * The AVX2 and AVX-512 path of conv2d_f32 (conv_f32.c) for 1 x 1 filters
 * without padding that the compiler left unpacked: a GEMM-like tile with
 * the filter W [F, C] as its A (read in place, one broadcast per output
 * channel and input channel) and 24 / 48 output pixels as its B columns,
 * B's rows being the input planes in place (strided inputs subsampled into
 * dense planes first), so the tile's rows are NCHW rows of the output (no
 * patch panels, no transposes, bias per row): conv_pw_f32_impl.h, in
 * conv_pw_f32_avx2.c and conv_pw_f32_avx512.c.
 *
 * Tried and removed: the same with small filters (C*KH*KW <= 64, a
 * 3-channel stem) on a zero-padded, column-phase-split copy of the input
 * with tabled tap offsets. MobileNetV3's 3 x 3 stride-2 stem took 3.6 ms
 * at batch 8 that way against 3.2 on the direct kernel.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_UKERNELS_CONV_LANES_F32_H
#define KILN_UKERNELS_CONV_LANES_F32_H

#include <stdint.h>

typedef struct {
  int isa;
  const float *x;
  int64_t xs[4];       /* x [N, C, H, W] strides */
  const float *wt;     /* the filter [F, C, KH, KW], dense */
  const float *bias;   /* [F] or NULL */
  const float *res;    /* [N, F, OH, OW], dense per image, or NULL */
  int64_t res_img;
  float *y;            /* [N, F, OH, OW], dense per image */
  int64_t y_img;
  int64_t n, c, h, w, f, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw;
  int act;
  const float *sc;     /* input scale per image (sc_img apart) and channel,
                          or NULL */
  int64_t sc_img;
  int64_t wt_img;      /* floats between images' filters (0: one filter) */
} kiln_conv_lanes_args;

/* The 1 x 1 path's tasks: runs of `run` pixels of one image (`runs` per
 * image of p pixels) x `fparts` parts of the output channels
 * (conv_pw_f32_avx2.c). */
typedef struct {
  const kiln_conv_lanes_args *a;
  int64_t p, run, runs, fparts;
} kiln_conv_pw_job;
void kiln_conv_pw_avx2(void *job, int64_t begin, int64_t end);
void kiln_conv_pw_avx512(void *job, int64_t begin, int64_t end);

/* Y [f, npx] = act(W [f, k] x X [k, npx] + bias): X's rows ldx floats
 * apart, Y's ldy (conv_pw_f32_avx512.c; pwdw_f32.c's expansion). */
void kiln_pw_block_avx512(const float *x, int64_t ldx, const float *w, int64_t k,
                          const float *bias, int act, float *y, int64_t ldy,
                          int64_t f, int64_t npx);

void kiln_pw_block_avx2(const float *x, int64_t ldx, const float *w, int64_t k,
                        const float *bias, int act, float *y, int64_t ldy, int64_t f,
                        int64_t npx);
/* d[q] = s[2 q] for q < n (conv_im2col_f32.c's stride-2 gather). */
void kiln_even_copy_avx512(float *d, const float *s, int64_t n);

/* y = act(W [f, k] x X [k, npx] + bias + y), summed into y (W's rows ldw
 * floats apart), fetching nxl
 * lines of each row of the next call's input at nx (conv_taps_f32.c). */
void kiln_pw_block_acc_avx512(const float *x, int64_t ldx, const float *w, int64_t k,
                              int64_t ldw, const float *bias, int act, float *y, int64_t ldy,
                              int64_t f, int64_t npx, const float *nx, int64_t nxl);
void kiln_pw_block_acc_avx2(const float *x, int64_t ldx, const float *w, int64_t k,
                            int64_t ldw, const float *bias, int act, float *y, int64_t ldy,
                            int64_t f, int64_t npx, const float *nx, int64_t nxl);

/* Runs the convolution if the path applies (returns 1), else
 * returns 0 and does nothing. */
int kiln_conv_lanes(const kiln_conv_lanes_args *a);

#endif
