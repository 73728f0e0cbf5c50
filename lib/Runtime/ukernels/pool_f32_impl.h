/*===- pool_f32_impl.h - 2-D max and average pooling, one body per ISA ---===*
 *
 * See pool_f32.c. Included by pool_f32_avx512.c (16 lanes) and
 * pool_f32_avx2.c (8 lanes), each compiled for its ISA and defining:
 *   P_FN             the task function's name
 *   P_V, P_L         the vector type; lanes per vector
 *   P_SET1(f) P_LOAD(p) P_STORE(p, v) P_MAX(a, b) P_ADD(a, b) P_MUL(a, b)
 *   P_DIV(a, b)
 *   P_LOADOR(d, p, n)  lanes [0, n) from p, the others d's (n in 1 .. P_L)
 *   P_STOREN(p, v, n)  lanes [0, n) to p
 *   P_EVEN(a, b)       the even lanes of a, then of b
 *   P_M, P_LMASK(a, b) a lane mask: lanes [a, b) (0 <= a < b <= P_L)
 *   P_LOADM(d, p, m)   lanes m from p, the others d's
 *   P_SHIFT(a, b, s)   lanes [s, s + P_L) of a, then b (0 <= s <= P_L)
 *
 * Per output row of a plane, two passes along contiguous memory with
 * whole vectors and masked tails (the compiler's loops before this ran
 * their tails in scalar code, most of the work on 14 x 14 planes):
 *   1. the window's rows inside the image reduced elementwise (max, or
 *      sum) into a row buffer t whose columns outside the image hold the
 *      identity (-inf, or 0); no padded copy of the input;
 *   2. each output column's kw neighbours in t reduced: at stride 1 as kw
 *      unaligned loads, at stride 2 as kw unaligned loads of two vectors
 *      and their even lanes, other strides element by element.
 * Averages divide by the window's count (rows x columns inside the image,
 * or inside image + explicit pads with count_include_pad), as ONNX's
 * reference and the linalg lowering do. P_MAX(x, m) is x86 max: a NaN in
 * a window is kept only where it comes first, as before.
 *
 *===----------------------------------------------------------------------===*/

#include "pool_f32.h"
#include "../runtime_internal.h"

#include <math.h>

/* x op into the accumulator v: max (x86's: v kept where either is NaN)
 * or sum */
#define P_OP(avg, x, v) ((avg) ? P_ADD(v, x) : P_MAX(x, v))

/* One vector of pass 2 at output column q0: kw taps (a constant in the
 * common instantiations, else K = 0 and j->kw). */
static inline __attribute__((always_inline)) P_V
p_hvec(const float *t, int64_t q0, int64_t sw, const int avg, const int K,
       int64_t kwr, float *tmp, int64_t n) {
  const int64_t kw = K ? K : kwr;
  if (sw == 1) {
    P_V v = P_LOAD(t + q0);
    for (int64_t b = 1; b < kw; ++b)
      v = P_OP(avg, P_LOAD(t + q0 + b), v);
    return v;
  }
  if (sw == 2) {
    const float *s = t + 2 * q0;
    P_V a = P_LOAD(s), c = P_LOAD(s + P_L);
    for (int64_t b = 1; b < kw; ++b) {
      a = P_OP(avg, P_LOAD(s + b), a);
      c = P_OP(avg, P_LOAD(s + P_L + b), c);
    }
    return P_EVEN(a, c);
  }
  for (int64_t i = 0; i < n; ++i) {
    const float *s = t + (q0 + i) * sw;
    float m = s[0];
    for (int64_t b = 1; b < kw; ++b)
      m = avg ? m + s[b] : (s[b] > m ? s[b] : m);
    tmp[i] = m;
  }
  return P_LOAD(tmp);
}

/* Pass 1 for one vector at column q of t: rows s0 + i * xr, i < nr (nr
 * >= 1; 2 and 3 unrolled). */
static inline __attribute__((always_inline)) P_V
p_vvec(const float *s0, int64_t xr, int64_t nr, const int avg, P_V id,
       int64_t n) {
  if (n == P_L) {
    P_V v = P_LOAD(s0);
    if (nr == 3)
      return P_OP(avg, P_LOAD(s0 + 2 * xr), P_OP(avg, P_LOAD(s0 + xr), v));
    for (int64_t i = 1; i < nr; ++i)
      v = P_OP(avg, P_LOAD(s0 + i * xr), v);
    return v;
  }
  P_V v = P_LOADOR(id, s0, n);
  for (int64_t i = 1; i < nr; ++i)
    v = P_OP(avg, P_LOADOR(id, s0 + i * xr, n), v);
  return v;
}

