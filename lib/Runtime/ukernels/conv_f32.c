/*===- conv_f32.c - 2-D convolution (group 1, NCHW): entry and direct path -===*
 *
 * Called through kiln.ukernel "conv2d_f32"
 * (codegen/cpu/SelectConvUkernels.cpp).
 * Picks the path: Winograd (conv_wino_f32.c) or the direct kernel on a
 * filter packed at compile time (flag 4; conv_direct_f32.h), else the patch
 * GEMM (conv_patch_f32.c). Also the squeeze-excite input scale's dense
 * copies, shared by the paths, and the profiled entry points.
 *
 * desc: isa, flags, activation, stride h, stride w, pad top, pad left,
 * dilation h, dilation w, then the views x [N, C, H, W], w [F, C, KH, KW]
 * (packed: see the direct path), [bias [F],] [residual [N, F, OH, OW],]
 * [input scale [N or 1, C, 1, 1],] y [N, F, OH, OW] as (address, offset,
 * sizes, strides). flags: 1 = bias, 2 = residual, 16 = input scale
 * (conv(x * s), s per image and channel: a squeeze-excite gate; the direct
 * kernel's input copies and the pointwise kernel's per-image filter copy
 * apply it, the patch GEMM scales its filter or a copy of x).
 *
 *===----------------------------------------------------------------------===*/

#include "gemm_f32.h"
#include "view.h"
#include "../runtime_internal.h"

#include <stdio.h>

#include "conv_direct_f32.h"
#include "conv_grouped_f32.h"
#include "conv_lanes_f32.h"
#include "conv_s8.h"
#include "dwconv_s8.h"
#include "conv_wino_f32.h"
#include "conv_f32_internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* d[i] = s[i] * k, i < n, 8 at a time in GCC's vector extensions (the
 * generic build's -O2 does not vectorize the plain loop): a squeeze-excite
 * gate applied to a plane in the copy a convolution reads (MobileNetV3's
 * 576 -> 96 projection at 7 x 7 spent as long in a per-row scalar copy as
 * in its tiles). */
typedef float kiln_v8f __attribute__((vector_size(32)));
static void scale_run(float *restrict d, const float *restrict s, int64_t n,
                      float k) {
  const kiln_v8f kv = {k, k, k, k, k, k, k, k};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    kiln_v8f v;
    memcpy(&v, s + i, sizeof v);
    v *= kv;
    memcpy(d + i, &v, sizeof v);
  }
  for (; i < n; ++i)
    d[i] = s[i] * k;
}

typedef struct {
  const float *x;
  int64_t xs[4], c, h, w;
  const float *sc;
  int64_t sc_img;
  float *d;
} scale_job;

/* Planes [begin, end) of n * c of the scaled dense copy. */
static void scale_range(void *vjob, int64_t begin, int64_t end) {
  const scale_job *j = vjob;
  for (int64_t pl = begin; pl < end; ++pl) {
    int64_t img = pl / j->c, ci = pl % j->c;
    const float *src = j->x + img * j->xs[0] + ci * j->xs[1];
    float s = j->sc[img * j->sc_img + ci], *d = j->d + pl * j->h * j->w;
    if (j->xs[3] == 1 && (j->xs[2] == j->w || j->h == 1)) { /* dense plane */
      scale_run(d, src, j->h * j->w, s);
      continue;
    }
    for (int64_t r = 0; r < j->h; ++r)
      for (int64_t q = 0; q < j->w; ++q)
        d[r * j->w + q] = src[r * j->xs[2] + q * j->xs[3]] * s;
  }
}

float *kiln_conv_scaled_copy(const float *x, const int64_t xs[4], int64_t n,
                             int64_t c, int64_t h, int64_t w, const float *sc,
                             int64_t sc_img) {
  float *d = kiln_scratch(KILN_SCRATCH_CONV_S, (size_t)(n * c * h * w) * sizeof(float));
  if (!d)
    kiln_rt_fail_oom();
  scale_job j = {x, {xs[0], xs[1], xs[2], xs[3]}, c, h, w, sc, sc_img, d};
  if (n * c * h * w >= (1 << 16))
    kiln_parallel_for(n * c, scale_range, &j);
  else
    scale_range(&j, 0, n * c);
  return d;
}

