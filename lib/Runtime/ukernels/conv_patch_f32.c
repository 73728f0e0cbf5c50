/*===- conv_patch_f32.c - 2-D convolution on the packed GEMM (patch path) ===*
 *
 * The path of conv2d_f32 (conv_f32.c) for filters the compiler did not pack
 * (other strides, the generic C kernels, small 1 x 1 convolutions). Per
 * image, the output Y [F, OH*OW] (NCHW as it stands) is
 *   Y = W [F, C*KH*KW] x col [C*KH*KW, OH*OW]
 * where col is never materialized as such: the input patches are written
 * straight into the GEMM's 16-column B panels (16 output pixels per panel,
 * one row per (c, kh, kw)), with zeros for the padding. A row of 16 pixels
 * of one output row at stride 1 is one 64-byte copy; a 1 x 1 convolution
 * at stride 1 without padding copies 16 consecutive input pixels. The
 * filter is the GEMM's left operand, read in place (it is a dense constant),
 * or scaled per image by a squeeze-excite gate when smaller than the input.
 * Bias (one per output channel: a row of Y), the residual of a residual
 * block and the activation are applied on the register tile, in that
 * order. The desc is conv2d_f32's (conv_f32.c).
 *
 *===----------------------------------------------------------------------===*/

#include "gemm_f32.h"
#include "view.h"
#include "../runtime_internal.h"

#include "conv_lanes_f32.h"
#include "conv_f32_internal.h"

#include <string.h>

typedef struct {
  int isa;
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
  /* each output pixel's kw columns are the next kw input columns, all
   * inside the row */
  int patches = j->sw == j->kw && j->kw > 1 && j->dw == 1 && j->pl == 0 &&
                j->xs[3] == 1 && (j->ow - 1) * j->sw + j->kw <= j->w;
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
    if (patches) {
      /* non-overlapping patches (ViT's embedding): per (c, kh) each run's
       * input row segment [len patches x kw] is transposed into the kw
       * panel rows at once, where the element-wise path below stepped
       * through it kw times with stride sw; 16-wide patches filling the
       * panel inside the image on AVX-512 as one 16 x 16 transpose in
       * registers (ViT-style 3 -> 256 at 224 x 224 alone, 1 thread:
       * 1.07-1.09x faster, median 0.52 -> 0.48 ms, `kiln run --against`,
       * 3 x 1000 runs) */
      int rows16 = j->isa == KILN_ISA_AVX512 && j->kw == 16 &&
                   cnt == KILN_GEMM_NR;
      for (int64_t ci = 0; ci < j->c; ++ci) {
        const float *xc = j->x + ci * j->xs[1];
        for (int64_t a = 0; a < j->kh; ++a) {
          float *d = dst + (ci * j->kh + a) * j->kw * KILN_GEMM_NR;
          if (rows16) {
            const float *src[KILN_GEMM_NR];
            int inside = 1;
            for (int r = 0; r < nr; ++r) {
              int64_t ih = roh[r] * j->sh - j->pt + a * j->dh;
              inside &= ih >= 0 && ih < j->h;
              for (int64_t i = 0; i < rl[r]; ++i)
                src[rs[r] + i] = xc + ih * j->xs[2] + (row[r] + i) * j->sw;
            }
            if (inside) {
              kiln_patch_rows16_avx512(src, d);
              continue;
            }
          }
          for (int r = 0; r < nr; ++r) {
            int64_t ih = roh[r] * j->sh - j->pt + a * j->dh;
            int inside = ih >= 0 && ih < j->h;
            const float *src = xc + ih * j->xs[2] + row[r] * j->sw;
            for (int64_t i = 0; i < rl[r]; ++i)
              for (int64_t b = 0; b < j->kw; ++b)
                d[b * KILN_GEMM_NR + rs[r] + i] =
                    inside ? src[i * j->kw + b] : 0.0f;
          }
          for (int64_t b = 0; b < j->kw; ++b)
            for (int64_t i = cnt; i < KILN_GEMM_NR; ++i)
              d[b * KILN_GEMM_NR + i] = 0.0f;
        }
      }
      continue;
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

/* This thread's B panels for one image, or NULL without memory. */
static float *panel_scratch(const image_job *ij, int64_t panels) {
  return kiln_scratch(KILN_SCRATCH_GEMM_B,
                      (size_t)(panels * ij->k * KILN_GEMM_NR) * sizeof(float));
}

/* Y[:, 16 pb, 16 pe) of image img = w x panels [pb, pe) (bp: panel 0),
 * with the epilogue; 0 without scratch memory. */
static int multiply_panels(const image_job *ij, const float *w, const float *bp,
                           int64_t img, int64_t pb, int64_t pe) {
  int64_t c0 = pb * KILN_GEMM_NR;
  int64_t c1 = pe * KILN_GEMM_NR < ij->p ? pe * KILN_GEMM_NR : ij->p;
  kiln_epilogue ep = {NULL, NULL, ij->p, ij->act, ij->bias, 1};
  if (ij->res)
    ep.residual = ij->res + img * ij->rs0 + c0;
  return kiln_sgemm_packed_run_ep(ij->isa, 0, ij->f, c1 - c0, ij->k, w, ij->k, 1,
                                  bp + pb * ij->k * KILN_GEMM_NR,
                                  ij->y + img * ij->ys0 + c0, ij->p, &ep);
}

/* Images [begin, end): patches into this thread's B panels, then the GEMM
 * (nested parallel loops run serially inside a parallel region). */
static void images_range(void *vjob, int64_t begin, int64_t end) {
  image_job *ij = vjob;
  pack_job j = *ij->shape;
  int64_t panels = (ij->p + KILN_GEMM_NR - 1) / KILN_GEMM_NR;
  if (!(j.bp = panel_scratch(ij, panels))) {
    ij->failed = 1;
    return;
  }
  for (int64_t img = begin; img < end; ++img) {
    j.x = ij->x + img * ij->xs0;
    if (panels * ij->k * KILN_GEMM_NR >= PARALLEL_MIN_PACK && panels > 1)
      kiln_parallel_for(panels, pack_range, &j);
    else
      pack_range(&j, 0, panels);
    const float *w = ij->w;
    if ((ij->sc && !(w = scaled_filter(ij, ij->sc + img * ij->sc_img))) ||
        !multiply_panels(ij, w, j.bp, img, 0, panels)) {
      ij->failed = 1;
      return;
    }
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
  const float *w = ij->w;
  if (!(j.bp = panel_scratch(ij, panels)) ||
      (ij->sc && !(w = scaled_filter(ij, ij->sc + sj->img * ij->sc_img)))) {
    ij->failed = 1;
    return;
  }
  j.x = ij->x + sj->img * ij->xs0;
  for (int64_t t = begin; t < end; ++t) {
    int64_t pb = panels * t / sj->slabs, pe = panels * (t + 1) / sj->slabs;
    if (pb >= pe)
      continue;
    pack_range(&j, pb, pe);
    if (!multiply_panels(ij, w, j.bp, sj->img, pb, pe))
      ij->failed = 1;
  }
}

/* Column slabs for filters of at most this many rows, and with at least
 * 4 panels per thread (a 7 x 7 plane's 4 panels would split 32 + 17). */
#define SLAB_MAX_ROWS 1024
#define SLAB_MIN_PANELS 4

void kiln_conv2d_patch(const int64_t *desc) {
  int isa = (int)desc[0];
  int64_t flags = desc[1];
  int act = (int)desc[2];
  pack_job j;
  j.isa = isa;
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
