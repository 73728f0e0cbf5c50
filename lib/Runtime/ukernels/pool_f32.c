/*===- pool_f32.c - 2-D max and average pooling on NCHW planes ---------===*
 *
 * Called through kiln.ukernel "maxpool2d_f32" and "avgpool2d_f32"
 * (codegen/cpu/SelectPoolUkernels.cpp), and "global_avgpool_f32" below.
 * Each output row is two passes over rows of the plane, both along
 * contiguous memory: the elementwise max (or sum) of the window's input
 * rows that lie inside the image into a row buffer whose padding columns
 * hold -inf (or 0), then the max (or sum) of each output pixel's kw
 * neighbours in that buffer; an average divides by the window's count
 * (inside the image, or inside image + explicit pads with
 * count_include_pad). No padded copy of the input is made (the linalg
 * lowering filled and copied a padded plane first: ResNet-18's
 * 64 x 112 x 112 stem output took 0.9 ms that way at one thread against
 * ONNX Runtime's 0.15). Windows that lie wholly in the padding (ceil_mode)
 * give -inf (max), as the padded lowering did.
 *
 * The AVX2 and AVX-512 bodies are pool_f32_impl.h (vectors with masked
 * tails, the stride-2 pass deinterleaving in registers); the portable one
 * below is plain C the compiler vectorizes. Max comparisons are
 * `v > m ? v : m` (x86 max): a NaN in a window is kept only where it comes
 * first, not propagated as arith.maximumf would.
 *
 * desc (max): isa, kernel h, kernel w, stride h, stride w, pad top, pad
 * left, then the views x [N, C, H, W] and y [N, C, OH, OW]. desc
 * (average): the same seven, then pad bottom, pad right, count_include_pad,
 * then the views.
 *
 *===----------------------------------------------------------------------===*/

#include "gemm_f32.h" /* KILN_ISA_* */
#include "pool_f32.h"
#include "../runtime_internal.h"

#include <math.h>
#include <stdio.h>

static inline float maxf(float a, float b) { return a > b ? a : b; }

/* Planes [begin, end) of n * c, portable. */
static void pool_range(void *vjob, int64_t begin, int64_t end) {
  kiln_pool_job *j = vjob;
  int64_t h = j->x.size[2];
  int64_t oh = j->y.size[2], ow = j->y.size[3];
  int64_t xr = j->x.stride[2], xc = j->x.stride[3], yc = j->y.stride[3];
  float *t = kiln_scratch(KILN_SCRATCH_DW, (size_t)(j->wide + ow) * sizeof(float));
  if (!t) {
    j->failed = 1;
    return;
  }
  float *cnt = t + j->wide;
  const float idf = j->avg ? 0.0f : -INFINITY;
  int64_t lo, hi;
  kiln_pool_rowbuf(j, idf, t, j->wide, cnt, ow, &lo, &hi);
  for (int64_t pl = begin; pl < end; ++pl) {
    const float *x = kiln_pool_xplane(j, pl);
    float *y = kiln_pool_yplane(j, pl);
    for (int64_t r = 0; r < oh; ++r) {
      float *yr = y + r * j->y.stride[2];
      int64_t r0 = r * j->sh - j->pt, r1 = r0 + j->kh;
      float rows = (float)kiln_pool_count(r, j->sh, j->kh, j->pt, j->pb, h,
                                          j->include_pad);
      r0 = r0 < 0 ? 0 : r0;
      r1 = r1 > h ? h : r1;
      for (int64_t q = lo; q < hi; ++q)
        t[q] = idf;
      for (int64_t rr = r0; rr < r1; ++rr) {
        const float *s = x + rr * xr - j->pl * xc;
        if (j->avg)
          for (int64_t q = lo; q < hi; ++q)
            t[q] += s[q * xc];
        else if (rr == r0)
          for (int64_t q = lo; q < hi; ++q)
            t[q] = s[q * xc];
        else
          for (int64_t q = lo; q < hi; ++q)
            t[q] = maxf(s[q * xc], t[q]);
      }
      for (int64_t q = 0; q < ow; ++q) {
        const float *s = t + q * j->sw;
        float m = s[0];
        for (int64_t b = 1; b < j->kw; ++b)
          m = j->avg ? m + s[b] : maxf(s[b], m);
        yr[q * yc] = j->avg ? m / (rows * cnt[q]) : m;
      }
    }
  }
}

/* Below this many window elements a pooling runs on one thread. */
#define POOL_PARALLEL_MIN (1 << 17)

/* desc + 1: kernel, strides, pads (and for averages the end pads and
 * count_include_pad), then the views. */
