/*===- conv_grouped_f32_impl.h - grouped convolution tasks, one body ------===*
 *
 * Included by conv_grouped_f32_<isa>.c after it defines:
 *   GC_VEC, GC_LANES, GC_TASKS (the task function's name),
 *   GC_ZERO(), GC_SET1(x), GC_LOAD(p), GC_STORE(p, v),
 *   GC_LOADN(p, n), GC_STOREN(p, n, v)   (the first n lanes; no fault past)
 *   GC_FMA(a, b, c), GC_ADD(a, b), GC_ACT(v, act)
 * See conv_grouped_f32.h.
 *
 *===----------------------------------------------------------------------===*/

#include "conv_grouped_f32.h"
#include "../runtime_internal.h"

#include <string.h>

#define GC_FB 4 /* filters per register tile */
#define GC_CV_TAPS KILN_GCONV_MAX_TAPS /* channel-vector tiles: taps at most */
#define GC_NV 3 /* vectors of output pixels per register tile (at most) */

/* One tap of a tile: nv vectors of input pixels at xp, times GC_FB
 * filters' weights at wp (`wstride` apart). */
static inline __attribute__((always_inline)) void
gc_tap(GC_VEC acc[GC_FB][GC_NV], const float *xp, const float *wp, int64_t wstride,
       const int nv) {
  GC_VEC xv[GC_NV];
  for (int v = 0; v < nv; ++v)
    xv[v] = GC_LOAD(xp + v * GC_LANES);
  for (int fb = 0; fb < GC_FB; ++fb) {
    GC_VEC wv = GC_SET1(wp[fb * wstride]);
    for (int v = 0; v < nv; ++v)
      acc[fb][v] = GC_FMA(wv, xv[v], acc[fb][v]);
  }
}

/* One output row's filters [f0, f0 + GC_FB) of a group: tiles of `nv`
 * vectors of pixels (a constant in each inlined copy). xq: the group's
 * padded, phase-split input planes (hp rows of sw phases of wq floats). */
static inline __attribute__((always_inline)) void
gc_row(const kiln_gconv_job *j, const float *xq, const float *wt, int64_t hp,
       int64_t wq, int64_t f0, int64_t oy, float *y, const float *res,
       const float *bias, const int nv) {
  const int64_t L = GC_LANES, tile = GC_LANES * nv;
  int64_t cg = j->cg, fg = j->fg, kk = j->kh * j->kw;
  for (int64_t ox0 = 0; ox0 < j->ow; ox0 += tile) {
    GC_VEC acc[GC_FB][GC_NV];
    for (int fb = 0; fb < GC_FB; ++fb)
      for (int v = 0; v < nv; ++v)
        acc[fb][v] = GC_ZERO();
    for (int64_t c = 0; c < cg; ++c)
      for (int64_t a = 0; a < j->kh; ++a) {
        int64_t r = oy * j->sh + a * j->dh;
        for (int64_t b = 0; b < j->kw; ++b) {
          int64_t tap = b * j->dw;
          gc_tap(acc,
                 xq + ((c * hp + r) * j->sw + tap % j->sw) * wq + ox0 + tap / j->sw,
                 wt + (f0 * cg + c) * kk + a * j->kw + b, cg * kk, nv);
        }
      }
    for (int fb = 0; fb < GC_FB && f0 + fb < fg; ++fb) {
      int64_t f = f0 + fb;
      float *yr = y + (f * j->oh + oy) * j->ow;
      const float *rr = res ? res + (f * j->oh + oy) * j->ow : NULL;
      GC_VEC bv = GC_SET1(bias ? bias[f] : 0.0f);
      for (int v = 0; v < nv; ++v) {
        int64_t px = ox0 + v * L;
        if (px >= j->ow)
          break;
        int64_t cnt = j->ow - px < L ? j->ow - px : L;
        GC_VEC s = GC_ADD(acc[fb][v], bv);
        if (rr)
          s = GC_ADD(s, cnt == L ? GC_LOAD(rr + px) : GC_LOADN(rr + px, cnt));
        if (j->act)
          s = GC_ACT(s, j->act);
        if (cnt == L)
          GC_STORE(yr + px, s);
        else
          GC_STOREN(yr + px, cnt, s);
      }
    }
  }
}