/* ---- direct path: filter packed by the compiler (flag 4) --------------- *
 * desc: isa, flags, activation, stride h/w, pad top/left, dilation h/w,
 * kernel h, kernel w, then the views x [N, C, H, W], the packed filter
 * [ceil(F / 16), C * KH * KW, 16], [bias [F],] [residual,] y. The compiler
 * packs only for AVX-512 or AVX2 (codegen/cpu/ConvFilters.cpp);
 * conv_direct_f32.h has the kernel. */

typedef struct {
  const float *x;
  int64_t xs[4];
  int64_t c, h, w, hp, wp, pt, pl;
  float *xp; /* [n, c, hp, wp] */
  const float *sc; /* input scale (CONV_XSCALE) or NULL */
  int64_t sc_img;
} pad_job;

/* Rows [begin, end) of the n * c planes' hp rows of the zero-padded copy
 * (rows, not planes: a 3-channel stem's three planes split badly over two
 * threads). */
static void pad_range(void *vjob, int64_t begin, int64_t end) {
  const pad_job *j = vjob;
  int64_t lo = j->pl, hi = j->pl + j->w < j->wp ? j->pl + j->w : j->wp;
  for (int64_t t = begin; t < end; ++t) {
    int64_t pl = t / j->hp, r = t % j->hp;
    const float *src = j->x + pl / j->c * j->xs[0] + pl % j->c * j->xs[1];
    float s = j->sc ? j->sc[pl / j->c * j->sc_img + pl % j->c] : 1.0f;
    float *d = j->xp + pl * j->hp * j->wp + r * j->wp;
    int64_t sr = r - j->pt;
    if (sr < 0 || sr >= j->h) {
      memset(d, 0, (size_t)j->wp * sizeof(float));
      continue;
    }
    memset(d, 0, (size_t)lo * sizeof(float));
    if (hi > lo && !j->sc)
      memcpy(d + lo, src + sr * j->xs[2], (size_t)(hi - lo) * sizeof(float));
    else if (hi > lo)
      scale_run(d + lo, src + sr * j->xs[2], hi - lo, s);
    if (hi < j->wp)
      memset(d + (hi > lo ? hi : lo), 0,
             (size_t)(j->wp - (hi > lo ? hi : lo)) * sizeof(float));
  }
}

/* From this many floats an input copy is split over the threads (576
 * channels of a 7 x 7 plane, 28K floats, copied serially took a quarter
 * of MobileNetV3's 576 -> 96 at batch 1 on 2 threads). */
#define COPY_PARALLEL_MIN (1 << 13)
/* The most bytes of padded input copied before the kernel runs on them. */
#define CONV_COPY_BUDGET (1 << 20)

