/*===- conv_im2col_f32.c - a stem's convolution as a 1 x 1 over its patches -===*
 *
 * conv2d_f32 with CONV_IM2COL and no CONV_S8 (codegen/cpu/ConvFilters.cpp): a
 * convolution over few input channels (the compiler takes 3-channel 3 x 3
 * stems: MobileNet's and EfficientNet's) whose K = C * KH * KW values per
 * output are gathered, a band of output rows at a time, into K planes of
 * the band's pixels (zeros where a tap reads the padding; stride-2 rows by
 * a permute of two vectors on AVX-512), then multiplied as a 1 x 1
 * convolution on the pointwise tiles (conv_pw_f32_impl.h: 8 filters x 48
 * pixels on AVX-512, the filter [F, K] read in place as the model gives
 * it). The direct kernel ran MobileNetV2's 3 x 3 / 2 stem (K = 27) at
 * 58-72 GFLOP/s, this at 61-74 (the models 1.01-1.02x faster); on
 * ResNet-50's 7 x 7 / 2 (K = 147) the tiles ran at 180 GFLOP/s but with the
 * gather 1.85 ms against the direct kernel's 1.72.
 *
 * desc: isa, flags, activation, stride h/w, pad top/left, dilation h/w,
 * then the views x [N, C, H, W], w [F, C, KH, KW], [bias [F],] [residual,]
 * y [N, F, OH, OW]. Tasks: (image, band of output rows whose K planes fit
 * about 512 KiB).
 *
 *===----------------------------------------------------------------------===*/

#include "conv_f32_internal.h"
#include "conv_lanes_f32.h"
#include "gemm_f32.h"

#include <string.h>

typedef struct {
  void (*set)(const float *x, int64_t ldx, const float *w, int64_t k,
              const float *bias, int act, float *y, int64_t ldy, int64_t f,
              int64_t npx);
  int avx512;
  void (*acc)(const float *x, int64_t ldx, const float *w, int64_t k, int64_t ldw,
              const float *bias, int act, float *y, int64_t ldy, int64_t f,
              int64_t npx, const float *nx, int64_t nxl);
  const float *x;
  int64_t xs[4];
  const float *w; /* [f, k] */
  const float *bias, *res;
  int64_t res_img;
  float *y;
  int64_t y_img;
  int64_t c, h, wd, f, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw, k;
  int64_t band, bands; /* output rows per band, bands per image */
  int act;
  int failed;
} i2c_job;

/* The k planes of output rows [r0, r1) into col ([k, (r1 - r0) * ow]). */
static void gather(const i2c_job *j, const float *x, int64_t r0, int64_t r1,
                   float *col) {
  int64_t npx = (r1 - r0) * j->ow;
  for (int64_t ci = 0; ci < j->c; ++ci)
    for (int64_t a = 0; a < j->kh; ++a)
      for (int64_t b = 0; b < j->kw; ++b) {
        float *d = col + ((ci * j->kh + a) * j->kw + b) * npx;
        /* the output columns whose input column is inside: ix = ox * sw -
         * pl + b * dw in [0, wd) */
        int64_t off = b * j->dw - j->pl;
        int64_t lo = off >= 0 ? 0 : (-off + j->sw - 1) / j->sw;
        int64_t hi = j->wd - off > 0 ? (j->wd - off + j->sw - 1) / j->sw : 0;
        hi = hi < j->ow ? hi : j->ow;
        lo = lo < hi ? lo : hi;
        for (int64_t oy = r0; oy < r1; ++oy, d += j->ow) {
          int64_t iy = oy * j->sh - j->pt + a * j->dh;
          if (iy < 0 || iy >= j->h) {
            memset(d, 0, (size_t)j->ow * sizeof(float));
            continue;
          }
          const float *s = x + ci * j->xs[1] + iy * j->xs[2] + off * j->xs[3];
          for (int64_t q = 0; q < lo; ++q)
            d[q] = 0.0f;
          if (j->xs[3] == 1 && j->sw == 2 && j->avx512)
            kiln_even_copy_avx512(d + lo, s + 2 * lo, hi - lo);
          else if (j->xs[3] == 1 && j->sw == 2)
            for (int64_t q = lo; q < hi; ++q)
              d[q] = s[2 * q];
          else if (j->xs[3] == 1 && j->sw == 1)
            memcpy(d + lo, s + lo, (size_t)(hi - lo) * sizeof(float));
          else
            for (int64_t q = lo; q < hi; ++q)
              d[q] = s[q * j->sw * j->xs[3]];
          for (int64_t q = hi; q < j->ow; ++q)
            d[q] = 0.0f;
        }
      }
}

