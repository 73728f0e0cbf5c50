/*===- conv_s8_test.c - int8 convolutions (CONV_S8) against references ----===*
 *
 * kiln.ukernel "conv2d_f32" with flag 256 (conv_s8.h): a QDQ model's
 * convolution, the input quantized per tensor (u8, scale and zero point)
 * and an int8 filter packed by kiln_conv_s8_pack as the compiler packs it,
 * per tensor or per filter scales, against a double reference computed
 * from the same quantized values (test/runtime/conv_s8.test). Each case
 * runs on the generic loops and, where the CPU has AVX512-VNNI, the VNNI
 * tiles (and AMX-INT8's where it has them and the channels are a multiple
 * of 64; KILN_NO_AMX=1 keeps those on VNNI); with a residual also written
 * over the residual itself.
 *
 *===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L
#include "kiln/runtime.h"
#include "runtime_internal.h"
#include "ukernel_test_util.h"
#include "ukernel_ref.h"
#include "ukernels/conv_s8.h"
#include "ukernels/gemm_amx.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kiln_ukernel_conv2d_f32(const int64_t *desc, const float *fparams);

static int cases;
static double worst;
/* The output's Q -> DQ pair in the epilogue (flag 512): scale, zero point;
 * scale 0: off */
static float req_scale;
static int req_zp;
/* A squeeze-excite gate on the input (flag 16): 0 off, 1 per image and
 * channel [N, C, 1, 1], 2 one for the batch [1, C, 1, 1] */
static int gate_mode;
/* check_u8's scales: input, the output's Q -> DQ pair, the u8 output; with
 * u8_grid the inputs on multiples of 1/16 (with power-of-two scales, x /
 * sx and the outputs land on halves: the ties of the vector rounding) */
static float u8_sx = 0.0173f, u8_sy = 0.03f, u8_so = 0.021f;
/* --quantize int8's convolution (flag 8192): the input's scale and zero
 * point from its whole range, as DynamicQuantizeLinear computes them */
static int dyn_mode;
/* a stem's form (flag 16384): the filter packed as a 1 x 1 one over its C
 * * KH * KW values, the kernel's input those values' planes */
static int i2c_mode;
static int u8_grid, u8_act = KILN_ACT_RELU;

static uint8_t quant(float v, float s, int zp) {
  float q = v / s;
  q = q < -512.0f ? -512.0f : q > 512.0f ? 512.0f : q;
  int i = (int)nearbyintf(q) + zp;
  return (uint8_t)(i < 0 ? 0 : i > 255 ? 255 : i);
}

