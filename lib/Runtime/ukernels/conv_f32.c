/*===- conv_f32.c - 2-D convolution (group 1, NCHW) on the packed GEMM -----===*
 *
 * Called through kiln.ukernel "conv2d_f32" (codegen/cpu/SelectUkernels.cpp).
 * Per image, the output Y [F, OH*OW] (NCHW as it stands) is
 *   Y = W [F, C*KH*KW] x col [C*KH*KW, OH*OW]
 * where col is never materialized as such: the input patches are written
 * straight into the GEMM's 16-column B panels (16 output pixels per panel,
 * one row per (c, kh, kw)), with zeros for the padding. A row of 16 pixels
 * of one output row at stride 1 is one 64-byte copy; a 1 x 1 convolution
 * at stride 1 without padding copies 16 consecutive input pixels. The
 * filter is the GEMM's left operand, read in place (it is a dense constant).
 * Bias (one per output channel: a row of Y), the residual of a residual
 * block and the activation (ReLU) are applied on the register tile, in that
 * order.
 *
 * desc: isa, flags, activation, stride h, stride w, pad top, pad left,
 * dilation h, dilation w, then the views x [N, C, H, W], w [F, C, KH, KW],
 * [bias [F],] [residual [N, F, OH, OW],] [input scale [N or 1, C, 1, 1],]
 * y [N, F, OH, OW] as (address, offset, sizes, strides). flags: 1 = bias,
 * 2 = residual, 16 = input scale (conv(x * s), s per image and channel: a
 * squeeze-excite gate; the direct kernel's input copies and the pointwise
 * kernel's per-image filter copy apply it, other paths scale a copy of x).
 *
 *===----------------------------------------------------------------------===*/

#include "gemm_f32.h"
#include "view.h"
#include "../runtime_internal.h"

#include <stdio.h>

#include "conv_direct_f32.h"
#include "conv_lanes_f32.h"
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

typedef struct {
  const float *x; /* image n */
  int64_t xs[4];  /* strides of x (c, h, w in [1..3]) */
  int64_t c, h, w, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw;
  float *bp;
} pack_job;

static inline void copy_run(float *restrict d, const float *restrict s,
                            int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    d[i] = s[i];
}

/* every other element (stride-2 convolutions) */
static inline void copy_run2(float *restrict d, const float *restrict s,
                             int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    d[i] = s[2 * i];
}

/* B panels [jp] for output pixels [16 jp, 16 jp + 16). A panel's pixels
 * fall into runs on one output row each (a panel may straddle rows); per
 * (c, kh, kw) a run reads one input row: a straight copy at stride 1 when
 * it lies inside the image, else element by element with the padding's
 * zeros. */
