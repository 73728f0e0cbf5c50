/*===- conv_taps_f32.c - convolutions that read mostly padding, tap by tap -===*
 *
 * A stride-1 convolution whose taps fall largely outside the input
 * (DeepLabV3's ASPP: 3 x 3 at dilations 12, 24 and 36 on a 33 x 33 map,
 * where 43%, 74% and 89% of the direct form's multiply-adds read zero
 * padding) as the sum over its taps of 1 x 1 convolutions, each over only
 * the outputs whose input for that tap lies inside the image:
 *
 *   y[f, oy, ox] = act(bias[f] + res[f, oy, ox] +
 *                      sum_t sum_c W_t[f, c] x[c, oy - pt + ky dh, ox - pl + kx dw])
 *
 * Each tap's part of an output row is one run of the pointwise kernel
 * (conv_pw_f32_impl.h) with the filter slice W_t [F, C] read in place and
 * the input row read where it lies (no padded copy, no patches); a tap
 * valid across whole rows runs over several rows at once. The compiler
 * packs the filter as [KH * KW, F, C] (CONV_TAPS, codegen/cpu/Ukernels.cpp)
 * and takes this path when at most 3/4 of the direct form's products read
 * the input and one tap (`full`) is inside the image at every output: that
 * tap runs last on each row, adding the bias, the accumulated taps and the
 * activation, so every output is finished by one kernel call.
 *
 * desc: as the packed direct path's (conv_f32.c: isa, flags, activation,
 * stride h/w, pad top/left, dilation h/w, KH, KW, then the views x, the
 * filter [KH * KW, F, C], [bias,] [residual,] y). Tasks: (image, block of
 * output channels, band of output rows); in a task, groups of input rows
 * outer and the taps that read them inner (each input row read once from
 * memory for all its taps), then the finishing tap over the band.
 *
 * Measured on ASPP's 960 -> 256 at 33 x 33, 1 thread: dilation 12 36-40 ms
 * (ONNX Runtime 24), 24: 20-22 ms (13.4), 36: 5.6-6.1 ms (5.6); the direct
 * kernel took 121 / 90 / 74. Most of the time is the taps whose columns are
 * partly outside (runs of 21 of 33 pixels, 2 vectors of 16 lanes).
 *
 *===----------------------------------------------------------------------===*/

#include "conv_f32_internal.h"
#include "gemm_f32.h"
#include "conv_lanes_f32.h"

#include <string.h>

typedef void (*taps_acc_fn)(const float *x, int64_t ldx, const float *w, int64_t k,
                            int64_t ldw, const float *bias, int act, float *y, int64_t ldy,
                            int64_t f, int64_t npx, const float *nx, int64_t nxl);

typedef struct {
  taps_acc_fn acc;
  const float *x;
  int64_t x_img, x_plane, x_row;
  const float *wt;   /* [kh * kw, f, c] */
  const float *bias; /* [f] or NULL */
  const float *res;  /* dense per image, or NULL */
  int64_t res_img;
  float *y;          /* dense per image */
  int64_t y_img;
  int64_t c, h, w, f, oh, ow, kh, kw, pt, pl, dh, dw;
  int64_t full;      /* the tap inside the image at every output */
  int64_t fblock, fparts, bands, group;
  int act;
} taps_job;

/* The output rows [*a, *b) and columns [*c0, *c1) where tap (ky, kx)
 * reads inside the image, within rows [r0, r1). */
static void tap_extent(const taps_job *j, int64_t ky, int64_t kx, int64_t r0,
                       int64_t r1, int64_t *a, int64_t *b, int64_t *c0,
                       int64_t *c1) {
  int64_t dy = ky * j->dh - j->pt, dx = kx * j->dw - j->pl;
  *a = -dy > r0 ? -dy : r0;
  *b = j->h - dy < r1 ? j->h - dy : r1;
  *c0 = -dx > 0 ? -dx : 0;
  *c1 = j->w - dx < j->ow ? j->w - dx : j->ow;
}

/* One run of the pointwise kernel for a tap: npx outputs at y from the
 * input at x, in chunks of input channels whose input lines fit half an L1
 * (the chunk's rows then serve every block of 8 output channels from L1;
 * whole, C rows of a few lines each came from L2 per block: ASPP's 960
 * channels ran at half the tile's speed); the bias and activation with the
 * last chunk of the finishing tap. */
