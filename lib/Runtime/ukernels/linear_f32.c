/*===- linear_f32.c - kiln.linear's entry point: the dense-layer GEMMs ---===*
 *
 * kiln.ukernel "linear_f32" (codegen/cpu/SelectUkernels.cpp): reads the
 * operand views and flags and runs the dense layer on the GEMM its weights
 * were packed for (fp32, fp16, bf16, int8 or int4; gemm_f32.c and the
 * others), with the bias, activation, residual and, for a QDQ model's
 * int8 layer, its output pair as the tile's epilogue.
 *
 *===----------------------------------------------------------------------===*/

#include "gemm_f32.h"
#include "gemm_s4.h"
#include "gemm_s8.h"
#include "view.h"
#include "../runtime_internal.h"

#include <math.h>
#include <stdint.h>

/* ---- kiln.linear: y = act(x W (+ bias)) (+ residual) ------------------- *
 * Called through kiln.ukernel "linear_f32" (codegen/cpu/SelectUkernels.cpp;
 * kiln-cpu-ukernels packs a constant W at compile time and sets
 * LINEAR_PACKED). desc: isa, flags, activation, then x [M, K], W ([K, N],
 * [N, K] with LINEAR_TRANSPOSED, or packed [P, K, 16]), [bias [N],]
 * [residual [M, N],] y [M, N], each as (address, offset, sizes, strides).
 * The bias, activation and residual are applied on the register tile. */

enum {
  LINEAR_TRANSPOSED = 1,
  LINEAR_BIAS = 2,
  LINEAR_RESIDUAL = 4,
  LINEAR_PACKED = 8,
  LINEAR_PACKED_BF16 = 16, /* W packed in bf16 k-pair panels [P, KQ, 32] */
  LINEAR_PACKED_S8 = 32,   /* W quantized to int8, packed [P, KQ4 + 2, 64]
                              bytes (gemm_s8.h) */
  /* 64 is the compiler's (int8 weights + scales, before packing) */
  LINEAR_ACT_PER_TENSOR = 128, /* with 32: x quantized per tensor, as
                                  DynamicQuantizeLinear does */
  LINEAR_PACKED_S4 = 256,  /* W quantized to int4 per group, packed
                              [P, NG, G / 8 + 1, 64] bytes (gemm_s4.h) */
  LINEAR_ACT_GIVEN = 512,  /* with 32 and 128: x quantized with the scale
                              and zero point in fparams[0], fparams[1] (a
                              QuantizeLinear's, statically quantized) */
  LINEAR_S8_KILN = 1024,   /* with 32 and 128: W quantized by the compiler
                              (kiln_s8_pack_weights), not the model's own */
  LINEAR_PACKED_F16 = 2048, /* W in fp16 in the fp32 panel layout [P, K, 16]
                               (--precision fp16, pack_f16.h) */
  LINEAR_S4_ZERO_POINTS = 4096, /* with 256: [P, NG, G / 8 + 2, 64], zero
                                   points per group (gemm_s4.h) */
  LINEAR_REQUANT = 8192, /* with 32, 128 and 512: the output's
                            QuantizeLinear -> DequantizeLinear pair (scale
                            and zero point in fparams[2], fparams[3]) on
                            the products, before the bias (a QDQ model's
                            MatMul output; kiln_epilogue.requant) */
};

