/*===- conv_pw_f32_avx2.c - 1 x 1 convolutions on NCHW planes, AVX2 -------===*
 *
 * See conv_lanes_f32.h. Y [F, P] = W [F, C] x X [C, P] per image, with
 * the filter read in place (four row pointers: one broadcast per output
 * channel and input channel) and the input planes as the rows of B (24
 * pixels, three vectors, per row). A register tile is 4 output channels x
 * 24 pixels: 12 accumulators, three loads and four broadcasts per input
 * channel, and its rows are NCHW rows of the output, so the epilogue (bias
 * per row, residual, activation) needs no transposes. A plane's last,
 * partial tile reads its input with masked loads.
 *
 * Replaces the GEMM tile with a strided B on this path (6 x 16 tiles, the
 * GEMM's generic epilogue): six row pointers, a loop-carried test of lda and the
 * stores' run-time activation switch left that loop at 33-44 GFLOP/s on
 * MobileNetV3's 1 x 1 layers with 16-48 input channels.
 *
 *===----------------------------------------------------------------------===*/

#include "conv_lanes_f32.h"
#include "vmath_avx2.h"

#include <immintrin.h>

#define PW_MR 4
#define PW_NV 3

enum { PW_ACT_NONE, PW_ACT_RELU, PW_ACT_HARDSWISH, PW_ACT_OTHER };

static inline __attribute__((always_inline)) __m256 pw_act(__m256 v,
                                                           const int kind,
                                                           int act) {
  if (kind == PW_ACT_RELU)
    return _mm256_max_ps(v, _mm256_setzero_ps());
  if (kind == PW_ACT_HARDSWISH)
    return hardswish8(v);
  if (kind == PW_ACT_OTHER)
    return act8(v, act);
  return v;
}

typedef struct {
  const float *b;    /* the tile's first pixel in channel 0 of the input */
  int64_t ldb;       /* floats between input channels (the plane) */
  const float *w;    /* the tile's first output channel's filter row */
  int64_t k;         /* input channels (the filter's row length) */
  int nrows;         /* output channels stored (1 .. 4) */
  __m256i mask;      /* lanes of the last vector (masked tiles) */
  float *y;          /* the tile's first output */
  const float *bias; /* at the tile's first channel, or NULL */
  const float *res;  /* laid out as y, or NULL */
  int act;
} pw_args;

