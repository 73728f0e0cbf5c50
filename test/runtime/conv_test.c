/*===- conv_test.c - the runtime's convolution kernels against references -===*
 *
 * kiln.ukernel "conv2d_f32" (patch GEMM, pointwise and direct kernels) and
 * "dwconv2d_f32" in every ISA variant the CPU has, against a
 * double-precision reference (test/runtime/conv.test; split out of
 * ukernels_test.c).
 *
 *===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L
#include "kiln/runtime.h"
#include "runtime_internal.h"
#include "ukernel_test_util.h"
#include "ukernel_ref.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kiln_ukernel_conv2d_f32(const int64_t *desc, const float *fparams);
void kiln_ukernel_dwconv2d_f32(const int64_t *desc, const float *fparams);
void kiln_ukernel_pwdw_f32(const int64_t *desc, const float *fparams);

/* One 2-D convolution through kiln_ukernel_conv2d_f32 against a double
 * reference: y = act(conv(x, w) + bias + residual). packed: the filter
 * packed into the GEMM's panels as the compiler packs it (flag 4), which
 * runs the direct kernel (conv_direct_f32.h). xscale: the input scaled per
 * image and channel by an extra operand (flag 16; 1: [N, C, 1, 1], 2: one
 * [1, C, 1, 1] for the batch), as a squeeze-excite gate taken into the
 * convolution. mean (depthwise): the kernel's second output, each
 * channel's mean of y (flag 32, a global average pool taken into it).
 * packed 2 (3 x 3, stride 1, AVX-512): the filter transformed for Winograd
 * F(2x2, 3x3) as the compiler transforms it (flags 4 | 64: U = G g G^T in
 * double, [16, F, C], each U[xi] in k-major blocks of 12 rows). */
/* Groups of a grouped convolution (flag 128, unpacked filters): check_conv
 * reads it; test_grouped sets it. */
static int64_t groups = 1;