static void check(int isa, int64_t n, int64_t c, int64_t h, int64_t w,
                  int64_t f, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                  int64_t pt, int64_t pl, int64_t pb, int64_t pr, int bias,
                  int res, int act, int per_filter) {
  int64_t oh = (h + pt + pb - kh) / sh + 1, ow = (w + pl + pr - kw) / sw + 1;
  int64_t xn = n * c * h * w, yn = n * f * oh * ow, wn = f * c * kh * kw;
  float *x = malloc(sizeof(float) * (size_t)xn);
  int8_t *wq = malloc((size_t)wn);
  float *ws = malloc(sizeof(float) * (size_t)f), *b = malloc(sizeof(float) * (size_t)f);
  float *r = malloc(sizeof(float) * (size_t)yn), *y = malloc(sizeof(float) * (size_t)yn);
  double *want = malloc(sizeof(double) * (size_t)yn);
  float sx = 0.0173f;
  int zp = 37;
  for (int64_t i = 0; i < xn; ++i)
    x[i] = 2.5f * frand() + 0.6f; /* some past the u8 range both ways */
  if (dyn_mode) {
    float lo = 0.0f, hi = 0.0f;
    for (int64_t i = 0; i < xn; ++i) {
      lo = x[i] < lo ? x[i] : lo;
      hi = x[i] > hi ? x[i] : hi;
    }
    sx = (hi - lo) / 255.0f;
    float z = nearbyintf(-lo / sx);
    zp = z < 0.0f ? 0 : z > 255.0f ? 255 : (int)z;
  }
  for (int64_t i = 0; i < wn; ++i)
    wq[i] = (int8_t)(frand() * 127.99f);
  for (int64_t o = 0; o < f; ++o) {
    ws[o] = per_filter ? 0.002f + 0.001f * (float)(o % 7) : 0.003f;
    b[o] = frand();
  }
  for (int64_t i = 0; i < yn; ++i)
    r[i] = frand();
  float *gate = malloc(sizeof(float) * (size_t)(n * c));
  for (int64_t i = 0; i < n * c; ++i)
    gate[i] = 0.25f + 0.75f * (frand() + 1.0f);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t o = 0; o < f; ++o)
      for (int64_t a = 0; a < oh; ++a)
        for (int64_t bb = 0; bb < ow; ++bb) {
          long acc = 0;
          for (int64_t ci = 0; ci < c; ++ci)
            for (int64_t p = 0; p < kh; ++p)
              for (int64_t q = 0; q < kw; ++q) {
                int64_t yy = a * sh + p - pt, xx = bb * sw + q - pl;
                int xv = yy < 0 || yy >= h || xx < 0 || xx >= w
                             ? zp
                             : quant(x[((i * c + ci) * h + yy) * w + xx] *
                                         (gate_mode ? gate[(gate_mode == 1 ? i * c : 0) + ci]
                                                    : 1.0f),
                                     sx, zp);
                acc += (long)(xv - zp) * wq[((o * c + ci) * kh + p) * kw + q];
              }
          int64_t at = ((i * f + o) * oh + a) * ow + bb;
          double v = (double)acc * sx * ws[o] + (bias ? b[o] : 0.0);
          if (req_scale > 0.0f) {
            double q = nearbyint(v / req_scale) + req_zp;
            q = q < 0.0 ? 0.0 : q > 255.0 ? 255.0 : q;
            v = (q - req_zp) * req_scale;
          }
          v += res ? r[at] : 0.0;
          want[at] = act_ref(v, act);
        }
  int64_t pc = i2c_mode ? c * kh * kw : c, pt_ = i2c_mode ? 1 : kh * kw;
  size_t pbytes = kiln_conv_s8_packed_bytes(f, pc, pt_);
  int8_t *wp = malloc(pbytes);
  kiln_conv_s8_pack(f, pc, pt_, wq, ws, per_filter ? f : 1, wp);
  for (int inplace = 0; inplace <= (res ? 1 : 0); ++inplace) {
    float *out = y, *rv = r;
    if (inplace) {
      out = malloc(sizeof(float) * (size_t)yn);
      memcpy(out, r, sizeof(float) * (size_t)yn);
      rv = out;
    }
    int64_t desc[64], *d = desc;
    *d++ = isa;
    *d++ = 256 | (bias ? 1 : 0) | (res ? 2 : 0) | (req_scale > 0.0f ? 512 : 0) |
           (gate_mode ? 16 : 0) | (dyn_mode ? 8192 : 0) | (i2c_mode ? 16384 : 0);
    *d++ = act;
    *d++ = sh; *d++ = sw; *d++ = pt; *d++ = pl; *d++ = 1; *d++ = 1;
    *d++ = kh; *d++ = kw;
#define VIEW4(p, a0, a1, a2, a3)                                               \
  *d++ = (intptr_t)(p); *d++ = 0; *d++ = a0; *d++ = a1; *d++ = a2; *d++ = a3;  \
  *d++ = (a1) * (a2) * (a3); *d++ = (a2) * (a3); *d++ = a3; *d++ = 1;
    VIEW4(x, n, c, h, w)
    *d++ = (intptr_t)wp; *d++ = 0; *d++ = (int64_t)pbytes; *d++ = 1;
    if (bias) { *d++ = (intptr_t)b; *d++ = 0; *d++ = f; *d++ = 1; }
    if (res) { VIEW4(rv, n, f, oh, ow) }
    if (gate_mode) {
      int64_t gn = gate_mode == 1 ? n : 1;
      VIEW4(gate, gn, c, 1, 1)
      if (gn == 1)
        d[-4] = 0; /* a size-1 dim's stride as kiln's lowering may give it */
    }
    VIEW4(out, n, f, oh, ow)
#undef VIEW4
    float fp[4] = {sx, (float)zp, req_scale, (float)req_zp};
    kiln_ukernel_conv2d_f32(desc, fp);
    double e = rel_error(yn, out, want);
    ++cases;
    worst = e > worst || e != e ? e : worst;
    if (!(e <= 2e-6)) {
      ++failures;
      printf("FAIL %s n%lld c%lld %lldx%lld f%lld k%lldx%lld s%lldx%lld "
             "pad %lld %lld %lld %lld bias %d res %d act %d per_filter %d "
             "inplace %d requant %g: error %g\n",
             isa_name(isa), (long long)n, (long long)c, (long long)h,
             (long long)w, (long long)f, (long long)kh, (long long)kw,
             (long long)sh, (long long)sw, (long long)pt, (long long)pl,
             (long long)pb, (long long)pr, bias, res, act, per_filter, inplace,
             (double)req_scale, e);
    }
    if (inplace)
      free(out);
  }
  free(x); free(wq); free(ws); free(b); free(r); free(y); free(want); free(wp);
  free(gate);
}

