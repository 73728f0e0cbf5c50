/*===- dwconv_cb_f32_impl.h - depthwise convolution, channel-blocked -----===*
 *
 * One body for AVX2 and AVX-512, included by conv_direct_f32_<isa>.c after
 * its cd_* macros (CD_VW lanes, cd_transpose an in-register CD_VW x CD_VW
 * transpose) with DWCB_FN defined to the function's name.
 *
 * A task is CD_VW channels of one image. Their planes are transposed into
 * a zero-padded, channel-interleaved scratch copy xs[hp][wp][CD_VW] (one
 * vector per input pixel), so each filter tap of each output pixel is one
 * FMA of the tap's CD_VW filter values with one vector load, whatever the
 * stride, dilation or plane size: nothing is wasted on padding columns or
 * strided gathers, which a kernel vectorized along the NCHW rows pays for
 * at stride 2 and on 7 x 7 planes. Up to 8 output pixels of a row are
 * accumulated in registers over all the taps; bias and activation are
 * applied there, and the channel-interleaved result ys[oh * ow][CD_VW] is
 * transposed back to the NCHW planes. Output rows go in bands whose
 * input copy is about DWCB_BAND_BYTES, so the copy is still in cache when
 * the taps read it (a band re-copies the span - stride rows it shares with
 * the previous one).
 *
 * DWCB_FN(x, y, w, bias, c, h, wd, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw,
 *         act, c0, r0, r1, scratch, mean): channels [c0, c0 + CD_VW) ∩
 *   [0, c) of one image, output rows [r0, r1); x [c, h, wd] and
 *   y [c, oh, ow] dense, w [c, kh, kw], bias [c] or NULL; scratch holds
 *   dwcb_scratch_floats(...) floats (dwconv_cb_f32.h). mean: NULL, or where
 *   the channels' output means go (mean[0] is channel c0's): a global
 *   average pool of y summed on the register tiles (the squeeze-excite
 *   block after MobileNetV3's depthwise convolutions), not read back from
 *   y; of rows [r0, r1), the sum divided by the whole plane's oh * ow.
 *
 *===----------------------------------------------------------------------===*/

#include "dwconv_cb_f32.h"

#include <string.h>

#define DWCB_R 8 /* output pixels in registers */

/* Input rows [r0, r1) of the padded plane into xs (row r0 first),
 * transposed to channel-interleaved, zero padding around. */
static inline void dwcb_pack_rows(const float *x, float *xs, int64_t nc,
                                  int64_t h, int64_t wd, int64_t wp, int64_t pt,
                                  int64_t pl, int64_t c0, int64_t r0,
                                  int64_t r1) {
  const int64_t plane = h * wd;
  int64_t jlo = pl < wp ? pl : wp;           /* first input column */
  int64_t jhi = pl + wd < wp ? pl + wd : wp; /* past the last */
  for (int64_t pr = r0; pr < r1; ++pr) {
    float *dst = xs + (pr - r0) * wp * CD_VW;
    int64_t ih = pr - pt;
    if (ih < 0 || ih >= h || jlo >= jhi) {
      memset(dst, 0, (size_t)(wp * CD_VW) * sizeof(float));
      continue;
    }
    memset(dst, 0, (size_t)(jlo * CD_VW) * sizeof(float));
    memset(dst + jhi * CD_VW, 0, (size_t)((wp - jhi) * CD_VW) * sizeof(float));
    const float *src = x + c0 * plane + ih * wd; /* column pc reads pc - pl */
    int64_t pc = jlo;
    for (; pc + CD_VW <= jhi; pc += CD_VW) {
      cd_v r[CD_VW];
#pragma GCC unroll 16
      for (int ch = 0; ch < CD_VW; ++ch)
        r[ch] = ch < nc ? cd_loadu(src + ch * plane + (pc - pl)) : cd_zero();
      cd_transpose(r);
#pragma GCC unroll 16
      for (int k = 0; k < CD_VW; ++k)
        cd_storeu(dst + (pc + k) * CD_VW, r[k]);
    }
    if (pc < jhi) { /* the row's last jhi - pc < CD_VW columns: masked */
      int64_t rem = jhi - pc;
      cd_mask_t mk = cd_mask(0, rem);
      cd_v r[CD_VW];
#pragma GCC unroll 16
      for (int ch = 0; ch < CD_VW; ++ch)
        r[ch] = ch < nc ? cd_maskload(mk, src + ch * plane + (pc - pl)) : cd_zero();
      cd_transpose(r);
      for (int64_t k = 0; k < rem; ++k)
        cd_storeu(dst + (pc + k) * CD_VW, r[k]);
    }
  }
}