static double check_conv(int isa, int64_t n, int64_t c, int64_t h, int64_t w,
                         int64_t f, int64_t kh, int64_t kw, int64_t sh,
                         int64_t sw, int64_t pt, int64_t pl, int64_t pb,
                         int64_t pr, int64_t dh, int64_t dw, int bias, int res,
                         int act, int depthwise, int packed, int xscale,
                         int mean) {
  int64_t cg = depthwise ? 1 : c / groups; /* input channels per filter */
  if (depthwise)
    f = c;
  int64_t oh = (h + pt + pb - dh * (kh - 1) - 1) / sh + 1;
  int64_t ow = (w + pl + pr - dw * (kw - 1) - 1) / sw + 1;
  int64_t xn = n * c * h * w, wn = f * cg * kh * kw, yn = n * f * oh * ow;
  float *x = malloc(sizeof(float) * (size_t)xn), *wt = malloc(sizeof(float) * (size_t)wn);
  float *b = malloc(sizeof(float) * (size_t)f), *r = malloc(sizeof(float) * (size_t)yn);
  float *y = malloc(sizeof(float) * (size_t)yn);
  float *ym = malloc(sizeof(float) * (size_t)(n * f));
  double *mref = calloc((size_t)(n * f), sizeof(double));
  for (int64_t i = 0; i < xn; ++i) x[i] = frand();
  for (int64_t i = 0; i < wn; ++i) wt[i] = frand();
  for (int64_t i = 0; i < f; ++i) b[i] = frand();
  for (int64_t i = 0; i < yn; ++i) r[i] = frand();
  int64_t sn = xscale == 1 ? n : 1;
  float *sc = malloc(sizeof(float) * (size_t)(sn * c));
  for (int64_t i = 0; i < sn * c; ++i) sc[i] = 0.5f + frand();
  int64_t k = cg * kh * kw, panels = (f + 15) / 16;
  float *wp = calloc((size_t)(panels * k * 16), sizeof(float));
  /* AVX2, channels in multiples of 8: K in (c / 8, kh, kw, c % 8) order
   * and flag 8, as the compiler packs it (the channel-blocked mode) */
  int c8 = packed && !depthwise && groups == 1 && isa == KILN_ISA_AVX2 && c % 8 == 0;
  for (int64_t o = 0; o < f; ++o)
    for (int64_t kk = 0; kk < k; ++kk) {
      int64_t ci = kk / (kh * kw), t = kk % (kh * kw);
      int64_t to = c8 ? ((ci / 8) * kh * kw + t) * 8 + ci % 8 : kk;
      wp[(o / 16 * k + to) * 16 + o % 16] = wt[o * k + kk];
    }
  int wino = packed == 2;
  float *u = NULL;
  if (wino) {
    static const double G[4][3] = {{1, 0, 0}, {.5, .5, .5}, {.5, -.5, .5}, {0, 0, 1}};
    u = malloc(sizeof(float) * (size_t)(16 * f * c));
    for (int64_t o = 0; o < f; ++o)
      for (int64_t ci = 0; ci < c; ++ci)
        for (int xi = 0; xi < 16; ++xi) {
          double v = 0;
          for (int a = 0; a < 3; ++a)
            for (int bb = 0; bb < 3; ++bb)
              v += G[xi / 4][a] * wt[((o * c + ci) * 3 + a) * 3 + bb] * G[xi % 4][bb];
          int64_t o0 = o - o % 12, rows = f - o0 < 12 ? f - o0 : 12;
          u[xi * f * c + o0 * c + ci * rows + o % 12] = (float)v;
        }
  }
  int64_t desc[64], *d = desc;
  *d++ = isa;
  *d++ = (bias ? 1 : 0) | (res ? 2 : 0) | (packed ? 4 : 0) | (c8 ? 8 : 0) |
         (xscale ? 16 : 0) | (mean ? 32 : 0) | (wino ? 64 : 0) |
         (groups > 1 ? 128 : 0);
  *d++ = act;
  *d++ = sh; *d++ = sw; *d++ = pt; *d++ = pl; *d++ = dh; *d++ = dw;
  if (packed) { *d++ = kh; *d++ = kw; }
#define VIEW4(p, a0, a1, a2, a3)                                               \
  *d++ = (intptr_t)(p); *d++ = 0; *d++ = a0; *d++ = a1; *d++ = a2; *d++ = a3;  \
  *d++ = (a1) * (a2) * (a3); *d++ = (a2) * (a3); *d++ = a3; *d++ = 1;
  VIEW4(x, n, c, h, w)
  if (wino) {
    *d++ = (intptr_t)u; *d++ = 0; *d++ = 16; *d++ = f; *d++ = c;
    *d++ = f * c; *d++ = c; *d++ = 1;
  } else if (packed) {
    *d++ = (intptr_t)wp; *d++ = 0; *d++ = panels; *d++ = k; *d++ = 16;
    *d++ = k * 16; *d++ = 16; *d++ = 1;
  } else {
    VIEW4(wt, f, cg, kh, kw)
  }
  if (bias) { *d++ = (intptr_t)b; *d++ = 0; *d++ = f; *d++ = 1; }
  int64_t res_at = d - desc;
  if (res) { VIEW4(r, n, f, oh, ow) }
  if (xscale) {
    VIEW4(sc, sn, c, 1, 1)
    if (sn == 1)
      d[-4] = 0; /* a size-1 dim's stride as kiln's lowering may give it */
  }
  int64_t y_at = d - desc;
  VIEW4(y, n, f, oh, ow)
  if (mean) { VIEW4(ym, n, f, 1, 1) }
#undef VIEW4
  if (depthwise)
    kiln_ukernel_dwconv2d_f32(desc, NULL);
  else
    kiln_ukernel_conv2d_f32(desc, NULL);
  /* With a residual, again written over the residual itself (y2 starts as
   * a copy of it and is both views), as the compiler calls it where the
   * residual has no later reader: every path must read each residual
   * element before it stores that output element. */
  float *y2 = NULL;
  if (res && !depthwise) {
    y2 = malloc(sizeof(float) * (size_t)yn);
    memcpy(y2, r, sizeof(float) * (size_t)yn);
    int64_t desc2[64];
    memcpy(desc2, desc, sizeof desc2);
    desc2[res_at] = desc2[y_at] = (intptr_t)y2;
    kiln_ukernel_conv2d_f32(desc2, NULL);
  }
  double worst = 0;
  for (int64_t in = 0; in < n; ++in)
    for (int64_t o = 0; o < f; ++o)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t jj = 0; jj < ow; ++jj) {
          double acc = bias ? b[o] : 0.0, mag = fabs(acc);
          for (int64_t g = 0; g < cg; ++g)
            for (int64_t a = 0; a < kh; ++a)
              for (int64_t bb = 0; bb < kw; ++bb) {
                int64_t ci = depthwise ? o : o / (f / groups) * cg + g;
                int64_t ih = i * sh - pt + a * dh, iw = jj * sw - pl + bb * dw;
                if (ih < 0 || ih >= h || iw < 0 || iw >= w)
                  continue;
                double t = (double)x[((in * c + ci) * h + ih) * w + iw] *
                           wt[((o * cg + g) * kh + a) * kw + bb];
                if (xscale)
                  t *= sc[(xscale == 1 ? in : 0) * c + ci];
                acc += t;
                mag += fabs(t);
              }
          int64_t yi = ((in * f + o) * oh + i) * ow + jj;
          if (res)
            acc += r[yi];
          acc = act_ref(acc, act);
          double e = fabs(y[yi] - acc) / (1 + mag);
          worst = e > worst ? e : worst;
          if (y2) {
            e = fabs(y2[yi] - acc) / (1 + mag);
            worst = e > worst ? e : worst;
          }
          mref[in * f + o] += acc / (double)(oh * ow);
        }
  for (int64_t i = 0; mean && i < n * f; ++i) {
    double e = fabs(ym[i] - mref[i]) / (1 + fabs(mref[i]));
    worst = e > worst ? e : worst;
  }
  free(x); free(wt); free(wp); free(b); free(r); free(y); free(y2); free(sc); free(ym); free(mref);
  free(u);
  return worst;
}

