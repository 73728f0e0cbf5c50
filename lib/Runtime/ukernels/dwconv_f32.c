/*===- dwconv_f32.c - depthwise 2-D convolution driver --------------------===*
 *
 * kiln.ukernel "dwconv2d_f32" (split out of conv_f32.c, which keeps its
 * profiled entry point).
 *
 *===----------------------------------------------------------------------===*/

#include "conv_f32_internal.h"
#include "gemm_f32.h"
#include "../runtime_internal.h"

#include <stdlib.h>
#include <string.h>

#include "dwconv_cb_f32.h"
#include "dwconv_rows_f32.h"

#define DW_PLANES kiln_dw_planes_generic
#include "dwconv_f32_impl.h"
#undef DW_PLANES

typedef void (*dw_planes_fn)(const float *, float *, const float *,
                             const float *, int64_t, int64_t, int64_t, int64_t,
                             int64_t, int64_t, int64_t, int64_t, int64_t,
                             int64_t, int64_t, int64_t, int64_t, int64_t,
                             int64_t, int, float *);

/* The channel-blocked depthwise kernel (dwconv_cb_f32_impl.h): channels
 * [c0, c0 + lanes) of one image. */
typedef void (*dwcb_fn)(const float *, float *, const float *, const float *,
                        int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                        int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                        int64_t, int, int64_t, int64_t, int64_t, float *,
                        float *);
void kiln_dwcb_avx2(const float *, float *, const float *, const float *,
                    int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                    int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                    int64_t, int, int64_t, int64_t, int64_t, float *, float *);
void kiln_dwcb_avx512(const float *, float *, const float *, const float *,
                      int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                      int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                      int64_t, int, int64_t, int64_t, int64_t, float *, float *);

/* ---- depthwise: kiln.ukernel "dwconv2d_f32" --------------------------- *
 * Group = C = F, filter [C, 1, KH, KW]. AVX-512 with square 3 x 3, 5 x 5
 * or 7 x 7 filters, stride 1 or 2 and output rows of 16 or more (dwr_fits):
 * one plane per task along its rows (dwconv_rows_f32_impl.h);
 * other AVX2 and AVX-512 shapes: tasks of 8 or 16 channels of one image,
 * channel-interleaved in registers (dwconv_cb_f32_impl.h); portable: one
 * plane per task (dwconv_f32_impl.h).
 * Tasks are split over the threads. Same desc as conv2d_f32 (flags: 1 =
 * bias; no residual), and flag 32: a second output view mean [N, C, 1, 1]
 * after y, each channel's mean of y (a global average pool), summed on the
 * row or channel-blocked kernel's register tiles or, on the portable path,
 * read back from y. */

typedef float (*dwr_fn)(const float *, float *, const float *, float, int64_t,
                        int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                        int, int64_t, int64_t);

typedef struct {
  dw_planes_fn fn;
  dwcb_fn cb;     /* channel-blocked kernel, or NULL */
  dwr_fn rows;    /* the row kernel (dwconv_rows_f32.h), or NULL */
  int64_t lanes;  /* channels per task (cb's vector, or 1: the row kernel) */
  const float *x, *w, *bias;
  float *y;
  float *mean;    /* [n, c] (mean_img apart), or NULL */
  int64_t mean_img;
  int64_t parts;  /* row parts of a channel block (dwcb_parts) */
  float *partial; /* parts > 1 with a mean: each task's lanes of it */
  int64_t c, h, wd, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw;
  int act;
  int failed;
} dw_job;

/* Tasks [begin, end) of n * ceil(c / lanes) * parts: rows of one channel
 * block of one image each. */