/* Stride 1, small planes (7 x 7): tiles run over the output as one flat
 * run of rows `wq` apart (u = oy * wq + ox; the taps of pixel u are at
 * u + a * dh * wq + b * dw in each padded plane), the columns past ow
 * computed and dropped, so that a 7 x 7 plane is 4 vectors of 16 instead of
 * 7 one-row vectors of which 7 of 16 lanes count. xq: planes of hq rows. */
static inline __attribute__((always_inline)) void
gc_flat(const kiln_gconv_job *j, const float *xq, const float *wt, int64_t hq,
        int64_t wq, int64_t f0, float *y, const float *res, const float *bias,
        const int nv) {
  const int64_t L = GC_LANES, tile = GC_LANES * nv, total = j->oh * wq;
  int64_t cg = j->cg, fg = j->fg, kk = j->kh * j->kw;
  float tmp[GC_LANES];
  for (int64_t u0 = 0; u0 < total; u0 += tile) {
    GC_VEC acc[GC_FB][GC_NV];
    for (int fb = 0; fb < GC_FB; ++fb)
      for (int v = 0; v < nv; ++v)
        acc[fb][v] = GC_ZERO();
    for (int64_t c = 0; c < cg; ++c)
      for (int64_t a = 0; a < j->kh; ++a)
        for (int64_t b = 0; b < j->kw; ++b) {
          gc_tap(acc, xq + c * hq * wq + a * j->dh * wq + b * j->dw + u0,
                 wt + (f0 * cg + c) * kk + a * j->kw + b, cg * kk, nv);
        }
    for (int fb = 0; fb < GC_FB && f0 + fb < fg; ++fb) {
      int64_t f = f0 + fb;
      float *yp = y + f * j->oh * j->ow;
      const float *rp = res ? res + f * j->oh * j->ow : NULL;
      GC_VEC bv = GC_SET1(bias ? bias[f] : 0.0f);
      for (int v = 0; v < nv; ++v) {
        int64_t ub = u0 + v * L;
        if (ub >= total)
          break;
        GC_VEC s = GC_ADD(acc[fb][v], bv);
        if (rp) {
          for (int64_t i = 0; i < L; ++i) {
            int64_t u = ub + i, oy = u / wq, ox = u % wq;
            tmp[i] = oy < j->oh && ox < j->ow ? rp[oy * j->ow + ox] : 0.0f;
          }
          s = GC_ADD(s, GC_LOAD(tmp));
        }
        if (j->act)
          s = GC_ACT(s, j->act);
        GC_STORE(tmp, s);
        for (int64_t i = 0; i < L; ++i) {
          int64_t u = ub + i, oy = u / wq, ox = u % wq;
          if (oy < j->oh && ox < j->ow)
            yp[oy * j->ow + ox] = tmp[i];
        }
      }
    }
  }
}

/* d[0, n) = 0 and d[0, n) = s[0, n) in vectors (rows are tens of floats,
 * too short for libc's calls) */
static inline __attribute__((always_inline)) void gc_zero(float *d, int64_t n) {
  int64_t i = 0;
  for (; i + GC_LANES <= n; i += GC_LANES)
    GC_STORE(d + i, GC_ZERO());
  if (i < n)
    GC_STOREN(d + i, n - i, GC_ZERO());
}
static inline __attribute__((always_inline)) void gc_move(float *d, const float *s,
                                                          int64_t n) {
  int64_t i = 0;
  for (; i + GC_LANES <= n; i += GC_LANES)
    GC_STORE(d + i, GC_LOAD(s + i));
  if (i < n)
    GC_STOREN(d + i, n - i, GC_LOADN(s + i, n - i));
}

