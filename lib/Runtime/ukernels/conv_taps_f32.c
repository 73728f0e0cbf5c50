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
 * packs the filter as [KH * KW, F, C] (CONV_TAPS, codegen/cpu/ConvFilters.cpp)
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
 * A filter column whose taps read the input in only part of the output
 * columns (dilation 12 on 33 columns: 21 of them) gets that part of the
 * input copied once per call as compact rows (a column band), so its taps
 * run over whole bands of rows into compact sums that are added to the
 * output afterwards; row by row they ran 21-pixel rows on 2 vectors of 16
 * lanes (66% of the lanes, 60% of the time in `perf`).
 *
 * Measured on ASPP's 960 -> 256 at 33 x 33, 1 thread: dilation 12 28.8 ms
 * (ONNX Runtime 24), 24: 14.1 ms (13.4), 36: 5.6-6.1 ms (5.6); the direct
 * kernel took 121 / 90 / 74, the row-by-row taps 33 / 18.5 / 5.7.
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
  int failed;        /* scratch memory could not be had */
  int64_t full;      /* the tap inside the image at every output */
  int64_t fblock, fparts, bands, group;
  int act;
  /* Column bands (kw <= TAPS_MAX_KW): for a filter column kx whose taps
   * read the input in only part of the output columns, [bc0[kx], bc0[kx] +
   * bw[kx]), xb[kx] is that part of the input, shifted, as compact rows of
   * bw[kx] floats ([n, c, h, bw]; NULL: no band, the column's taps run
   * row by row or are whole rows). */
  float *xb[16];
  int64_t bc0[16], bw[16];
  int64_t yb_floats; /* a task's band outputs, per band */
} taps_job;
#define TAPS_MAX_KW 16

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
static void tap_run(const taps_job *j, const float *x, int64_t ldx, const float *w,
                    float *y, int64_t ldy, int64_t nf, int64_t npx,
                    const float *bias, int act, const float *nx) {
  int64_t lines = (npx + 15) / 16 + 1;
  int64_t kc = (24 << 10) / (64 * lines);
  kc = kc < 16 ? 16 : kc > j->c ? j->c : kc;
  for (int64_t c0 = 0; c0 < j->c; c0 += kc) {
    int64_t n = j->c - c0 < kc ? j->c - c0 : kc;
    int last = c0 + n == j->c;
    j->acc(x + c0 * ldx, ldx, w + c0, n, j->c, last ? bias : NULL,
           last ? act : KILN_ACT_NONE, y, ldy, nf, npx,
           last ? nx : x + (c0 + n) * ldx, last && nx ? lines - 1 : 0);
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
    tap_run(j, x + (a + dy) * j->x_row, j->x_plane, w, yo + a * j->ow, plane, nf,
            (b - a) * j->ow, bias, act, NULL);
    return;
  }
  for (int64_t oy = a; oy < b; ++oy) {
    const float *xr = x + (oy + dy) * j->x_row + c0 + dx;
    tap_run(j, xr, j->x_plane, w, yo + oy * j->ow + c0, plane, nf, c1 - c0, bias,
            act, oy + 1 < b ? xr + j->x_row : NULL);
  }
}

/* Planes [begin, end) of n * c into each column band (taps_job.xb). */
static void band_copy(void *vjob, int64_t begin, int64_t end) {
  const taps_job *j = vjob;
  for (int64_t kx = 0; kx < j->kw; ++kx) {
    if (!j->xb[kx])
      continue;
    int64_t bw = j->bw[kx], src0 = j->bc0[kx] + kx * j->dw - j->pl;
    for (int64_t pl = begin; pl < end; ++pl) {
      const float *x = j->x + pl / j->c * j->x_img + pl % j->c * j->x_plane + src0;
      float *d = j->xb[kx] + pl * j->h * bw;
      for (int64_t iy = 0; iy < j->h; ++iy)
        memcpy(d + iy * bw, x + iy * j->x_row, (size_t)bw * sizeof(float));
    }
  }
}

