/*===- pwdw_f32.c - a 1 x 1 convolution and the depthwise one after it ----===*
 *
 * kiln.ukernel "pwdw_f32": the expansion and depthwise convolutions of an
 * inverted residual block (MobileNetV2/V3, EfficientNet, MNASNet) in one
 * kernel, so that the expanded tensor (6x the block's channels, the
 * largest of the block) never goes to memory:
 *   t = act1(W1 [E, C] x x [C, H*W] + b1)        (1 x 1, stride 1, no pad)
 *   y = act2(depthwise_k x k, stride s (t) + b2)  [E, OH, OW]
 * Tasks are (image, band of output rows, block of PWDW_EB channels): the
 * pointwise tiles (conv_pw_f32_impl.h) compute the band's input rows of t
 * for the block's channels into a buffer of this thread's scratch (about
 * 128 KiB, in L2), then the row kernel (dwconv_rows_f32_impl.h) reads it
 * back for the band's output rows. Rows shared by neighbouring bands
 * (k - s of them) are computed for each. AVX-512 only, and only for the
 * row kernel's shapes (dwr_fits); the compiler fuses nothing else
 * (codegen/cpu/SelectConvUkernels.cpp).
 *
 * desc: isa, flags (1: b1, 2: b2, 4: mean), act1, act2, stride, pad top,
 * pad left, then the views x [N, C, H, W], w1 [E, C, 1, 1], [b1 [E],]
 * w2 [E, 1, K, K], [b2 [E],] y [N, E, OH, OW], dense (x's planes only),
 * and with flag 4
 * a second output mean [N, E, 1, 1]: each channel's mean of y (a
 * squeeze-excite block's global average pool, as dwconv2d_f32's flag 32),
 * the row kernel's sums per band added in band order.
 *
 *===----------------------------------------------------------------------===*/

#include "conv_f32_internal.h"
#include "conv_lanes_f32.h"
#include "gemm_f32.h"
#include "dwconv_rows_f32.h"
#include "../runtime_internal.h"

#include <stdio.h>

/* channels per task: one row block of the pointwise tile */
#define PWDW_EB 8
/* the band buffer: PWDW_EB channels x the band's input rows */
#define PWDW_T_BYTES (128 << 10)
/* Below this many multiply-adds the kernel runs on one thread. */
#define PWDW_PARALLEL_MIN_MACS (1 << 18)

typedef struct {
  const float *x, *w1, *b1, *w2, *b2;
  int64_t x_img, x_ch; /* floats between x's images and channels */
  float *y;
  int64_t c, e, h, wd, oh, ow, k, s, pt, pl;
  int64_t band, bands, eblocks;
  float *partial; /* the mean: [n, bands, e] band sums / (oh * ow), or NULL */
  int act1, act2;
  int failed;
} pwdw_job;

static void pwdw_range(void *vjob, int64_t begin, int64_t end) {
  pwdw_job *j = vjob;
  int64_t rin = (j->band - 1) * j->s + j->k;
  float *t = kiln_scratch(KILN_SCRATCH_PWDW,
                          (size_t)(PWDW_EB * rin * j->wd) * sizeof(float));
  if (!t) {
    j->failed = 1;
    return;
  }
  for (int64_t task = begin; task < end; ++task) {
    int64_t eb = task % j->eblocks, band = task / j->eblocks % j->bands;
    int64_t img = task / (j->eblocks * j->bands);
    int64_t r0 = band * j->band, r1 = r0 + j->band < j->oh ? r0 + j->band : j->oh;
    /* the input rows the band reads, clipped to the image */
    int64_t ih0 = r0 * j->s - j->pt, ih1 = (r1 - 1) * j->s - j->pt + j->k;
    ih0 = ih0 < 0 ? 0 : ih0;
    ih1 = ih1 > j->h ? j->h : ih1;
    int64_t rows = ih1 > ih0 ? ih1 - ih0 : 0;
    int64_t e0 = eb * PWDW_EB, ne = j->e - e0 < PWDW_EB ? j->e - e0 : PWDW_EB;
    int64_t tp = rows * j->wd; /* floats per channel of t */
    kiln_pw_block_avx512(j->x + img * j->x_img + ih0 * j->wd, j->x_ch,
                         j->w1 + e0 * j->c, j->c,
                         j->b1 ? j->b1 + e0 : NULL, j->act1, t, tp, ne, tp);
    /* t's row 0 is the image's row ih0: its top padding, pt + ih0 */
    for (int64_t i = 0; i < ne; ++i) {
      float sum = kiln_dwrows_avx512(
          t + i * tp, j->y + (img * j->e + e0 + i) * j->oh * j->ow,
          j->w2 + (e0 + i) * j->k * j->k, j->b2 ? j->b2[e0 + i] : 0.0f, rows,
          j->wd, j->ow, j->k, j->s, j->pt + ih0, j->pl, j->act2, r0, r1);
      if (j->partial)
        j->partial[(img * j->bands + band) * j->e + e0 + i] =
            sum / (float)(j->oh * j->ow);
    }
  }
}

typedef struct {
  int64_t n, c, h, w, e, oh, ow, k, s;
} pwdw_shape;

static void pwdw_label(char *buf, size_t n, const void *arg) {
  const pwdw_shape *s = arg;
  snprintf(buf, n, "%lld x %lld x %lldx%lld -> %lld -> %lldx%lld, 1x1 + dw %lldx%lld s%lld",
           (long long)s->n, (long long)s->c, (long long)s->h, (long long)s->w,
           (long long)s->e, (long long)s->oh, (long long)s->ow, (long long)s->k,
           (long long)s->k, (long long)s->s);
}

