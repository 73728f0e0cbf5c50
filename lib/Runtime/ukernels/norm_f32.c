/*===- norm_f32.c - layer norm and RMS norm over the last dim -------------===*
 *
 * kiln.layer_norm / kiln.rms_norm in f32 over the last dim, with a [N]
 * scale (and a [N] bias), called through kiln.ukernel "norm_f32"
 * (codegen/cpu/SelectUkernels.cpp). Rows are split over the run's threads
 * when there are enough of them.
 *
 * desc (int64): isa, flags (1: rms, 2: bias), input rank, then x, scale,
 * [bias,] y as (address, offset, sizes, strides); x and y have the input
 * rank, scale and bias rank 1. fparams: epsilon.
 *
 *===----------------------------------------------------------------------===*/

#define NORM_ROWS kiln_norm_rows_generic
#include "norm_f32_impl.h"

#include "gemm_f32.h"
#include "view.h"
#include "../runtime_internal.h"

#include <stdio.h>

void kiln_norm_rows_avx512(const float *x, int64_t rows, int64_t n,
                           int64_t ldx, float *y, int64_t ldy,
                           const float *scale, const float *bias, float eps,
                           int rms);
void kiln_norm_rows_avx2(const float *x, int64_t rows, int64_t n, int64_t ldx,
                         float *y, int64_t ldy, const float *scale,
                         const float *bias, float eps, int rms);

enum { NORM_RMS = 1, NORM_BIAS = 2 };

typedef struct {
  int isa, rms;
  view4 x, y;
  const float *scale, *bias;
  float eps;
  int64_t n;
} norm_job;

/* Rows are the first three dims of the (left-padded) 4-D views. */
static void norm_range(void *vjob, int64_t begin, int64_t end) {
  const norm_job *j = vjob;
  int64_t d1 = j->x.size[1], d2 = j->x.size[2];
  for (int64_t r = begin; r < end;) {
    int64_t i2 = r % d2, i1 = (r / d2) % d1, i0 = r / (d1 * d2);
    int64_t run = d2 - i2 < end - r ? d2 - i2 : end - r; /* rows in this dim */
    const float *x = (const float *)j->x.base + i0 * j->x.stride[0] +
                     i1 * j->x.stride[1] + i2 * j->x.stride[2];
    float *y = (float *)j->y.base + i0 * j->y.stride[0] + i1 * j->y.stride[1] +
               i2 * j->y.stride[2];
    int64_t ldx = j->x.stride[2], ldy = j->y.stride[2];
    if (j->isa == KILN_ISA_AVX512)
      kiln_norm_rows_avx512(x, run, j->n, ldx, y, ldy, j->scale, j->bias, j->eps, j->rms);
    else if (j->isa == KILN_ISA_AVX2)
      kiln_norm_rows_avx2(x, run, j->n, ldx, y, ldy, j->scale, j->bias, j->eps, j->rms);
    else
      kiln_norm_rows_generic(x, run, j->n, ldx, y, ldy, j->scale, j->bias, j->eps, j->rms);
    r += run;
  }
}

static void norm_f32_call(const int64_t *desc, const float *fparams) {
  norm_job j;
  j.isa = (int)desc[0];
  int64_t flags = desc[1], rank = desc[2];
  j.rms = (flags & NORM_RMS) != 0;
  const int64_t *d = desc + 3;
  view4 sv, bv = {0};
  d = kiln_read_view(d, rank, 4, &j.x);
  d = kiln_read_view(d, 1, 4, &sv);
  if (flags & NORM_BIAS)
    d = kiln_read_view(d, 1, 4, &bv);
  kiln_read_view(d, rank, 4, &j.y);
  j.n = j.x.size[3];
  kiln_rt_check_dim(sv.size[3], j.n);
  if (flags & NORM_BIAS)
    kiln_rt_check_dim(bv.size[3], j.n);
  /* The kernels read rows, scale and bias contiguously. */
  if ((j.n > 1 && (j.x.stride[3] != 1 || j.y.stride[3] != 1 ||
                   sv.stride[3] != 1 ||
                   ((flags & NORM_BIAS) && bv.stride[3] != 1))))
    j.isa = -1;
  j.scale = (const float *)sv.base;
  j.bias = (flags & NORM_BIAS) ? (const float *)bv.base : 0;
  j.eps = fparams[0];
  int64_t rows = j.x.size[0] * j.x.size[1] * j.x.size[2];
  if (rows == 0 || j.n == 0)
    return;
  if (j.isa == -1) {
    /* Strided last dim (not produced by kiln's lowering): plain loops. */
    for (int64_t r = 0; r < rows; ++r) {
      int64_t i2 = r % j.x.size[2], i1 = (r / j.x.size[2]) % j.x.size[1],
              i0 = r / (j.x.size[1] * j.x.size[2]);
      const float *x = (const float *)j.x.base + i0 * j.x.stride[0] +
                       i1 * j.x.stride[1] + i2 * j.x.stride[2];
      float *y = (float *)j.y.base + i0 * j.y.stride[0] + i1 * j.y.stride[1] +
                 i2 * j.y.stride[2];
      double s = 0, ss = 0;
      for (int64_t c = 0; c < j.n; ++c)
        s += x[c * j.x.stride[3]];
      double mean = j.rms ? 0.0 : s / j.n;
      for (int64_t c = 0; c < j.n; ++c) {
        double dd = x[c * j.x.stride[3]] - mean;
        ss += dd * dd;
      }
      float inv = (float)(1.0 / sqrt(ss / j.n + j.eps));
      for (int64_t c = 0; c < j.n; ++c) {
        float v = (float)(x[c * j.x.stride[3]] - mean) * inv *
                  ((const float *)sv.base)[c * sv.stride[3]];
        if (j.bias)
          v += ((const float *)bv.base)[c * bv.stride[3]];
        y[c * j.y.stride[3]] = v;
      }
    }
    return;
  }
  if (rows * j.n >= (1 << 15))
    kiln_parallel_for(rows, norm_range, &j);
  else
    norm_range(&j, 0, rows);
}

/* Profiled entry point (KILN_PROFILE=1, profile.c). */
static void norm_label(char *buf, size_t n, const void *arg) {
  const int64_t *s = arg;
  snprintf(buf, n, "%lld rows x %lld", (long long)s[0], (long long)s[1]);
}

void kiln_ukernel_norm_f32(const int64_t *desc, const float *fparams) {
  KILN_PROF_BEGIN();
  norm_f32_call(desc, fparams);
  if (kiln_prof_on) {
    view4 x;
    kiln_read_view(desc + 3, desc[2], 4, &x);
    int64_t s[2] = {x.size[0] * x.size[1] * x.size[2], x.size[3]};
    KILN_PROF_END("norm", 0, norm_label, s);
  }
}