static void i2c_tasks(void *vjob, int64_t begin, int64_t end) {
  i2c_job *j = vjob;
  float *col = kiln_scratch(KILN_SCRATCH_DW,
                            (size_t)(j->k * j->band * j->ow) * sizeof(float));
  if (!col) {
    j->failed = 1;
    return;
  }
  int64_t plane = j->oh * j->ow;
  for (int64_t t = begin; t < end; ++t) {
    int64_t img = t / j->bands, r0 = t % j->bands * j->band;
    int64_t r1 = r0 + j->band < j->oh ? r0 + j->band : j->oh;
    int64_t npx = (r1 - r0) * j->ow;
    gather(j, j->x + img * j->xs[0], r0, r1, col);
    /* one pass of the tiles: y = act(W x + bias), or with a residual the
     * band's outputs start as it and the tiles add to them */
    float *y = j->y + img * j->y_img + r0 * j->ow;
    const float *res = j->res ? j->res + img * j->res_img + r0 * j->ow : NULL;
    if (!res) {
      j->set(col, npx, j->w, j->k, j->bias, j->act, y, plane, j->f, npx);
      continue;
    }
    for (int64_t fi = 0; fi < j->f; ++fi)
      if (res + fi * plane != y + fi * plane)
        memcpy(y + fi * plane, res + fi * plane, (size_t)npx * sizeof(float));
    j->acc(col, npx, j->w, j->k, j->k, j->bias, j->act, y, plane, j->f, npx, NULL, 0);
  }
}

void kiln_conv2d_im2col_f32(const int64_t *desc) {
  int isa = (int)desc[0];
  int64_t flags = desc[1];
  kiln_rt_check_dim(isa == KILN_ISA_AVX512 || isa == KILN_ISA_AVX2, 1);
  kiln_rt_check_dim(!(flags & (CONV_XSCALE | CONV_PACKED | CONV_GROUPS)), 1);
  view4 x, w, bias = {0}, res = {0}, scv = {0}, y;
  read_conv_views(desc + 9, flags, 4, &x, &w, &bias, &res, &scv, &y);
  i2c_job j;
  j.avx512 = isa == KILN_ISA_AVX512;
  j.acc = j.avx512 ? kiln_pw_block_acc_avx512 : kiln_pw_block_acc_avx2;
  j.set = j.avx512 ? kiln_pw_block_avx512 : kiln_pw_block_avx2;
  int64_t n = x.size[0];
  j.c = x.size[1];
  j.h = x.size[2];
  j.wd = x.size[3];
  j.f = y.size[1];
  j.oh = y.size[2];
  j.ow = y.size[3];
  j.kh = w.size[2];
  j.kw = w.size[3];
  j.sh = desc[3];
  j.sw = desc[4];
  j.pt = desc[5];
  j.pl = desc[6];
  j.dh = desc[7];
  j.dw = desc[8];
  j.act = (int)desc[2];
  j.k = j.c * j.kh * j.kw;
  kiln_rt_check_dim(w.size[0], j.f);
  kiln_rt_check_dim(w.size[1], j.c);
  kiln_rt_check_dim(dense_from(&w, 0) && dense_from(&y, 1), 1);
  kiln_rt_check_dim(y.size[0], n);
  kiln_rt_check_dim(j.sh >= 1 && j.sw >= 1 && j.dh >= 1 && j.dw >= 1, 1);
  check_epilogue_views(flags, &bias, &res, n, j.f, j.oh, j.ow);
  if (n == 0 || j.f == 0 || j.oh <= 0 || j.ow <= 0)
    return;
  kiln_rt_check_dim(j.k > 0, 1);
  for (int d = 0; d < 4; ++d)
    j.xs[d] = x.stride[d];
  j.x = (const float *)x.base;
  j.w = (const float *)w.base;
  j.bias = (flags & CONV_BIAS) ? (const float *)bias.base : NULL;
  j.res = (flags & CONV_RESIDUAL) ? (const float *)res.base : NULL;
  j.res_img = res.stride[0];
  j.y = (float *)y.base;
  j.y_img = y.stride[0];
  /* bands of output rows whose k planes take about 512 KiB (L2) */
  j.band = (512 << 10) / (j.k * j.ow * (int64_t)sizeof(float));
  j.band = j.band < 1 ? 1 : j.band > j.oh ? j.oh : j.band;
  j.bands = (j.oh + j.band - 1) / j.band;
  j.failed = 0;
  int64_t tasks = n * j.bands;
  if (tasks > 1 && n * j.f * j.oh * j.ow * j.k >= DIRECT_PARALLEL_MIN_MACS)
    kiln_parallel_for(tasks, i2c_tasks, &j);
  else
    i2c_tasks(&j, 0, tasks);
  if (j.failed)
    kiln_rt_fail_oom();
}