static void linear_f32_call(const int64_t *desc, const float *fparams) {
  int isa = (int)desc[0];
  int64_t flags = desc[1];
  int act = (int)desc[2];
  /* Operands as 4-D views (view.h): a rank-2 [M, N] is size[2], size[3];
   * size-1 dims have stride 0. */
  const int64_t *d = desc + 3;
  view4 x, w, bias = {0}, res = {0}, y;
  d = kiln_read_view(d, 2, 4, &x);
  int bf16 = (flags & LINEAR_PACKED_BF16) != 0;
  int s8 = (flags & LINEAR_PACKED_S8) != 0;
  int s4 = (flags & LINEAR_PACKED_S4) != 0;
  int f16 = (flags & LINEAR_PACKED_F16) != 0;
  int lowp = bf16 || s8 || s4 || f16; /* products on a low-precision W */
  int packed = (flags & LINEAR_PACKED) || lowp;
  d = kiln_read_view(d, s4 ? 4 : packed ? 3 : 2, bf16 || f16 ? 2 : s8 || s4 ? 1 : 4, &w);
  if (flags & LINEAR_BIAS)
    d = kiln_read_view(d, 1, 4, &bias);
  if (flags & LINEAR_RESIDUAL)
    d = kiln_read_view(d, 2, 4, &res);
  kiln_read_view(d, 2, 4, &y);
  int64_t m = x.size[2], k = x.size[3], n = y.size[3];
  /* k values per unit of the packed K dim (pairs, quads, int4 groups) */
  int64_t kstep = 1, wk, wn;
  int s4zp = s4 && (flags & LINEAR_S4_ZERO_POINTS);
  if (s4) {
    /* [P, NG, G / 8 + 1 (+ 1 with zero points), 64]: NG groups of G */
    kstep = (w.size[2] - 1 - s4zp) * 8;
    wk = w.size[1] * kstep;
    wn = w.size[0] * KILN_GEMM_NR;
  } else if (bf16) {
    kstep = 2;
    wk = w.size[2] * 2; /* [P, KQ, 32]: KQ pairs of k */
    wn = w.size[1] * KILN_GEMM_NR;
  } else if (s8) {
    kstep = 4;
    wk = (w.size[2] - 2) * 4; /* [P, KQ4 + 2, 64]: KQ4 quads of k */
    wn = w.size[1] * KILN_GEMM_NR;
  } else if (flags & (LINEAR_PACKED | LINEAR_PACKED_F16)) {
    wk = w.size[2];
    wn = w.size[1] * KILN_GEMM_NR;
  } else {
    wk = (flags & LINEAR_TRANSPOSED) ? w.size[3] : w.size[2];
    wn = (flags & LINEAR_TRANSPOSED) ? w.size[2] : w.size[3];
  }
  if (lowp) {
    if (kstep <= 0 || k > wk || k <= wk - kstep)
      kiln_rt_check_dim(k, wk);
  } else {
    kiln_rt_check_dim(wk, k);
  }
  if (!packed)
    kiln_rt_check_dim(wn, n);
  else if (n > wn || n <= wn - KILN_GEMM_NR)
    kiln_rt_check_dim(n, wn);
  kiln_rt_check_dim(y.size[2], m);
  if (flags & LINEAR_BIAS)
    kiln_rt_check_dim(bias.size[3], n);
  if (flags & LINEAR_RESIDUAL) {
    kiln_rt_check_dim(res.size[2], m);
    kiln_rt_check_dim(res.size[3], n);
  }
  if (lowp) {
    /* bf16, int8 and int4 tiles read bias, residual and y rows with unit
     * stride */
    int unitb = (y.stride[3] == 1 || n == 1) &&
                (!(flags & LINEAR_BIAS) || bias.stride[3] == 1 || n == 1) &&
                (!(flags & LINEAR_RESIDUAL) || res.stride[3] == 1 || n == 1);
    kiln_rt_check_dim(unitb, 1);
    kiln_epilogue epb = {(flags & LINEAR_BIAS) ? (const float *)bias.base : NULL,
                         (flags & LINEAR_RESIDUAL) ? (const float *)res.base : NULL,
                         res.stride[2], act, NULL, 0, NULL};
    float rq[3];
    if (flags & LINEAR_REQUANT) { /* only the int8 tiles apply it */
      kiln_rt_check_dim(s8 && (flags & LINEAR_ACT_GIVEN) ? 1 : 0, 1);
      rq[0] = fparams[2];
      rq[1] = fparams[3];
      rq[2] = kiln_quant_rcp(rq[0]);
      epb.requant = rq;
    }
    int ok = f16 ? kiln_hgemm_run(isa, 0, m, n, k, (const float *)x.base,
                                  x.stride[2], x.stride[3],
                                  (const uint16_t *)w.base, (float *)y.base,
                                  y.stride[2], &epb)
             : s4 ? kiln_s4gemm_run(isa, m, n, k, kstep, s4zp, (const float *)x.base,
                                  x.stride[2], x.stride[3],
                                  (const uint8_t *)w.base, (float *)y.base,
                                  y.stride[2], &epb)
             : bf16 ? kiln_sbgemm_run(isa, 0, m, n, k, (const float *)x.base,
                                    x.stride[2], x.stride[3],
                                    (const uint16_t *)w.base, (float *)y.base,
                                    y.stride[2], &epb)
                  : kiln_qgemm_run_mode(isa, 0,
                                        ((flags & LINEAR_ACT_PER_TENSOR)
                                             ? KILN_QGEMM_PER_TENSOR : 0) |
                                        ((flags & LINEAR_S8_KILN)
                                             ? KILN_QGEMM_KILN_WEIGHTS : 0),
                                        (flags & LINEAR_ACT_GIVEN) ? fparams : NULL,
                                        m, n, k, (const float *)x.base,
                                        x.stride[2], x.stride[3],
                                        (const int8_t *)w.base, (float *)y.base,
                                        y.stride[2], &epb);
    if (!ok)
      kiln_rt_fail_oom();
    return;
  }
  const float *bp;
  if (flags & LINEAR_PACKED) {
    bp = (const float *)w.base;
  } else {
    int64_t panels = (n + KILN_GEMM_NR - 1) / KILN_GEMM_NR;
    float *p = kiln_scratch(KILN_SCRATCH_GEMM_B,
                            (size_t)(panels * k * KILN_GEMM_NR) * sizeof(float));
    if (!p && panels * k > 0)
      kiln_rt_fail_oom();
    const float *wb = (const float *)w.base;
    if (flags & LINEAR_TRANSPOSED) /* W[j][kk]: (kk, j) at kk*s3 + j*s2 */
      kiln_sgemm_pack_b(k, n, wb, w.stride[3], w.stride[2], p);
    else
      kiln_sgemm_pack_b(k, n, wb, w.stride[2], w.stride[3], p);
    bp = p;
  }
  /* The tile kernels read bias, residual and y rows with unit stride. */
  int unit = y.stride[3] == 1 || n == 1;
  if ((flags & LINEAR_BIAS) && bias.stride[3] != 1 && n > 1)
    unit = 0;
  if ((flags & LINEAR_RESIDUAL) && res.stride[3] != 1 && n > 1)
    unit = 0;
  kiln_epilogue ep = {(flags & LINEAR_BIAS) ? (const float *)bias.base : NULL,
                      (flags & LINEAR_RESIDUAL) ? (const float *)res.base : NULL,
                      res.stride[2], act, NULL, 0};
  float *yp = (float *)y.base;
  const float *xp = (const float *)x.base;
  if (unit) {
    if (!kiln_sgemm_packed_run_ep(isa, 0, m, n, k, xp, x.stride[2], x.stride[3],
                                  bp, yp, y.stride[2], &ep))
      kiln_rt_fail_oom();
    return;
  }
  /* Strided operands (not produced by kiln's lowering): products, then a
   * scalar epilogue. */
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const float *col = bp + (j / KILN_GEMM_NR) * k * KILN_GEMM_NR + j % KILN_GEMM_NR;
      float s = 0.0f;
      for (int64_t kk = 0; kk < k; ++kk)
        s += xp[i * x.stride[2] + kk * x.stride[3]] * col[kk * KILN_GEMM_NR];
      if (ep.bias)
        s += ep.bias[j * bias.stride[3]];
      s = kiln_act_scalar(s, act);
      if (ep.residual)
        s += ep.residual[i * res.stride[2] + j * res.stride[3]];
      yp[i * y.stride[2] + j * y.stride[3]] = s;
    }
}