static void dwcb_range(void *vjob, int64_t begin, int64_t end) {
  dw_job *j = vjob;
  float *scratch = kiln_scratch(
      KILN_SCRATCH_DW, (size_t)dwcb_scratch_floats(j->oh, j->ow, j->kh, j->kw,
                                                   j->sh, j->sw, j->dh, j->dw,
                                                   j->lanes) *
                           sizeof(float));
  if (!scratch) {
    j->failed = 1;
    return;
  }
  int64_t blocks = (j->c + j->lanes - 1) / j->lanes;
  for (int64_t t = begin; t < end; ++t) {
    int64_t part = t % j->parts, blk = t / j->parts;
    int64_t img = blk / blocks, c0 = (blk % blocks) * j->lanes;
    float *mean = !j->mean         ? NULL
                  : j->parts == 1 ? j->mean + img * j->mean_img + c0
                                  : j->partial + t * j->lanes;
    j->cb(j->x + img * j->c * j->h * j->wd, j->y + img * j->c * j->oh * j->ow,
          j->w, j->bias, j->c, j->h, j->wd, j->oh, j->ow, j->kh, j->kw, j->sh,
          j->sw, j->pt, j->pl, j->dh, j->dw, j->act, c0,
          j->oh * part / j->parts, j->oh * (part + 1) / j->parts, scratch, mean);
  }
}

/* Tasks [begin, end) of n * c * parts: rows of one plane each. */
static void dwr_range(void *vjob, int64_t begin, int64_t end) {
  dw_job *j = vjob;
  for (int64_t t = begin; t < end; ++t) {
    int64_t part = t % j->parts, pl = t / j->parts, ch = pl % j->c;
    float s = j->rows(j->x + pl * j->h * j->wd, j->y + pl * j->oh * j->ow,
                      j->w + ch * j->kh * j->kw, j->bias ? j->bias[ch] : 0.0f,
                      j->h, j->wd, j->ow, j->kw, j->sw, j->pt, j->pl, j->act,
                      j->oh * part / j->parts, j->oh * (part + 1) / j->parts);
    if (j->mean) {
      s /= (float)(j->oh * j->ow);
      if (j->parts == 1)
        j->mean[pl / j->c * j->mean_img + ch] = s;
      else
        j->partial[t] = s;
    }
  }
}

static void dw_range(void *vjob, int64_t begin, int64_t end) {
  const dw_job *j = vjob;
  /* NULL (out of memory) selects the kernel's path without scratch */
  float *scratch = kiln_scratch(
      KILN_SCRATCH_DW,
      (size_t)dw_scratch_floats(j->oh, j->ow, j->kh, j->kw, j->sh < 1 ? 1 : j->sh) *
          sizeof(float));
  j->fn(j->x, j->y, j->w, j->bias, end - begin, begin, j->c, j->h, j->wd,
        j->oh, j->ow, j->kh, j->kw, j->sh, j->sw, j->pt, j->pl, j->dh, j->dw,
        j->act, scratch);
}

/* Row parts per channel block: a layer of few channels (MobileNetV3's
 * 16-channel 112 x 112 one: one task of 16 lanes) splits its rows so that
 * up to 4 threads share it. Chosen from the image's shape alone, so the
 * arithmetic (the fused mean's partial sums) is the same at every thread
 * count and batch size. */
#define DW_MIN_TASKS 4
#define DW_MIN_PART_ROWS 8

static int64_t dwcb_parts(int64_t blocks, int64_t oh) {
  int64_t parts = blocks >= DW_MIN_TASKS ? 1 : (DW_MIN_TASKS + blocks - 1) / blocks;
  while (parts > 1 && oh / parts < DW_MIN_PART_ROWS)
    --parts;
  return parts;
}

/* Below this many multiply-adds a depthwise convolution runs serially. */
#define DW_PARALLEL_MIN_MACS (1 << 16)