static void conv2d_direct(const int64_t *desc) {
  int isa = (int)desc[0];
  kiln_rt_check_dim(isa == KILN_ISA_AVX512 || isa == KILN_ISA_AVX2, 1);
  int64_t ct = isa == KILN_ISA_AVX512 ? KILN_CONV_CT_AVX512 : KILN_CONV_CT_AVX2;
  int64_t mr = isa == KILN_ISA_AVX512 ? KILN_CONV_MR_AVX512 : KILN_CONV_MR_AVX2;
  kiln_range_fn fn = isa == KILN_ISA_AVX512 ? kiln_conv_direct_avx512
                                            : kiln_conv_direct_avx2;
  int64_t flags = desc[1];
  int64_t sh = desc[3], sw = desc[4], pt = desc[5], pl = desc[6], dh = desc[7],
          dw = desc[8], kh = desc[9], kw = desc[10];
  view4 x, wv, bias = {0}, res = {0}, scv = {0}, y;
  read_conv_views(desc + 11, flags, 3, &x, &wv, &bias, &res, &scv, &y);
  int64_t n = x.size[0], c = x.size[1], h = x.size[2], w = x.size[3];
  int64_t sc_img;
  const float *sc = conv_xscale(flags, &scv, n, c, &sc_img);
  int64_t f = y.size[1], oh = y.size[2], ow = y.size[3];
  int64_t k = c * kh * kw;
  /* the packed filter: [ceil(F / 16), K, 16], dense */
  kiln_rt_check_dim(wv.size[1], (f + 15) / 16);
  kiln_rt_check_dim(wv.size[2], k);
  kiln_rt_check_dim(wv.size[3], 16);
  kiln_rt_check_dim(dense_from(&wv, 1) && dense_from(&y, 1), 1);
  kiln_rt_check_dim(y.size[0], n);
  kiln_rt_check_dim(sw >= 1, 1);
  check_epilogue_views(flags, &bias, &res, n, f, oh, ow);
  if (n == 0 || f == 0 || oh == 0 || ow == 0)
    return;
  if (c == 0 || kh == 0 || kw == 0) { /* an empty sum: the epilogue of 0 */
    kiln_rt_check_dim(0, 1);
    return;
  }
  /* 1 x 1 on 1 x 1 planes (a squeeze-excite block's two FC layers): a GEMM
   * over the batch, Y [N, F] = X [N, C] W^T, on the packed panels as they
   * are (the GEMM's B layout; c8's K order is c for 1 x 1), instead of a
   * one-pixel tile per image (MobileNetV3's ran at 4-17 GFLOP/s at batch 8). */
  if (kh == 1 && kw == 1 && h == 1 && w == 1 && oh == 1 && ow == 1 &&
      pt == 0 && pl == 0) {
    if (sc) {
      int64_t xs[4] = {x.stride[0], x.stride[1], 0, 0};
      x.base = (char *)kiln_conv_scaled_copy((const float *)x.base, xs, n, c, 1, 1, sc,
                                     sc_img);
      x.stride[0] = c;
      x.stride[1] = 1;
    }
    kiln_epilogue ep = {(flags & CONV_BIAS) ? (const float *)bias.base : NULL,
                        (flags & CONV_RESIDUAL) ? (const float *)res.base : NULL,
                        res.stride[0], (int)desc[2], NULL, 1};
    if (!kiln_sgemm_packed_run_ep(isa, 0, n, f, c, (const float *)x.base,
                                  x.stride[0], x.stride[1], (const float *)wv.base,
                                  (float *)y.base, y.stride[0], &ep))
      kiln_rt_fail_oom();
    return;
  }
  /* The input rows and columns the convolution reads, from the padded
   * origin: [0, hp) x [0, wp). Inside the image (no padding read) x is
   * used as it is; else a zero-padded copy. */
  int64_t hp = (oh - 1) * sh + (kh - 1) * dh + 1;
  int64_t wp = (ow - 1) * sw + (kw - 1) * dw + 1;
  int c8 = (flags & CONV_C8) != 0;
  if (c8)
    kiln_rt_check_dim((isa == KILN_ISA_AVX2 || isa == KILN_ISA_AVX512) && c % 8 == 0, 1);
  /* c8, 1 x 1 at stride s without padding: the copy takes every s-th row
   * and column, and the kernel runs at stride 1 on it (ResNet's
   * downsample branch: a quarter of the input copied, not all of it) */
  int64_t ss = 1;
  if (c8 && kh == 1 && kw == 1 && pt == 0 && pl == 0 && sh == sw && sh > 1) {
    ss = sh;
    sh = sw = 1;
    hp = oh;
    wp = ow;
  }
  int inside = !c8 && !sc && pt == 0 && pl == 0 && hp <= h && wp <= w &&
               x.stride[3] == 1;
  /* A padded copy is made and used a group of images at a time, so that
   * it is still in cache when the kernel reads it: a whole batch's copy
   * of ResNet-18's or MobileNetV3's 224 x 224 stem at batch 8 is 5 MB,
   * read back from L3 (the stem ran 14-20% slower per image than at
   * batch 1). */
  int64_t per_img = c * hp * wp;
  int64_t group = inside ? n : CONV_COPY_BUDGET / (per_img * (int64_t)sizeof(float));
  group = group < 1 ? 1 : group > n ? n : group;
  float *xp = NULL;
  if (!inside) {
    xp = kiln_scratch(KILN_SCRATCH_CONV_X, (size_t)(group * per_img) * sizeof(float));
    if (!xp)
      kiln_rt_fail_oom();
  }
  int64_t plane = c8 ? hp * wp * 8 : hp * wp, pitch = c8 ? wp * 8 : wp;
  if (inside) {
    plane = x.stride[1]; /* 0 for a size-1 dim (view.h): never stepped */
    pitch = x.stride[2];
  } else if (!c8) {
    kiln_rt_check_dim(x.stride[3] == 1 || w == 1, 1);
  }
  /* The offsets of every (c, kh, kw) fit an int32 (checked); c8: one
   * offset per (c / 8, kh, kw), the 8 channels at + 0 .. 7. */
  int64_t cs = c8 ? 8 : 1, step = c8 ? 8 : 1;
  int64_t span = (c / cs - 1) * plane + (kh - 1) * dh * pitch +
                 (kw - 1) * dw * step + (cs - 1);
  kiln_rt_check_dim(span <= INT32_MAX && plane >= 0 && pitch >= 0, 1);
  int32_t *koff = kiln_scratch(KILN_SCRATCH_CONV_K,
                               (size_t)(k / cs) * sizeof(int32_t));
  if (!koff)
    kiln_rt_fail_oom();
  for (int64_t ci = 0, i = 0; ci < c / cs; ++ci)
    for (int64_t a = 0; a < kh; ++a)
      for (int64_t b = 0; b < kw; ++b)
        koff[i++] = (int32_t)(ci * plane + a * dh * pitch + b * dw * step);
  kiln_conv_direct_job j;
  j.x_img = inside ? x.stride[0] : per_img;
  j.koff = koff;
  j.k = k;
  j.wp = (const float *)wv.base;
  j.f = f;
  j.y_img = y.stride[0];
  j.bias = (flags & CONV_BIAS) ? (const float *)bias.base : NULL;
  j.res_img = res.stride[0];
  j.act = (int)desc[2];
  j.oh = oh;
  j.ow = ow;
  j.pitch = pitch;
  j.sh = sh;
  j.step = (int)(sw * step);
  j.c8 = c8;
  /* At stride 1, tiles may run over the virtual plane of `pitch`-wide rows
   * (wrapping around output rows; the columns past ow are computed and
   * dropped) when that takes fewer tiles than row by row: small or
   * tile-unfriendly widths (7, 14, 56 at 6 pixels per tile). */
  int64_t row_tiles = oh * ((ow + mr - 1) / mr);
  int64_t vplane = (oh - 1) * pitch + ow;
  j.flat = sh == 1 && sw == 1 && (vplane + mr - 1) / mr <= row_tiles;
  /* AVX2's tiles are narrow enough to keep each pixel's input offset in a
   * register: they run over the output plane itself, full everywhere but
   * at the end of each task's run, with no wasted columns. AVX-512's row
   * tiles step 1 or 2 columns (compile-time steps); a column stride past
   * 2 (AlexNet's 11 x 11 / 4 stem, the 4 x 4 / 4 patch embeddings of Swin
   * and ConvNeXt) takes the gather tiles too. */
  j.gather = isa == KILN_ISA_AVX2 || sw > 2 || c8; /* c8: gather tiles only */
  /* a filter block that comes from memory once per run: k blocks, each
   * serving all of a task's tiles from L1 */
  int big = k * ct * (int64_t)sizeof(float) > KILN_CONV_BIG_FILTER;
  j.kblocks = j.gather || big;
  j.fblocks = (f + ct - 1) / ct;
  if (j.gather) {
    j.flat = 0;
    /* 16 tiles per task, which share each k block of the filter in L1
     * (conv_direct_f32_impl.h); 4 tiles ran ResNet-18 5% slower */
    j.row_px = 16 * mr;
    j.rows = (oh * ow + j.row_px - 1) / j.row_px;
  } else if (j.flat) {
    /* a large filter: the whole plane in one task per channel block when
     * its tiles fit, so that each k block of the filter comes from memory
     * once and then serves every tile from L1 */
    j.row_px = big && (vplane + mr - 1) / mr <= KILN_CONV_MAX_TILES ? vplane : 4 * mr;
    j.rows = (vplane + j.row_px - 1) / j.row_px;
  } else {
    j.row_px = ow;
    j.rows = oh;
  }
  int parallel = n * f * oh * ow * k >= DIRECT_PARALLEL_MIN_MACS;
  /* Few tasks that the threads would share unevenly (MobileNetV3's
   * 576 -> 96 at 7 x 7: 3 filter blocks of one 49-pixel run, 2 + 1 on 2
   * threads): shorter runs until they divide evenly. A pixel's sums are the
   * same in any run. */
  if (parallel && j.flat) {
    int64_t threads = kiln_rt_num_threads(), tiles = (vplane + mr - 1) / mr;
    int64_t blocks = (n < group ? n : group) * j.fblocks;
    for (int64_t parts = j.rows + 1; blocks * j.rows < 4 * threads &&
                                     (blocks * j.rows) % threads && parts <= tiles;
         ++parts) {
      j.row_px = (tiles + parts - 1) / parts * mr;
      j.rows = (vplane + j.row_px - 1) / j.row_px;
    }
  }
  /* A filter within half an L2 (AVX2 Zen 3: 512 KiB) is read again for
   * each run of pixels, which then stay in cache for all its channels;
   * a larger one is read once per task, its block reused across the rows. */
  j.rows_outer = f * k * (int64_t)sizeof(float) <= (256 << 10);
  for (int64_t i0 = 0; i0 < n; i0 += group) {
    int64_t g = n - i0 < group ? n - i0 : group;
    if (inside) {
      j.x = (const float *)x.base + i0 * x.stride[0];
    } else if (c8) {
      /* NCHW8c: plane and pitch count blocks of 8 channels */
      kiln_conv_c8_job cj = {(const float *)x.base + i0 * x.stride[0],
                             {x.stride[0], x.stride[1], x.stride[2], x.stride[3]},
                             c, h, w, hp, wp, pt, pl, ss, xp,
                             sc ? sc + i0 * sc_img : NULL, sc_img};
      if (g * per_img >= COPY_PARALLEL_MIN && parallel)
        kiln_parallel_for(g * c / 8, kiln_conv_c8_pack_avx2, &cj);
      else
        kiln_conv_c8_pack_avx2(&cj, 0, g * c / 8);
      j.x = xp;
    } else if (sc && pt == 0 && pl == 0 && hp == h && wp == w &&
               x.stride[3] == 1 && (x.stride[2] == w || h == 1)) {
      /* an unpadded scaled copy of dense planes: a plane at a time */
      int64_t xs[4] = {x.stride[0], x.stride[1], x.stride[2], x.stride[3]};
      scale_job sj = {(const float *)x.base + i0 * x.stride[0],
                      {xs[0], xs[1], xs[2], xs[3]}, c, h, w,
                      sc + i0 * sc_img, sc_img, xp};
      if (g * per_img >= COPY_PARALLEL_MIN && parallel)
        kiln_parallel_for(g * c, scale_range, &sj);
      else
        scale_range(&sj, 0, g * c);
      j.x = xp;
    } else {
      pad_job pj = {(const float *)x.base + i0 * x.stride[0],
                    {x.stride[0], x.stride[1], x.stride[2], x.stride[3]},
                    c, h, w, hp, wp, pt, pl, xp,
                    sc ? sc + i0 * sc_img : NULL, sc_img};
      if (g * per_img >= COPY_PARALLEL_MIN && parallel)
        kiln_parallel_for(g * c * hp, pad_range, &pj);
      else
        pad_range(&pj, 0, g * c * hp);
      j.x = xp;
    }
    j.y = (float *)y.base + i0 * y.stride[0];
    j.res = (flags & CONV_RESIDUAL) ? (const float *)res.base + i0 * res.stride[0]
                                    : NULL;
    int64_t tasks = g * j.fblocks * j.rows;
    if (parallel)
      kiln_parallel_for(tasks, fn, &j);
    else
      fn(&j, 0, tasks);
  }
}