static void test_winograd(int isa);

/* Grouped convolutions (flag 128): the direct grouped kernel on AVX2 and
 * AVX-512, the patch GEMM per group on the portable build. */
static void test_grouped(int isa) {
  /* n, c, h, w, f, groups, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw */
  static const int64_t cs[][16] = {
      {2, 16, 14, 14, 16, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},  /* ResNeXt-like */
      {1, 64, 7, 7, 64, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},    /* 7 x 7: flat tiles */
      {1, 24, 15, 17, 24, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},  /* stride 2, odd plane */
      {1, 6, 9, 11, 9, 3, 5, 5, 1, 2, 0, 1, 2, 1, 2, 2},     /* 3 filters a group */
      {2, 4, 8, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},      /* depthwise multiplier */
      {1, 8, 10, 10, 6, 2, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1},    /* 1 x 1 stride 2 */
      {1, 32, 56, 56, 32, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},  /* 56 columns */
      {1, 8, 5, 3, 8, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},      /* tiny, flat */
      {1, 12, 6, 40, 12, 3, 3, 3, 3, 3, 2, 2, 2, 2, 1, 1},   /* stride 3 */
      /* groups of 16 and 32 filters: the channel-vector tiles */
      {1, 64, 14, 14, 64, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},  /* one row a tile */
      {2, 64, 15, 15, 64, 2, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},  /* stride 2, 8 x 8 */
      {1, 32, 9, 11, 32, 2, 5, 5, 1, 2, 0, 1, 2, 1, 2, 2},   /* dilation, pads */
      {1, 64, 7, 7, 128, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},   /* 7 x 7, 32 a group */
      {1, 48, 13, 6, 48, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},   /* 6 columns */
  };
  int ncases = (int)(sizeof cs / sizeof cs[0]), cases = 0;
  double worst = 0;
  for (int i = 0; i < ncases; ++i)
    /* plain; bias + ReLU (SiLU, ReLU6, GELU in some cases); bias + residual + HardSwish;
     * each again with the
     * compiler's packed filter where it packs one (AVX2 / AVX-512, groups
     * of a multiple of 16 filters) */
    for (int v = 0; v < 6; ++v) {
      const int64_t *q = cs[i];
      int packed = v >= 3;
      if (packed && (isa == KILN_ISA_GENERIC || q[4] / q[5] % 16 != 0))
        continue;
      groups = q[5];
      double e = check_conv(isa, q[0], q[1], q[2], q[3], q[4], q[6], q[7], q[8], q[9],
                            q[10], q[11], q[12], q[13], q[14], q[15], v % 3 > 0,
                            v % 3 == 2,
                            v % 3 == 1   ? (i % 4 == 1   ? KILN_ACT_SILU
                                            : i % 4 == 2 ? KILN_ACT_RELU6
                                            : i % 4 == 3 ? KILN_ACT_GELU
                                                         : KILN_ACT_RELU)
                            : v % 3 == 2 ? KILN_ACT_HARDSWISH
                                         : 0,
                            0, packed, 0, 0);
      groups = 1;
      ++cases;
      if (!(e <= 2e-6)) {
        printf("FAIL conv grouped %s case %d variant %d: error %.3g\n", isa_name(isa), i,
               v, e);
        ++failures;
      }
      worst = e > worst ? e : worst;
    }
  printf("conv grouped %s: %d cases, max error %s (%.1e)\n", isa_name(isa), cases,
         worst <= 2e-6 ? "<= 2e-6" : "TOO LARGE", worst);
}