static void tap_run(const taps_job *j, const float *x, const float *w, float *y,
                    int64_t nf, int64_t npx, const float *bias, int act,
                    const float *nx) {
  int64_t lines = (npx + 15) / 16 + 1;
  int64_t kc = (24 << 10) / (64 * lines);
  kc = kc < 16 ? 16 : kc > j->c ? j->c : kc;
  int64_t plane = j->oh * j->ow;
  for (int64_t c0 = 0; c0 < j->c; c0 += kc) {
    int64_t n = j->c - c0 < kc ? j->c - c0 : kc;
    int last = c0 + n == j->c;
    j->acc(x + c0 * j->x_plane, j->x_plane, w + c0, n, j->c, last ? bias : NULL,
           last ? act : KILN_ACT_NONE, y, plane, nf, npx,
           last ? nx : x + (c0 + n) * j->x_plane, last && nx ? lines - 1 : 0);
  }
}

/* Tap t over output rows [r0, r1) of channels [f0, f0 + nf) of one image:
 * y += W_t x (the full tap: y = act(W_t x + bias + y)). */
static void run_tap(const taps_job *j, int64_t t, const float *x, float *y,
                    int64_t f0, int64_t nf, int64_t r0, int64_t r1) {
  int64_t ky = t / j->kw, kx = t % j->kw;
  int64_t a, b, c0, c1;
  tap_extent(j, ky, kx, r0, r1, &a, &b, &c0, &c1);
  if (a >= b || c0 >= c1)
    return;
  int last = t == j->full;
  const float *w = j->wt + (t * j->f + f0) * j->c;
  const float *bias = last && j->bias ? j->bias + f0 : NULL;
  int act = last ? j->act : KILN_ACT_NONE;
  int64_t plane = j->oh * j->ow;
  int64_t dy = ky * j->dh - j->pt, dx = kx * j->dw - j->pl;
  float *yo = y + f0 * plane;
  /* whole rows whose inputs are whole rows: one run over all of them */
  if (c0 == 0 && c1 == j->ow && j->ow == j->w && dx == 0 && j->x_row == j->w) {
    tap_run(j, x + (a + dy) * j->x_row, w, yo + a * j->ow, nf, (b - a) * j->ow,
            bias, act, NULL);
    return;
  }
  for (int64_t oy = a; oy < b; ++oy) {
    const float *xr = x + (oy + dy) * j->x_row + c0 + dx;
    tap_run(j, xr, w, yo + oy * j->ow + c0, nf, c1 - c0, bias, act,
            oy + 1 < b ? xr + j->x_row : NULL);
  }
}

static void taps_tasks(void *vjob, int64_t begin, int64_t end) {
  const taps_job *j = vjob;
  int64_t plane = j->oh * j->ow, taps = j->kh * j->kw;
  int64_t band_rows = (j->oh + j->bands - 1) / j->bands;
  for (int64_t t = begin; t < end; ++t) {
    int64_t img = t / (j->fparts * j->bands);
    int64_t part = t / j->bands % j->fparts, band = t % j->bands;
    int64_t f0 = part * j->fblock;
    int64_t nf = j->f - f0 < j->fblock ? j->f - f0 : j->fblock;
    int64_t r_lo = band * band_rows;
    int64_t r_hi = r_lo + band_rows < j->oh ? r_lo + band_rows : j->oh;
    if (r_lo >= r_hi)
      continue;
    const float *x = j->x + img * j->x_img;
    float *y = j->y + img * j->y_img;
    const float *res = j->res ? j->res + img * j->res_img : NULL;
    /* the rows start as the residual (or 0); the taps add to them */
    for (int64_t fi = f0; fi < f0 + nf; ++fi) {
      float *yr = y + fi * plane + r_lo * j->ow;
      size_t bytes = (size_t)((r_hi - r_lo) * j->ow) * sizeof(float);
      if (!res)
        memset(yr, 0, bytes);
      else if (res + fi * plane + r_lo * j->ow != yr)
        memcpy(yr, res + fi * plane + r_lo * j->ow, bytes);
    }
    /* Input rows outer, a group of them (about 512 KiB) at a time: each
     * serves every tap that reads it (a dilated tap's output rows lie far
     * apart: output rows outer read each input row once per tap row, from
     * L3) while the block's filter slices stay in L2. */
    for (int64_t i0 = 0; i0 < j->h; i0 += j->group) {
      int64_t i1 = i0 + j->group < j->h ? i0 + j->group : j->h;
      for (int64_t tap = 0; tap < taps; ++tap) {
        if (tap == j->full)
          continue;
        int64_t off = j->pt - tap / j->kw * j->dh; /* oy = iy + off */
        int64_t lo = i0 + off > r_lo ? i0 + off : r_lo;
        int64_t hi = i1 + off < r_hi ? i1 + off : r_hi;
        if (lo < hi)
          run_tap(j, tap, x, y, f0, nf, lo, hi);
      }
    }
    /* the finishing tap over the band: bias, the sums, the activation */
    run_tap(j, j->full, x, y, f0, nf, r_lo, r_hi);
  }
}