/* xq[c][r][p][q] = x[c][r - pt][q * sw + p - pl], zero outside the image. */
static void gc_copy(const kiln_gconv_job *j, const float *x, float *xq,
                    int64_t hp, int64_t wq) {
  for (int64_t c = 0; c < j->cg; ++c)
    for (int64_t r = 0; r < hp; ++r) {
      int64_t ir = r - j->pt;
      int inside = ir >= 0 && ir < j->h;
      const float *xr = x + c * j->xs[1] + (inside ? ir : 0) * j->xs[2];
      for (int64_t p = 0; p < j->sw; ++p) {
        float *d = xq + ((c * hp + r) * j->sw + p) * wq;
        /* q in [lo, hi) reads the image's column q * sw + p - pl */
        int64_t lo = j->pl > p ? (j->pl - p + j->sw - 1) / j->sw : 0;
        int64_t hi = j->w_ - 1 + j->pl >= p ? (j->w_ - 1 + j->pl - p) / j->sw + 1 : 0;
        lo = lo > wq ? wq : lo;
        hi = !inside ? lo : hi > wq ? wq : hi < lo ? lo : hi;
        /* inline loops: rows are tens of floats, too short for libc calls */
        gc_zero(d, lo);
        if (hi > lo) {
          const float *src = xr + (lo * j->sw + p - j->pl) * j->xs[3];
          if (j->sw == 1 && j->xs[3] == 1) {
            gc_move(d + lo, src, hi - lo);
          } else if (j->sw == 2 && j->xs[3] == 1) {
            /* a constant stride the compiler vectorizes (even/odd lanes) */
            for (int64_t q = 0; q < hi - lo; ++q)
              d[lo + q] = src[2 * q];
          } else {
            int64_t step = j->sw * j->xs[3];
            for (int64_t q = lo; q < hi; ++q)
              d[q] = src[(q - lo) * step];
          }
        }
        gc_zero(d + hi, wq - hi);
      }
    }
}

/* Channel-vector tiles, for groups of a multiple of GC_LANES filters
 * (ResNeXt-50's 16 and 32 per group at 14 x 14 and 7 x 7, where a row of
 * pixels fills a vector badly): the vector runs over GC_LANES filters and
 * the accumulators over nr output rows x rw output columns, so that each
 * (channel, tap) is one vector load of weights and nr * rw broadcasts of
 * input pixels at constant offsets (r * sw, sw a constant: 1 or 2) from
 * one pointer per row. xq: the group's planes zero-padded, [Cg][hp][wq];
 * wv: its weights, [Cg][KH * KW][wstep] (the block's GC_LANES filters
 * first in each); toff: each tap's offset in a plane; rs: the floats
 * between output rows in a plane. The tile's sums take the bias in
 * registers (and the activation, `fuse_act`, when no residual follows)
 * and are stored transposed into NCHW. */
static inline __attribute__((always_inline)) void
gc_cv_tile(const kiln_gconv_job *j, const float *xq, const float *wv,
           int64_t wstep, const int64_t *toff, int64_t plane, int64_t rs,
           int64_t oy, int64_t ox0, const float *bias, float *y, int fuse_act,
           const int nr, const int rw, const int sw) {
  GC_VEC acc[GC_CV_NR][GC_CV_RW];
  for (int k = 0; k < nr; ++k)
    for (int r = 0; r < rw; ++r)
      acc[k][r] = GC_ZERO();
  const int64_t kk = j->kh * j->kw;
  const float *xc = xq + oy * rs + ox0 * sw;
  for (int64_t c = 0; c < j->cg; ++c, xc += plane)
    for (int64_t t = 0; t < kk; ++t, wv += wstep) {
      const float *p0 = xc + toff[t], *p1 = p0 + rs, *p2 = p1 + rs;
      GC_VEC w = GC_LOAD(wv);
      for (int r = 0; r < rw; ++r)
        acc[0][r] = GC_FMA(GC_SET1(p0[r * sw]), w, acc[0][r]);
      if (nr > 1)
        for (int r = 0; r < rw; ++r)
          acc[1][r] = GC_FMA(GC_SET1(p1[r * sw]), w, acc[1][r]);
      if (nr > 2)
        for (int r = 0; r < rw; ++r)
          acc[2][r] = GC_FMA(GC_SET1(p2[r * sw]), w, acc[2][r]);
    }
  GC_VEC bv = bias ? GC_LOAD(bias) : GC_ZERO();
  float tmp[GC_CV_NR * GC_CV_RW][GC_LANES] __attribute__((aligned(64)));
  for (int k = 0; k < nr; ++k)
    for (int r = 0; r < rw; ++r) {
      GC_VEC s = GC_ADD(acc[k][r], bv);
      if (fuse_act)
        s = GC_ACT(s, j->act);
      GC_STORE(tmp[k * rw + r], s);
    }
  int64_t cols = j->ow - ox0 < rw ? j->ow - ox0 : rw, hw = j->oh * j->ow;
  for (int l = 0; l < GC_LANES; ++l)
    for (int k = 0; k < nr; ++k) {
      float *yr = y + l * hw + (oy + k) * j->ow + ox0;
      for (int64_t r = 0; r < cols; ++r)
        yr[r] = tmp[k * rw + r][l];
    }
}