static void pack_range(void *vjob, int64_t begin, int64_t end) {
  const pack_job *j = vjob;
  int64_t p = j->oh * j->ow, k = j->c * j->kh * j->kw;
  int pointwise = j->kh == 1 && j->kw == 1 && j->sh == 1 && j->sw == 1 &&
                  j->pt == 0 && j->pl == 0 && j->oh == j->h && j->ow == j->w &&
                  j->xs[3] == 1 && j->xs[2] == j->w;
  for (int64_t jp = begin; jp < end; ++jp) {
    float *dst = j->bp + jp * k * KILN_GEMM_NR;
    int64_t p0 = jp * KILN_GEMM_NR;
    int64_t cnt = p - p0 < KILN_GEMM_NR ? p - p0 : KILN_GEMM_NR;
    if (pointwise && cnt == KILN_GEMM_NR) {
      for (int64_t ci = 0; ci < j->c; ++ci)
        memcpy(dst + ci * KILN_GEMM_NR, j->x + ci * j->xs[1] + p0,
               KILN_GEMM_NR * sizeof(float));
      continue;
    }
    /* runs: [start, start + len) of the panel on output row oh from ow */
    int64_t rs[KILN_GEMM_NR + 1], rl[KILN_GEMM_NR], roh[KILN_GEMM_NR],
        row[KILN_GEMM_NR];
    int nr = 0;
    for (int64_t i = 0; i < cnt;) {
      int64_t oh = (p0 + i) / j->ow, ow = (p0 + i) % j->ow;
      int64_t len = j->ow - ow < cnt - i ? j->ow - ow : cnt - i;
      rs[nr] = i;
      rl[nr] = len;
      roh[nr] = oh;
      row[nr] = ow;
      ++nr;
      i += len;
    }
    for (int64_t ci = 0; ci < j->c; ++ci) {
      const float *xc = j->x + ci * j->xs[1];
      for (int64_t a = 0; a < j->kh; ++a)
        for (int64_t b = 0; b < j->kw; ++b) {
          float *d = dst + ((ci * j->kh + a) * j->kw + b) * KILN_GEMM_NR;
          for (int r = 0; r < nr; ++r) {
            float *dr = d + rs[r];
            int64_t len = rl[r];
            int64_t ih = roh[r] * j->sh - j->pt + a * j->dh;
            int64_t iw = row[r] * j->sw - j->pl + b * j->dw;
            if (ih < 0 || ih >= j->h) {
              for (int64_t i = 0; i < len; ++i)
                dr[i] = 0.0f;
              continue;
            }
            const float *src = xc + ih * j->xs[2];
            if (j->sw == 1 && j->xs[3] == 1 && iw >= 0 && iw + len <= j->w) {
              if (len == KILN_GEMM_NR)
                memcpy(dr, src + iw, KILN_GEMM_NR * sizeof(float));
              else
                copy_run(dr, src + iw, len);
              continue;
            }
            /* pixels [lo, hi) of the run read inside the row */
            int64_t sw = j->sw;
            int64_t lo = iw >= 0 ? 0 : (-iw + sw - 1) / sw;
            int64_t hi = iw > j->w - 1 ? 0 : (j->w - 1 - iw) / sw + 1;
            lo = lo < len ? lo : len;
            hi = hi < len ? hi : len;
            hi = hi > lo ? hi : lo;
            for (int64_t i = 0; i < lo; ++i)
              dr[i] = 0.0f;
            if (j->xs[3] == 1 && sw == 1)
              copy_run(dr + lo, src + iw + lo, hi - lo);
            else if (j->xs[3] == 1 && sw == 2)
              copy_run2(dr + lo, src + iw + 2 * lo, hi - lo);
            else
              for (int64_t i = lo; i < hi; ++i)
                dr[i] = src[(iw + i * sw) * j->xs[3]];
            for (int64_t i = hi; i < len; ++i)
              dr[i] = 0.0f;
          }
          for (int64_t i = cnt; i < KILN_GEMM_NR; ++i)
            d[i] = 0.0f;
        }
    }
  }
}

/* Below this many packed floats an image's panels are written serially. */
#define PARALLEL_MIN_PACK (1 << 16)

typedef struct {
  const pack_job *shape; /* extents, strides, pads (x and bp unset) */
  int isa;
  int64_t f, p, k;
  const float *w, *x;
  int64_t xs0;
  float *y;
  int64_t ys0;
  const float *res;
  int64_t rs0;
  const float *bias;
  int act;
  int failed;
  /* An input scale applied to the filter's columns instead (per image):
   * sc[img * sc_img + ci] scales columns [ci * khw, (ci + 1) * khw) of W. */
  const float *sc;
  int64_t sc_img, khw;
} image_job;

/* W [f, k] with each input channel's khw columns scaled, into this
 * thread's scratch; NULL without memory. */
static const float *scaled_filter(const image_job *ij, const float *sc) {
  float *ws = kiln_scratch(KILN_SCRATCH_CONV_S, (size_t)(ij->f * ij->k) * sizeof(float));
  if (!ws)
    return NULL;
  int64_t c = ij->k / ij->khw;
  for (int64_t r = 0; r < ij->f; ++r) {
    const float *wr = ij->w + r * ij->k;
    float *dr = ws + r * ij->k;
    if (ij->khw == 1) {
      for (int64_t ci = 0; ci < c; ++ci)
        dr[ci] = wr[ci] * sc[ci];
      continue;
    }
    for (int64_t ci = 0; ci < c; ++ci)
      for (int64_t t = 0; t < ij->khw; ++t)
        dr[ci * ij->khw + t] = wr[ci * ij->khw + t] * sc[ci];
  }
  return ws;
}

/* Images [begin, end): patches into this thread's B panels, then the GEMM
 * (nested parallel loops run serially inside a parallel region). */