void kiln_conv2d_taps(const int64_t *desc) {
  int isa = (int)desc[0];
  kiln_rt_check_dim(isa == KILN_ISA_AVX512 || isa == KILN_ISA_AVX2, 1);
  int64_t flags = desc[1];
  kiln_rt_check_dim(!(flags & (CONV_XSCALE | CONV_C8 | CONV_WINO)), 1);
  view4 x, wv, bias = {0}, res = {0}, scv = {0}, y;
  read_conv_views(desc + 11, flags, 3, &x, &wv, &bias, &res, &scv, &y);
  taps_job j;
  j.acc = isa == KILN_ISA_AVX512 ? kiln_pw_block_acc_avx512 : kiln_pw_block_acc_avx2;
  int64_t n = x.size[0];
  j.c = x.size[1];
  j.h = x.size[2];
  j.w = x.size[3];
  j.f = y.size[1];
  j.oh = y.size[2];
  j.ow = y.size[3];
  j.kh = desc[9];
  j.kw = desc[10];
  j.pt = desc[5];
  j.pl = desc[6];
  j.dh = desc[7];
  j.dw = desc[8];
  j.act = (int)desc[2];
  int64_t taps = j.kh * j.kw;
  /* stride 1 only; the filter [taps, F, C] (a rank-3 view's sizes sit in
   * size[1 .. 3], view.h), dense; x's columns unit-strided */
  kiln_rt_check_dim(desc[3] == 1 && desc[4] == 1 && j.dh >= 1 && j.dw >= 1, 1);
  kiln_rt_check_dim(taps >= 1 && wv.size[1] == taps && wv.size[2] == j.f &&
                        wv.size[3] == j.c && dense_from(&wv, 1),
                    1);
  kiln_rt_check_dim(y.size[0], n);
  kiln_rt_check_dim(dense_from(&y, 1), 1);
  kiln_rt_check_dim(x.stride[3] == 1 || j.w == 1, 1);
  check_epilogue_views(flags, &bias, &res, n, j.f, j.oh, j.ow);
  if (n == 0 || j.f == 0 || j.oh == 0 || j.ow == 0)
    return;
  /* the tap that finishes each output: inside the image everywhere (the
   * compiler chose this path only where one exists) */
  j.full = -1;
  for (int64_t t = 0; t < taps && j.full < 0; ++t) {
    int64_t a, b, c0, c1;
    tap_extent(&j, t / j.kw, t % j.kw, 0, j.oh, &a, &b, &c0, &c1);
    if (a == 0 && b == j.oh && c0 == 0 && c1 == j.ow)
      j.full = t;
  }
  kiln_rt_check_dim(j.full >= 0 && j.c > 0, 1);
  j.x = (const float *)x.base;
  j.x_img = x.stride[0];
  j.x_plane = x.stride[1];
  j.x_row = x.stride[2];
  j.wt = (const float *)wv.base;
  j.bias = (flags & CONV_BIAS) ? (const float *)bias.base : NULL;
  j.res = (flags & CONV_RESIDUAL) ? (const float *)res.base : NULL;
  j.res_img = res.stride[0];
  j.y = (float *)y.base;
  j.y_img = y.stride[0];
  /* output channels per task: the filter slices of all taps that read the
   * input within about 2 MiB (each task's input rows are read once per
   * block: blocks of 1 MiB ran ASPP's dilation-12 layer 1.10x slower, 4
   * MiB 1.0x), a multiple of the pointwise tile's 8 rows */
  int64_t live = 0;
  for (int64_t t = 0; t < taps; ++t) {
    int64_t a, b, c0, c1;
    tap_extent(&j, t / j.kw, t % j.kw, 0, j.oh, &a, &b, &c0, &c1);
    live += a < b && c0 < c1;
  }
  int64_t per_ch = live * j.c * (int64_t)sizeof(float);
  j.fblock = (2 << 20) / per_ch / 8 * 8;
  j.fblock = j.fblock < 8 ? 8 : j.fblock > j.f ? j.f : j.fblock;
  j.fparts = (j.f + j.fblock - 1) / j.fblock;
  /* input rows per step: about 512 KiB of them */
  j.group = (512 << 10) / (j.c * j.w * (int64_t)sizeof(float));
  j.group = j.group < 1 ? 1 : j.group;
  j.bands = 1;
  int64_t threads = kiln_rt_num_threads();
  while (n * j.fparts * j.bands < 4 * threads && j.bands * 2 <= j.oh)
    j.bands *= 2;
  int64_t tasks = n * j.fparts * j.bands;
  if (tasks > 1 && n * j.f * j.oh * j.ow * j.c * taps >= DIRECT_PARALLEL_MIN_MACS)
    kiln_parallel_for(tasks, taps_tasks, &j);
  else
    taps_tasks(&j, 0, tasks);
}
