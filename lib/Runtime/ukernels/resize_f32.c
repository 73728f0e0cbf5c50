/*===- resize_f32.c - Resize (nearest, linear) of NCHW planes ------------===*
 *
 * Called through kiln.ukernel "resize2d_f32"
 * (codegen/cpu/SelectPoolUkernels.cpp) for ONNX Resize in nearest or
 * linear mode that resizes the last two dims of an f32 [N, C, H, W]
 * tensor (N and C pass through). The source coordinate of each output row
 * and column is computed once per call into tables (the same f32
 * arithmetic as the generic lowering, codegen/KilnToLinalg/Sampling.cpp,
 * so nearest picks the same pixels); linear mode then blends the two
 * input rows of each output row along contiguous memory into a row
 * buffer, and each output pixel is the blend of two of its entries
 * (separable, as ONNX's reference computes it: the generic lowering's
 * scalar loop computed every coordinate per element, and DeepLabV3's
 * 21 x 33 x 33 -> 520 x 520 upsampling took 54 ms there against ONNX
 * Runtime's 11). The AVX-512 build gathers the second pass 16 pixels at a
 * time (resize_f32_avx512.c).
 *
 * desc: isa, mode (0 nearest, 1 linear), coordinate transformation (0
 * half_pixel, 1 pytorch_half_pixel, 2 asymmetric, 3 tf_half_pixel_for_nn,
 * 4 align_corners), nearest mode (0 round_prefer_floor, 1
 * round_prefer_ceil, 2 floor, 3 ceil), then the views x [N, C, H, W] and
 * y [N, C, OH, OW]. fparams: the scales of H and W (0: OH / H, OW / W).
 *
 *===----------------------------------------------------------------------===*/

#include "gemm_f32.h" /* KILN_ISA_* */
#include "resize_f32.h"
#include "view.h"
#include "../runtime_internal.h"

#include <math.h>
#include <stdio.h>

/* Output index o's source coordinate along a dim of extent in -> out. */
static float src_coord(int64_t o, int64_t in, int64_t out, float scale, int ctm) {
  float of = (float)o, inf = (float)in, outf = (float)out;
  float s = scale != 0.0f ? scale : outf / inf;
  switch (ctm) {
  case 2: /* asymmetric */
    return of / s;
  case 3: /* tf_half_pixel_for_nn */
    return (of + 0.5f) / s;
  case 4: { /* align_corners */
    float den = outf - 1.0f > 1.0f ? outf - 1.0f : 1.0f;
    return of * (inf - 1.0f) / den;
  }
  default: { /* half_pixel, pytorch_half_pixel */
    float x = (of + 0.5f) / s - 0.5f;
    return ctm == 1 && !(outf > 1.0f) ? 0.0f : x;
  }
  }
}

static int64_t clampi(int64_t i, int64_t n) { return i < 0 ? 0 : i >= n ? n - 1 : i; }

/* The taps of one dim: i0/i1 and weights w0/w1 (linear) or i0 (nearest). */
static void dim_table(int64_t in, int64_t out, float scale, int mode, int ctm,
                      int nm, int32_t *i0, int32_t *i1, float *w0, float *w1) {
  for (int64_t o = 0; o < out; ++o) {
    float x = src_coord(o, in, out, scale, ctm);
    if (mode == 0) {
      float r = nm == 0 ? ceilf(x - 0.5f)
                : nm == 1 ? floorf(x + 0.5f)
                : nm == 2 ? floorf(x)
                          : ceilf(x);
      i0[o] = i1[o] = (int32_t)clampi((int64_t)r, in);
      w0[o] = 1.0f;
      w1[o] = 0.0f;
      continue;
    }
    float fl = floorf(x);
    int64_t k = (int64_t)fl;
    i0[o] = (int32_t)clampi(k, in);
    i1[o] = (int32_t)clampi(k + 1, in);
    w1[o] = x - fl;
    w0[o] = 1.0f - w1[o];
  }
}

/* One output row from input rows r0 and r1 (linear) or r0 (nearest). */
void kiln_resize_row(const kiln_resize_job *j, const float *r0, const float *r1,
                     float wy0, float wy1, float *t, float *yr) {
  int64_t w = j->w, ow = j->ow, xc = j->xc;
  const float *src = r0;
  if (j->mode == 1 && r1 != r0) {
    if (xc == 1)
      for (int64_t i = 0; i < w; ++i)
        t[i] = r0[i] * wy0 + r1[i] * wy1;
    else
      for (int64_t i = 0; i < w; ++i)
        t[i] = r0[i * xc] * wy0 + r1[i * xc] * wy1;
    src = t;
    xc = 1;
  } else if (xc != 1) {
    for (int64_t i = 0; i < w; ++i)
      t[i] = r0[i * xc];
    src = t;
    xc = 1;
  }
  if (j->identity_w) {
    for (int64_t o = 0; o < ow; ++o)
      yr[o] = src[o];
    return;
  }
  if (j->mode == 0) {
    for (int64_t o = 0; o < ow; ++o)
      yr[o] = src[j->xi0[o]];
    return;
  }
  for (int64_t o = 0; o < ow; ++o)
    yr[o] = src[j->xi0[o]] * j->xw0[o] + src[j->xi1[o]] * j->xw1[o];
}

