/*===- conv_pw_f32_impl.h - 1 x 1 convolutions on NCHW planes, one body ---===*
 *
 * Included by conv_pw_f32_<isa>.c, each compiled for its ISA, after it
 * defines the vector type and operations below and PW_MR (output channels
 * per tile), PW_NV (vectors of PW_LANES pixels per tile) and PW_TASKS (the
 * task function's name). See conv_lanes_f32.h. Y [F, P] = W [F, C] x
 * X [C, P] per image, with the filter read in place (PW_MR row pointers:
 * one broadcast per output channel and input channel) and the input planes
 * as the rows of B (PW_NV vectors per row). A register tile is PW_MR output
 * channels x PW_NV vectors of pixels, and its rows are NCHW rows of the
 * output, so the epilogue (bias per row, residual, activation) needs no
 * transposes. A plane's last, partial tile reads its input with masked
 * loads.
 *
 *   PW_VEC, PW_MASK_T             vector and mask types
 *   PW_MASK(last)                 mask of the first `last` lanes
 *   PW_ZERO(), PW_SET1(x)         constants
 *   PW_LOAD(p), PW_LOADM(p, m)    (masked: zeros elsewhere, no fault)
 *   PW_STORE(p, v), PW_STOREM(p, m, v)
 *   PW_FMA(a, b, c), PW_ADD(a, b), PW_RELU(v), PW_HARDSWISH(v), PW_SILU(v),
 *   PW_RELU6(v)
 *   PW_ACT(v, act)                any activation (out of line)
 *
 *===----------------------------------------------------------------------===*/

#include "conv_lanes_f32.h"

enum { PW_ACT_NONE, PW_ACT_RELU, PW_ACT_HARDSWISH, PW_ACT_SILU, PW_ACT_RELU6, PW_ACT_OTHER };

static inline __attribute__((always_inline)) PW_VEC pw_act(PW_VEC v,
                                                           const int kind,
                                                           int act) {
  if (kind == PW_ACT_RELU)
    return PW_RELU(v);
  if (kind == PW_ACT_HARDSWISH)
    return PW_HARDSWISH(v);
  if (kind == PW_ACT_SILU)
    return PW_SILU(v);
  if (kind == PW_ACT_RELU6)
    return PW_RELU6(v);
  if (kind == PW_ACT_OTHER)
    return PW_ACT(v, act);
  return v;
}

typedef struct {
  const float *b;    /* the tile's first pixel in channel 0 of the input */
  int64_t ldb;       /* floats between input channels (the plane) */
  const float *w;    /* the tile's first output channel's filter row */
  int64_t k;         /* input channels summed */
  int64_t ldw;       /* floats between the filter's rows (k but in k chunks) */
  int nrows;         /* output channels stored (1 .. PW_MR) */
  PW_MASK_T mask;    /* lanes of the last vector (masked tiles) */
  float *y;          /* the tile's first output */
  const float *bias; /* at the tile's first channel, or NULL */
  const float *res;  /* laid out as y, or NULL */
  int64_t ldy;       /* floats between output (and residual) rows */
  int act;
  int pfy;           /* fetch the output's lines for writing (see pw_tile) */
  const float *pfw;  /* fetched at PW_MR floats per tap: the next channel
                        block's filter rows (or this block's own) */
  const float *pfx;  /* fetched at a row per tap: a line of the next run's
                        input rows (or this tile's own) */
} pw_args;