/* Column q of the row buffer as a vector, in registers: lanes whose image
 * column is inside [lo, hi) reduced over the nr rows from s0 (the row
 * buffer's column 0), the others the identity. Masked-off lanes are not
 * read. */
static inline __attribute__((always_inline)) P_V
p_tv(const float *s0, int64_t xr, int64_t nr, const int avg, P_V id, int64_t q,
     int64_t lo, int64_t hi) {
  if (nr <= 0)
    return id;
  if (q >= lo && q + P_L <= hi)
    return p_vvec(s0 + q, xr, nr, avg, id, P_L);
  int64_t a = lo - q, b = hi - q;
  a = a < 0 ? 0 : a;
  b = b > P_L ? P_L : b;
  if (b <= a)
    return id;
  P_M m = P_LMASK(a, b);
  P_V v = P_LOADM(id, s0 + q, m);
  for (int64_t i = 1; i < nr; ++i)
    v = P_OP(avg, P_LOADM(id, s0 + q + i * xr, m), v);
  return v;
}

/* One output row at stride 1 or 2 with kw <= P_L, the row buffer kept in
 * registers: each output vector's taps are lane shifts of two (stride 1)
 * or three (stride 2) buffer vectors, which the next output vector reuses
 * (storing the buffer and reading it back at offsets 1, 2, ... stalled on
 * store forwarding: most of a 3 x 3 pooling's time on 14 x 14 planes). */
static inline __attribute__((always_inline)) void
p_row_regs(const kiln_pool_job *j, const float *s0, int64_t xr, int64_t nr,
           int64_t lo, int64_t hi, P_V rv, const float *cnt, float *yr,
           int64_t ow, const int avg, const int K, const int sw) {
  const int64_t kw = K ? K : j->kw;
  const P_V id = P_SET1(avg ? 0.0f : -INFINITY);
  P_V v0 = p_tv(s0, xr, nr, avg, id, 0, lo, hi);
  for (int64_t q0 = 0; q0 < ow; q0 += P_L) {
    P_V o;
    if (sw == 1) {
      P_V v1 = p_tv(s0, xr, nr, avg, id, q0 + P_L, lo, hi);
      o = v0;
      for (int64_t b = 1; b < kw; ++b)
        o = P_OP(avg, P_SHIFT(v0, v1, b), o);
      v0 = v1;
    } else {
      P_V v1 = p_tv(s0, xr, nr, avg, id, 2 * q0 + P_L, lo, hi);
      P_V v2 = p_tv(s0, xr, nr, avg, id, 2 * q0 + 2 * P_L, lo, hi);
      P_V a = v0, c = v1;
      for (int64_t b = 1; b < kw; ++b) {
        a = P_OP(avg, P_SHIFT(v0, v1, b), a);
        c = P_OP(avg, P_SHIFT(v1, v2, b), c);
      }
      o = P_EVEN(a, c);
      v0 = v2;
    }
    if (avg)
      o = P_DIV(o, P_MUL(rv, P_LOAD(cnt + q0)));
    int64_t n = ow - q0 < P_L ? ow - q0 : P_L;
    if (n == P_L)
      P_STORE(yr + q0, o);
    else
      P_STOREN(yr + q0, o, n);
  }
}