/* nv vectors of pixels per row; `masked`: the last one is partial. */
static inline __attribute__((always_inline)) void
pw_tile(const int nv, const int masked, const int kind, const pw_args *a) {
  __m256 acc[PW_MR][PW_NV];
#pragma GCC unroll 4
  for (int i = 0; i < PW_MR; ++i)
#pragma GCC unroll 3
    for (int v = 0; v < PW_NV; ++v)
      acc[i][v] = _mm256_setzero_ps();
  /* rows past nrows repeat row 0: computed, never stored */
  const float *w0 = a->w;
  const float *w1 = a->nrows > 1 ? w0 + a->k : w0;
  const float *w2 = a->nrows > 2 ? w0 + 2 * a->k : w0;
  const float *w3 = a->nrows > 3 ? w0 + 3 * a->k : w0;
  const float *br = a->b;
  const int64_t ldb = a->ldb;
#pragma GCC unroll 2
  for (int64_t kk = 0; kk < a->k; ++kk, br += ldb) {
    __m256 x[PW_NV];
#pragma GCC unroll 3
    for (int v = 0; v < nv; ++v)
      x[v] = masked && v == nv - 1 ? _mm256_maskload_ps(br + 8 * v, a->mask)
                                   : _mm256_loadu_ps(br + 8 * v);
    const float *wr[PW_MR] = {w0, w1, w2, w3};
#pragma GCC unroll 4
    for (int i = 0; i < PW_MR; ++i) {
      __m256 f = _mm256_broadcast_ss(wr[i] + kk);
#pragma GCC unroll 3
      for (int v = 0; v < nv; ++v)
        acc[i][v] = _mm256_fmadd_ps(f, x[v], acc[i][v]);
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < PW_MR; ++i) {
    if (i >= a->nrows)
      break;
    float *yr = a->y + i * ldb;
    const float *rr = a->res ? a->res + i * ldb : NULL;
    __m256 bv = a->bias ? _mm256_set1_ps(a->bias[i]) : _mm256_setzero_ps();
#pragma GCC unroll 3
    for (int v = 0; v < nv; ++v) {
      const int part = masked && v == nv - 1;
      __m256 s = _mm256_add_ps(acc[i][v], bv);
      if (rr)
        s = _mm256_add_ps(s, part ? _mm256_maskload_ps(rr + 8 * v, a->mask)
                                  : _mm256_loadu_ps(rr + 8 * v));
      s = pw_act(s, kind, a->act);
      if (part)
        _mm256_maskstore_ps(yr + 8 * v, a->mask, s);
      else
        _mm256_storeu_ps(yr + 8 * v, s);
    }
  }
}

typedef void (*pw_tile_fn)(const pw_args *);
#define PW_FN(NV, M, K)                                                        \
  static void pw_tile_##NV##_##M##_##K(const pw_args *a) { pw_tile(NV, M, K, a); }
#define PW_FNS(K)                                                              \
  PW_FN(1, 0, K) PW_FN(1, 1, K) PW_FN(2, 0, K) PW_FN(2, 1, K) PW_FN(3, 0, K)   \
  PW_FN(3, 1, K)
#define PW_ROW(K)                                                              \
  {{pw_tile_1_0_##K, pw_tile_1_1_##K},                                         \
   {pw_tile_2_0_##K, pw_tile_2_1_##K},                                         \
   {pw_tile_3_0_##K, pw_tile_3_1_##K}},
PW_FNS(0)
PW_FNS(1)
PW_FNS(2)
PW_FNS(3)
/* [activation kind][nv - 1][masked] */
static const pw_tile_fn pw_tiles[4][PW_NV][2] = {PW_ROW(0) PW_ROW(1) PW_ROW(2)
                                                     PW_ROW(3)};

void kiln_conv_pw_avx2(void *vjob, int64_t begin, int64_t end) {
  const kiln_conv_pw_job *j = vjob;
  const kiln_conv_lanes_args *la = j->a;
  int kind = la->act == KILN_ACT_NONE        ? PW_ACT_NONE
             : la->act == KILN_ACT_RELU      ? PW_ACT_RELU
             : la->act == KILN_ACT_HARDSWISH ? PW_ACT_HARDSWISH
                                             : PW_ACT_OTHER;
  int64_t p = j->p;
  int64_t fblocks = (la->f + PW_MR - 1) / PW_MR;
  int64_t per_part = (fblocks + j->fparts - 1) / j->fparts;
  for (int64_t t = begin; t < end; ++t) {
    /* (image, channel part, run): a thread's contiguous tasks cover whole
     * parts, not the runs of one part (a 7 x 7 plane's runs are 48 and 1
     * pixels) */
    int64_t img = t / (j->runs * j->fparts), q0 = t % j->runs * j->run;
    int64_t part = t / j->runs % j->fparts;
    int64_t f_lo = part * per_part * PW_MR;
    int64_t f_hi = f_lo + per_part * PW_MR < la->f ? f_lo + per_part * PW_MR : la->f;
    int64_t q1 = q0 + j->run < p ? q0 + j->run : p;
    const float *x = la->x + img * la->xs[0];
    float *y = la->y + img * la->y_img;
    const float *res = la->res ? la->res + img * la->res_img : NULL;
    /* channel blocks outer: the run's input (C x run floats) stays in L1
     * while each block's four filter rows stream past it */
    for (int64_t f0 = f_lo; f0 < f_hi; f0 += PW_MR) {
      pw_args a;
      a.ldb = p;
      a.w = la->wt + img * la->wt_img + f0 * la->c;
      a.k = la->c;
      a.nrows = (int)(la->f - f0 < PW_MR ? la->f - f0 : PW_MR);
      a.bias = la->bias ? la->bias + f0 : NULL;
      a.act = la->act;
      for (int64_t q = q0; q < q1; q += 8 * PW_NV) {
        int64_t nc = q1 - q < 8 * PW_NV ? q1 - q : 8 * PW_NV;
        int nv = (int)((nc + 7) / 8), last = (int)(nc - 8 * (nv - 1));
        a.b = x + q;
        a.y = y + f0 * p + q;
        a.res = res ? res + f0 * p + q : NULL;
        a.mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(last),
                                    _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        pw_tiles[kind][nv - 1][last < 8](&a);
      }
    }
  }
}
