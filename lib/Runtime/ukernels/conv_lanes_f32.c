/*===- conv_lanes_f32.c - convolutions with output pixels in the lanes ----===*
 *
 * See conv_lanes_f32.h. Tasks are runs of output pixels of one image: a
 * run's input stays in L1 while every block of 4 output channels passes
 * over it (conv_pw_f32_avx2.c).
 *
 *===----------------------------------------------------------------------===*/

#include "conv_lanes_f32.h"
#include "gemm_f32.h"
#include "../runtime_internal.h"

/* Below this many multiply-adds a convolution runs on one thread. */
#define LANES_PARALLEL_MIN_MACS (1 << 18)
/* The most bytes of subsampled input copied before the kernel reads them. */
#define LANES_COPY_BUDGET (1 << 20)

/* ---- 1 x 1, no padding ------------------------------------------------ *
 * Y [F, P] = W [F, C] x X [C, P] per image, X's rows read in place (row
 * stride P): kiln_conv_pw_avx2 / _avx512 (tiles of 24 / 48 pixels). A
 * task's run of pixels is sized so that its input (C x run floats) stays
 * within about 24 KiB of L1. On AVX-512 this replaced the patch GEMM
 * (conv_patch_f32.c: the input copied into 16-pixel panels, then the GEMM
 * tile): MobileNetV3-small ran 1.20-1.28x faster at batch 1 and 8, 1 and
 * 2 threads (`kiln run --against`, 200 runs each), its 16 -> 72 layer at
 * 56 x 56 in 0.047 ms instead of 0.12; taking only planes of 28 x 28 and
 * more was 1.12x slower than taking them all. */

typedef struct {
  const kiln_conv_lanes_args *a;
  float *xs; /* [n, c, oh, ow] */
} sub_job;

/* Planes [begin, end) of n * c: every sh-th row, every sw-th column. */
static void sub_range(void *vjob, int64_t begin, int64_t end) {
  const sub_job *j = vjob;
  const kiln_conv_lanes_args *a = j->a;
  for (int64_t pl = begin; pl < end; ++pl) {
    const float *x = a->x + pl / a->c * a->xs[0] + pl % a->c * a->xs[1];
    float *d = j->xs + pl * a->oh * a->ow;
    float s = a->sc ? a->sc[pl / a->c * a->sc_img + pl % a->c] : 1.0f;
    for (int64_t r = 0; r < a->oh; ++r)
      for (int64_t q = 0; q < a->ow; ++q)
        d[r * a->ow + q] = x[r * a->sh * a->xs[2] + q * a->sw * a->xs[3]] * s;
  }
}

/* a's images (dense planes, stride 1) in runs of `run` pixels. Where the
 * runs give the threads fewer than 8 tasks each, the output channels are
 * split into one part per thread instead, each part a thread's contiguous
 * share of the tasks: one 7 x 7 image is runs of 48 and 1 pixels
 * (MobileNetV3's 96 -> 576 at batch 1 ran on one of two threads), a
 * 14 x 14 one 8 runs of 24 and one of 4. */
static void run_pointwise(const kiln_conv_lanes_args *a, int64_t p, int parallel) {
  int avx512 = a->isa == KILN_ISA_AVX512;
  int64_t tile = avx512 ? 48 : 24, rows = avx512 ? 8 : 4;
  int64_t run = (6144 / (a->c > 0 ? a->c : 1)) / tile * tile;
  run = run < tile ? tile : run > 384 ? 384 : run;
  kiln_conv_pw_job j = {a, p, run, (p + run - 1) / run, 1};
  int64_t threads = kiln_rt_num_threads(), tasks = a->n * j.runs;
  int64_t fblocks = (a->f + rows - 1) / rows; /* the kernel's channel blocks */
  if (parallel && threads > 1 && tasks < 8 * threads && fblocks >= threads)
    j.fparts = threads;
  kiln_range_fn fn = avx512 ? kiln_conv_pw_avx512 : kiln_conv_pw_avx2;
  if (parallel)
    kiln_parallel_for(tasks * j.fparts, fn, &j);
  else
    fn(&j, 0, tasks);
}

int kiln_conv_lanes(const kiln_conv_lanes_args *a) {
  int64_t p = a->oh * a->ow;
  if (a->isa != KILN_ISA_AVX2 && a->isa != KILN_ISA_AVX512)
    return 0;
  int64_t macs = a->n * a->f * p * a->c;
  if (a->kh != 1 || a->kw != 1 || a->pt != 0 || a->pl != 0)
    return 0;
  int parallel = macs >= LANES_PARALLEL_MIN_MACS;
  if (a->sh == 1 && a->sw == 1 && a->oh == a->h && a->ow == a->w &&
      a->xs[3] == 1 && a->xs[2] == a->w && a->xs[1] == p) {
    if (!a->sc) {
      run_pointwise(a, p, parallel);
      return 1;
    }
    /* x * s per (image, channel): the filter's columns scaled per image
     * instead (F x C floats an image, not C x P) */
    int64_t imgs = a->sc_img ? a->n : 1;
    float *ws = kiln_scratch(KILN_SCRATCH_CONV_S,
                             (size_t)(imgs * a->f * a->c) * sizeof(float));
    if (!ws)
      kiln_rt_fail_oom();
    for (int64_t i = 0; i < imgs; ++i)
      for (int64_t o = 0; o < a->f; ++o)
        for (int64_t ci = 0; ci < a->c; ++ci)
          ws[(i * a->f + o) * a->c + ci] =
              a->wt[o * a->c + ci] * a->sc[i * a->sc_img + ci];
    kiln_conv_lanes_args sa = *a;
    sa.wt = ws;
    sa.wt_img = a->sc_img ? a->f * a->c : 0;
    sa.sc = NULL;
    run_pointwise(&sa, p, parallel);
    return 1;
  }
  /* strided (ResNet's downsample branch) or not dense: the pixels read are
   * copied into dense planes first, then run at stride 1, a group of
   * images at a time so that the copy is still in cache when it is read
   * (a whole batch's copy is read back from L3) */
  int64_t per_img = a->c * p * (int64_t)sizeof(float);
  int64_t group = per_img > 0 ? LANES_COPY_BUDGET / per_img : a->n;
  group = group < 1 ? 1 : group > a->n ? a->n : group;
  float *xs = kiln_scratch(KILN_SCRATCH_CONV_X,
                           (size_t)(group * a->c * p) * sizeof(float));
  if (!xs)
    kiln_rt_fail_oom();
  for (int64_t i0 = 0; i0 < a->n; i0 += group) {
    int64_t g = a->n - i0 < group ? a->n - i0 : group;
    kiln_conv_lanes_args sub = *a;
    sub.x = a->x + i0 * a->xs[0];
    sub.sc = a->sc ? a->sc + i0 * a->sc_img : NULL;
    sub_job sj = {&sub, xs};
    if (g * a->c * p >= (1 << 16))
      kiln_parallel_for(g * a->c, sub_range, &sj);
    else
      sub_range(&sj, 0, g * a->c);
    sub.x = xs;
    sub.xs[0] = a->c * p;
    sub.xs[1] = p;
    sub.xs[2] = a->ow;
    sub.xs[3] = 1;
    sub.h = a->oh;
    sub.w = a->ow;
    sub.sh = sub.sw = 1;
    sub.n = g;
    sub.y = a->y + i0 * a->y_img;
    sub.res = a->res ? a->res + i0 * a->res_img : NULL;
    sub.sc = NULL; /* applied by the copy */
    run_pointwise(&sub, p, parallel);
  }
  return 1;
}
