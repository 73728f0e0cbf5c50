/*===- dwconv_f32_impl.h - depthwise convolution planes, one body per ISA -===*
 *
 * The portable kernel (--cpu x86-64), included by conv_f32.c with DW_PLANES
 * defined to the function's name; AVX2 and AVX-512 run the channel-blocked
 * kernel of dwconv_cb_f32_impl.h instead. Plain C that
 * GCC vectorizes along the output row: per output row, each filter tap adds
 * w * (a contiguous run of the input row) at stride 1, or every other
 * element at stride 2, into a row accumulator that starts at the bias; the
 * columns whose input falls in the padding are cut off the run (lo, hi), so
 * the inner loops have no bounds checks. Then the activation, one store.
 *
 * planes(x, y, w, bias, count, first, c, h, wd, oh, ow, kh, kw, sh, sw, pt,
 *        pl, dh, dw, act, scratch): planes [first, first + count) of N*C, each
 *   x [h, wd] at x + plane*h*wd, y [oh, ow] at y + plane*oh*ow, filter
 *   w + (plane % c)*kh*kw, bias[plane % c] (bias may be NULL).
 *
 *===----------------------------------------------------------------------===*/

#include "gemm_f32.h"

#include <stdint.h>
#include <string.h>

#define DW_CHUNK 256 /* output columns accumulated at a time */
#define DW_BLK 64    /* outputs kept in registers over the taps */

/* DW_VL floats as one value, the ISA's register width (16: AVX-512, 8:
 * AVX2, 4: SSE2): wider GCC vectors than the ISA's registers are split
 * through the stack. Macros, not functions: a vector-typed argument or
 * result would change the ABI. */
#ifndef DW_VL
#define DW_VL 4
#endif
#define DW_NV (DW_BLK / DW_VL) /* vectors per block of DW_BLK outputs */
typedef float dw_v __attribute__((vector_size(DW_VL * 4)));
typedef float dw_vu __attribute__((vector_size(DW_VL * 4), aligned(4), may_alias));
typedef int dw_i __attribute__((vector_size(DW_VL * 4)));
#define dw_splat(v) ((dw_v){0} + (float)(v))
#define dw_load(p) (*(const dw_vu *)(p))
#define dw_store(p, v) (*(dw_vu *)(p) = (v))

static inline float dw_act(float v, int act) {
  if (act == KILN_ACT_RELU)
    return v > 0.0f ? v : 0.0f;
  if (act == KILN_ACT_HARDSWISH) {
    float g = v * (1.0f / 6.0f) + 0.5f;
    g = g < 0.0f ? 0.0f : g > 1.0f ? 1.0f : g;
    return v * g;
  }
  return act ? kiln_act_scalar(v, act) : v;
}