/* M x N x K of a linear desc (x [M, K], y [M, N]). */
static void linear_shape(const int64_t *desc, int64_t shape[4]) {
  int64_t flags = desc[1];
  int s4 = (flags & LINEAR_PACKED_S4) != 0;
  int lowp = (flags & (LINEAR_PACKED_BF16 | LINEAR_PACKED_S8)) || s4;
  int packed = (flags & LINEAR_PACKED) || lowp;
  view4 x, w, bias, res, y;
  const int64_t *d = kiln_read_view(desc + 3, 2, 4, &x);
  d = kiln_read_view(d, s4 ? 4 : packed ? 3 : 2, 4, &w);
  if (flags & LINEAR_BIAS)
    d = kiln_read_view(d, 1, 4, &bias);
  if (flags & LINEAR_RESIDUAL)
    d = kiln_read_view(d, 2, 4, &res);
  kiln_read_view(d, 2, 4, &y);
  shape[0] = 1;
  shape[1] = x.size[2];
  shape[2] = y.size[3];
  shape[3] = x.size[3];
}

void kiln_ukernel_linear_f32(const int64_t *desc, const float *fparams) {
  KILN_PROF_BEGIN();
  linear_f32_call(desc, fparams);
  if (kiln_prof_on) {
    int64_t shape[4];
    linear_shape(desc, shape);
    KILN_PROF_END("linear", 2.0 * shape[1] * shape[2] * shape[3],
                  kiln_prof_gemm_label, shape);
  }
}