/* One call: x f32 or (in_u8) u8, y f32 or (out_u8: quantized with
 * (so, zo)) u8; bias and the requant pair on. */
static void call(int isa, const void *x, int in_u8, void *y, int out_u8,
                 const int8_t *wp, size_t pbytes, const float *b, int64_t n,
                 int64_t c, int64_t h, int64_t w, int64_t f, int64_t k,
                 int64_t s, int64_t p, int64_t oh, int64_t ow, float sx, int zx,
                 float so, int zo) {
  int64_t desc[64], *d = desc;
  *d++ = isa;
  *d++ = 256 | 512 | 1 | (out_u8 ? 1024 : 0) | (in_u8 ? 2048 : 0);
  *d++ = u8_act;
  *d++ = s; *d++ = s; *d++ = p; *d++ = p; *d++ = 1; *d++ = 1;
  *d++ = k; *d++ = k;
#define VIEW4(q, a0, a1, a2, a3)                                               \
  *d++ = (intptr_t)(q); *d++ = 0; *d++ = a0; *d++ = a1; *d++ = a2; *d++ = a3;  \
  *d++ = (a1) * (a2) * (a3); *d++ = (a2) * (a3); *d++ = a3; *d++ = 1;
  VIEW4(x, n, c, h, w)
  *d++ = (intptr_t)wp; *d++ = 0; *d++ = (int64_t)pbytes; *d++ = 1;
  *d++ = (intptr_t)b; *d++ = 0; *d++ = f; *d++ = 1;
  VIEW4(y, n, f, oh, ow)
#undef VIEW4
  float fp[6] = {sx, (float)zx, u8_sy, 11.0f, so, (float)zo};
  kiln_ukernel_conv2d_f32(desc, fp);
}

/* Chained int8 convolutions (flags 1024 / 2048): u8 input already
 * quantized with (sx, zx) must give the f32 input's outputs bit for bit,
 * and a u8 output must hold exactly the f32 output quantized with (so,
 * zo), as the next convolution's QuantizeLinear computes it. */
