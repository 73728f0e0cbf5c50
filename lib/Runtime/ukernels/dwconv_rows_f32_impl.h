/*===- dwconv_rows_f32_impl.h - depthwise convolution along NCHW rows ----===*
 *
 * Included by pool_f32_avx512.c after the P_* lane macros of
 * pool_f32_impl.h (vectors of P_L columns, lane shifts, masks) and:
 *   DWR_FN           the function's name
 *   DWR_R, DWR_NB    output rows, and vectors of each, computed together
 *   P_FMA(a, b, c)   a * b + c
 *   P_ODD(a, b)      the odd lanes of a, then of b
 *   P_ACT(v, act)    the convolutions' activation
 *   P_HSUM(v)        the sum of v's lanes
 *   P_FIRST(v, n)    lanes [0, n) of v, zeros after
 *   P_LOADZ(p, m)    lanes m from p, zeros elsewhere (the others not read)
 *
 * A depthwise convolution with a square 3 x 3, 5 x 5 or 7 x 7 filter,
 * stride 1 or 2 (both dims) and no dilation, computed on the NCHW plane
 * as it is: each output vector holds P_L columns of one output row, and
 * each tap's input columns are a lane shift of the input row's vectors
 * (stride 2: of their even and odd lanes), one FMA with the tap's weight.
 * Columns outside the image are masked to zero and never read; rows
 * outside it are skipped. No transposes and no scratch: the
 * channel-blocked kernel (dwconv_cb_f32_impl.h) spends more time moving
 * each band into and out of its channel-interleaved copy than on the
 * taps, where a plane's rows fill the vectors (dwconv_f32.c picks).
 * AVX-512 only: on AVX2 a lane shift of two vectors takes three
 * instructions and the tiles do not fit 16 registers; it measured 1.1-1.4x
 * slower than the channel-blocked kernel there.
 *
 * DWR_FN(x, y, w, bias, h, wd, ow, k, s, pt, pl, act, r0, r1): output rows
 *   [r0, r1) of one plane; x [h, wd], y [oh, ow] dense, w [k, k] the
 *   plane's filter, bias its bias (0 without), s the stride. Returns the
 *   sum of the rows' outputs (after the activation): the fused mean's
 *   share of this task.
 *
 *===----------------------------------------------------------------------===*/

#include "dwconv_rows_f32.h"

/* The lanes of input columns [c, c + P_L) inside [0, wd): the same for
 * every row, so computed once per tile. */
static inline __attribute__((always_inline)) P_M dwr_mask(int64_t c,
                                                           int64_t wd) {
  int64_t a = c < 0 ? -c : 0, b = wd - c < P_L ? wd - c : P_L;
  return b <= a ? P_LMASK(0, 0) : P_LMASK(a, b);
}

/* Accumulator j of a tile (j < R * NB <= 8: output row r + j / NB,
 * columns from q0 + j % NB vectors) as a named variable: GCC keeps an
 * array of them in memory across the loops. */
#define DWR_EACH(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

/* R output rows from r x NB vectors of columns from q0; filter K x K,
 * stride S. Each of the tile's (R - 1) S + K input rows is loaded once
 * (S NB + 1 vectors, masked to the image's columns), and each tap of it
 * goes into every output row whose window holds it: R x NB independent
 * accumulators (one output vector's 9 or 25 FMAs alone would wait on
 * each other's latency). Rows outside the image are skipped. Returns the
 * sum of the outputs. */