/* CONV_GROUPS: the desc's views narrowed to group g's channels, one call of
 * the patch GEMM each (filters [F / G, C / G, KH, KW] as GEMM rows over the
 * group's patches; the output's channel slices are dense per image). The
 * desc: 9 params, then x, w, [bias,] [residual,] y as (address, offset,
 * sizes, strides), offsets and strides in elements. */
#define GROUP_DESC_MAX (9 + 4 * 10 + 4)
static void conv2d_grouped(const int64_t *desc) {
  int64_t flags = desc[1];
  int isa = (int)desc[0];
  /* CONV_PACKED: the compiler's panels of 16 filters [F / 16][Cg * KH *
   * KW][16] (groups of a multiple of 16 filters, a column stride of 1 or
   * 2, AVX2 / AVX-512 only),
   * with KH and KW appended to the params */
  int packed = (flags & CONV_PACKED) != 0;
  kiln_rt_check_dim(!(flags & (CONV_XSCALE | CONV_MEAN)), 1);
  kiln_rt_check_dim(!packed || isa == KILN_ISA_AVX512 || isa == KILN_ISA_AVX2, 1);
  int has_bias = (flags & CONV_BIAS) != 0, has_res = (flags & CONV_RESIDUAL) != 0;
  if (isa == KILN_ISA_AVX512 || isa == KILN_ISA_AVX2) {
    view4 x, w, bias = {0}, res = {0}, sc = {0}, y;
    read_conv_views(desc + (packed ? 11 : 9), flags, packed ? 3 : 4, &x, &w, &bias,
                    &res, &sc, &y);
    kiln_gconv_job j;
    j.kh = packed ? desc[9] : w.size[2];
    j.kw = packed ? desc[10] : w.size[3];
    int64_t c = x.size[1], f = y.size[1];
    kiln_rt_check_dim(j.kh >= 1 && j.kw >= 1, 1);
    /* a rank-3 view's sizes sit in size[1 .. 3] (view.h) */
    int64_t cg = packed ? w.size[2] / (j.kh * j.kw) : w.size[1];
    kiln_rt_check_dim(cg > 0 && c % cg == 0, 1);
    int64_t groups = c / cg;
    kiln_rt_check_dim(f % groups == 0, 1);
    int64_t fg = f / groups;
    if (packed) {
      kiln_rt_check_dim(fg % 16 == 0 && j.kh * j.kw <= KILN_GCONV_MAX_TAPS &&
                            desc[4] >= 1 && desc[4] <= 2,
                        1);
      kiln_rt_check_dim(w.size[1] * 16 == f && w.size[2] == cg * j.kh * j.kw &&
                            w.size[3] == 16 && dense_from(&w, 1),
                        1);
    } else {
      kiln_rt_check_dim(w.size[0] == f && dense_from(&w, 0), 1);
    }
    j.x = (const float *)x.base;
    for (int i = 0; i < 4; ++i)
      j.xs[i] = x.stride[i];
    j.w = packed ? NULL : (const float *)w.base;
    j.wp = packed ? (const float *)w.base : NULL;
    j.bias = has_bias ? (const float *)bias.base : NULL;
    j.res = has_res ? (const float *)res.base : NULL;
    j.res_img = res.stride[0];
    j.y = (float *)y.base;
    j.y_img = y.stride[0];
    j.n = x.size[0];
    j.groups = groups;
    j.cg = cg;
    j.fg = fg;
    j.h = x.size[2];
    j.w_ = x.size[3];
    j.oh = y.size[2];
    j.ow = y.size[3];
    j.sh = desc[3];
    j.sw = desc[4];
    j.pt = desc[5];
    j.pl = desc[6];
    j.dh = desc[7];
    j.dw = desc[8];
    j.act = (int)desc[2];
    j.failed = 0;
    kiln_rt_check_dim(y.size[0], j.n);
    kiln_rt_check_dim(dense_from(&y, 1), 1);
    kiln_rt_check_dim(j.sh >= 1 && j.sw >= 1 && j.dh >= 1 && j.dw >= 1, 1);
    if (has_bias)
      kiln_rt_check_dim(bias.size[3] == f && (bias.stride[3] == 1 || f == 1), 1);
    check_epilogue_views(flags & ~CONV_BIAS, &bias, &res, j.n, f, j.oh, j.ow);
    if (j.n == 0 || j.oh <= 0 || j.ow <= 0)
      return;
    if (j.res && res.base == y.base) {
      /* the residual given as the output too (UkernelBufferization.cpp):
       * the channel-vector tiles store y before adding it, so it is
       * copied aside first */
      int64_t per = f * j.oh * j.ow;
      float *r = kiln_scratch(KILN_SCRATCH_GEMM_R, (size_t)(j.n * per) * sizeof(float));
      if (!r)
        kiln_rt_fail_oom();
      for (int64_t i = 0; i < j.n; ++i)
        memcpy(r + i * per, j.res + i * j.res_img, (size_t)per * sizeof(float));
      j.res = r;
      j.res_img = per;
    }
    int64_t tasks = j.n * groups;
    kiln_range_fn fn = isa == KILN_ISA_AVX512 ? kiln_gconv_avx512 : kiln_gconv_avx2;
    if (tasks > 1 && j.n * f * j.oh * j.ow * cg * j.kh * j.kw >= DIRECT_PARALLEL_MIN_MACS)
      kiln_parallel_for(tasks, fn, &j);
    else
      fn(&j, 0, tasks);
    if (j.failed)
      kiln_rt_fail_oom();
    return;
  }
  int64_t len = 9 + 10 + 10 + (has_bias ? 4 : 0) + (has_res ? 10 : 0) + 10;
  int64_t d[GROUP_DESC_MAX];
  memcpy(d, desc, (size_t)len * sizeof(int64_t));
  d[1] = flags & ~CONV_GROUPS;
  /* where each view starts, and the element offset of group g's channels */
  int64_t at_x = 9, at_w = 19, at_b = 29, at_r = 29 + (has_bias ? 4 : 0);
  int64_t at_y = at_r + (has_res ? 10 : 0);
  int64_t c = desc[at_x + 3], cg = desc[at_w + 3], f = desc[at_y + 3];
  kiln_rt_check_dim(cg > 0 && c % cg == 0, 1);
  int64_t groups = c / cg;
  kiln_rt_check_dim(f % groups == 0 && desc[at_w + 2] == f, 1);
  int64_t fg = f / groups;
  d[at_x + 3] = cg;
  d[at_w + 2] = fg;
  d[at_y + 3] = fg;
  if (has_bias)
    d[at_b + 2] = fg;
  if (has_res)
    d[at_r + 3] = fg;
  for (int64_t g = 0; g < groups; ++g) {
    d[at_x + 1] = desc[at_x + 1] + g * cg * desc[at_x + 7];
    d[at_w + 1] = desc[at_w + 1] + g * fg * desc[at_w + 6];
    d[at_y + 1] = desc[at_y + 1] + g * fg * desc[at_y + 7];
    if (has_bias)
      d[at_b + 1] = desc[at_b + 1] + g * fg * desc[at_b + 3];
    if (has_res)
      d[at_r + 1] = desc[at_r + 1] + g * fg * desc[at_r + 7];
    kiln_conv2d_patch(d);
  }
}