static void images_range(void *vjob, int64_t begin, int64_t end) {
  image_job *ij = vjob;
  pack_job j = *ij->shape;
  int64_t panels = (ij->p + KILN_GEMM_NR - 1) / KILN_GEMM_NR;
  j.bp = kiln_scratch(KILN_SCRATCH_GEMM_B,
                      (size_t)(panels * ij->k * KILN_GEMM_NR) * sizeof(float));
  if (!j.bp) {
    ij->failed = 1;
    return;
  }
  kiln_epilogue ep = {NULL, NULL, ij->p, ij->act, ij->bias, 1};
  for (int64_t img = begin; img < end; ++img) {
    j.x = ij->x + img * ij->xs0;
    if (panels * ij->k * KILN_GEMM_NR >= PARALLEL_MIN_PACK && panels > 1)
      kiln_parallel_for(panels, pack_range, &j);
    else
      pack_range(&j, 0, panels);
    if (ij->res)
      ep.residual = ij->res + img * ij->rs0;
    const float *w = ij->w;
    if (ij->sc && !(w = scaled_filter(ij, ij->sc + img * ij->sc_img))) {
      ij->failed = 1;
      return;
    }
    if (!kiln_sgemm_packed_run_ep(ij->isa, 0, ij->f, ij->p, ij->k, w, ij->k, 1,
                                  j.bp, ij->y + img * ij->ys0, ij->p, &ep))
      ij->failed = 1;
  }
}


/* One image's column slabs: slab t of `slabs` is a contiguous run of whole
 * panels (output pixels), which the thread packs into its own scratch and
 * multiplies by all of W on its own: one fork instead of two (packing,
 * then tiles), no packed panel read on another core, and each thread
 * reads and writes only its pixels of the planes, as the next 1 x 1
 * convolution's slabs will. W (the filters) is read by every thread. On
 * vCPUs with a 300 ns round trip between them (MobileNetV3-small, batch
 * 1, 2 threads): 1.28 ms split by tiles, 1.13 with slabs for filters of
 * up to 64 rows, 1.05 for all. */
typedef struct {
  image_job *ij;
  int64_t img, slabs;
} slab_job;

static void slab_range(void *vjob, int64_t begin, int64_t end) {
  const slab_job *sj = vjob;
  image_job *ij = sj->ij;
  pack_job j = *ij->shape;
  int64_t panels = (ij->p + KILN_GEMM_NR - 1) / KILN_GEMM_NR;
  j.bp = kiln_scratch(KILN_SCRATCH_GEMM_B,
                      (size_t)(panels * ij->k * KILN_GEMM_NR) * sizeof(float));
  const float *w = ij->w;
  if (!j.bp || (ij->sc && !(w = scaled_filter(ij, ij->sc + sj->img * ij->sc_img)))) {
    ij->failed = 1;
    return;
  }
  j.x = ij->x + sj->img * ij->xs0;
  for (int64_t t = begin; t < end; ++t) {
    int64_t pb = panels * t / sj->slabs, pe = panels * (t + 1) / sj->slabs;
    if (pb >= pe)
      continue;
    pack_range(&j, pb, pe);
    int64_t c0 = pb * KILN_GEMM_NR, c1 = pe * KILN_GEMM_NR < ij->p ? pe * KILN_GEMM_NR : ij->p;
    kiln_epilogue ep = {NULL, NULL, ij->p, ij->act, ij->bias, 1};
    if (ij->res)
      ep.residual = ij->res + sj->img * ij->rs0 + c0;
    if (!kiln_sgemm_packed_run_ep(ij->isa, 0, ij->f, c1 - c0, ij->k, w, ij->k, 1,
                                  j.bp + pb * ij->k * KILN_GEMM_NR,
                                  ij->y + sj->img * ij->ys0 + c0, ij->p, &ep))
      ij->failed = 1;
  }
}

/* Column slabs for filters of at most this many rows, and with at least
 * 4 panels per thread (a 7 x 7 plane's 4 panels would split 32 + 17). */
#define SLAB_MAX_ROWS 1024
#define SLAB_MIN_PANELS 4