static inline __attribute__((always_inline)) P_V
dwr_tile(const float *x, float *y, const float *w, P_V bv, int64_t h,
         int64_t wd, int64_t ow, int64_t pt, int64_t pl, int act, int64_t r,
         int64_t q0, const int R, const int NB, const int K, const int S) {
#define DWR_INIT(j) P_V acc##j = bv;
  DWR_EACH(DWR_INIT)
#undef DWR_INIT
  const int NV = S * NB + 1; /* at most 5 */
  const int64_t c = q0 * S - pl; /* the first vector's first input column */
  P_M m[5];
#pragma GCC unroll 5
  for (int v = 0; v < NV; ++v)
    m[v] = dwr_mask(c + v * P_L, wd);
  const int64_t ih0 = r * S - pt;
#pragma GCC unroll 13
  for (int i = 0; i < (R - 1) * S + K; ++i) {
    if (ih0 + i < 0 || ih0 + i >= h)
      continue;
    const float *row = x + (ih0 + i) * wd + c;
    P_V u[5];
#pragma GCC unroll 5
    for (int v = 0; v < NV; ++v)
      u[v] = P_LOADZ(row + v * P_L, m[v]);
#pragma GCC unroll 2
    for (int k = 0; k < NB; ++k) {
      P_V e = u[S * k], o = e, e2 = e, o2 = e;
      if (S == 2) {
        e = P_EVEN(u[2 * k], u[2 * k + 1]);
        o = P_ODD(u[2 * k], u[2 * k + 1]);
        if (K > 3) {
          e2 = P_EVEN(u[2 * k + 2], u[2 * k + 2]);
          o2 = P_ODD(u[2 * k + 2], u[2 * k + 2]);
        }
      }
#pragma GCC unroll 7
      for (int b = 0; b < K; ++b) {
        /* tap b: input columns c + S l + b of the block's lanes l; at
         * stride 2 a lane shift b / 2 of the even (b even) or odd lanes
         * of the block's three vectors (K = 3: one lane of the third) */
        P_V t = S == 1   ? (b ? P_SHIFT(u[k], u[k + 1], b) : u[k])
                : b == 0 ? e
                : b == 1 ? o
                : K == 3 ? P_SHIFT(e, u[2 * k + 2], 1)
                : b % 2  ? P_SHIFT(o, o2, b / 2)
                         : P_SHIFT(e, e2, b / 2);
#define DWR_FMA(j)                                                             \
  if ((j) < R * NB && (j) % NB == k && i - (j) / NB * S >= 0 &&                \
      i - (j) / NB * S < K)                                                    \
    acc##j = P_FMA(P_SET1(w[(i - (j) / NB * S) * K + b]), t, acc##j);
        DWR_EACH(DWR_FMA)
#undef DWR_FMA
      }
    }
  }
  P_V total = P_SET1(0.0f);
#define DWR_STORE(j)                                                           \
  if ((j) < R * NB) {                                                          \
    P_V v = P_ACT(acc##j, act);                                                \
    float *yr = y + (r + (j) / NB) * ow;                                       \
    int64_t q = q0 + (j) % NB * P_L, n = ow - q < P_L ? ow - q : P_L;          \
    if (n == P_L) {                                                            \
      P_STORE(yr + q, v);                                                      \
      total = P_ADD(total, v);                                                 \
    } else {                                                                   \
      P_STOREN(yr + q, v, n);                                                  \
      total = P_ADD(total, P_FIRST(v, n));                                     \
    }                                                                          \
  }
  DWR_EACH(DWR_STORE)
#undef DWR_STORE
  return total;
}

/* Output rows [r0, r1): tiles of DWR_R rows x DWR_NB vectors, the
 * leftover vectors and rows in smaller ones. */
static inline __attribute__((always_inline)) float
dwr_plane(const float *x, float *y, const float *w, float bias, int64_t h,
          int64_t wd, int64_t ow, int64_t pt, int64_t pl, int act, int64_t r0,
          int64_t r1, const int K, const int S) {
  const P_V bv = P_SET1(bias);
  P_V total = P_SET1(0.0f);
#define DWR_T(R, NB, q0)                                                       \
  total = P_ADD(total, dwr_tile(x, y, w, bv, h, wd, ow, pt, pl, act, r, q0,   \
                                R, NB, K, S))
  /* two vectors a row only for 3 x 3: they share a load, and 5 x 5 and
   * 7 x 7 tiles of one are long enough (their code twice as large) */
  const int NB = K == 3 ? DWR_NB : 1;
#define DWR_ROWS(R)                                                            \
  {                                                                            \
    int64_t q0 = 0;                                                            \
    for (; q0 + (NB - 1) * P_L < ow; q0 += NB * P_L)                           \
      DWR_T(R, NB, q0);                                                        \
    for (; q0 < ow; q0 += P_L)                                                 \
      DWR_T(R, 1, q0);                                                         \
  }
  int64_t r = r0;
  for (; r + DWR_R <= r1; r += DWR_R)
    DWR_ROWS(DWR_R)
  for (; r + 2 <= r1; r += 2)
    DWR_ROWS(2)
  for (; r < r1; ++r)
    DWR_ROWS(1)
#undef DWR_ROWS
#undef DWR_T
  return P_HSUM(total);
}

float DWR_FN(const float *x, float *y, const float *w, float bias, int64_t h,
             int64_t wd, int64_t ow, int64_t k, int64_t s, int64_t pt,
             int64_t pl, int act, int64_t r0, int64_t r1) {
#define DWR_CASE(K, S)                                                         \
  if (k == K && s == S)                                                        \
    return dwr_plane(x, y, w, bias, h, wd, ow, pt, pl, act, r0, r1, K, S);
  DWR_CASE(3, 1)
  DWR_CASE(3, 2)
  DWR_CASE(5, 1)
  DWR_CASE(5, 2)
  DWR_CASE(7, 1)
  DWR_CASE(7, 2)
#undef DWR_CASE
  return 0.0f; /* not reached: dwconv_f32.c checks dwr_fits */
}