void kiln_ukernel_pwdw_f32(const int64_t *desc, const float *fparams) {
  KILN_PROF_BEGIN();
  (void)fparams;
  int64_t flags = desc[1];
  view4 x, w1, b1 = {0}, w2, b2 = {0}, y, mean = {0};
  const int64_t *d = kiln_read_view(desc + 7, 4, 4, &x);
  d = kiln_read_view(d, 4, 4, &w1);
  if (flags & 1)
    d = kiln_read_view(d, 1, 4, &b1);
  d = kiln_read_view(d, 4, 4, &w2);
  if (flags & 2)
    d = kiln_read_view(d, 1, 4, &b2);
  d = kiln_read_view(d, 4, 4, &y);
  if (flags & 4)
    kiln_read_view(d, 4, 4, &mean);
  pwdw_job j;
  int64_t n = x.size[0];
  j.c = x.size[1];
  j.h = x.size[2];
  j.wd = x.size[3];
  j.e = w1.size[0];
  j.k = w2.size[2];
  j.oh = y.size[2];
  j.ow = y.size[3];
  j.s = desc[4];
  j.pt = desc[5];
  j.pl = desc[6];
  j.act1 = (int)desc[2];
  j.act2 = (int)desc[3];
  /* the compiler fuses only what the AVX-512 kernels take */
  kiln_rt_check_dim(desc[0] == KILN_ISA_AVX512, 1);
  kiln_rt_check_dim(w1.size[1] == j.c && w1.size[2] == 1 && w1.size[3] == 1, 1);
  kiln_rt_check_dim(w2.size[0] == j.e && w2.size[1] == 1 && w2.size[3] == j.k, 1);
  kiln_rt_check_dim(y.size[0] == n && y.size[1] == j.e, 1);
  kiln_rt_check_dim(dwr_fits(j.k, j.k, j.s, j.s, 1, 1, j.ow), 1);
  /* x's planes dense (its images and channels may lie further apart: a
   * channel slice of a larger tensor) */
  kiln_rt_check_dim(dense_from(&x, 2) && dense_from(&w1, 0) &&
                        dense_from(&w2, 0) && dense_from(&y, 0),
                    1);
  if (flags & 1)
    kiln_rt_check_dim(b1.size[3] == j.e && (b1.stride[3] == 1 || j.e == 1), 1);
  if (flags & 2)
    kiln_rt_check_dim(b2.size[3] == j.e && (b2.stride[3] == 1 || j.e == 1), 1);
  j.x = (const float *)x.base;
  j.x_img = x.stride[0]; /* 0 for a size-1 dim (view.h): never stepped */
  j.x_ch = x.stride[1];
  j.w1 = (const float *)w1.base;
  j.b1 = (flags & 1) ? (const float *)b1.base : NULL;
  j.w2 = (const float *)w2.base;
  j.b2 = (flags & 2) ? (const float *)b2.base : NULL;
  j.y = (float *)y.base;
  j.partial = NULL;
  j.failed = 0;
  if (flags & 4) {
    kiln_rt_check_dim(mean.size[0] == n && mean.size[1] == j.e &&
                          mean.size[2] == 1 && mean.size[3] == 1 &&
                          (mean.stride[1] == 1 || j.e == 1),
                      1);
  }
  int64_t macs = n * j.e * (j.h * j.wd * j.c + j.oh * j.ow * j.k * j.k);
  if (n > 0 && j.e > 0 && j.oh > 0) {
    /* output rows per band: its input rows for PWDW_EB channels fill the
     * buffer (at least 4 rows: the row kernel's tile) */
    int64_t rin = PWDW_T_BYTES / (int64_t)(PWDW_EB * j.wd * sizeof(float));
    j.band = (rin - j.k) / j.s + 1;
    j.band = j.band < 4 ? 4 : j.band > j.oh ? j.oh : j.band;
    j.bands = (j.oh + j.band - 1) / j.band;
    j.eblocks = (j.e + PWDW_EB - 1) / PWDW_EB;
    int64_t tasks = n * j.bands * j.eblocks;
    if (flags & 4) {
      j.partial = _mlir_memref_to_llvm_alloc((uint64_t)(n * j.bands * j.e) * sizeof(float));
      if (!j.partial)
        kiln_rt_fail_oom();
    }
    if (tasks > 1 && macs >= PWDW_PARALLEL_MIN_MACS)
      kiln_parallel_for(tasks, pwdw_range, &j);
    else
      pwdw_range(&j, 0, tasks);
    if (j.partial) { /* the bands' sums, in band order */
      float *m = (float *)mean.base;
      for (int64_t img = 0; img < n; ++img)
        for (int64_t ch = 0; ch < j.e; ++ch) {
          float acc = 0.0f;
          for (int64_t b = 0; b < j.bands; ++b)
            acc += j.partial[(img * j.bands + b) * j.e + ch];
          m[img * mean.stride[0] + ch] = acc;
        }
      _mlir_memref_to_llvm_free(j.partial);
    }
    if (j.failed)
      kiln_rt_fail_oom();
  }
  if (kiln_prof_on) {
    pwdw_shape s = {n, j.c, j.h, j.wd, j.e, j.oh, j.ow, j.k, j.s};
    KILN_PROF_END("pwdw", 2.0 * macs, pwdw_label, &s);
  }
}