static void check_u8(int isa, int64_t n, int64_t c, int64_t h, int64_t w,
                     int64_t f, int64_t k, int64_t s, int64_t p) {
  int64_t oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1;
  int64_t xn = n * c * h * w, yn = n * f * oh * ow, wn = f * c * k * k;
  float *x = malloc(sizeof(float) * (size_t)xn), *b = malloc(sizeof(float) * (size_t)f);
  float *ws = malloc(sizeof(float) * (size_t)f);
  uint8_t *xq = malloc((size_t)xn), *yq = malloc((size_t)yn), *yq2 = malloc((size_t)yn);
  float *yf = malloc(sizeof(float) * (size_t)yn), *yf2 = malloc(sizeof(float) * (size_t)yn);
  int8_t *wq = malloc((size_t)wn);
  float sx = u8_sx, so = u8_so;
  int zx = 37, zo = 5;
  for (int64_t i = 0; i < xn; ++i) {
    x[i] = 2.5f * frand() + 0.6f;
    if (u8_grid)
      x[i] = nearbyintf(x[i] * 16.0f) / 16.0f;
    xq[i] = quant(x[i], sx, zx);
  }
  for (int64_t i = 0; i < wn; ++i)
    wq[i] = (int8_t)(frand() * 127.99f);
  for (int64_t o = 0; o < f; ++o) {
    ws[o] = 0.002f + 0.001f * (float)(o % 7);
    b[o] = frand();
  }
  size_t pbytes = kiln_conv_s8_packed_bytes(f, c, k * k);
  int8_t *wp = malloc(pbytes);
  kiln_conv_s8_pack(f, c, k * k, wq, ws, f, wp);
  call(isa, x, 0, yf, 0, wp, pbytes, b, n, c, h, w, f, k, s, p, oh, ow, sx, zx, so, zo);
  call(isa, xq, 1, yf2, 0, wp, pbytes, b, n, c, h, w, f, k, s, p, oh, ow, sx, zx, so, zo);
  int bad = memcmp(yf, yf2, sizeof(float) * (size_t)yn) != 0;
  call(isa, x, 0, yq, 1, wp, pbytes, b, n, c, h, w, f, k, s, p, oh, ow, sx, zx, so, zo);
  call(isa, xq, 1, yq2, 1, wp, pbytes, b, n, c, h, w, f, k, s, p, oh, ow, sx, zx, so, zo);
  int64_t steps = 0;
  for (int64_t i = 0; i < yn; ++i) {
    bad |= yq[i] != quant(yf[i], so, zo) || yq2[i] != yq[i];
    steps += yq[i] != 0 && yq[i] != 255;
  }
  ++cases;
  if (bad || steps == 0) {
    ++failures;
    printf("FAIL %s u8 chain n%lld c%lld %lldx%lld f%lld k%lld s%lld p%lld\n",
           isa_name(isa), (long long)n, (long long)c, (long long)h, (long long)w,
           (long long)f, (long long)k, (long long)s, (long long)p);
  }
  free(x); free(b); free(ws); free(xq); free(yq); free(yq2); free(yf); free(yf2);
  free(wq); free(wp);
}