/* Output rows [begin, end) of the n * c * oh. */
static void resize_range(void *vjob, int64_t begin, int64_t end) {
  kiln_resize_job *j = vjob;
  float *t = kiln_scratch(KILN_SCRATCH_DW, (size_t)(j->w + 16) * sizeof(float));
  if (!t) {
    j->failed = 1;
    return;
  }
  for (int64_t r = begin; r < end; ++r) {
    int64_t pl = r / j->oh, oy = r % j->oh;
    int64_t img = pl / j->c, ch = pl % j->c;
    const float *x = j->x + img * j->xs[0] + ch * j->xs[1];
    float *yr = j->y + img * j->ys[0] + ch * j->ys[1] + oy * j->ys[2];
    j->row(j, x + j->yi0[oy] * j->xs[2], x + j->yi1[oy] * j->xs[2], j->yw0[oy],
           j->yw1[oy], t, yr);
  }
}

typedef struct {
  int64_t n, c, h, w, oh, ow;
} resize_shape;

static void resize_label(char *buf, size_t n, const void *arg) {
  const resize_shape *s = arg;
  snprintf(buf, n, "%lld x %lld x %lldx%lld -> %lldx%lld", (long long)s->n,
           (long long)s->c, (long long)s->h, (long long)s->w, (long long)s->oh,
           (long long)s->ow);
}

void kiln_ukernel_resize2d_f32(const int64_t *desc, const float *fparams) {
  KILN_PROF_BEGIN();
  int isa = (int)desc[0];
  view4 xv, yv;
  kiln_read_view(kiln_read_view(desc + 4, 4, 4, &xv), 4, 4, &yv);
  kiln_resize_job j;
  j.mode = (int)desc[1];
  int ctm = (int)desc[2], nm = (int)desc[3];
  kiln_rt_check_dim(j.mode == 0 || j.mode == 1, 1);
  kiln_rt_check_dim(ctm >= 0 && ctm <= 4 && nm >= 0 && nm <= 3, 1);
  /* N and C pass through (the compiler proved it) */
  kiln_rt_check_dim(yv.size[0], xv.size[0]);
  kiln_rt_check_dim(yv.size[1], xv.size[1]);
  j.c = xv.size[1];
  j.h = xv.size[2];
  j.w = xv.size[3];
  j.oh = yv.size[2];
  j.ow = yv.size[3];
  kiln_rt_check_dim(yv.stride[3] == 1 || j.ow == 1, 1);
  kiln_rt_check_dim(j.h < INT32_MAX && j.w < INT32_MAX, 1);
  resize_shape sh = {xv.size[0], j.c, j.h, j.w, j.oh, j.ow};
  int64_t rows = xv.size[0] * j.c * j.oh;
  if (rows > 0 && j.ow > 0) {
    /* an empty input with a non-empty output has no pixel to read */
    kiln_rt_check_dim(j.h > 0 && j.w > 0, 1);
    int64_t tab = 2 * (j.oh + j.ow);
    void *m = kiln_scratch(KILN_SCRATCH_CONV_K,
                           (size_t)tab * (sizeof(int32_t) + sizeof(float)));
    if (!m)
      kiln_rt_fail_oom();
    int32_t *ti = m;
    float *tw = (float *)(ti + tab);
    j.yi0 = ti, j.yi1 = ti + j.oh, j.xi0 = ti + 2 * j.oh, j.xi1 = j.xi0 + j.ow;
    j.yw0 = tw, j.yw1 = tw + j.oh, j.xw0 = tw + 2 * j.oh, j.xw1 = j.xw0 + j.ow;
    dim_table(j.h, j.oh, fparams[0], j.mode, ctm, nm, j.yi0, j.yi1, j.yw0, j.yw1);
    dim_table(j.w, j.ow, fparams[1], j.mode, ctm, nm, j.xi0, j.xi1, j.xw0, j.xw1);
    /* columns that map 1:1 (a resize of the rows only) */
    j.identity_w = j.ow == j.w;
    for (int64_t o = 0; o < j.ow && j.identity_w; ++o)
      j.identity_w = j.xi0[o] == o && j.xw0[o] == 1.0f && j.xw1[o] == 0.0f;
    j.x = (const float *)xv.base;
    j.y = (float *)yv.base;
    for (int d = 0; d < 4; ++d) {
      j.xs[d] = xv.stride[d];
      j.ys[d] = yv.stride[d];
    }
    j.xc = xv.stride[3];
    j.failed = 0;
    j.row = isa == KILN_ISA_AVX512 && j.xc == 1 ? kiln_resize_row_avx512 : kiln_resize_row;
    if (rows * j.ow >= (1 << 16))
      kiln_parallel_for(rows, resize_range, &j);
    else
      resize_range(&j, 0, rows);
    if (j.failed)
      kiln_rt_fail_oom();
  }
  KILN_PROF_END("resize", (double)rows * j.ow * (j.mode ? 4 : 1), resize_label, &sh);
}