static void pool2d_call(const int64_t *desc, kiln_pool_job *j, int avg) {
  j->kh = desc[1];
  j->kw = desc[2];
  j->sh = desc[3];
  j->sw = desc[4];
  j->pt = desc[5];
  j->pl = desc[6];
  j->avg = avg;
  j->pb = avg ? desc[7] : 0;
  j->pr = avg ? desc[8] : 0;
  j->include_pad = avg ? (int)desc[9] : 0;
  const int64_t *d = kiln_read_view(desc + (avg ? 10 : 7), 4, 4, &j->x);
  kiln_read_view(d, 4, 4, &j->y);
  kiln_rt_check_dim(j->y.size[0], j->x.size[0]);
  kiln_rt_check_dim(j->y.size[1], j->x.size[1]);
  /* the compiler selects this kernel for windows of at least one element
   * and positive strides (ONNX's pooling) */
  kiln_rt_check_dim(j->kh >= 1 && j->kw >= 1 && j->sh >= 1 && j->sw >= 1 &&
                        j->pt >= 0 && j->pl >= 0 && j->pb >= 0 && j->pr >= 0,
                    1);
  int64_t planes = j->x.size[0] * j->x.size[1];
  if (planes == 0 || j->y.size[2] == 0 || j->y.size[3] == 0)
    return;
  j->wide = (j->y.size[3] - 1) * j->sw + j->kw;
  j->failed = 0;
  int64_t work = planes * j->y.size[2] * j->y.size[3] * j->kh * j->kw;
  void (*range)(void *, int64_t, int64_t) =
      desc[0] == KILN_ISA_AVX512 ? kiln_pool2d_avx512
      : desc[0] == KILN_ISA_AVX2 ? kiln_pool2d_avx2
                                 : pool_range;
  /* AVX-512, stride 1, the output the input's size, planes of at most 1024
   * dense pixels, at most 49 taps: the flattened planes' kernel with its
   * tables (lanes inside the image per vector and tap, divisors). Not
   * larger planes: on 288 x 35 x 35 it took 0.25 ms against the row
   * kernel's 0.17-0.18. */
  int64_t h = j->x.size[2], w = j->x.size[3], oh = j->y.size[2], ow = j->y.size[3];
  int64_t taps = j->kh * j->kw, p = oh * ow, nv = (p + 15) / 16;
  if (desc[0] == KILN_ISA_AVX512 && j->sh == 1 && j->sw == 1 && oh == h && ow == w &&
      p <= 1024 && taps <= 49 && j->x.stride[3] == 1 && j->x.stride[2] == w &&
      j->y.stride[3] == 1 && j->y.stride[2] == ow) {
    size_t bytes = (size_t)(nv * taps) * sizeof(uint16_t) +
                   (size_t)taps * sizeof(int64_t) + (size_t)(16 * nv) * sizeof(float);
    char *tab = kiln_scratch(KILN_SCRATCH_CONV_K, bytes + 16);
    if (!tab)
      kiln_rt_fail_oom();
    int64_t *off = (int64_t *)(void *)tab;
    float *cnt = (float *)(void *)(tab + (size_t)taps * sizeof(int64_t));
    uint16_t *mask = (uint16_t *)(void *)(cnt + 16 * nv);
    for (int64_t a = 0; a < j->kh; ++a)
      for (int64_t b = 0; b < j->kw; ++b)
        off[a * j->kw + b] = (a - j->pt) * w + (b - j->pl);
    for (int64_t q = 0; q < 16 * nv; ++q)
      cnt[q] = q < p ? (float)(kiln_pool_count(q / ow, 1, j->kh, j->pt, j->pb, h,
                                               j->include_pad) *
                               kiln_pool_count(q % ow, 1, j->kw, j->pl, j->pr, w,
                                               j->include_pad))
                     : 1.0f;
    for (int64_t v = 0; v < nv; ++v)
      for (int64_t t = 0; t < taps; ++t) {
        uint16_t m = 0;
        for (int64_t l = 0; l < 16 && 16 * v + l < p; ++l) {
          int64_t iy = (16 * v + l) / ow - j->pt + t / j->kw;
          int64_t ix = (16 * v + l) % ow - j->pl + t % j->kw;
          if (iy >= 0 && iy < h && ix >= 0 && ix < w)
            m |= (uint16_t)(1u << l);
        }
        mask[v * taps + t] = m;
      }
    j->fmask = mask;
    j->foff = off;
    j->fcnt = cnt;
    range = kiln_pool2d_flat_avx512;
  }
  if (work >= POOL_PARALLEL_MIN && planes > 1)
    kiln_parallel_for(planes, range, j);
  else
    range(j, 0, planes);
  if (j->failed)
    kiln_rt_fail_oom();
}