/* The band's np output pixels from xs into ys, in tiles of DWCB_R pixels
 * of the flattened band: a tile may wrap to the next row (tab[p] is pixel
 * p's input offset in xs), so a 7-wide row costs no short tiles, whose few
 * accumulators would leave the FMA latency exposed over 9 or 25 taps. tab
 * repeats the last pixel's offset DWCB_R - 1 more times, so the last tile
 * runs whole and stores only its own pixels. */
__attribute__((noinline)) static void dwcb_rows(const float *xs, const float *ws, float *ys,
                             const int64_t *tab, int64_t np, cd_v b0,
                             int64_t wp, int64_t kh, int64_t kw, int64_t dh,
                             int64_t dw, int act, float *yc, int64_t nc,
                             int64_t plane, cd_v *sum) {
  cd_v total = sum ? *sum : cd_zero();
  for (int64_t p = 0; p < np; p += DWCB_R) {
    const int64_t *off = tab + p;
    cd_v acc[DWCB_R];
#pragma GCC unroll 8
    for (int q = 0; q < DWCB_R; ++q)
      acc[q] = b0;
    for (int64_t a = 0; a < kh; ++a) {
      const float *row = xs + a * dh * wp * CD_VW;
      for (int64_t b = 0; b < kw; ++b) {
        cd_v wv = cd_loadu(ws + (a * kw + b) * CD_VW);
        const float *src = row + b * dw * CD_VW;
#pragma GCC unroll 8
        for (int q = 0; q < DWCB_R; ++q)
          acc[q] = cd_fma(wv, cd_loadu(src + off[q]), acc[q]);
      }
    }
#pragma GCC unroll 8
    for (int q = 0; q < DWCB_R; ++q)
      acc[q] = cd_act(acc[q], act);
    int64_t n = np - p < DWCB_R ? np - p : DWCB_R;
    if (sum) { /* the tile's own pixels (the last tile repeats its last) */
      if (n == DWCB_R) {
        cd_v s01 = cd_add(acc[0], acc[1]), s23 = cd_add(acc[2], acc[3]);
        cd_v s45 = cd_add(acc[4], acc[5]), s67 = cd_add(acc[6], acc[7]);
        total = cd_add(total, cd_add(cd_add(s01, s23), cd_add(s45, s67)));
      } else {
        for (int q = 0; q < n; ++q)
          total = cd_add(total, acc[q]);
      }
    }
#if CD_VW == DWCB_R
    /* 8 pixels x 8 channels: transposed in registers to 8 channels' runs
     * of 8 pixels, stored straight into the NCHW planes (no round trip
     * through ys) */
    if (yc) {
      cd_transpose(acc);
      cd_mask_t m = cd_mask(0, (int)n);
#pragma GCC unroll 8
      for (int ch = 0; ch < CD_VW; ++ch) {
        if (ch >= nc)
          break;
        if (n == DWCB_R)
          cd_storeu(yc + ch * plane + p, acc[ch]);
        else
          cd_maskstore(yc + ch * plane + p, m, acc[ch]);
      }
      continue;
    }
#endif
    float *dst = ys + p * CD_VW;
    if (p + DWCB_R <= np) {
#pragma GCC unroll 8
      for (int q = 0; q < DWCB_R; ++q)
        cd_storeu(dst + q * CD_VW, acc[q]);
    } else {
#pragma GCC unroll 8
      for (int q = 0; q < DWCB_R; ++q)
        if (p + q < np)
          cd_storeu(dst + q * CD_VW, acc[q]);
    }
  }
  if (sum)
    *sum = total;
}