/* ---- direct path: filter packed by the compiler (flag 4) --------------- *
 * desc: isa, flags, activation, stride h/w, pad top/left, dilation h/w,
 * kernel h, kernel w, then the views x [N, C, H, W], the packed filter
 * [ceil(F / 16), C * KH * KW, 16], [bias [F],] [residual,] y. The compiler
 * packs only for AVX-512 or AVX2 and a column stride of 1 or 2
 * (codegen/cpu/Ukernels.cpp); conv_direct_f32.h has the kernel. */

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
  kiln_rt_check_dim(sw == 1 || sw == 2, 1);
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
  if (c8) /* the compiler blocks channels for the AVX2 kernel only */
    kiln_rt_check_dim(isa == KILN_ISA_AVX2 && c % 8 == 0, 1);
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
   * at the end of each task's run, with no wasted columns. */
  j.gather = isa == KILN_ISA_AVX2;
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
  /* A filter within half an L2 (AVX2 Zen 3: 512 KiB) is read again for
   * each run of pixels, which then stay in cache for all its channels;
   * a larger one is read once per task, its block reused across the rows. */
  j.rows_outer = f * k * (int64_t)sizeof(float) <= (256 << 10);
  int parallel = n * f * oh * ow * k >= DIRECT_PARALLEL_MIN_MACS;
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

static void conv2d_f32_call(const int64_t *desc, const float *fparams) {
  (void)fparams;
  if ((desc[1] & CONV_PACKED) && (desc[1] & CONV_WINO)) {
    kiln_conv2d_winograd(desc);
    return;
  }
  if (desc[1] & CONV_PACKED) {
    conv2d_direct(desc);
    return;
  }
  int isa = (int)desc[0];
  int64_t flags = desc[1];
  int act = (int)desc[2];
  pack_job j;
  j.sh = desc[3];
  j.sw = desc[4];
  j.pt = desc[5];
  j.pl = desc[6];
  j.dh = desc[7];
  j.dw = desc[8];
  view4 x, w, bias = {0}, res = {0}, scv = {0}, y;
  read_conv_views(desc + 9, flags, 4, &x, &w, &bias, &res, &scv, &y);
  int64_t n = x.size[0], f = w.size[0];
  int64_t sc_img;
  const float *sc = conv_xscale(flags, &scv, n, x.size[1], &sc_img);
  j.c = x.size[1];
  j.h = x.size[2];
  j.w = x.size[3];
  j.kh = w.size[2];
  j.kw = w.size[3];
  j.oh = y.size[2];
  j.ow = y.size[3];
  kiln_rt_check_dim(w.size[1], j.c);
  kiln_rt_check_dim(y.size[0], n);
  kiln_rt_check_dim(y.size[1], f);
  if (flags & CONV_BIAS)
    kiln_rt_check_dim(bias.size[3], f);
  int64_t k = j.c * j.kh * j.kw, p = j.oh * j.ow;
  /* Any output extents are safe: every input read is bounds-checked
   * (reads outside the image are the zero padding). */
  /* W as [F, K] rows, y (and the residual) as dense [F, P] per image */
  int dense = dense_from(&w, 0) && dense_from(&y, 1) &&
              (!(flags & CONV_RESIDUAL) || dense_from(&res, 1));
  for (int i = 0; i < 4; ++i)
    j.xs[i] = x.stride[i];
  if (j.w == 1)
    j.xs[3] = 1; /* any stride reads the one column */
  if (j.h == 1)
    j.xs[2] = j.w;
  kiln_rt_check_dim(dense, 1); /* kiln's lowering gives dense buffers */
  if (flags & CONV_RESIDUAL) {
    kiln_rt_check_dim(res.size[0], n);
    kiln_rt_check_dim(res.size[1], f);
    kiln_rt_check_dim(res.size[2], j.oh);
    kiln_rt_check_dim(res.size[3], j.ow);
  }
  if (n == 0 || f == 0 || p == 0)
    return;
  /* AVX2: 1 x 1 convolutions and small filters with the output pixels in
   * the vector lanes (conv_lanes_f32.c), when they apply */
  kiln_conv_lanes_args la = {
      isa, (const float *)x.base, {x.stride[0], x.stride[1], x.stride[2], x.stride[3]},
      (const float *)w.base, (flags & CONV_BIAS) ? (const float *)bias.base : NULL,
      (flags & CONV_RESIDUAL) ? (const float *)res.base : NULL, res.stride[0],
      (float *)y.base, y.stride[0], n, j.c, j.h, j.w, f, j.oh, j.ow, j.kh, j.kw,
      j.sh, j.sw, j.pt, j.pl, j.dh, j.dw, act, sc, sc_img};
  if (kiln_conv_lanes(&la))
    return;
  /* An input scale (a squeeze-excite gate) goes on the filter's columns
   * when the filter is the smaller of the two (MobileNetV3's projections
   * at 14 x 14: 5-12 x fewer multiplies than a scaled copy of the input),
   * else on a copy of the input. */
  int scale_w = sc && f * k < j.c * j.h * j.w;
  if (sc && !scale_w) { /* the patch GEMM reads a scaled copy */
    x.base = (char *)kiln_conv_scaled_copy((const float *)x.base, j.xs, n, j.c, j.h,
                                   j.w, sc, sc_img);
    j.xs[0] = j.c * j.h * j.w;
    j.xs[1] = j.h * j.w;
    j.xs[2] = j.w;
    j.xs[3] = 1;
    x.stride[0] = j.xs[0];
  }
  image_job ij = {&j, isa, f, p, k, (const float *)w.base, (const float *)x.base,
                  x.stride[0], (float *)y.base, y.stride[0],
                  (flags & CONV_RESIDUAL) ? (const float *)res.base : NULL,
                  res.stride[0], (flags & CONV_BIAS) ? (const float *)bias.base : NULL,
                  act, 0, scale_w ? sc : NULL, sc_img, j.kh * j.kw};
  /* Several images and threads: whole images per thread (each packs and
   * multiplies on its own, with its own scratch), so a batch pays one
   * fork/join per convolution instead of two per image. One image: column
   * slabs per thread for filters of few rows, else the packing and the
   * GEMM are each split over the threads. */
  int64_t threads = kiln_rt_num_threads();
  int64_t panels = (p + KILN_GEMM_NR - 1) / KILN_GEMM_NR;
  if (n > 1 && threads > 1) {
    kiln_parallel_for(n, images_range, &ij);
  } else if (threads > 1 && f <= SLAB_MAX_ROWS &&
             panels >= SLAB_MIN_PANELS * threads &&
             f * p * k >= KILN_GEMM_PARALLEL_MIN_MACS) {
    for (int64_t img = 0; img < n && !ij.failed; ++img) {
      slab_job sj = {&ij, img, threads};
      kiln_parallel_for(threads, slab_range, &sj);
    }
  } else {
    images_range(&ij, 0, n);
  }
  if (ij.failed)
    kiln_rt_fail_oom();
}