/* Planes [begin, end), the operation (avg) and kw (K, 0: any) constants. */
static inline __attribute__((always_inline)) void
p_body(kiln_pool_job *j, int64_t begin, int64_t end, float *t, float *cnt,
       float *tmp, int64_t lo, int64_t hi, const int avg, const int K) {
  int64_t h = j->x.size[2];
  int64_t oh = j->y.size[2], ow = j->y.size[3];
  int64_t xr = j->x.stride[2], xc = j->x.stride[3], yc = j->y.stride[3];
  int64_t sw = j->sw;
  const float idf = avg ? 0.0f : -INFINITY;
  const P_V id = P_SET1(idf);
  /* the row in registers: dense rows in and out, stride 1 or 2, kw <= P_L */
  const int regs = xc == 1 && yc == 1 && (sw == 1 || sw == 2) && j->kw <= P_L;
  for (int64_t pl = begin; pl < end; ++pl) {
    const float *x = kiln_pool_xplane(j, pl);
    float *y = kiln_pool_yplane(j, pl);
    for (int64_t r = 0; r < oh; ++r) {
      int64_t r0 = r * j->sh - j->pt, r1 = r0 + j->kh;
      P_V rv = P_SET1((float)kiln_pool_count(r, j->sh, j->kh, j->pt, j->pb, h,
                                             j->include_pad));
      r0 = r0 < 0 ? 0 : r0;
      r1 = r1 > h ? h : r1;
      const float *s0 = x + r0 * xr - j->pl * xc;
      float *yr = y + r * j->y.stride[2];
      if (regs) {
        if (sw == 1)
          p_row_regs(j, s0, xr, r1 - r0, lo, hi, rv, cnt, yr, ow, avg, K, 1);
        else
          p_row_regs(j, s0, xr, r1 - r0, lo, hi, rv, cnt, yr, ow, avg, K, 2);
        continue;
      }
      /* pass 1: rows [r0, r1) into t[lo, hi) (none: the identity); the
       * last vector's lanes past hi store the identity again */
      if (r1 <= r0) {
        for (int64_t q = lo; q < hi; ++q)
          t[q] = idf;
      } else if (xc == 1) {
        int64_t q = lo;
        for (; q + P_L <= hi; q += P_L)
          P_STORE(t + q, p_vvec(s0 + q, xr, r1 - r0, avg, id, P_L));
        if (q < hi)
          P_STORE(t + q, p_vvec(s0 + q, xr, r1 - r0, avg, id, hi - q));
      } else {
        for (int64_t q = lo; q < hi; ++q) {
          float v = s0[q * xc];
          for (int64_t rr = r0 + 1; rr < r1; ++rr) {
            float e = s0[(rr - r0) * xr + q * xc];
            v = avg ? v + e : (e > v ? e : v);
          }
          t[q] = v;
        }
      }
      /* pass 2 */
      for (int64_t q0 = 0; q0 < ow; q0 += P_L) {
        int64_t n = ow - q0 < P_L ? ow - q0 : P_L;
        P_V v = p_hvec(t, q0, sw, avg, K, j->kw, tmp, n);
        if (avg)
          v = P_DIV(v, P_MUL(rv, P_LOAD(cnt + q0)));
        if (yc == 1) {
          if (n == P_L)
            P_STORE(yr + q0, v);
          else
            P_STOREN(yr + q0, v, n);
        } else {
          P_STORE(tmp, v);
          for (int64_t i = 0; i < n; ++i)
            yr[(q0 + i) * yc] = tmp[i];
        }
      }
    }
  }
}

void P_FN(void *vjob, int64_t begin, int64_t end) {
  kiln_pool_job *j = vjob;
  int64_t ow = j->y.size[3], wide = j->wide;
  /* t: the row buffer, read up to 2 vectors past `wide` by the stride-2
   * pass; cnt: the columns' counts, a vector past ow; tmp: one vector */
  int64_t tn = wide + 2 * P_L, cn = ow + P_L;
  float *t = kiln_scratch(KILN_SCRATCH_DW, (size_t)(tn + cn + P_L) * sizeof(float));
  if (!t) {
    j->failed = 1;
    return;
  }
  float *cnt = t + tn, *tmp = cnt + cn;
  int64_t lo, hi;
  kiln_pool_rowbuf(j, j->avg ? 0.0f : -INFINITY, t, tn, cnt, cn, &lo, &hi);
  if (j->avg && j->kw == 3)
    p_body(j, begin, end, t, cnt, tmp, lo, hi, 1, 3);
  else if (j->avg && j->kw == 2)
    p_body(j, begin, end, t, cnt, tmp, lo, hi, 1, 2);
  else if (j->avg)
    p_body(j, begin, end, t, cnt, tmp, lo, hi, 1, 0);
  else if (j->kw == 3)
    p_body(j, begin, end, t, cnt, tmp, lo, hi, 0, 3);
  else if (j->kw == 2)
    p_body(j, begin, end, t, cnt, tmp, lo, hi, 0, 2);
  else
    p_body(j, begin, end, t, cnt, tmp, lo, hi, 0, 0);
}