static void test_conv(int isa) {
  /* n, c, h, w, f, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw */
  static const int64_t cs[][15] = {
      {2, 3, 9, 9, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},        /* same padding */
      {1, 8, 20, 37, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},     /* runs across rows */
      {1, 4, 23, 23, 13, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},     /* stride 2 */
      {1, 3, 30, 30, 8, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1},      /* a ResNet stem */
      {2, 16, 14, 14, 32, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},    /* pointwise */
      {1, 16, 14, 14, 8, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1},     /* 1x1 stride 2 */
      {1, 5, 17, 19, 7, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2},      /* dilation 2 */
      {1, 2, 10, 11, 3, 2, 3, 1, 2, 0, 1, 1, 0, 1, 1},      /* asymmetric */
      {1, 6, 7, 7, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},       /* 49 pixels */
      {2, 7, 14, 14, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},     /* F % 32 = 6 */
      {1, 9, 12, 13, 33, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1},     /* no padding */
      {1, 3, 5, 4, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},       /* tiny rows */
      {3, 4, 16, 61, 20, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1},     /* 5x5 stride 2 */
      {1, 2, 9, 30, 16, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1},      /* row stride 2 */
      {1, 4, 1, 40, 5, 1, 3, 1, 1, 0, 1, 0, 1, 1, 1},       /* 1-D, one row */
      {1, 24, 7, 9, 13, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},      /* pointwise, 63 px */
      {3, 5, 16, 16, 7, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},      /* pointwise, 256 px */
      {2, 40, 14, 14, 30, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},    /* pointwise, F % 4 = 2 */
      {1, 3, 2, 5, 9, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},        /* pointwise, 10 px */
      {1, 264, 6, 7, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},     /* AVX2 c8, k blocks */
      {1, 256, 10, 10, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},   /* big filter: flat, k blocks */
      {2, 288, 9, 9, 40, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},     /* the same in row mode */
      {2, 16, 11, 13, 24, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},    /* c8, stride 2 */
      {1, 8, 9, 10, 16, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2},      /* c8, dilation 2 */
      {1, 64, 8, 9, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},      /* c8 6 x 16 assembly */
      {2, 72, 13, 11, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},    /* the same, stride 2 */
      {1, 64, 7, 7, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},      /* 5- and 6-pixel tiles */
      {1, 576, 7, 7, 96, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},     /* 3 filter blocks: shorter runs */
      /* pointwise on 28 x 28 planes and more: AVX-512's 8 x 48 tiles too */
      {1, 16, 28, 30, 19, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},    /* 840 px, F % 8 = 3 */
      {2, 40, 29, 29, 24, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},    /* 841 px, 2 images */
      {1, 8, 60, 61, 16, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1},     /* stride 2: 30 x 31 */
      /* padded copies over 1 MiB a batch: made one image at a time */
      {2, 3, 300, 300, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},    /* a stem */
      {2, 8, 190, 190, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},    /* c8 */
      {2, 16, 300, 300, 4, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1},   /* 1x1 stride 2 */
      {5, 40, 1, 1, 36, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},      /* 1x1 planes: GEMM */
      {1, 16, 1, 1, 20, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},      /* the same, batch 1 */
      {1, 3, 32, 48, 8, 16, 16, 16, 16, 0, 0, 0, 0, 1, 1},  /* ViT patches: 2 x 3 */
      {2, 3, 64, 80, 8, 16, 16, 16, 16, 0, 0, 0, 0, 1, 1},  /* 4 x 5: a full panel */
      {1, 2, 56, 64, 5, 16, 16, 16, 16, 8, 0, 8, 0, 1, 1},  /* the same, rows padded */
      {2, 3, 28, 42, 5, 4, 6, 4, 6, 0, 0, 0, 0, 1, 1},      /* patches, runs across rows */
      {1, 2, 13, 19, 4, 3, 3, 3, 3, 1, 0, 1, 0, 1, 1},      /* patches, rows padded, w left over */
      /* column strides past 2 (direct: AVX-512's gather tiles) */
      {1, 3, 67, 67, 40, 11, 11, 4, 4, 2, 2, 2, 2, 1, 1},   /* AlexNet's stem, 15 x 15 */
      {2, 3, 36, 44, 20, 4, 4, 4, 4, 0, 0, 0, 0, 1, 1},     /* 4 x 4 / 4 patches (Swin) */
      {1, 5, 20, 31, 17, 3, 5, 2, 3, 1, 2, 0, 1, 1, 1},     /* 3 x 5, strides 2 x 3 */
      {1, 4, 19, 40, 33, 3, 3, 1, 5, 1, 1, 1, 1, 2, 1},     /* column stride 5, dilation */
  };
  for (int packed = 0; packed <= (isa == KILN_ISA_GENERIC ? 0 : 1); ++packed) {
    double worst = 0;
    int cases = 0;
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; ++i)
      for (int ep = 0; ep < 10; ++ep) {
        /* 8, 9: an input scale per image / for the batch, with the bias,
         * and the residual or ReLU */
        const int64_t *q = cs[i];
        int xs = ep >= 8 ? ep - 7 : 0;
        double e = check_conv(isa, q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7],
                              q[8], q[9], q[10], q[11], q[12], q[13], q[14],
                              ep & 1 || xs, xs ? ep == 8 : (ep >> 1) & 1,
                              xs ? (ep == 9 ? KILN_ACT_RELU : 0)
                              : (ep >> 2) & 1 ? (i % 10 == 3 ? KILN_ACT_GELU
                                               : i % 5 == 3 ? KILN_ACT_HARDSIGMOID
                                               : i % 5 == 2 ? KILN_ACT_SILU
                                               : i % 5 == 4 ? KILN_ACT_RELU6
                                               : i % 5 == 1 ? KILN_ACT_HARDSWISH
                                                            : KILN_ACT_RELU)
                                 : 0,
                              0, packed, xs, 0);
        ++cases;
        if (e > 2e-6) {
          printf("FAIL conv%s %s case %zu epilogue %d: error %g\n",
                 packed ? " direct" : "", isa_name(isa), i, ep, e);
          ++failures;
        }
        worst = e > worst ? e : worst;
      }
    printf("conv%s %s: %d cases, max error %s\n", packed ? " direct" : "",
           isa_name(isa), cases, worst <= 2e-6 ? "<= 2e-6" : "TOO LARGE");
  }
  double worst = 0;
  int cases = 0;
  /* depthwise: n, c, h, w, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw */
  static const int64_t dws[][14] = {
      {2, 5, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},       /* same padding */
      {1, 4, 7, 7, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1},       /* MobileNet 5x5 */
      {1, 3, 23, 22, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},     /* stride 2 */
      {1, 2, 15, 14, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1},     /* 5x5 stride 2 */
      {1, 3, 40, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},     /* long rows */
      {1, 2, 11, 12, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2},     /* dilation 2 */
      {1, 2, 13, 10, 3, 2, 3, 1, 0, 1, 1, 0, 1, 1},     /* stride 3, asym. */
      /* channel-blocked kernel (AVX2 8, AVX-512 16 channels per task): */
      {2, 19, 9, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},     /* 2 images, partial block */
      {1, 24, 7, 7, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1},      /* 7 x 7, 5 x 5 */
      {1, 17, 28, 28, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},    /* stride 2 */
      {1, 16, 1, 9, 1, 3, 1, 1, 0, 1, 0, 1, 1, 1},      /* one row */
      {1, 33, 12, 11, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1},    /* pads after only */
      {1, 8, 6, 21, 3, 3, 1, 2, 3, 4, 3, 4, 1, 1},      /* pads > kernel/2 */
      {1, 9, 14, 14, 5, 5, 1, 1, 4, 4, 4, 4, 2, 2},     /* dilation 2, 5 x 5 */
      /* one image on the 2-thread pool, MobileNet-sized planes */
      {1, 40, 28, 28, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1},    /* 3 channel blocks, the last partial */
      {1, 48, 41, 41, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},    /* stride 2, odd plane */
      /* one channel block in 4 row parts (the means summed over them) */
      {1, 16, 112, 112, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},  /* MobileNetV3's first */
      {2, 8, 35, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},     /* 2 images, uneven parts */
      /* long output rows, 7 x 7 filters, column stride 2 only: */
      {1, 3, 28, 28, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1},     /* 5 x 5, a partial 2nd vector */
      {2, 3, 56, 56, 7, 7, 1, 1, 3, 3, 3, 3, 1, 1},     /* ConvNeXt's 7 x 7 */
      {1, 2, 37, 67, 3, 3, 2, 2, 0, 1, 1, 0, 1, 1},     /* stride 2, asymmetric pads */
      {1, 2, 9, 40, 1, 5, 2, 1, 0, 2, 0, 2, 1, 1},      /* 1 x 5, row stride 2 */
      {1, 2, 21, 34, 3, 3, 1, 2, 1, 1, 1, 1, 1, 1},     /* column stride 2 only */
      /* AVX-512's row kernel (rows of 12+ columns, square 3/5/7, stride
       * 1 or 2): tiles of 4 rows x 2 vectors (3 x 3) or 1, leftover
       * rows 1-3 and a leftover vector, masked row ends */
      {1, 3, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},     /* one vector a row */
      {1, 2, 10, 26, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},     /* a masked 2nd vector */
      {1, 2, 17, 45, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},     /* 3 vectors, 1 leftover row */
      {1, 2, 19, 33, 3, 3, 1, 1, 0, 2, 2, 0, 1, 1},     /* asymmetric pads */
      {1, 2, 13, 12, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1},     /* no pads: 10 wide, cb */
      {1, 2, 15, 16, 3, 3, 1, 1, 3, 3, 3, 3, 1, 1},     /* pads past the window */
      {1, 2, 31, 31, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},     /* stride 2: 16 wide */
      {1, 2, 30, 66, 3, 3, 2, 2, 0, 1, 1, 0, 1, 1},     /* stride 2, pads after */
      {1, 2, 33, 35, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1},     /* 5 x 5 stride 2: 17 wide */
      {1, 2, 14, 29, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1},     /* 5 x 5, 2 vectors */
      {1, 2, 22, 21, 7, 7, 1, 1, 3, 3, 3, 3, 1, 1},     /* 7 x 7, 22 rows */
      {1, 2, 27, 41, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1},     /* 7 x 7 stride 2 */
      {1, 2, 12, 26, 7, 7, 1, 1, 1, 5, 4, 2, 1, 1},     /* 7 x 7, uneven pads */
      {2, 19, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},    /* 2 images x 19 planes */
      {1, 1, 56, 56, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},     /* one plane, 4 row parts */
  };
  worst = 0;
  cases = 0;
  for (size_t i = 0; i < sizeof dws / sizeof dws[0]; ++i)
    /* 6: the means too, HardSwish; 7, 8: SiLU (EfficientNet's), 8 with
     * the means; 9: HardSigmoid, ReLU6 or GELU */
    for (int ep = 0; ep < 10; ++ep) {
      const int64_t *q = dws[i];
      int act = ep >> 1 == 0   ? 0
                : ep >> 1 == 1 ? KILN_ACT_RELU
                : ep < 7       ? KILN_ACT_HARDSWISH
                : ep < 9       ? KILN_ACT_SILU
                : i % 3 == 1   ? KILN_ACT_RELU6
                : i % 3 == 2   ? KILN_ACT_GELU
                               : KILN_ACT_HARDSIGMOID;
      double e = check_conv(isa, q[0], q[1], q[2], q[3], 0, q[4], q[5], q[6],
                            q[7], q[8], q[9], q[10], q[11], q[12], q[13], ep & 1 || ep > 6,
                            0, act, 1, 0, 0, ep == 6 || ep == 8);
      ++cases;
      if (e > 2e-6) {
        printf("FAIL depthwise conv %s case %zu epilogue %d: error %g\n",
               isa_name(isa), i, ep, e);
        ++failures;
      }
      worst = e > worst ? e : worst;
    }
  printf("depthwise conv %s: %d cases, max error %s\n", isa_name(isa), cases,
         worst <= 2e-6 ? "<= 2e-6" : "TOO LARGE");
}