/* ---- profiled entry points (KILN_PROFILE=1, profile.c) ----------------- */

typedef struct {
  int64_t n, c, h, w, f, oh, ow, kh, kw, sh, sw, cpg; /* cpg: C per group */
} conv_shape;

static conv_shape conv_shape_of(const int64_t *desc, int depthwise) {
  conv_shape s;
  view4 x, w, bias = {0}, res = {0}, y;
  int packed = !depthwise && (desc[1] & CONV_PACKED);
  if (depthwise) {
    view4 mean;
    read_dw_views(desc + 9, desc[1], &x, &w, &bias, &y, &mean);
  } else {
    view4 sc;
    read_conv_views(desc + (packed ? 11 : 9), desc[1], packed ? 3 : 4, &x, &w,
                    &bias, &res, &sc, &y);
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
  s.cpg = depthwise ? 1 : packed ? s.c : w.size[1];
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
    KILN_PROF_END((desc[1] & CONV_WINO)     ? "conv-wino"
                  : (desc[1] & CONV_PACKED) ? "conv"
                                            : "conv-gemm",
                  2.0 * s.n * s.f * s.oh * s.ow * s.cpg * s.kh * s.kw,
                  conv_label, &s);
  }
}

void kiln_ukernel_dwconv2d_f32(const int64_t *desc, const float *fparams) {
  KILN_PROF_BEGIN();
  (void)fparams;
  kiln_dwconv2d_f32_run(desc);
  if (kiln_prof_on) {
    conv_shape s = conv_shape_of(desc, 1);
    KILN_PROF_END("dwconv", 2.0 * s.n * s.f * s.oh * s.ow * s.kh * s.kw,
                  conv_label, &s);
  }
}
