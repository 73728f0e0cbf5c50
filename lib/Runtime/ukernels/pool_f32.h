/*===- pool_f32.h - 2-D max and average pooling (internal) ---------------===*
 *
 * The job of kiln.ukernel "maxpool2d_f32" and "avgpool2d_f32"
 * (pool_f32.c), shared with the AVX2 and AVX-512 bodies
 * (pool_f32_impl.h, compiled once per ISA).
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_UKERNELS_POOL_F32_H
#define KILN_UKERNELS_POOL_F32_H

#include "view.h"

typedef struct {
  view4 x, y;
  int64_t kh, kw, sh, sw, pt, pl, pb, pr;
  int avg;         /* 0: max; 1: average */
  int include_pad; /* average: count the explicit pads in the divisor */
  int64_t wide;    /* row buffer floats: (ow - 1) * sw + kw */
  int failed;
  /* Small planes at stride 1 with the output the input's size (AVX-512,
   * kiln_pool2d_flat_avx512): each 16-pixel vector of the flattened plane
   * sums (or maxes) its taps as masked loads at fixed offsets. fmask
   * [vectors][taps]: the lanes whose tap lies inside the image; foff
   * [taps]: the taps' offsets; fcnt [P]: each pixel's divisor. */
  const uint16_t *fmask;
  const int64_t *foff;
  const float *fcnt;
} kiln_pool_job;

/* Output columns q take image columns [q * sw - pl, + kw) (and rows the
 * same): the divisor's count along one dim. With count_include_pad the
 * explicit pads count, not the part past them that ceil_mode adds. */
static inline int64_t kiln_pool_count(int64_t o, int64_t s, int64_t k,
                                      int64_t pbeg, int64_t pend, int64_t n,
                                      int include_pad) {
  int64_t start = o * s - pbeg, stop = start + k;
  int64_t lo = include_pad ? start : (start > 0 ? start : 0);
  int64_t hi = include_pad ? n + pend : n;
  hi = stop < hi ? stop : hi;
  return hi > lo ? hi - lo : 0;
}

/* Plane pl of N * C in x and in y. */
static inline const float *kiln_pool_xplane(const kiln_pool_job *j, int64_t pl) {
  return (const float *)j->x.base + pl / j->x.size[1] * j->x.stride[0] +
         pl % j->x.size[1] * j->x.stride[1];
}
static inline float *kiln_pool_yplane(const kiln_pool_job *j, int64_t pl) {
  return (float *)j->y.base + pl / j->x.size[1] * j->y.stride[0] +
         pl % j->x.size[1] * j->y.stride[1];
}

/* The row buffer both bodies reduce into: t [tn] (tn >= wide) holds the
 * identity outside buffer columns [*lo, *hi), which hold image columns
 * lo - pl .. hi - pl - 1 (the same for every row and plane); cnt [cn]
 * (cn >= ow) the columns' divisor counts, 1 past ow. */
static inline void kiln_pool_rowbuf(const kiln_pool_job *j, float idf, float *t,
                                    int64_t tn, float *cnt, int64_t cn,
                                    int64_t *lo, int64_t *hi) {
  int64_t w = j->x.size[3], ow = j->y.size[3];
  *lo = j->pl < j->wide ? j->pl : j->wide;
  *hi = j->pl + w < j->wide ? j->pl + w : j->wide;
  *hi = *hi > *lo ? *hi : *lo;
  for (int64_t q = 0; q < *lo; ++q)
    t[q] = idf;
  for (int64_t q = *hi; q < tn; ++q)
    t[q] = idf;
  for (int64_t q = 0; q < cn; ++q)
    cnt[q] = q < ow ? (float)kiln_pool_count(q, j->sw, j->kw, j->pl, j->pr, w,
                                             j->include_pad)
                    : 1.0f;
}

/* Planes [begin, end) of N * C. */
void kiln_pool2d_avx2(void *job, int64_t begin, int64_t end);
void kiln_pool2d_avx512(void *job, int64_t begin, int64_t end);
void kiln_pool2d_flat_avx512(void *job, int64_t begin, int64_t end);

#endif
