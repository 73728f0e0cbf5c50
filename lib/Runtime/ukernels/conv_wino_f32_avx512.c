/*===- conv_wino_f32_avx512.c - Winograd F(2x2, 3x3) work items, AVX-512 ===*
 *
 * See conv_wino_f32.h. Per work item (a group of tile rows, a part of F):
 *
 * 1. Input transform, channel by channel. The group's input rows of the
 *    channel are split into even and odd columns (E[u] = x[2u - pl],
 *    O[u] = x[2u + 1 - pl], zero outside the image), so the four columns
 *    of tile tx are E[tx], O[tx], E[tx + 1], O[tx + 1]: unit-stride loads
 *    along the tiles. A panel's 16 lanes are 16 consecutive tiles, which
 *    may span several tile rows (7 x 7 outputs: 4 tiles a row); each
 *    row's run of lanes is a masked load. B^T d B is 32 vector adds; its
 *    16 results go to the 16 GEMMs' B panels.
 * 2. The 16 GEMMs on the fp32 tile kernel (12 channels x 32 tiles), U[xi]
 *    read in place.
 * 3. Output transform per output channel and tile row, vectorized along
 *    the row's tiles: A^T m A, the two output columns of each tile
 *    interleaved into output rows, bias + residual, activation, masked
 *    stores.
 *
 *===----------------------------------------------------------------------===*/

#include "conv_wino_f32.h"
#include "gemm_f32.h"
#include "vmath_avx512.h"
#include "../runtime_internal.h"

#include <immintrin.h>
#include <string.h>

/* A panel's run of lanes [lane, lane + cnt) on one tile row (local row
 * `row` of the group) from tile column tx. */
typedef struct {
  int32_t row, tx, lane, cnt;
} seg;

static inline __mmask16 lanes(int64_t lo, int64_t hi) {
  lo = lo < 0 ? 0 : lo;
  hi = hi > 16 ? 16 : hi;
  if (hi <= lo)
    return 0;
  return (__mmask16)((((uint32_t)1 << hi) - 1) & ~(((uint32_t)1 << lo) - 1));
}

/* Even and odd columns of row `src` (w columns; column q at src[q]) from
 * column -pl: E[u] = src[2u - pl], O[u] = src[2u + 1 - pl], u < n. */
static void split_row(const float *src, int64_t w, int64_t pl, int64_t n,
                      float *e, float *o) {
  const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20,
                                       22, 24, 26, 28, 30);
  const __m512i od = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21,
                                       23, 25, 27, 29, 31);
  for (int64_t u0 = 0; u0 < n; u0 += 16) {
    int64_t s = 2 * u0 - pl; /* the first column of this step */
    __m512 lo = _mm512_maskz_loadu_ps(lanes(-s, w - s), src + s);
    __m512 hi = _mm512_maskz_loadu_ps(lanes(-s - 16, w - s - 16), src + s + 16);
    __mmask16 m = lanes(0, n - u0);
    _mm512_mask_storeu_ps(e + u0, m, _mm512_permutex2var_ps(lo, ev, hi));
    _mm512_mask_storeu_ps(o + u0, m, _mm512_permutex2var_ps(lo, od, hi));
  }
}