/* nv vectors of pixels per row; `masked`: the last one is partial. */
static inline __attribute__((always_inline)) void
pw_tile(const int nv, const int masked, const int kind, const pw_args *a) {
  PW_VEC acc[PW_MR][PW_NV];
#pragma GCC unroll 8
  for (int i = 0; i < PW_MR; ++i)
#pragma GCC unroll 3
    for (int v = 0; v < PW_NV; ++v)
      acc[i][v] = PW_ZERO();
  /* rows past nrows repeat row 0: computed, never stored */
  const float *wr[PW_MR];
#pragma GCC unroll 8
  for (int i = 0; i < PW_MR; ++i)
    wr[i] = i < a->nrows ? a->w + i * a->ldw : a->w;
  const float *br = a->b;
  const int64_t ldb = a->ldb;
  /* The tile's residual lines, and its output lines when the output is
   * larger than half an L2 (an output written over its residual has them
   * fetched as the residual's), are fetched while the tile computes: a
   * residual block's tensors (ResNet-50's 256 x 56 x 56, 3.2 MB) come from
   * L3, and the epilogue's loads and stores then waited on each line (its
   * 64 -> 256 layers with a residual 0.86 -> 0.67 ms at 1 thread). On
   * small outputs, fetching the output's lines ran EfficientNet-B0's
   * 14 x 14 expansions 5-8% slower. */
#pragma GCC unroll 8
  for (int i = 0; i < PW_MR; ++i) {
    if (i >= a->nrows)
      break;
#pragma GCC unroll 3
    for (int v = 0; v < nv; ++v) {
      if (a->res)
        __builtin_prefetch(a->res + i * a->ldy + PW_LANES * v, 0, 3);
      if (a->pfy)
        __builtin_prefetch(a->y + i * a->ldy + PW_LANES * v, 1, 3);
    }
  }
  const float *pfw = a->pfw, *pfx = a->pfx;
#pragma GCC unroll 2
  for (int64_t kk = 0; kk < a->k; ++kk, br += ldb) {
    __builtin_prefetch(pfw + kk * PW_MR, 0, 3);
    __builtin_prefetch(pfx + kk * ldb, 0, 2);
    PW_VEC x[PW_NV];
#pragma GCC unroll 3
    for (int v = 0; v < nv; ++v)
      x[v] = masked && v == nv - 1 ? PW_LOADM(br + PW_LANES * v, a->mask)
                                   : PW_LOAD(br + PW_LANES * v);
#pragma GCC unroll 8
    for (int i = 0; i < PW_MR; ++i) {
      PW_VEC f = PW_SET1(wr[i][kk]);
#pragma GCC unroll 3
      for (int v = 0; v < nv; ++v)
        acc[i][v] = PW_FMA(f, x[v], acc[i][v]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < PW_MR; ++i) {
    if (i >= a->nrows)
      break;
    float *yr = a->y + i * a->ldy;
    const float *rr = a->res ? a->res + i * a->ldy : NULL;
    PW_VEC bv = a->bias ? PW_SET1(a->bias[i]) : PW_ZERO();
#pragma GCC unroll 3
    for (int v = 0; v < nv; ++v) {
      const int part = masked && v == nv - 1;
      PW_VEC s = PW_ADD(acc[i][v], bv);
      if (rr)
        s = PW_ADD(s, part ? PW_LOADM(rr + PW_LANES * v, a->mask)
                           : PW_LOAD(rr + PW_LANES * v));
      s = pw_act(s, kind, a->act);
      if (part)
        PW_STOREM(yr + PW_LANES * v, a->mask, s);
      else
        PW_STORE(yr + PW_LANES * v, s);
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
PW_FNS(4)
PW_FNS(5)
/* [activation kind][nv - 1][masked] */
static const pw_tile_fn pw_tiles[6][3][2] = {PW_ROW(0) PW_ROW(1) PW_ROW(2)
                                                 PW_ROW(3) PW_ROW(4) PW_ROW(5)};

static int pw_kind(int act) {
  return act == KILN_ACT_NONE        ? PW_ACT_NONE
         : act == KILN_ACT_RELU      ? PW_ACT_RELU
         : act == KILN_ACT_HARDSWISH ? PW_ACT_HARDSWISH
         : act == KILN_ACT_SILU      ? PW_ACT_SILU
         : act == KILN_ACT_RELU6     ? PW_ACT_RELU6
                                     : PW_ACT_OTHER;
}

/* Y [f, npx] = act(W [f, k] x X [k, npx] + bias [+ res]): channel blocks
 * of PW_MR outer, tiles of PW_NV vectors of pixels inner; the rows of X
 * ldx floats apart, those of Y (and res) ldy. */
static inline __attribute__((always_inline)) void
pw_block(int kind, const float *x, int64_t ldx, const float *w, int64_t k,
         int64_t ldw, const float *bias, int act, float *y, const float *res,
         int64_t ldy, int64_t f, int64_t npx, int pfy, const float *nx,
         int64_t nxl) {
  int64_t ti = 0;
  for (int64_t f0 = 0; f0 < f; f0 += PW_MR) {
    pw_args a;
    a.ldb = ldx;
    a.ldy = ldy;
    a.w = w + f0 * ldw;
    a.k = k;
    a.ldw = ldw;
    a.nrows = (int)(f - f0 < PW_MR ? f - f0 : PW_MR);
    a.bias = bias ? bias + f0 : NULL;
    a.act = act;
    a.pfy = pfy;
    /* The block's first tile fetches the next block's filter rows (PW_MR
     * x k floats, contiguous) into L1; the task's first tiles fetch a line
     * of each input row of the thread's next run of pixels into L2 (nxl
     * lines per row, one tile per line). Other tiles fetch what they read
     * anyway, which keeps the k loop free of branches (a test per tap cost
     * 1.5%). The filter comes from memory once per run and the input from
     * L3 (ResNet-50's activations), and neither pattern (PW_MR rows
     * interleaved, C rows a plane apart) is one the hardware prefetchers
     * follow. */
    const float *nextw = f0 + PW_MR < f ? w + (f0 + PW_MR) * ldw : a.w;
    for (int64_t q = 0; q < npx; q += PW_LANES * PW_NV) {
      a.pfw = q == 0 ? nextw : a.w;
      a.pfx = nx && ti < nxl ? nx + 16 * ti : x + q;
      ++ti;
      int64_t nc = npx - q < PW_LANES * PW_NV ? npx - q : PW_LANES * PW_NV;
      int nv = (int)((nc + PW_LANES - 1) / PW_LANES);
      int last = (int)(nc - PW_LANES * (nv - 1));
      a.b = x + q;
      a.y = y + f0 * ldy + q;
      a.res = res ? res + f0 * ldy + q : NULL;
      a.mask = PW_MASK(last);
      pw_tiles[kind][nv - 1][last < PW_LANES](&a);
    }
  }
}

#ifdef PW_BLOCK
/* pw_block without a residual: the expansion half of the fused pointwise
 * + depthwise kernel (pwdw_f32.c), one band of rows of a few channels
 * into a buffer that stays in L2. */
void PW_BLOCK(const float *x, int64_t ldx, const float *w, int64_t k,
              const float *bias, int act, float *y, int64_t ldy, int64_t f,
              int64_t npx) {
  pw_block(pw_kind(act), x, ldx, w, k, k, bias, act, y, NULL, ldy, f, npx, 0, NULL, 0);
}
#endif

#ifdef PW_BLOCK_ACC
/* y = act(W x + bias + y): pw_block summing into its output (one tap of
 * a convolution by taps, conv_taps_f32.c), W's rows ldw floats apart (a
 * chunk of k input channels); the first tiles fetch nxl lines of each row
 * of the next call's input at nx (or NULL). */
void PW_BLOCK_ACC(const float *x, int64_t ldx, const float *w, int64_t k,
                  int64_t ldw, const float *bias, int act, float *y, int64_t ldy,
                  int64_t f, int64_t npx, const float *nx, int64_t nxl) {
  pw_block(pw_kind(act), x, ldx, w, k, ldw, bias, act, y, y, ldy, f, npx, 0, nx, nxl);
}
#endif

/* Task t's image and run of pixels [*q0, *q1) (tasks: PW_TASKS). */
static inline void pw_task_run(const kiln_conv_pw_job *j, int64_t t,
                               int64_t *img, int64_t *q0, int64_t *q1) {
  *img = t / (j->runs * j->fparts);
  *q0 = t % j->runs * j->run;
  *q1 = *q0 + j->run < j->p ? *q0 + j->run : j->p;
}

void PW_TASKS(void *vjob, int64_t begin, int64_t end) {
  const kiln_conv_pw_job *j = vjob;
  const kiln_conv_lanes_args *la = j->a;
  int kind = pw_kind(la->act);
  int64_t p = j->p;
  int64_t fblocks = (la->f + PW_MR - 1) / PW_MR;
  int64_t per_part = (fblocks + j->fparts - 1) / j->fparts;
  /* an image's output past half an L2, and not written over the residual */
  int pfy = la->f * p * (int64_t)sizeof(float) > (512 << 10) && la->res != la->y;
  for (int64_t t = begin; t < end; ++t) {
    /* (image, channel part, run): a thread's contiguous tasks cover whole
     * parts, not the runs of one part (a 7 x 7 plane's runs are 48 and 1
     * pixels) */
    int64_t img, q0, q1;
    pw_task_run(j, t, &img, &q0, &q1);
    int64_t part = t / j->runs % j->fparts;
    int64_t f_lo = part * per_part * PW_MR;
    int64_t f_hi = f_lo + per_part * PW_MR < la->f ? f_lo + per_part * PW_MR : la->f;
    const float *res = la->res ? la->res + img * la->res_img + f_lo * p + q0 : NULL;
    /* the thread's next run of input pixels (fetched by pw_block) */
    const float *nx = NULL;
    int64_t nxl = 0;
    if (t + 1 < end) {
      int64_t img2, q2, q3;
      pw_task_run(j, t + 1, &img2, &q2, &q3);
      if (img2 != img || q2 != q0) {
        nx = la->x + img2 * la->xs[0] + q2;
        nxl = (q3 - q2 + 15) / 16;
      }
    }
    /* channel blocks outer: the run's input (C x run floats) stays in L1
     * while each block's filter rows stream past it */
    pw_block(kind, la->x + img * la->xs[0] + q0, p,
             la->wt + img * la->wt_img + f_lo * la->c, la->c, la->c,
             la->bias ? la->bias + f_lo : NULL, la->act,
             la->y + img * la->y_img + f_lo * p + q0, res, p, f_hi - f_lo,
             q1 - q0, pfy, nx, nxl);
  }
}