/* Winograd F(2x2, 3x3) (AVX-512 only: the compiler transforms filters for
 * it only there), bias / residual / activations, against the same double
 * reference. */
static void test_winograd(int isa) {
  /* Winograd F(2x2, 3x3) (AVX-512): n, c, h, w, f, pt, pl, pb, pr */
  static const int64_t ws[][9] = {
      {2, 8, 9, 9, 13, 1, 1, 1, 1},      /* odd plane: a half last tile */
      {1, 16, 20, 37, 24, 1, 1, 1, 1},   /* 19 tiles a row: two vectors */
      {1, 8, 14, 14, 40, 1, 1, 1, 1},    /* 7 tiles a row: runs across rows */
      {3, 12, 5, 4, 17, 1, 1, 1, 1},     /* 2 tiles a row, runs across images */
      {1, 9, 12, 13, 33, 0, 0, 0, 0},    /* no padding */
      {1, 10, 11, 12, 20, 2, 2, 0, 0},   /* pads before only */
      {1, 8, 7, 9, 12, 0, 1, 2, 1},      /* asymmetric */
      {1, 64, 56, 56, 64, 1, 1, 1, 1},   /* ResNet-18's first stage */
      {2, 256, 14, 14, 36, 1, 1, 1, 1},  /* several groups, parts of F */
      {1, 300, 6, 7, 13, 1, 1, 1, 1},    /* C past the group budget */
  };
  double worst = 0;
  int cases = 0;
  for (size_t i = 0; i < sizeof ws / sizeof ws[0]; ++i)
    for (int ep = 0; ep < 8; ++ep) {
      const int64_t *q = ws[i];
      int act = (ep >> 2) & 1 ? (i % 3 == 2   ? KILN_ACT_SILU
                                 : i % 3 == 1 ? KILN_ACT_HARDSWISH
                                              : KILN_ACT_RELU)
                              : 0;
      double e = check_conv(isa, q[0], q[1], q[2], q[3], q[4], 3, 3, 1, 1,
                            q[5], q[6], q[7], q[8], 1, 1, ep & 1, (ep >> 1) & 1,
                            act, 0, 2, 0, 0);
      ++cases;
      if (e > 2e-6) {
        printf("FAIL conv winograd %s case %zu epilogue %d: error %g\n",
               isa_name(isa), i, ep, e);
        ++failures;
      }
      worst = e > worst ? e : worst;
    }
  printf("conv winograd %s: %d cases, max error %s (%.1e)\n", isa_name(isa),
         cases, worst <= 2e-6 ? "<= 2e-6" : "TOO LARGE", worst);
}