void kiln_conv_wino_avx512(void *vjob, int64_t begin, int64_t end) {
  kiln_wino_job *j = vjob;
  const int64_t c = j->c, f = j->f, tw = j->tw, th = j->th;
  const int64_t rows_total = j->n * th;
  const int64_t fblocks = (f + KILN_SGEMM_MR_AVX512 - 1) / KILN_SGEMM_MR_AVX512;
  const __m512i il_lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5,
                                          21, 6, 22, 7, 23);
  const __m512i il_hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28,
                                          13, 29, 14, 30, 15, 31);
  for (int64_t item = begin; item < end; ++item) {
    /* part-major: under the static split a thread takes one part of F
     * over several groups, and reads only that part of U */
    int64_t g = item % j->groups, part = item / j->groups;
    int64_t r0 = rows_total * g / j->groups;
    int64_t r1 = rows_total * (g + 1) / j->groups;
    int64_t fa = fblocks * part / j->fparts * KILN_SGEMM_MR_AVX512;
    int64_t fb = fblocks * (part + 1) / j->fparts * KILN_SGEMM_MR_AVX512;
    fb = fb < f ? fb : f;
    if (r1 <= r0 || fb <= fa)
      continue;
    const int64_t nrows = r1 - r0, cols = nrows * tw;
    const int64_t np = (cols + 15) / 16, ldm = np * 16;
    /* E/O rows: 8 per tile row (4 input rows, even and odd), eos floats
     * apart, 16 floats of slack in front (a run's masked loads start up to
     * 15 lanes before its first tile) */
    const int64_t eos = tw + 1;
    /* V: panel p of xi at vp + xi * vx + p * vpan; both strides a line
     * past a multiple of 4 KiB apart at most, so that the 16 x np panels
     * a channel's transform stores to do not all fall into one L1 set
     * (they did with c * 64-byte panels: 4K aliasing, every store a miss) */
    const int64_t vpan = c * 16 + 16, vx = np * vpan + 16;
    float *vp = kiln_scratch(KILN_SCRATCH_WINO_V,
                             (size_t)(16 * vx) * sizeof(float));
    /* M[xi]'s rows: a block of 12 output channels, or with `whole` all
     * of the item's (conv_wino_f32.h) */
    const int64_t span = j->whole ? fb - fa : KILN_SGEMM_MR_AVX512;
    const int64_t xstride = span * ldm + 16;
    float *mm = kiln_scratch(KILN_SCRATCH_WINO_M,
                             (size_t)(16 * xstride) * sizeof(float));
    size_t eo_floats = (size_t)(16 + nrows * 8 * eos + 16);
    size_t seg_max = (size_t)(np * 17);
    char *eb = kiln_scratch(KILN_SCRATCH_WINO_EO,
                            eo_floats * sizeof(float) + seg_max * sizeof(seg) +
                                (size_t)(np + 1) * sizeof(int32_t));
    if (!vp || !mm || !eb) {
      j->failed = 1;
      return;
    }
    float *eo = (float *)eb + 16;
    seg *segs = (seg *)(eb + eo_floats * sizeof(float));
    int32_t *first = (int32_t *)(segs + seg_max); /* panel p: [first[p], first[p + 1]) */
    {
      int32_t ns = 0;
      for (int64_t p = 0; p < np; ++p) {
        first[p] = ns;
        for (int64_t t = p * 16; t < cols && t < p * 16 + 16;) {
          int64_t rl = t / tw, tx = t % tw;
          int64_t cnt = tw - tx;
          if (cnt > p * 16 + 16 - t)
            cnt = p * 16 + 16 - t;
          segs[ns++] = (seg){(int32_t)rl, (int32_t)tx, (int32_t)(t - p * 16),
                             (int32_t)cnt};
          t += cnt;
        }
      }
      first[np] = ns;
    }

    /* 1. input transform */
    for (int64_t ci = 0; ci < c; ++ci) {
      /* the next channel's input rows of the group, from L3 or memory:
       * short runs, which the hardware prefetcher does not pick up */
      if (ci + 1 < c)
        for (int64_t rl = 0; rl < nrows; ++rl) {
          int64_t r = r0 + rl, img = r / th, ty = r % th;
          const float *plane = j->x + img * j->xs0 + (ci + 1) * j->xs1;
          for (int64_t i = rl == 0 ? 0 : 2; i < 4; ++i) {
            int64_t yy = 2 * ty - j->pt + i;
            if (yy < 0 || yy >= j->h)
              continue;
            const char *row = (const char *)(plane + yy * j->xs2);
            for (int64_t b = 0; b < j->w * (int64_t)sizeof(float); b += 64)
              _mm_prefetch(row + b, _MM_HINT_T0);
          }
        }
      for (int64_t rl = 0; rl < nrows; ++rl) {
        int64_t r = r0 + rl, img = r / th, ty = r % th;
        const float *plane = j->x + img * j->xs0 + ci * j->xs1;
        for (int64_t i = 0; i < 4; ++i) {
          float *e = eo + (rl * 4 + i) * 2 * eos, *o = e + eos;
          int64_t yy = 2 * ty - j->pt + i;
          if (yy < 0 || yy >= j->h) {
            memset(e, 0, (size_t)(2 * eos) * sizeof(float));
            continue;
          }
          split_row(plane + yy * j->xs2, j->w, j->pl, eos, e, o);
        }
      }
      for (int64_t p = 0; p < np; ++p) {
        __m512 d[4][4];
        for (int i = 0; i < 4; ++i)
          for (int q = 0; q < 4; ++q)
            d[i][q] = _mm512_setzero_ps();
        for (int32_t s = first[p]; s < first[p + 1]; ++s) {
          const seg sg = segs[s];
          __mmask16 m = lanes(sg.lane, sg.lane + sg.cnt);
          const float *e0 = eo + sg.row * 8 * eos + sg.tx - sg.lane;
          for (int i = 0; i < 4; ++i) {
            const float *e = e0 + i * 2 * eos, *o = e + eos;
            d[i][0] = _mm512_mask_loadu_ps(d[i][0], m, e);
            d[i][1] = _mm512_mask_loadu_ps(d[i][1], m, o);
            d[i][2] = _mm512_mask_loadu_ps(d[i][2], m, e + 1);
            d[i][3] = _mm512_mask_loadu_ps(d[i][3], m, o + 1);
          }
        }
        /* B^T d B, B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1] */
        __m512 t[4][4];
        for (int i = 0; i < 4; ++i) {
          t[i][0] = _mm512_sub_ps(d[i][0], d[i][2]);
          t[i][1] = _mm512_add_ps(d[i][1], d[i][2]);
          t[i][2] = _mm512_sub_ps(d[i][2], d[i][1]);
          t[i][3] = _mm512_sub_ps(d[i][1], d[i][3]);
        }
        float *dst = vp + p * vpan + ci * 16;
        const int64_t xstep = vx;
        for (int q = 0; q < 4; ++q) {
          _mm512_storeu_ps(dst + (0 * 4 + q) * xstep, _mm512_sub_ps(t[0][q], t[2][q]));
          _mm512_storeu_ps(dst + (1 * 4 + q) * xstep, _mm512_add_ps(t[1][q], t[2][q]));
          _mm512_storeu_ps(dst + (2 * 4 + q) * xstep, _mm512_sub_ps(t[2][q], t[1][q]));
          _mm512_storeu_ps(dst + (3 * 4 + q) * xstep, _mm512_sub_ps(t[1][q], t[3][q]));
        }
      }
    }

    /* 2. per span of output channels (a block of 12, or all of the
     * item's): M[xi] = U[xi] V[xi] for its rows, 12 at a time (U's rows
     * stay in L1 while V[xi]'s panels stream from L2), then
     * 3. the output transform of those channels, A^T = [1 1 1 0; 0 1 -1 -1],
     * while their M is in cache */
    const kiln_gemm_side none = {NULL, NULL, 0};
    for (int64_t f0 = fa; f0 < fb; f0 += span) {
      const int64_t fe = f0 + span < fb ? f0 + span : fb;
      for (int64_t xi = 0; xi < 16; ++xi)
      for (int64_t fk = f0; fk < fe; fk += KILN_SGEMM_MR_AVX512) {
        int64_t mr = fb - fk < KILN_SGEMM_MR_AVX512 ? fb - fk : KILN_SGEMM_MR_AVX512;
        int64_t next = fb - fk - mr < KILN_SGEMM_MR_AVX512 ? fb - fk - mr
                                                           : KILN_SGEMM_MR_AVX512;
        const float *U = j->u + (xi * f + fk) * c;
        /* the next block's rows of U[xi], which come from memory once per
         * group (U is 16/9 of the filter's bytes): requested a block ahead,
         * so they arrive while this block's tiles run (ResNet-18's
         * 256-channel layers ran at half their cached speed without) */
        for (int64_t b = 0; b < next * c * (int64_t)sizeof(float); b += 64)
          _mm_prefetch((const char *)(U + mr * c) + b, _MM_HINT_T0);
        const float *V = vp + xi * vx;
        float *M = mm + xi * xstride + (fk - f0) * ldm;
        for (int64_t q = 0; q < np; q += 2) {
          const float *b0 = V + q * vpan;
          const float *b1 = q + 1 < np ? b0 + vpan : b0;
          int64_t nc = q + 1 < np ? 32 : 16;
          /* U's block of rows is packed k-major (lda 0) */
          kiln_sgemm_tile_avx512(mr, nc, c, U, 0, b0, b1, M + q * 16, ldm, 0,
                                 NULL, &none);
        }
      }
      for (int64_t fi = f0; fi < fe; ++fi) {
        __m512 bv = _mm512_set1_ps(j->bias ? j->bias[fi] : 0.0f);
        const float *mf = mm + (fi - f0) * ldm;
        for (int64_t rl = 0; rl < nrows; ++rl) {
          int64_t r = r0 + rl, img = r / th, ty = r % th;
          float *yp = j->y + img * j->ys0 + (fi * j->oh + 2 * ty) * j->ow;
          const float *rp =
              j->res ? j->res + img * j->rs0 + (fi * j->oh + 2 * ty) * j->ow : NULL;
          for (int64_t tx0 = 0; tx0 < tw; tx0 += 16) {
            __mmask16 m = lanes(0, tw - tx0);
            const float *src = mf + rl * tw + tx0;
            __m512 s[4][2];
            for (int i = 0; i < 4; ++i) {
              __m512 m0 = _mm512_maskz_loadu_ps(m, src + (i * 4 + 0) * xstride);
              __m512 m1 = _mm512_maskz_loadu_ps(m, src + (i * 4 + 1) * xstride);
              __m512 m2 = _mm512_maskz_loadu_ps(m, src + (i * 4 + 2) * xstride);
              __m512 m3 = _mm512_maskz_loadu_ps(m, src + (i * 4 + 3) * xstride);
              s[i][0] = _mm512_add_ps(_mm512_add_ps(m0, m1), m2);
              s[i][1] = _mm512_sub_ps(_mm512_sub_ps(m1, m2), m3);
            }
            int64_t ox = 2 * tx0, valid = j->ow - ox;
            __mmask16 mlo = lanes(0, valid), mhi = lanes(0, valid - 16);
            for (int a = 0; a < 2 && 2 * ty + a < j->oh; ++a) {
              __m512 o0, o1;
              if (a == 0) {
                o0 = _mm512_add_ps(_mm512_add_ps(s[0][0], s[1][0]), s[2][0]);
                o1 = _mm512_add_ps(_mm512_add_ps(s[0][1], s[1][1]), s[2][1]);
              } else {
                o0 = _mm512_sub_ps(_mm512_sub_ps(s[1][0], s[2][0]), s[3][0]);
                o1 = _mm512_sub_ps(_mm512_sub_ps(s[1][1], s[2][1]), s[3][1]);
              }
              __m512 lo = _mm512_add_ps(_mm512_permutex2var_ps(o0, il_lo, o1), bv);
              __m512 hi = _mm512_add_ps(_mm512_permutex2var_ps(o0, il_hi, o1), bv);
              float *yr = yp + a * j->ow + ox;
              if (rp) {
                const float *rr = rp + a * j->ow + ox;
                lo = _mm512_add_ps(lo, _mm512_maskz_loadu_ps(mlo, rr));
                hi = _mm512_add_ps(hi, _mm512_maskz_loadu_ps(mhi, rr + 16));
              }
              lo = act16_inline(lo, j->act);
              hi = act16_inline(hi, j->act);
              _mm512_mask_storeu_ps(yr, mlo, lo);
              _mm512_mask_storeu_ps(yr + 16, mhi, hi);
            }
          }
        }
      }
    }
  }
}