static void taps_tasks(void *vjob, int64_t begin, int64_t end) {
  taps_job *j = vjob;
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
    /* the column bands' sums, [nf, r_hi - r_lo, bw] per band, from 0 */
    int64_t rows = r_hi - r_lo;
    float *yb = NULL;
    if (j->yb_floats) {
      yb = kiln_scratch(KILN_SCRATCH_DW, (size_t)(j->kw * j->yb_floats) * sizeof(float));
      if (!yb) {
        j->failed = 1;
        return;
      }
      memset(yb, 0, (size_t)(j->kw * j->yb_floats) * sizeof(float));
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
        int64_t kx = tap % j->kw;
        if (lo >= hi)
          continue;
        if (!j->xb[kx]) {
          run_tap(j, tap, x, y, f0, nf, lo, hi);
          continue;
        }
        /* a banded column: one run over the compact rows lo .. hi */
        int64_t bw = j->bw[kx];
        const float *xr = j->xb[kx] + (img * j->c * j->h + lo - off) * bw;
        tap_run(j, xr, j->h * bw, j->wt + (tap * j->f + f0) * j->c,
                yb + kx * j->yb_floats + (lo - r_lo) * bw, rows * bw, nf,
                (hi - lo) * bw, NULL, KILN_ACT_NONE, NULL);
      }
    }
    for (int64_t kx = 0; kx < j->kw && yb; ++kx) {
      if (!j->xb[kx])
        continue;
      int64_t bw = j->bw[kx];
      for (int64_t fi = 0; fi < nf; ++fi)
        for (int64_t r = 0; r < rows; ++r) {
          float *yr = y + (f0 + fi) * plane + (r_lo + r) * j->ow + j->bc0[kx];
          const float *s = yb + kx * j->yb_floats + (fi * rows + r) * bw;
          for (int64_t q = 0; q < bw; ++q)
            yr[q] += s[q];
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
  /* the column bands: each filter column whose taps read the input in only
   * part of the output columns gets its part of the input as compact rows,
   * so its taps run over whole bands of rows (ASPP's dilation-12 layer:
   * 21 of 33 columns, run row by row on 2 vectors of 16 lanes at 66% of
   * the lanes before; 36 -> 28 ms) */
  j.failed = 0;
  j.yb_floats = 0;
  int64_t band_total = 0, bw_max = 0;
  for (int64_t kx = 0; kx < TAPS_MAX_KW; ++kx)
    j.xb[kx] = NULL;
  for (int64_t kx = 0; kx < j.kw && j.kw <= TAPS_MAX_KW; ++kx) {
    int64_t dx = kx * j.dw - j.pl;
    int64_t c0 = -dx > 0 ? -dx : 0, c1 = j.w - dx < j.ow ? j.w - dx : j.ow;
    j.bw[kx] = c0 < c1 && c1 - c0 < j.ow ? c1 - c0 : 0;
    j.bc0[kx] = c0;
    band_total += n * j.c * j.h * j.bw[kx];
    bw_max = j.bw[kx] > bw_max ? j.bw[kx] : bw_max;
  }
  if (band_total > 0 && band_total * (int64_t)sizeof(float) <= (64 << 20)) {
    float *buf = kiln_scratch(KILN_SCRATCH_CONV_X, (size_t)band_total * sizeof(float));
    if (!buf)
      kiln_rt_fail_oom();
    for (int64_t kx = 0; kx < j.kw; ++kx)
      if (j.bw[kx]) {
        j.xb[kx] = buf;
        buf += n * j.c * j.h * j.bw[kx];
      }
    if (n * j.c * j.h * bw_max >= (1 << 16))
      kiln_parallel_for(n * j.c, band_copy, &j);
    else
      band_copy(&j, 0, n * j.c);
    j.yb_floats = j.fblock * ((j.oh + j.bands - 1) / j.bands) * bw_max;
  }
  int64_t tasks = n * j.fparts * j.bands;
  if (tasks > 1 && n * j.f * j.oh * j.ow * j.c * taps >= DIRECT_PARALLEL_MIN_MACS)
    kiln_parallel_for(tasks, taps_tasks, &j);
  else
    taps_tasks(&j, 0, tasks);
  if (j.failed)
    kiln_rt_fail_oom();
}