static void dw_rows(const float *x, float *y, const float *w, const float *bias,
                    int64_t count, int64_t first, int64_t c, int64_t h,
                    int64_t wd, int64_t oh, int64_t ow, int64_t kh, int64_t kw,
                    int64_t sh, int64_t sw, int64_t pt, int64_t pl, int64_t dh,
                    int64_t dw, int act) {
  float acc[DW_CHUNK];
  for (int64_t pi = first; pi < first + count; ++pi) {
    const float *xp = x + pi * h * wd;
    float *yp = y + pi * oh * ow;
    const float *wp = w + (pi % c) * kh * kw;
    float b0 = bias ? bias[pi % c] : 0.0f;
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t c0 = 0; c0 < ow; c0 += DW_CHUNK) {
        int64_t n = ow - c0 < DW_CHUNK ? ow - c0 : DW_CHUNK;
        for (int64_t j = 0; j < n; ++j)
          acc[j] = b0;
        for (int64_t a = 0; a < kh; ++a) {
          int64_t ih = i * sh - pt + a * dh;
          if (ih < 0 || ih >= h)
            continue;
          const float *row = xp + ih * wd;
          for (int64_t b = 0; b < kw; ++b) {
            float wv = wp[a * kw + b];
            /* output column c0 + j reads input column (c0 + j)*sw + off */
            int64_t off = c0 * sw + b * dw - pl;
            int64_t lo = off >= 0 ? 0 : (-off + sw - 1) / sw;
            int64_t hi = off > wd - 1 ? 0 : (wd - 1 - off) / sw + 1;
            hi = hi < n ? hi : n;
            if (lo >= hi)
              continue;
            const float *r = row + off;
            if (sw == 1)
              for (int64_t j = lo; j < hi; ++j)
                acc[j] += wv * r[j];
            else if (sw == 2)
              for (int64_t j = lo; j < hi; ++j)
                acc[j] += wv * r[2 * j];
            else
              for (int64_t j = lo; j < hi; ++j)
                acc[j] += wv * r[j * sw];
          }
        }
        float *yr = yp + i * ow + c0;
        if (act == KILN_ACT_RELU)
          for (int64_t j = 0; j < n; ++j)
            yr[j] = acc[j] > 0.0f ? acc[j] : 0.0f;
        else if (act == KILN_ACT_HARDSWISH)
          for (int64_t j = 0; j < n; ++j)
            yr[j] = dw_act(acc[j], KILN_ACT_HARDSWISH);
        else
          for (int64_t j = 0; j < n; ++j)
            yr[j] = dw_act(acc[j], act);
      }
  }
}

/* Scratch floats DW_PLANES needs for one plane (0: none). */
static inline int64_t dw_scratch_floats(int64_t oh, int64_t ow, int64_t kh,
                                        int64_t kw, int64_t s) {
  int64_t wq = ow + (kw - 1) / s, hq = oh + (kh - 1) / s + 1;
  return s * s * hq * wq + oh * wq + DW_BLK + 16;
}

/* acc[q] = b0 + sum over the taps of w * P[q + off] on the extended grid
 * [0, len), in blocks of DW_BLK outputs that stay in registers across all
 * the taps. The stride s is a constant at each call, so the tap offsets
 * cost no division. The last block runs whole: it reads up to DW_BLK
 * floats past the last phase plane (into acc, which follows it in the
 * scratch) and writes into acc's slack; those columns are never stored. */
static inline __attribute__((always_inline)) void
dw_grid(const float *phases, float *acc, const float *wp, float b0, int64_t kh,
        int64_t kw, int64_t wq, int64_t plane, int64_t len, const int64_t s) {
  for (int64_t q0 = 0; q0 < len; q0 += DW_BLK) {
    dw_v r[DW_NV];
#pragma GCC unroll 16
    for (int v = 0; v < DW_NV; ++v)
      r[v] = dw_splat(b0);
    for (int64_t a = 0; a < kh; ++a) {
      const float *ra = phases + (a % s) * s * plane + (a / s) * wq + q0;
      for (int64_t b = 0; b < kw; ++b) {
        const float *src = ra + (b % s) * plane + b / s;
        dw_v wv = dw_splat(wp[a * kw + b]);
#pragma GCC unroll 16
        for (int v = 0; v < DW_NV; ++v)
          r[v] += wv * dw_load(src + v * DW_VL);
      }
    }
#pragma GCC unroll 16
    for (int v = 0; v < DW_NV; ++v)
      dw_store(acc + q0 + v * DW_VL, r[v]);
  }
}

/* Stride 1 or 2 (the same both ways), no dilation: the plane is copied
 * into s*s zero-padded phase planes P_rc[i][k] = x[s*i + r - pt][s*k + c -
 * pl] of width wq = ow + (kw-1)/s, so that output (i, j) reads
 * P_{a%s, b%s}[i + a/s][j + b/s] for tap (a, b). On the extended output
 * grid q = i*wq + j (columns j >= ow are junk, dropped at the store) every
 * tap is then one long vector loop acc[q] += w * P[q + off], however short
 * the output rows (MobileNet's 7 x 7 and 14 x 14 planes). */