/* Pixels [p0, p1) of ys (ys[0] is pixel p0) back to the NCHW planes yc. */
static inline void dwcb_unpack(const float *ys, float *yc, int64_t nc,
                               int64_t np, int64_t p0, int64_t p1) {
  int64_t p = p0;
  for (; p + CD_VW <= p1; p += CD_VW) {
    cd_v r[CD_VW];
#pragma GCC unroll 16
    for (int k = 0; k < CD_VW; ++k)
      r[k] = cd_loadu(ys + (p - p0 + k) * CD_VW);
    cd_transpose(r);
#pragma GCC unroll 16
    for (int ch = 0; ch < CD_VW; ++ch)
      if (ch < nc)
        cd_storeu(yc + ch * np + p, r[ch]);
  }
  if (p < p1) { /* the last p1 - p < CD_VW pixels: masked stores */
    int64_t rem = p1 - p;
    cd_v r[CD_VW];
#pragma GCC unroll 16
    for (int k = 0; k < CD_VW; ++k)
      r[k] = k < rem ? cd_loadu(ys + (p - p0 + k) * CD_VW) : cd_zero();
    cd_transpose(r);
    cd_mask_t mk = cd_mask(0, rem);
#pragma GCC unroll 16
    for (int ch = 0; ch < CD_VW; ++ch)
      if (ch < nc)
        cd_maskstore(yc + ch * np + p, mk, r[ch]);
  }
}

void DWCB_FN(const float *x, float *y, const float *w, const float *bias,
             int64_t c, int64_t h, int64_t wd, int64_t oh, int64_t ow,
             int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t pt,
             int64_t pl, int64_t dh, int64_t dw, int act, int64_t c0,
             int64_t r0, int64_t r1, float *scratch, float *mean) {
  int64_t nc = c - c0 < CD_VW ? c - c0 : CD_VW;
  int64_t span = (kh - 1) * dh + 1; /* padded rows one output row reads */
  int64_t wp = (ow - 1) * sw + (kw - 1) * dw + 1;
  int64_t band = dwcb_band_rows(oh, wp, span, sh, CD_VW);
  float *ws = scratch, *xs = ws + kh * kw * CD_VW;
  float *ys = xs + ((band - 1) * sh + span) * wp * CD_VW;
  /* Filter taps and bias as CD_VW-channel vectors (missing channels 0). */
  float bv[CD_VW];
  for (int64_t ch = 0; ch < CD_VW; ++ch) {
    for (int64_t t = 0; t < kh * kw; ++t)
      ws[t * CD_VW + ch] = ch < nc ? w[(c0 + ch) * kh * kw + t] : 0.0f;
    bv[ch] = ch < nc && bias ? bias[c0 + ch] : 0.0f;
  }
  cd_v b0 = cd_loadu(bv), sum = cd_zero();
  cd_v *sump = mean ? &sum : NULL;
  /* Input offsets of a full band's pixels (a shorter last band uses its
   * head, with the tail offsets set again). */
  int64_t *tab = (int64_t *)(ys + band * ow * CD_VW);
  for (int64_t i = 0, p = 0; i < band; ++i)
    for (int64_t j = 0; j < ow; ++j)
      tab[p++] = (i * sh * wp + j * sw) * CD_VW;
  for (int64_t i0 = r0; i0 < r1; i0 += band) {
    int64_t i1 = i0 + band < r1 ? i0 + band : r1, np = (i1 - i0) * ow;
    for (int q = 0; q < DWCB_R - 1; ++q)
      tab[np + q] = tab[np - 1];
    dwcb_pack_rows(x, xs, nc, h, wd, wp, pt, pl, c0, i0 * sh,
                   (i1 - 1) * sh + span);
#if CD_VW == DWCB_R
    dwcb_rows(xs, ws, ys, tab, np, b0, wp, kh, kw, dh, dw, act,
              y + c0 * oh * ow + i0 * ow, nc, oh * ow, sump);
#else
    dwcb_rows(xs, ws, ys, tab, np, b0, wp, kh, kw, dh, dw, act, NULL, nc,
              oh * ow, sump);
    dwcb_unpack(ys, y + c0 * oh * ow, nc, oh * ow, i0 * ow, i1 * ow);
#endif
  }
  if (mean) {
    float s[CD_VW];
    cd_storeu(s, sum);
    for (int64_t ch = 0; ch < nc; ++ch)
      mean[ch] = s[ch] / (float)(oh * ow);
  }
}