/* Tile widths: the one that pads ow the least (ties to the wider), then
 * as many rows as GC_CV_ACC accumulators allow (at most GC_CV_NR). */
static const int gc_cv_widths[] = {GC_CV_WIDTHS};

#define GC_CV_TILE(NR, RW)                                                     \
  do {                                                                         \
    if (sw == 1)                                                               \
      gc_cv_tile(j, xq, wv, ws, toff, plane, rs, oy, ox0, bias, y, fuse_act,   \
                 NR, RW, 1);                                                   \
    else                                                                       \
      gc_cv_tile(j, xq, wv, ws, toff, plane, rs, oy, ox0, bias, y, fuse_act,   \
                 NR, RW, 2);                                                   \
  } while (0)
#define GC_CV_NRS(RW)                                                          \
  case RW:                                                                     \
    if (nr == 1)                                                               \
      GC_CV_TILE(1, RW);                                                       \
    else if (nr == 2)                                                          \
      GC_CV_TILE(2 * RW <= GC_CV_ACC ? 2 : 1, RW);                             \
    else                                                                       \
      GC_CV_TILE(3 * RW <= GC_CV_ACC ? 3 : 1, RW);                             \
    break;

static void gc_cv_dispatch(const kiln_gconv_job *j, const float *xq,
                           const float *wv, int64_t ws, const int64_t *toff,
                           int64_t plane, int64_t rs, int64_t oy, int64_t ox0,
                           const float *bias, float *y, int fuse_act, int nr,
                           int rw, int sw) {
  switch (rw) { GC_CV_CASES }
}

/* One (image, group) of channel-vector tiles. The weights: the compiler's
 * panels of 16 filters ([F / 16][Cg * KH * KW][16], j->wp), or the
 * group's filters repacked here into wv as [Fg / GC_LANES][Cg * KH * KW]
 * [GC_LANES]. xq: planes of hp x wq whose padding is zero already (the
 * same for every task: gc_cv_tasks); the image's pixels are copied in. */
