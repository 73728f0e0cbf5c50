/*===- conv_wino_f32.c - Winograd F(2x2, 3x3) convolutions: the driver ---===*
 *
 * conv2d_f32 with flags 4 | 64 (conv_wino_f32.h): checks the views, sizes
 * the groups of tile rows and the parts of the output channels, and runs
 * the AVX-512 work items over the run's threads.
 *
 *===----------------------------------------------------------------------===*/

#include "conv_wino_f32.h"
#include "conv_f32_internal.h"
#include "gemm_f32.h"

#include <string.h>

/* V per xi of a group of tile rows: about this many bytes (L2-resident
 * while every block of output channels passes over it). */
#define WINO_V_BYTES (32 << 10)
/* From this many input channels all of an item's output channels are
 * multiplied before the output transform (kiln_wino_job.whole), with
 * about this many bytes of V per xi in a group. */
#define WINO_WHOLE_MIN_C 256
#define WINO_VXI_BYTES (128 << 10)

void kiln_conv2d_winograd(const int64_t *desc) {
  int64_t flags = desc[1];
  kiln_rt_check_dim(desc[0] == KILN_ISA_AVX512 && desc[3] == 1 && desc[4] == 1 &&
                        desc[7] == 1 && desc[8] == 1 && desc[9] == 3 &&
                        desc[10] == 3 && !(flags & CONV_XSCALE),
                    1);
  view4 x, wv, bias = {0}, res = {0}, scv = {0}, y;
  read_conv_views(desc + 11, flags, 3, &x, &wv, &bias, &res, &scv, &y);
  int64_t n = x.size[0], c = x.size[1], h = x.size[2], w = x.size[3];
  int64_t f = y.size[1], oh = y.size[2], ow = y.size[3];
  kiln_rt_check_dim(wv.size[1], 16);
  kiln_rt_check_dim(wv.size[2], f);
  kiln_rt_check_dim(wv.size[3], c);
  kiln_rt_check_dim(dense_from(&wv, 1) && dense_from(&y, 1), 1);
  kiln_rt_check_dim(y.size[0], n);
  kiln_rt_check_dim(x.stride[3] == 1 || w == 1, 1);
  check_epilogue_views(flags, &bias, &res, n, f, oh, ow);
  if (n == 0 || f == 0 || oh == 0 || ow == 0)
    return;
  kiln_rt_check_dim(c > 0, 1);
  kiln_wino_job j;
  memset(&j, 0, sizeof j);
  j.x = (const float *)x.base;
  j.xs0 = x.stride[0];
  j.xs1 = x.stride[1];
  j.xs2 = x.stride[2];
  j.u = (const float *)wv.base;
  j.bias = (flags & CONV_BIAS) ? (const float *)bias.base : NULL;
  j.res = (flags & CONV_RESIDUAL) ? (const float *)res.base : NULL;
  j.rs0 = res.stride[0];
  j.y = (float *)y.base;
  j.ys0 = y.stride[0];
  j.n = n;
  j.c = c;
  j.h = h;
  j.w = w;
  j.f = f;
  j.oh = oh;
  j.ow = ow;
  j.pt = desc[5];
  j.pl = desc[6];
  j.th = (oh + 1) / 2;
  j.tw = (ow + 1) / 2;
  j.act = (int)desc[2];
  j.whole = c >= WINO_WHOLE_MIN_C;
  int64_t cols = (j.whole ? WINO_VXI_BYTES : WINO_V_BYTES) / (c * (int64_t)sizeof(float));
  cols = cols < 32 ? 32 : cols;
  int64_t rpg = cols / j.tw < 1 ? 1 : cols / j.tw;
  int64_t rows = n * j.th;
  j.groups = (rows + rpg - 1) / rpg;
  int64_t threads = kiln_rt_num_threads();
  int parallel = n * f * oh * ow * c * 9 >= DIRECT_PARALLEL_MIN_MACS && threads > 1;
  int64_t fblocks = (f + KILN_SGEMM_MR_AVX512 - 1) / KILN_SGEMM_MR_AVX512;
  j.fparts = 1;
  if (parallel && j.whole) {
    /* U large, the input transform cheap: output channels split into the
     * fewest parts that give every thread as many items (T / gcd(groups,
     * T)), so that each thread reads its part of U; every part transforms
     * its group's input itself */
    int64_t a = j.groups, b = threads;
    while (b) {
      int64_t t = a % b;
      a = b;
      b = t;
    }
    j.fparts = threads / a > fblocks ? fblocks : threads / a;
  } else if (parallel) {
    /* groups in a multiple of the threads (rows spread evenly over them,
     * kiln_conv_wino_avx512), split over output channels only where there
     * are fewer rows than threads */
    int64_t g = (j.groups + threads - 1) / threads * threads;
    j.groups = g < rows ? g : rows;
    if (j.groups < threads) {
      j.fparts = (threads + j.groups - 1) / j.groups;
      j.fparts = j.fparts > fblocks ? fblocks : j.fparts;
    }
  }
  if (parallel)
    kiln_parallel_for(j.groups * j.fparts, kiln_conv_wino_avx512, &j);
  else
    kiln_conv_wino_avx512(&j, 0, j.groups * j.fparts);
  if (j.failed)
    kiln_rt_fail_oom();
}