void DW_PLANES(const float *x, float *y, const float *w, const float *bias,
               int64_t count, int64_t first, int64_t c, int64_t h, int64_t wd,
               int64_t oh, int64_t ow, int64_t kh, int64_t kw, int64_t sh,
               int64_t sw, int64_t pt, int64_t pl, int64_t dh, int64_t dw,
               int act, float *scratch) {
  int64_t s = sh;
  if (!scratch || sh != sw || (s != 1 && s != 2) || dh != 1 || dw != 1) {
    dw_rows(x, y, w, bias, count, first, c, h, wd, oh, ow, kh, kw, sh, sw, pt,
            pl, dh, dw, act);
    return;
  }
  int64_t wq = ow + (kw - 1) / s, hq = oh + (kh - 1) / s + 1;
  int64_t plane = hq * wq, len = oh * wq;
  float *phases = scratch, *acc = scratch + s * s * plane;
  for (int64_t pi = first; pi < first + count; ++pi) {
    const float *xp = x + pi * h * wd;
    const float *wp = w + (pi % c) * kh * kw;
    for (int64_t r = 0; r < s; ++r)
      for (int64_t cc = 0; cc < s; ++cc) {
        float *ph = phases + (r * s + cc) * plane;
        for (int64_t i = 0; i < hq; ++i) {
          int64_t ih = s * i + r - pt;
          float *dst = ph + i * wq;
          if (ih < 0 || ih >= h) {
            for (int64_t k = 0; k < wq; ++k)
              dst[k] = 0.0f;
            continue;
          }
          /* columns k < klo and k >= khi fall in the padding */
          int64_t off = cc - pl;
          int64_t klo = off >= 0 ? 0 : (-off + s - 1) / s;
          int64_t khi = off > wd - 1 ? 0 : (wd - 1 - off) / s + 1;
          khi = khi < wq ? khi : wq;
          klo = klo < khi ? klo : khi;
          const float *src = xp + ih * wd + off;
          for (int64_t k = 0; k < klo; ++k)
            dst[k] = 0.0f;
          if (s == 1)
            for (int64_t k = klo; k < khi; ++k)
              dst[k] = src[k];
          else
            for (int64_t k = klo; k < khi; ++k)
              dst[k] = src[2 * k];
          for (int64_t k = khi; k < wq; ++k)
            dst[k] = 0.0f;
        }
      }
    float b0 = bias ? bias[pi % c] : 0.0f;
    if (s == 1)
      dw_grid(phases, acc, wp, b0, kh, kw, wq, plane, len, 1);
    else
      dw_grid(phases, acc, wp, b0, kh, kw, wq, plane, len, 2);
    /* The activation over the whole extended grid (acc has slack past
     * len), then the valid columns of each row are stored. */
    if (act == KILN_ACT_RELU || act == KILN_ACT_HARDSWISH) {
      const dw_v zero = dw_splat(0.0f), one = dw_splat(1.0f);
      for (int64_t q = 0; q < len; q += DW_VL) {
        dw_v v = dw_load(acc + q);
        if (act == KILN_ACT_RELU) {
          v = (dw_v)((dw_i)v & (dw_i)(v > zero));
        } else {
          dw_v g = v * dw_splat(1.0f / 6.0f) + dw_splat(0.5f);
          g = (dw_v)((dw_i)g & (dw_i)(g > zero));
          dw_i big = (dw_i)(g > one);
          g = (dw_v)(((dw_i)g & ~big) | ((dw_i)one & big));
          v = v * g;
        }
        dw_store(acc + q, v);
      }
    } else if (act) {
      /* the others (SiLU, HardSigmoid, GELU) one value at a time */
      for (int64_t q = 0; q < len; ++q)
        acc[q] = kiln_act_scalar(acc[q], act);
    }
    float *yp = y + pi * oh * ow;
    for (int64_t i = 0; i < oh; ++i)
      memcpy(yp + i * ow, acc + i * wq, (size_t)ow * sizeof(float));
  }
}