static void gc_cv_task(kiln_gconv_job *j, int64_t img, int64_t g, float *xq,
                       float *wv, int64_t hp, int64_t wq, int rw, int nr) {
  int64_t cg = j->cg, fg = j->fg, kk = j->kh * j->kw;
  if (!j->wp) {
    const float *w = j->w + g * fg * cg * kk;
    for (int64_t fb = 0; fb < fg / GC_LANES; ++fb)
      for (int64_t c = 0; c < cg; ++c)
        for (int64_t t = 0; t < kk; ++t)
          for (int64_t l = 0; l < GC_LANES; ++l)
            wv[((fb * cg + c) * kk + t) * GC_LANES + l] =
                w[((fb * GC_LANES + l) * cg + c) * kk + t];
  }
  /* input rows [pt, pt + h) and columns [pl, pl + w) of the padded planes,
   * as far as the tiles read them */
  int64_t rows = j->h < hp - j->pt ? j->h : hp - j->pt;
  int64_t cols = j->w_ < wq - j->pl ? j->w_ : wq - j->pl;
  const float *x = j->x + img * j->xs[0] + g * cg * j->xs[1];
  for (int64_t c = 0; c < cg; ++c)
    for (int64_t r = 0; r < rows; ++r) {
      const float *src = x + c * j->xs[1] + r * j->xs[2];
      float *d = xq + (c * hp + j->pt + r) * wq + j->pl;
      if (j->xs[3] == 1)
        gc_move(d, src, cols);
      else
        for (int64_t q = 0; q < cols; ++q)
          d[q] = src[q * j->xs[3]];
    }
  int64_t toff[GC_CV_TAPS];
  for (int64_t a = 0; a < j->kh; ++a)
    for (int64_t b = 0; b < j->kw; ++b)
      toff[a * j->kw + b] = a * j->dh * wq + b * j->dw;
  int64_t plane = hp * wq, rs = j->sh * wq, hw = j->oh * j->ow;
  float *y = j->y + img * j->y_img + g * fg * hw;
  const float *res = j->res ? j->res + img * j->res_img + g * fg * hw : NULL;
  const float *bias = j->bias ? j->bias + g * fg : NULL;
  int fuse_act = j->act && !res;
  for (int64_t fb = 0; fb < fg / GC_LANES; ++fb) {
    int64_t f0 = g * fg + fb * GC_LANES, ws = j->wp ? 16 : GC_LANES;
    const float *wb = j->wp ? j->wp + f0 / 16 * cg * kk * 16 + f0 % 16
                            : wv + fb * cg * kk * GC_LANES;
    for (int64_t oy = 0; oy < j->oh; oy += nr) {
      int nrows = j->oh - oy < nr ? (int)(j->oh - oy) : nr;
      for (int64_t ox0 = 0; ox0 < j->ow; ox0 += rw)
        gc_cv_dispatch(j, xq, wb, ws, toff, plane, rs, oy, ox0,
                       bias ? bias + fb * GC_LANES : NULL,
                       y + fb * GC_LANES * hw, fuse_act, nrows, rw, (int)j->sw);
    }
  }
  if (res) {
    /* the residual and activation over the group's dense output planes */
    for (int64_t i = 0; i < fg * hw; i += GC_LANES) {
      int64_t n = fg * hw - i < GC_LANES ? fg * hw - i : GC_LANES;
      GC_VEC s = n == GC_LANES ? GC_ADD(GC_LOAD(y + i), GC_LOAD(res + i))
                               : GC_ADD(GC_LOADN(y + i, n), GC_LOADN(res + i, n));
      if (j->act)
        s = GC_ACT(s, j->act);
      if (n == GC_LANES)
        GC_STORE(y + i, s);
      else
        GC_STOREN(y + i, n, s);
    }
  }
}

/* The channel-vector tiles apply: whole vectors of filters per group, a
 * column stride of 1 or 2 and few enough taps for the offset table
 * (always with packed weights, which conv_f32.c checks). */
static int gc_cv_applies(const kiln_gconv_job *j) {
  return j->wp ||
         (j->fg % GC_LANES == 0 && j->sw <= 2 && j->kh * j->kw <= GC_CV_TAPS);
}

static void gc_cv_tasks(kiln_gconv_job *j, int64_t begin, int64_t end) {
  int rw = gc_cv_widths[0];
  int64_t best = (j->ow + rw - 1) / rw * rw;
  for (size_t i = 1; i < sizeof gc_cv_widths / sizeof gc_cv_widths[0]; ++i) {
    int w = gc_cv_widths[i];
    int64_t padded = (j->ow + w - 1) / w * w;
    if (padded < best || (padded == best && w > rw)) {
      rw = w;
      best = padded;
    }
  }
  int nr = GC_CV_ACC / rw < GC_CV_NR ? GC_CV_ACC / rw : GC_CV_NR;
  nr = nr < 1 ? 1 : nr;
  int64_t cg = j->cg, kk = j->kh * j->kw;
  /* the rows and columns the tiles read (the last tile's columns past ow
   * computed and dropped) */
  int64_t hp = (j->oh - 1) * j->sh + (j->kh - 1) * j->dh + 1;
  int64_t wq = (best - 1) * j->sw + (j->kw - 1) * j->dw + 1;
  size_t xbytes = (size_t)(cg * hp * wq) * sizeof(float);
  float *xq = kiln_scratch(KILN_SCRATCH_CONV_X, xbytes);
  float *wv = j->wp ? NULL
                    : kiln_scratch(KILN_SCRATCH_CONV_K,
                                   (size_t)(j->fg * cg * kk) * sizeof(float));
  if (!xq || (!wv && !j->wp)) {
    j->failed = 1;
    return;
  }
  /* the padding, zero for every task (each copies the same interior) */
  memset(xq, 0, xbytes);
  for (int64_t t = begin; t < end; ++t)
    gc_cv_task(j, t / j->groups, t % j->groups, xq, wv, hp, wq, rw, nr);
}