static void run(int isa) {
  cases = 0;
  worst = 0;
  /* 1 x 1 (ResNet's pointwise layers, a plane that is not a multiple of
   * the tile, channels off the quads, filters off the 8-filter blocks) */
  check(isa, 1, 64, 56, 56, 64, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 1, 1);
  check(isa, 2, 30, 7, 7, 21, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1);
  check(isa, 1, 13, 9, 11, 5, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0);
  /* on both threads, a plane of 900 (not a multiple of 16 quads) */
  check(isa, 1, 32, 30, 30, 48, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 1);
  /* strided 1 x 1 (downsample) */
  check(isa, 1, 32, 14, 14, 24, 1, 1, 2, 2, 0, 0, 0, 0, 1, 0, 0, 1);
  check(isa, 1, 8, 15, 13, 16, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 0, 1);
  /* 3 x 3, pad 1 at stride 1 and 2; 7 x 7 planes */
  check(isa, 1, 64, 28, 28, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1);
  check(isa, 2, 36, 7, 7, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
  check(isa, 1, 16, 29, 30, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0, 1, 0);
  check(isa, 1, 20, 14, 14, 12, 3, 3, 2, 2, 1, 1, 0, 0, 0, 1, 5, 1);
  /* a stem: 3 channels, 7 x 7 / 2, pad 3; 5 x 5 unpadded; 3 x 1 */
  check(isa, 1, 3, 32, 32, 16, 7, 7, 2, 2, 3, 3, 3, 3, 1, 0, 1, 1);
  check(isa, 1, 6, 12, 10, 9, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1, 4, 1);
  check(isa, 1, 4, 10, 9, 8, 3, 1, 1, 1, 1, 0, 1, 0, 1, 0, 7, 1);
  /* column stride 3 (the input gathered) */
  check(isa, 1, 5, 27, 27, 8, 5, 5, 3, 3, 1, 1, 1, 1, 1, 0, 1, 1);
  /* asymmetric pads and strides */
  check(isa, 1, 10, 11, 12, 10, 3, 3, 1, 2, 0, 1, 2, 0, 1, 1, 1, 1);
  /* the output's Q -> DQ pair in the epilogue (zero point 100, outputs
   * past the u8 range both ways), before the residual and ReLU */
  req_scale = 0.02f;
  req_zp = 100;
  check(isa, 1, 64, 28, 28, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1);
  check(isa, 1, 32, 30, 30, 48, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1);
  check(isa, 2, 36, 7, 7, 16, 3, 3, 2, 2, 1, 1, 1, 1, 0, 1, 0, 0);
  req_scale = 0.0f;
  /* a squeeze-excite gate on the input, per image and for the batch:
   * dense 1 x 1 planes, and padded 3 x 3 at stride 2 */
  gate_mode = 1;
  check(isa, 2, 24, 14, 14, 16, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 1);
  check(isa, 2, 12, 11, 11, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0, 1, 1);
  gate_mode = 2;
  check(isa, 2, 24, 14, 14, 16, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 1);
  gate_mode = 0;
  /* u8 in and out: 1 x 1 on dense planes, 3 x 3 padded, strides 2 (the
   * u8 columns one at a time), channels off the quads */
  check_u8(isa, 1, 64, 28, 28, 40, 1, 1, 0);
  check_u8(isa, 2, 30, 14, 14, 24, 3, 1, 1);
  check_u8(isa, 1, 16, 15, 15, 8, 3, 2, 1);
  check_u8(isa, 1, 13, 9, 9, 16, 1, 2, 0);
  check_u8(isa, 1, 8, 19, 19, 8, 3, 3, 1);
  /* ties: inputs x / sx and outputs y / so on exact halves (rounded to
   * even), and near-ties: a ratio sy / so of 1.5 in decimal scales, where
   * x * (1 / s) and x / s round apart unless round_div16 falls back to
   * the division (this case fails without it) */
  u8_grid = 1;
  u8_sx = 0.125f;
  u8_sy = 0.03125f;
  u8_so = 0.0625f;
  check_u8(isa, 1, 64, 28, 28, 40, 1, 1, 0);
  check_u8(isa, 1, 16, 15, 15, 8, 3, 2, 1);
  u8_grid = 0;
  u8_sx = 0.0173f;
  u8_sy = 0.03f;
  u8_so = 0.02f;
  check_u8(isa, 2, 30, 14, 14, 24, 3, 1, 1);
  u8_sy = 0.03f;
  u8_so = 0.021f;
  /* other activations between the pair and the u8 output (by table with
   * AVX512-VBMI: the table's bytes are the vector epilogue's) */
  u8_act = KILN_ACT_SILU;
  check_u8(isa, 1, 24, 14, 14, 16, 1, 1, 0);
  u8_act = KILN_ACT_HARDSWISH;
  check_u8(isa, 1, 12, 9, 9, 8, 3, 1, 1);
  u8_act = KILN_ACT_RELU;
  /* AMX-INT8 tiles (channels a multiple of 64, conv_s8_avx512vnni.c):
   * several 64-channel chunks per tap at strides 1 and 2, one filter tile
   * (16) and a partial second one (48, 40), a plane of 3 x 3 (one partial
   * output tile), residual (and in place), a gate, the pair, u8 in and
   * out; channels off the 64s (padded in the AMX layout) */
  check(isa, 2, 128, 14, 14, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
  check(isa, 1, 192, 15, 13, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0, 5, 1);
  check(isa, 1, 64, 3, 3, 40, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0);
  check(isa, 1, 256, 7, 7, 72, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1, 1);
  gate_mode = 1;
  check(isa, 2, 64, 9, 9, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1);
  gate_mode = 0;
  req_scale = 0.02f;
  req_zp = 100;
  check(isa, 1, 128, 10, 10, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
  req_scale = 0.0f;
  check_u8(isa, 1, 128, 14, 14, 48, 3, 1, 1);
  check_u8(isa, 2, 64, 11, 11, 16, 3, 2, 1);
  /* the input's range per call (flag 8192): 1 x 1 and padded 3 x 3 at
   * stride 2, two images (dense inputs); a range taken in parts */
  dyn_mode = 1;
  check(isa, 2, 64, 14, 14, 40, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1);
  check(isa, 1, 20, 15, 13, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0, 0, 0);
  /* (a range taken by both threads, in parts of the planes) */
  check(isa, 1, 64, 56, 56, 32, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 1, 1);
  dyn_mode = 0;
  /* a stem's form (flag 16384): 3 channels 7 x 7 / 2 pad 3 (147 values:
   * 37 quads, 3 AMX chunks with padding), 3 x 3 / 2, 16 channels 3 x 3 /
   * 1 (144), with a gate, a residual, the range per call */
  i2c_mode = 1;
  check(isa, 1, 3, 32, 32, 64, 7, 7, 2, 2, 3, 3, 3, 3, 1, 0, 1, 1);
  check(isa, 2, 3, 17, 19, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0);
  check(isa, 1, 16, 12, 12, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1);
  gate_mode = 1;
  check(isa, 2, 4, 11, 11, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1);
  gate_mode = 0;
  dyn_mode = 1;
  check(isa, 1, 3, 30, 30, 32, 7, 7, 2, 2, 3, 3, 3, 3, 1, 0, 1, 1);
  dyn_mode = 0;
  /* a 224 x 224 stem: its 112 output rows in bands of 24 (the bands'
   * planes at most 512 KiB), with a residual */
  check(isa, 1, 3, 224, 224, 32, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1, 1);
  i2c_mode = 0;
  /* the AMX layout with padded channels: 96 and 144 (quads padded to 16
   * per chunk), 98 (a half quad) */
  check(isa, 1, 96, 14, 14, 40, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1);
  check(isa, 1, 144, 9, 10, 24, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0, 1, 0);
  check_u8(isa, 1, 98, 7, 7, 16, 1, 1, 0);
  printf("conv s8 %s: %d cases, max error <= %s\n", isa_name(isa), cases,
         worst <= 2e-6 ? "2e-6" : "FAIL");
}

int main(void) {
  /* two threads: the input's quantization and the tiles split between
   * them (a quantized plane written past its end raced the next one's) */
  kiln_pool_start(2);
  run(KILN_ISA_GENERIC);
  if (has_avx512vnni()) {
    run(KILN_ISA_AVX512);
    printf("conv s8 avx512 tiles: %s\n",
           kiln_cpu_has_amx_int8() ? "amx (channels a multiple of 64, or 96+ padded), vnni"
                                   : "vnni");
  } else
    printf("conv s8 avx512: skipped (no AVX512-VNNI)\n");
  printf(failures ? "conv s8: FAIL\n" : "conv s8: ok\n");
  return failures != 0;
}