static void conv2d_f32_call(const int64_t *desc, const float *fparams) {
  if (desc[1] & CONV_S8) {
    kiln_conv2d_s8(desc, fparams);
    return;
  }
  if (desc[1] & CONV_GROUPS) {
    conv2d_grouped(desc);
    return;
  }
  if (desc[1] & CONV_IM2COL) {
    kiln_conv2d_im2col_f32(desc);
    return;
  }
  if ((desc[1] & CONV_PACKED) && (desc[1] & CONV_TAPS)) {
    kiln_conv2d_taps(desc);
    return;
  }
  if ((desc[1] & CONV_PACKED) && (desc[1] & CONV_WINO)) {
    kiln_conv2d_winograd(desc);
    return;
  }
  if (desc[1] & CONV_PACKED) {
    conv2d_direct(desc);
    return;
  }
  kiln_conv2d_patch(desc);
}

/* ---- profiled entry points (KILN_PROFILE=1, profile.c) ----------------- */

typedef struct {
  int64_t n, c, h, w, f, oh, ow, kh, kw, sh, sw, cpg; /* cpg: C per group */
} conv_shape;

static conv_shape conv_shape_of(const int64_t *desc, int depthwise) {
  conv_shape s;
  view4 x, w, bias = {0}, res = {0}, y;
  int s8 = !depthwise && (desc[1] & CONV_S8);
  int packed = !depthwise && (desc[1] & (CONV_PACKED | CONV_S8));
  if (depthwise && (desc[1] & CONV_S8)) { /* x, w, [bias,] scales, y */
    const int64_t *d = kiln_read_view(desc + 9, 4, 4, &x);
    d = kiln_read_view(d, 4, 4, &w);
    if (desc[1] & CONV_BIAS)
      d = kiln_read_view(d, 1, 4, &bias);
    d = kiln_read_view(d, 1, 4, &res);
    kiln_read_view(d, 4, 4, &y);
  } else if (depthwise) {
    view4 mean;
    read_dw_views(desc + 9, desc[1], &x, &w, &bias, &y, &mean);
  } else {
    view4 sc;
    read_conv_views(desc + (packed ? 11 : 9), desc[1], s8 ? 1 : packed ? 3 : 4, &x,
                    &w, &bias, &res, &sc, &y);
  }
  s.n = x.size[0];
  s.c = x.size[1];
  s.h = x.size[2];
  s.w = x.size[3];
  s.f = y.size[1];
  s.oh = y.size[2];
  s.ow = y.size[3];
  s.kh = packed ? desc[9] : w.size[2];
  s.kw = packed ? desc[10] : w.size[3];
  s.cpg = depthwise                ? 1
          : (desc[1] & CONV_GROUPS) ? (packed ? w.size[2] / (s.kh * s.kw) : w.size[1])
          : packed                  ? s.c
                                    : w.size[1];
  s.sh = desc[3];
  s.sw = desc[4];
  return s;
}