void kiln_dwconv2d_f32_run(const int64_t *desc) {
  int isa = (int)desc[0];
  int64_t flags = desc[1];
  dw_job j;
  j.act = (int)desc[2];
  j.sh = desc[3];
  j.sw = desc[4];
  j.pt = desc[5];
  j.pl = desc[6];
  j.dh = desc[7];
  j.dw = desc[8];
  view4 x, w, bias = {0}, y, mean = {0};
  read_dw_views(desc + 9, flags, &x, &w, &bias, &y, &mean);
  int64_t n = x.size[0];
  j.c = x.size[1];
  j.h = x.size[2];
  j.wd = x.size[3];
  j.kh = w.size[2];
  j.kw = w.size[3];
  j.oh = y.size[2];
  j.ow = y.size[3];
  kiln_rt_check_dim(w.size[0], j.c);
  kiln_rt_check_dim(w.size[1], 1);
  kiln_rt_check_dim(y.size[0], n);
  kiln_rt_check_dim(y.size[1], j.c);
  if (flags & CONV_BIAS)
    kiln_rt_check_dim(bias.size[3], j.c);
  int dense = dense_from(&x, 0) && dense_from(&w, 0) && dense_from(&y, 0);
  kiln_rt_check_dim(dense, 1);
  j.x = (const float *)x.base;
  j.w = (const float *)w.base;
  j.bias = (flags & CONV_BIAS) ? (const float *)bias.base : NULL;
  j.y = (float *)y.base;
  j.mean = NULL;
  j.mean_img = 0;
  if (flags & CONV_MEAN) {
    kiln_rt_check_dim(mean.size[0], n);
    kiln_rt_check_dim(mean.size[1], j.c);
    kiln_rt_check_dim(mean.size[2] == 1 && mean.size[3] == 1, 1);
    kiln_rt_check_dim(mean.stride[1] == 1 || j.c == 1, 1);
    j.mean = (float *)mean.base;
    j.mean_img = mean.stride[0];
  }
  j.fn = kiln_dw_planes_generic;
  int64_t planes = n * j.c;
  int parallel = planes * j.oh * j.ow * j.kh * j.kw >= DW_PARALLEL_MIN_MACS;
  j.cb = isa == KILN_ISA_AVX512 ? kiln_dwcb_avx512
         : isa == KILN_ISA_AVX2 ? kiln_dwcb_avx2
                                : NULL;
  j.lanes = isa == KILN_ISA_AVX512 ? 16 : 8;
  j.rows = NULL;
  if (isa == KILN_ISA_AVX512 &&
      dwr_fits(j.kh, j.kw, j.sh, j.sw, j.dh, j.dw, j.ow)) {
    /* the row kernel: tasks of one plane, "lanes" 1 for the means below */
    j.rows = kiln_dwrows_avx512;
    j.lanes = 1;
  }
  j.failed = 0;
  if (j.cb) {
    if (planes == 0 || j.oh <= 0 || j.ow <= 0)
      return;
    int64_t blocks = (j.c + j.lanes - 1) / j.lanes;
    j.parts = dwcb_parts(blocks, j.oh);
    int64_t tasks = n * blocks * j.parts;
    j.partial = NULL;
    if (j.mean && j.parts > 1)
      j.partial = _mlir_memref_to_llvm_alloc((uint64_t)(tasks * j.lanes) * sizeof(float));
    void (*range)(void *, int64_t, int64_t) = j.rows ? dwr_range : dwcb_range;
    if (parallel && tasks > 1)
      kiln_parallel_for(tasks, range, &j);
    else
      range(&j, 0, tasks);
    if (j.failed)
      kiln_rt_fail_oom();
    if (j.partial) { /* the parts' sums, in part order */
      for (int64_t b = 0; b < n * blocks; ++b) {
        int64_t img = b / blocks, c0 = (b % blocks) * j.lanes;
        for (int64_t ch = 0; ch < j.lanes && c0 + ch < j.c; ++ch) {
          float s = 0.0f;
          for (int64_t p = 0; p < j.parts; ++p)
            s += j.partial[(b * j.parts + p) * j.lanes + ch];
          j.mean[img * j.mean_img + c0 + ch] = s;
        }
      }
      _mlir_memref_to_llvm_free(j.partial);
    }
    return;
  }
  if (parallel && planes > 1)
    kiln_parallel_for(planes, dw_range, &j);
  else
    dw_range(&j, 0, planes);
  if (j.mean) /* the portable path: the means read back from y */
    for (int64_t pl = 0; pl < planes; ++pl) {
      const float *yp = j.y + pl * j.oh * j.ow;
      double s = 0;
      for (int64_t i = 0; i < j.oh * j.ow; ++i)
        s += yp[i];
      j.mean[pl / j.c * j.mean_img + pl % j.c] = (float)(s / (double)(j.oh * j.ow));
    }
}
