/*===- affine_f32.c - per-channel scale and shift, then an activation ----===*
 *
 * Called through kiln.ukernel "channel_affine_f32"
 * (codegen/cpu/SelectConvUkernels.cpp): an inference batch normalization with
 * constant statistics that no convolution before it absorbed (DenseNet's
 * norm -> ReLU -> conv, a pre-activation block), as
 * y = act(x * s[c] + t[c]) with s = gamma / sqrt(var + eps) and t = beta -
 * mean * s computed at compile time. The generic lowering divided by the
 * standard deviation per element in scalar loops (DenseNet-121: 62 of them
 * with their ReLUs, 8.4 of 42 ms at one thread).
 *
 * desc: isa, activation (KILN_ACT_*), then the views x [N, C, H, W]
 * (rank 4, lower ranks padded with leading 1s by the compiler), s [C],
 * t [C] and y [N, C, H, W]. Planes whose rows are dense are run along
 * contiguous memory (vectorized by the compiler: -O3, and the AVX2 /
 * AVX-512 copies below); others element by element.
 *
 *===----------------------------------------------------------------------===*/

#include "gemm_f32.h" /* KILN_ISA_*, KILN_ACT_*, kiln_act_scalar */
#include "view.h"
#include "../runtime_internal.h"

#include <stdio.h>

typedef struct {
  view4 x, s, t, y;
  int act;
} affine_job;

/* n floats: y = act(x * s + t); kind: act as a constant in each inlined
 * copy for none, ReLU and ReLU6 (vectorized), -1 for the others (one call
 * of kiln_act_scalar per element) */
static inline __attribute__((always_inline)) void
affine_run(const float *restrict x, float *restrict y, int64_t n, float s,
           float t, const int kind, int act) {
  if (kind == KILN_ACT_NONE) {
    for (int64_t i = 0; i < n; ++i)
      y[i] = x[i] * s + t;
  } else if (kind == KILN_ACT_RELU) {
    for (int64_t i = 0; i < n; ++i) {
      float v = x[i] * s + t;
      y[i] = v > 0.0f ? v : 0.0f;
    }
  } else if (kind == KILN_ACT_RELU6) {
    for (int64_t i = 0; i < n; ++i) {
      float v = x[i] * s + t;
      v = v > 0.0f ? v : 0.0f;
      y[i] = v < 6.0f ? v : 6.0f;
    }
  } else {
    for (int64_t i = 0; i < n; ++i)
      y[i] = kiln_act_scalar(x[i] * s + t, act);
  }
}

/* Planes [begin, end) of n * c. */
static inline __attribute__((always_inline)) void
affine_body(void *vjob, int64_t begin, int64_t end) {
  const affine_job *j = vjob;
  int64_t c = j->x.size[1], h = j->x.size[2], w = j->x.size[3];
  int dense = (j->x.stride[3] == 1 || w == 1) && (j->x.stride[2] == w || h == 1) &&
              (j->y.stride[3] == 1 || w == 1) && (j->y.stride[2] == w || h == 1);
  for (int64_t pl = begin; pl < end; ++pl) {
    int64_t in = pl / c, ic = pl % c;
    const float *x = (const float *)j->x.base + in * j->x.stride[0] + ic * j->x.stride[1];
    float *y = (float *)j->y.base + in * j->y.stride[0] + ic * j->y.stride[1];
    float s = ((const float *)j->s.base)[ic * j->s.stride[3]];
    float t = ((const float *)j->t.base)[ic * j->t.stride[3]];
    if (!dense) {
      for (int64_t r = 0; r < h; ++r)
        for (int64_t q = 0; q < w; ++q)
          y[r * j->y.stride[2] + q * j->y.stride[3]] = kiln_act_scalar(
              x[r * j->x.stride[2] + q * j->x.stride[3]] * s + t, j->act);
      continue;
    }
    switch (j->act) {
    case KILN_ACT_NONE:
      affine_run(x, y, h * w, s, t, KILN_ACT_NONE, j->act);
      break;
    case KILN_ACT_RELU:
      affine_run(x, y, h * w, s, t, KILN_ACT_RELU, j->act);
      break;
    case KILN_ACT_RELU6:
      affine_run(x, y, h * w, s, t, KILN_ACT_RELU6, j->act);
      break;
    default:
      affine_run(x, y, h * w, s, t, -1, j->act);
      break;
    }
  }
}

static void affine_range(void *vjob, int64_t begin, int64_t end) {
  affine_body(vjob, begin, end);
}

__attribute__((target("avx2,fma"))) static void
affine_range_avx2(void *vjob, int64_t begin, int64_t end) {
  affine_body(vjob, begin, end);
}

__attribute__((target("avx512f,fma"))) static void
affine_range_avx512(void *vjob, int64_t begin, int64_t end) {
  affine_body(vjob, begin, end);
}

/* Below this many elements the pass runs on one thread. */
#define AFFINE_PARALLEL_MIN (1 << 16)

static void affine_label(char *buf, size_t n, const void *arg) {
  const affine_job *j = arg;
  snprintf(buf, n, "%lld x %lld x %lldx%lld, act %d", (long long)j->x.size[0],
           (long long)j->x.size[1], (long long)j->x.size[2],
           (long long)j->x.size[3], j->act);
}

void kiln_ukernel_channel_affine_f32(const int64_t *desc, const float *fparams) {
  (void)fparams;
  KILN_PROF_BEGIN();
  affine_job j;
  j.act = (int)desc[1];
  const int64_t *d = kiln_read_view(desc + 2, 4, 4, &j.x);
  d = kiln_read_view(d, 1, 4, &j.s);
  d = kiln_read_view(d, 1, 4, &j.t);
  kiln_read_view(d, 4, 4, &j.y);
  for (int i = 0; i < 4; ++i)
    kiln_rt_check_dim(j.y.size[i], j.x.size[i]);
  kiln_rt_check_dim(j.s.size[3], j.x.size[1]);
  kiln_rt_check_dim(j.t.size[3], j.x.size[1]);
  int64_t planes = j.x.size[0] * j.x.size[1];
  int64_t elems = planes * j.x.size[2] * j.x.size[3];
  if (elems > 0) {
    void (*range)(void *, int64_t, int64_t) = desc[0] == KILN_ISA_AVX512 ? affine_range_avx512
                                              : desc[0] == KILN_ISA_AVX2 ? affine_range_avx2
                                                                         : affine_range;
    if (elems >= AFFINE_PARALLEL_MIN && planes > 1)
      kiln_parallel_for(planes, range, &j);
    else
      range(&j, 0, planes);
  }
  KILN_PROF_END("affine", 2.0 * (double)elems, affine_label, &j);
}