static void pool_label(char *buf, size_t n, const void *arg) {
  const kiln_pool_job *j = arg;
  snprintf(buf, n, "%lld x %lld x %lldx%lld -> %lldx%lld, %lldx%lld s%lld",
           (long long)j->x.size[0], (long long)j->x.size[1],
           (long long)j->x.size[2], (long long)j->x.size[3],
           (long long)j->y.size[2], (long long)j->y.size[3], (long long)j->kh,
           (long long)j->kw, (long long)j->sh);
}

static double pool_work(const kiln_pool_job *j) {
  return (double)j->y.size[0] * j->y.size[1] * j->y.size[2] * j->y.size[3] *
         j->kh * j->kw;
}

void kiln_ukernel_maxpool2d_f32(const int64_t *desc, const float *fparams) {
  (void)fparams;
  KILN_PROF_BEGIN();
  kiln_pool_job j;
  pool2d_call(desc, &j, 0);
  KILN_PROF_END("maxpool", pool_work(&j), pool_label, &j);
}

void kiln_ukernel_avgpool2d_f32(const int64_t *desc, const float *fparams) {
  (void)fparams;
  KILN_PROF_BEGIN();
  kiln_pool_job j;
  pool2d_call(desc, &j, 1);
  KILN_PROF_END("avgpool2d", pool_work(&j), pool_label, &j);
}

/* ---- global average pooling: kiln.ukernel "global_avgpool_f32" --------- *
 * desc: isa, then the views x [N, C, H, W] and y [N, C, 1, 1]. Each plane
 * is summed along contiguous memory in 8 independent partial sums (vector
 * lanes; the linalg lowering's reduction over H and W vectorized across
 * channels instead, gathering one element per plane into each vector:
 * MobileNetV3-small's ten global poolings took 0.75 ms at batch 8 that
 * way), then divided by H * W. Planes with strided rows are summed row by
 * row. */

typedef float gap_v __attribute__((vector_size(32)));
typedef float gap_vu __attribute__((vector_size(32), aligned(4), may_alias));

static float plane_sum(const float *p, int64_t n) {
  gap_v s0 = {0}, s1 = {0};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 += *(const gap_vu *)(p + i);
    s1 += *(const gap_vu *)(p + i + 8);
  }
  s0 += s1;
  float s = 0.0f;
  for (int l = 0; l < 8; ++l)
    s += s0[l];
  for (; i < n; ++i)
    s += p[i];
  return s;
}

typedef struct {
  view4 x, y;
} gap_job;

static void gap_range(void *vjob, int64_t begin, int64_t end) {
  const gap_job *j = vjob;
  int64_t c = j->x.size[1], h = j->x.size[2], w = j->x.size[3];
  int rows_dense = j->x.stride[3] == 1 || w == 1;
  int plane_dense = rows_dense && (j->x.stride[2] == w || h == 1);
  float scale = 1.0f / (float)(h * w);
  for (int64_t pl = begin; pl < end; ++pl) {
    int64_t in = pl / c, ic = pl % c;
    const float *p = (const float *)j->x.base + in * j->x.stride[0] +
                     ic * j->x.stride[1];
    float s = 0.0f;
    if (plane_dense) {
      s = plane_sum(p, h * w);
    } else if (rows_dense) {
      for (int64_t r = 0; r < h; ++r)
        s += plane_sum(p + r * j->x.stride[2], w);
    } else {
      for (int64_t r = 0; r < h; ++r)
        for (int64_t q = 0; q < w; ++q)
          s += p[r * j->x.stride[2] + q * j->x.stride[3]];
    }
    ((float *)j->y.base)[in * j->y.stride[0] + ic * j->y.stride[1]] = s * scale;
  }
}

static void gap_label(char *buf, size_t n, const void *arg) {
  const gap_job *j = arg;
  snprintf(buf, n, "%lld x %lld x %lldx%lld", (long long)j->x.size[0],
           (long long)j->x.size[1], (long long)j->x.size[2],
           (long long)j->x.size[3]);
}

void kiln_ukernel_global_avgpool_f32(const int64_t *desc, const float *fparams) {
  (void)fparams;
  KILN_PROF_BEGIN();
  gap_job j;
  const int64_t *d = kiln_read_view(desc + 1, 4, 4, &j.x);
  kiln_read_view(d, 4, 4, &j.y);
  kiln_rt_check_dim(j.y.size[0], j.x.size[0]);
  kiln_rt_check_dim(j.y.size[1], j.x.size[1]);
  kiln_rt_check_dim(j.y.size[2] == 1 && j.y.size[3] == 1, 1);
  int64_t planes = j.x.size[0] * j.x.size[1];
  int64_t work = planes * j.x.size[2] * j.x.size[3];
  if (planes > 0) {
    if (work >= POOL_PARALLEL_MIN && planes > 1)
      kiln_parallel_for(planes, gap_range, &j);
    else
      gap_range(&j, 0, planes);
  }
  KILN_PROF_END("avgpool", (double)work, gap_label, &j);
}