static void conv_label(char *buf, size_t n, const void *arg) {
  const conv_shape *s = arg;
  snprintf(buf, n, "%lld x %lld x %lldx%lld -> %lld x %lldx%lld, %lldx%lld s%lld%s",
           (long long)s->n, (long long)s->c, (long long)s->h, (long long)s->w,
           (long long)s->f, (long long)s->oh, (long long)s->ow,
           (long long)s->kh, (long long)s->kw, (long long)s->sh,
           s->cpg != s->c && s->cpg != 1 ? " grouped" : "");
}

void kiln_ukernel_conv2d_f32(const int64_t *desc, const float *fparams) {
  KILN_PROF_BEGIN();
  conv2d_f32_call(desc, fparams);
  if (kiln_prof_on) {
    conv_shape s = conv_shape_of(desc, 0);
    /* conv-wino: GFLOP/s of the direct form's FLOPs (effective) */
    KILN_PROF_END((desc[1] & CONV_BF16)     ? "conv-bf16"
                  : (desc[1] & CONV_S8)     ? "conv-s8"
                  : (desc[1] & CONV_GROUPS) ? "conv-grouped"
                  : (desc[1] & CONV_WINO)   ? "conv-wino"
                  : (desc[1] & CONV_TAPS)   ? "conv-taps"
                  : (desc[1] & CONV_IM2COL) ? "conv-im2col"
                  : (desc[1] & CONV_PACKED) ? "conv"
                                            : "conv-gemm",
                  2.0 * s.n * s.f * s.oh * s.ow * s.cpg * s.kh * s.kw,
                  conv_label, &s);
  }
}

void kiln_ukernel_dwconv2d_f32(const int64_t *desc, const float *fparams) {
  KILN_PROF_BEGIN();
  if (desc[1] & CONV_S8)
    kiln_dwconv2d_s8(desc, fparams);
  else
    kiln_dwconv2d_f32_run(desc);
  if (kiln_prof_on) {
    conv_shape s = conv_shape_of(desc, 1);
    KILN_PROF_END((desc[1] & CONV_S8) ? "dwconv-s8" : "dwconv", 2.0 * s.n * s.f * s.oh * s.ow * s.kh * s.kw,
                  conv_label, &s);
  }
}