void GC_TASKS(void *vjob, int64_t begin, int64_t end) {
  kiln_gconv_job *j = vjob;
  if (gc_cv_applies(j)) {
    gc_cv_tasks(j, begin, end);
    return;
  }
  /* the tile width that computes the fewest vectors per row (ties to the
   * wider): 56 and 28 pixels take 2 vectors of 16, 14 and 7 one */
  int nv = 1;
  for (int v = 2; v <= GC_NV; ++v) {
    int64_t best = (j->ow + GC_LANES * nv - 1) / (GC_LANES * nv) * nv;
    if ((j->ow + GC_LANES * v - 1) / (GC_LANES * v) * v <= best)
      nv = v;
  }
  const int64_t tile = GC_LANES * nv;
  int64_t cg = j->cg, fg = j->fg, kk = j->kh * j->kw;
  int64_t hp = (j->oh - 1) * j->sh + (j->kh - 1) * j->dh + 1;
  int64_t shift = ((j->kw - 1) * j->dw) / j->sw;
  int64_t wq = (j->ow + tile - 1) / tile * tile + shift;
  int64_t fgp = (fg + GC_FB - 1) / GC_FB * GC_FB;
  /* flat tiles (gc_flat) at stride 1 when they compute fewer vectors;
   * their planes get slack rows for the last tile's reads */
  int flat = 0, nvf = 1;
  if (j->sh == 1 && j->sw == 1 && 2 * j->ow <= GC_LANES) { /* (scalar epilogue) */
    int64_t wqf = j->ow + shift;
    for (int v = 1; v <= GC_NV; ++v) {
      int64_t t = GC_LANES * v;
      if ((j->oh * wqf + t - 1) / t * v < (j->oh * ((j->ow + tile - 1) / tile) * nv) &&
          (!flat || (j->oh * wqf + t - 1) / t * v <=
                        (j->oh * wqf + GC_LANES * nvf - 1) / (GC_LANES * nvf) * nvf)) {
        flat = 1;
        nvf = v;
      }
    }
    if (flat) {
      wq = wqf;
      hp += (GC_LANES * nvf + wq - 1) / wq + 1;
    }
  }
  float *xq = kiln_scratch(KILN_SCRATCH_CONV_X,
                           (size_t)(cg * hp * j->sw * wq) * sizeof(float));
  float *wt = kiln_scratch(KILN_SCRATCH_CONV_K, (size_t)(fgp * cg * kk) * sizeof(float));
  if (!xq || !wt) {
    j->failed = 1;
    return;
  }
  for (int64_t t = begin; t < end; ++t) {
    int64_t img = t / j->groups, g = t % j->groups;
    /* the group's filters, zero rows up to a multiple of GC_FB */
    memcpy(wt, j->w + g * fg * cg * kk, (size_t)(fg * cg * kk) * sizeof(float));
    memset(wt + fg * cg * kk, 0, (size_t)((fgp - fg) * cg * kk) * sizeof(float));
    gc_copy(j, j->x + img * j->xs[0] + g * cg * j->xs[1], xq, hp, wq);
    float *y = j->y + img * j->y_img + g * fg * j->oh * j->ow;
    const float *res = j->res ? j->res + img * j->res_img + g * fg * j->oh * j->ow : NULL;
    const float *bias = j->bias ? j->bias + g * fg : NULL;
    if (flat) {
      for (int64_t f0 = 0; f0 < fg; f0 += GC_FB) {
        if (nvf == 1)
          gc_flat(j, xq, wt, hp, wq, f0, y, res, bias, 1);
        else if (nvf == 2)
          gc_flat(j, xq, wt, hp, wq, f0, y, res, bias, 2);
        else
          gc_flat(j, xq, wt, hp, wq, f0, y, res, bias, GC_NV);
      }
      continue;
    }
    for (int64_t f0 = 0; f0 < fg; f0 += GC_FB)
      for (int64_t oy = 0; oy < j->oh; ++oy) {
        if (nv == 1)
          gc_row(j, xq, wt, hp, wq, f0, oy, y, res, bias, 1);
        else if (nv == 2)
          gc_row(j, xq, wt, hp, wq, f0, oy, y, res, bias, 2);
        else
          gc_row(j, xq, wt, hp, wq, f0, oy, y, res, bias, GC_NV);
      }
  }
}