/* kiln.ukernel "pwdw_f32" (pwdw_f32.c, AVX-512): y = act2(dw(act1(W1 x +
 * b1)) + b2) against the two convolutions in double, the expanded tensor
 * rounded to float as the unfused kernels store it; mean: the second
 * output, each channel's mean of y (flag 4). */
static double check_pwdw(int64_t n, int64_t c, int64_t h, int64_t w, int64_t e,
                         int64_t k, int64_t s, int64_t pt, int64_t pl,
                         int64_t pb, int64_t pr, int bias1, int bias2, int act1,
                         int act2, int mean, int64_t xoff) {
  /* xoff: x is channels [xoff, xoff + c) of a tensor of c + xoff (a
   * channel slice: images and channels further apart than dense) */
  int64_t ct = c + xoff;
  int64_t oh = (h + pt + pb - k) / s + 1, ow = (w + pl + pr - k) / s + 1;
  float *x = malloc(sizeof(float) * (size_t)(n * ct * h * w));
  float *w1 = malloc(sizeof(float) * (size_t)(e * c));
  float *w2 = malloc(sizeof(float) * (size_t)(e * k * k));
  float *b1 = malloc(sizeof(float) * (size_t)e), *b2 = malloc(sizeof(float) * (size_t)e);
  float *y = malloc(sizeof(float) * (size_t)(n * e * oh * ow));
  double *t = malloc(sizeof(double) * (size_t)(n * e * h * w));
  float *ym = malloc(sizeof(float) * (size_t)(n * e));
  double *mref = calloc((size_t)(n * e), sizeof(double));
  for (int64_t i = 0; i < n * ct * h * w; ++i) x[i] = frand();
  for (int64_t i = 0; i < e * c; ++i) w1[i] = frand();
  for (int64_t i = 0; i < e * k * k; ++i) w2[i] = frand();
  for (int64_t i = 0; i < e; ++i) { b1[i] = frand(); b2[i] = frand(); }
  int64_t desc[96], *d = desc; /* 7 params, 6 views of up to 10 */
  *d++ = KILN_ISA_AVX512;
  *d++ = (bias1 ? 1 : 0) | (bias2 ? 2 : 0) | (mean ? 4 : 0);
  *d++ = act1; *d++ = act2; *d++ = s; *d++ = pt; *d++ = pl;
#define VIEW4(p, a0, a1, a2, a3)                                               \
  *d++ = (intptr_t)(p); *d++ = 0; *d++ = a0; *d++ = a1; *d++ = a2; *d++ = a3;  \
  *d++ = (a1) * (a2) * (a3); *d++ = (a2) * (a3); *d++ = a3; *d++ = 1;
  *d++ = (intptr_t)(x + xoff * h * w); *d++ = 0; *d++ = n; *d++ = c; *d++ = h;
  *d++ = w; *d++ = ct * h * w; *d++ = h * w; *d++ = w; *d++ = 1;
  VIEW4(w1, e, c, 1, 1)
  if (bias1) { *d++ = (intptr_t)b1; *d++ = 0; *d++ = e; *d++ = 1; }
  VIEW4(w2, e, 1, k, k)
  if (bias2) { *d++ = (intptr_t)b2; *d++ = 0; *d++ = e; *d++ = 1; }
  VIEW4(y, n, e, oh, ow)
  if (mean) { VIEW4(ym, n, e, 1, 1) }
#undef VIEW4
  kiln_ukernel_pwdw_f32(desc, NULL);
  for (int64_t in = 0; in < n; ++in)
    for (int64_t o = 0; o < e; ++o)
      for (int64_t p = 0; p < h * w; ++p) {
        double a = bias1 ? b1[o] : 0.0;
        for (int64_t ci = 0; ci < c; ++ci)
          a += (double)w1[o * c + ci] * x[(in * ct + xoff + ci) * h * w + p];
        t[(in * e + o) * h * w + p] = (float)act_ref(a, act1);
      }
  double worst = 0;
  for (int64_t in = 0; in < n; ++in)
    for (int64_t o = 0; o < e; ++o)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t jj = 0; jj < ow; ++jj) {
          double acc = bias2 ? b2[o] : 0.0, mag = fabs(acc);
          for (int64_t a = 0; a < k; ++a)
            for (int64_t bb = 0; bb < k; ++bb) {
              int64_t ih = i * s - pt + a, iw = jj * s - pl + bb;
              if (ih < 0 || ih >= h || iw < 0 || iw >= w)
                continue;
              double v = t[((in * e + o) * h + ih) * w + iw] * w2[(o * k + a) * k + bb];
              acc += v;
              mag += fabs(v);
            }
          acc = act_ref(acc, act2);
          double err = fabs(y[((in * e + o) * oh + i) * ow + jj] - acc) / (1 + mag);
          worst = err > worst ? err : worst;
          mref[in * e + o] += acc / (double)(oh * ow);
        }
  for (int64_t i = 0; mean && i < n * e; ++i) {
    double err = fabs(ym[i] - mref[i]) / (1 + fabs(mref[i]));
    worst = err > worst ? err : worst;
  }
  free(x); free(w1); free(w2); free(b1); free(b2); free(y); free(t); free(ym);
  free(mref);
  return worst;
}

static void test_pwdw(void) {
  /* n, c, h, w, e, k, s, pt, pl, pb, pr */
  static const int64_t cs[][11] = {
      {1, 16, 40, 40, 24, 3, 1, 1, 1, 1, 1},     /* one band, E % 8 = 0 */
      {2, 24, 56, 56, 20, 3, 1, 1, 1, 1, 1},     /* bands, E % 8 = 4, 2 images */
      {1, 7, 112, 112, 9, 3, 2, 1, 1, 1, 1},     /* stride 2, bands */
      {1, 5, 60, 33, 16, 5, 1, 2, 2, 2, 2},      /* 5 x 5, a masked vector */
      {1, 12, 57, 48, 8, 5, 2, 2, 2, 2, 2},      /* 5 x 5 stride 2, odd rows */
      {1, 3, 90, 70, 11, 7, 1, 3, 3, 3, 3},      /* 7 x 7 */
      {1, 40, 33, 64, 17, 3, 2, 0, 1, 1, 0},     /* TF-style pads after */
      {3, 6, 200, 16, 8, 3, 1, 1, 1, 1, 1},      /* narrow tall planes: many bands */
      {1, 8, 700, 32, 8, 3, 1, 1, 1, 1, 1},      /* bands past 128 KiB of rows */
      {2, 16, 56, 56, 24, 3, 2, 1, 1, 1, 1},     /* x a channel slice (below) */
  };
  static const int acts[6][2] = {{0, 0}, {KILN_ACT_RELU6, KILN_ACT_RELU6},
                                 {KILN_ACT_RELU, KILN_ACT_RELU},
                                 {KILN_ACT_SILU, KILN_ACT_SILU},
                                 {KILN_ACT_HARDSWISH, 0},
                                 {KILN_ACT_GELU, KILN_ACT_HARDSIGMOID}};
  double worst = 0;
  int cases = 0;
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; ++i)
    for (int ep = 0; ep < 6; ++ep) {
      const int64_t *q = cs[i];
      double e = check_pwdw(q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], q[8],
                            q[9], q[10], ep != 1, ep & 1, acts[ep][0], acts[ep][1],
                            ep >= 3, i == 9 ? 5 : 0);
      ++cases;
      if (e > 2e-6) {
        printf("FAIL pwdw case %zu epilogue %d: error %g\n", i, ep, e);
        ++failures;
      }
      worst = e > worst ? e : worst;
    }
  printf("pwdw avx512: %d cases, max error %s\n", cases,
         worst <= 2e-6 ? "<= 2e-6" : "TOO LARGE");
}

/* "winograd": only the Winograd cases (conv_winograd.test, on AVX-512
 * machines); else every other kernel on every ISA the CPU has. */
int main(int argc, char **argv) {
  kiln_pool_start(2);
  int isas[3], n = test_isas(isas);
  int wino = argc > 1 && strcmp(argv[1], "winograd") == 0;
  for (int i = 0; i < n; ++i) {
    if (!wino) {
      test_conv(isas[i]);
      test_grouped(isas[i]);
      if (isas[i] == KILN_ISA_AVX512)
        test_pwdw();
    }
    else if (isas[i] == KILN_ISA_AVX512)
      test_winograd(isas[i]);
  }
  printf("conv: %s\n", failures ? "FAILED" : "ok");
  return failures != 0;
}
