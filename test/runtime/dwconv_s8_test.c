/*===- dwconv_s8_test.c - int8 depthwise convolutions against references -===*
 *
 * kiln.ukernel "dwconv2d_f32" with flag 256 (dwconv_s8.h): a QDQ model's
 * depthwise convolution, the input quantized per tensor (u8, scale and
 * zero point), the filter's integers with per-channel scales, against a
 * reference computed from the same quantized values (the sums exact, the
 * scaling and the output's Q -> DQ pair in float as the graph computes
 * them, the activation in double), on the portable loops and the
 * AVX-512 tasks, on two threads; u8 input and output bit for bit against
 * the f32 ones (test/runtime/dwconv_s8.test).
 *
 *===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L
#include "kiln/runtime.h"
#include "runtime_internal.h"
#include "ukernel_test_util.h"
#include "ukernel_ref.h"
#include "ukernels/dwconv_s8.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kiln_ukernel_dwconv2d_f32(const int64_t *desc, const float *fparams);

static int cases;
static double worst;
static float g_sx = 0.0173f, g_sy = 0.021f, g_so = 0.0275f;
static int g_grid; /* inputs on multiples of 1/16 (ties with power-of-2 scales) */

static float quant(float v, float s, int zp) {
  float q = v / s;
  q = q < -512.0f ? -512.0f : q > 512.0f ? 512.0f : q;
  q = nearbyintf(q) + (float)zp;
  return q < 0.0f ? 0.0f : q > 255.0f ? 255.0f : q;
}

/* One call: x f32 or u8, y f32 or u8; requant (sy, zy) if req. */
static void call(int isa, const void *x, int in_u8, void *y, int out_u8,
                 const float *w, const float *b, const float *ws, int64_t n,
                 int64_t c, int64_t h, int64_t wd, int64_t kh, int64_t kw,
                 int64_t sh, int64_t sw, int64_t pt, int64_t pl, int64_t oh,
                 int64_t ow, int act, int req, int zx, int zy, int zo) {
  int64_t desc[64], *d = desc;
  *d++ = isa;
  *d++ = 256 | (b ? 1 : 0) | (req ? 512 : 0) | (out_u8 ? 1024 : 0) | (in_u8 ? 2048 : 0);
  *d++ = act;
  *d++ = sh; *d++ = sw; *d++ = pt; *d++ = pl; *d++ = 1; *d++ = 1;
#define VIEW4(q, a0, a1, a2, a3)                                               \
  *d++ = (intptr_t)(q); *d++ = 0; *d++ = a0; *d++ = a1; *d++ = a2; *d++ = a3;  \
  *d++ = (a1) * (a2) * (a3); *d++ = (a2) * (a3); *d++ = a3; *d++ = 1;
  VIEW4(x, n, c, h, wd)
  VIEW4(w, c, 1, kh, kw)
  if (b) { *d++ = (intptr_t)b; *d++ = 0; *d++ = c; *d++ = 1; }
  *d++ = (intptr_t)ws; *d++ = 0; *d++ = c; *d++ = 1;
  VIEW4(y, n, c, oh, ow)
#undef VIEW4
  float fp[6] = {g_sx, (float)zx, g_sy, (float)zy, g_so, (float)zo};
  if (!req) {
    fp[2] = g_so;
    fp[3] = (float)zo;
  }
  kiln_ukernel_dwconv2d_f32(desc, fp);
}

static void check(int isa, int64_t n, int64_t c, int64_t h, int64_t wd,
                  int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t pt,
                  int64_t pl, int64_t pb, int64_t pr, int bias, int act, int req) {
  int64_t oh = (h + pt + pb - kh) / sh + 1, ow = (wd + pl + pr - kw) / sw + 1;
  int64_t xn = n * c * h * wd, yn = n * c * oh * ow, taps = kh * kw;
  float *x = malloc(sizeof(float) * (size_t)xn), *w = malloc(sizeof(float) * (size_t)(c * taps));
  float *ws = malloc(sizeof(float) * (size_t)c), *b = malloc(sizeof(float) * (size_t)c);
  uint8_t *xq = malloc((size_t)xn), *yq = malloc((size_t)yn), *yq2 = malloc((size_t)yn);
  float *y = malloc(sizeof(float) * (size_t)yn), *y2 = malloc(sizeof(float) * (size_t)yn);
  double *want = malloc(sizeof(double) * (size_t)yn);
  int zx = 37, zy = 100, zo = 5;
  for (int64_t i = 0; i < xn; ++i) {
    x[i] = 2.5f * frand() + 0.6f; /* some past the u8 range both ways */
    if (g_grid)
      x[i] = nearbyintf(x[i] * 16.0f) / 16.0f;
    xq[i] = (uint8_t)quant(x[i], g_sx, zx);
  }
  for (int64_t i = 0; i < c * taps; ++i)
    w[i] = nearbyintf(frand() * 127.49f);
  w[0] = -128.0f; /* int8's whole range */
  w[c * taps - 1] = 127.0f;
  for (int64_t i = 0; i < c; ++i) {
    ws[i] = 0.02f + 0.01f * (float)(i % 5);
    b[i] = frand();
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t oy = 0; oy < oh; ++oy)
        for (int64_t ox = 0; ox < ow; ++ox) {
          long acc = 0;
          for (int64_t a = 0; a < kh; ++a)
            for (int64_t e = 0; e < kw; ++e) {
              int64_t iy = oy * sh + a - pt, ix = ox * sw + e - pl;
              if (iy < 0 || iy >= h || ix < 0 || ix >= wd)
                continue;
              acc += (long)(xq[((i * c + ch) * h + iy) * wd + ix] - zx) *
                     (long)w[ch * taps + a * kw + e];
            }
          float v = fmaf((float)acc, g_sx * ws[ch], bias ? b[ch] : 0.0f);
          if (req)
            v = (quant(v, g_sy, zy) - (float)zy) * g_sy;
          want[((i * c + ch) * oh + oy) * ow + ox] = act_ref(v, act);
        }
  const float *bp = bias ? b : NULL;
  call(isa, x, 0, y, 0, w, bp, ws, n, c, h, wd, kh, kw, sh, sw, pt, pl, oh, ow, act, req, zx, zy, zo);
  double e = rel_error(yn, y, want);
  call(isa, xq, 1, y2, 0, w, bp, ws, n, c, h, wd, kh, kw, sh, sw, pt, pl, oh, ow, act, req, zx, zy, zo);
  int bad = memcmp(y, y2, sizeof(float) * (size_t)yn) != 0;
  call(isa, x, 0, yq, 1, w, bp, ws, n, c, h, wd, kh, kw, sh, sw, pt, pl, oh, ow, act, req, zx, zy, zo);
  call(isa, xq, 1, yq2, 1, w, bp, ws, n, c, h, wd, kh, kw, sh, sw, pt, pl, oh, ow, act, req, zx, zy, zo);
  int64_t steps = 0;
  for (int64_t i = 0; i < yn; ++i) {
    bad |= yq[i] != (uint8_t)quant(y[i], g_so, zo) || yq2[i] != yq[i];
    steps += yq[i] != 0 && yq[i] != 255;
  }
  ++cases;
  worst = e > worst || e != e ? e : worst;
  if (!(e <= 2e-6) || bad || steps == 0) {
    ++failures;
    printf("FAIL %s n%lld c%lld %lldx%lld k%lldx%lld s%lldx%lld pad %lld %lld "
           "%lld %lld bias %d act %d req %d: error %g, u8 %s\n",
           isa_name(isa), (long long)n, (long long)c, (long long)h, (long long)wd,
           (long long)kh, (long long)kw, (long long)sh, (long long)sw,
           (long long)pt, (long long)pl, (long long)pb, (long long)pr, bias, act,
           req, e, bad ? "differs" : steps ? "ok" : "all saturated");
  }
  free(x); free(w); free(ws); free(b); free(xq); free(yq); free(yq2);
  free(y); free(y2); free(want);
}

static void run(int isa) {
  cases = 0;
  worst = 0;
  /* MobileNet's 3 x 3 at strides 1 and 2 (112 wide: tiles of 4 and 3
   * vectors; odd heights: a last single row) */
  check(isa, 1, 3, 112, 112, 3, 3, 1, 1, 1, 1, 1, 1, 1, KILN_ACT_RELU6, 1);
  check(isa, 1, 4, 113, 112, 3, 3, 2, 2, 1, 1, 1, 1, 1, KILN_ACT_RELU6, 1);
  check(isa, 2, 5, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0, 1);
  check(isa, 1, 6, 15, 15, 3, 3, 2, 2, 1, 1, 1, 1, 1, KILN_ACT_RELU, 0);
  /* EfficientNet's 5 x 5 (SiLU), 7 x 7 planes, a row of 17 and of 1 */
  check(isa, 1, 7, 28, 28, 5, 5, 1, 1, 2, 2, 2, 2, 1, KILN_ACT_SILU, 1);
  check(isa, 1, 5, 29, 29, 5, 5, 2, 2, 2, 2, 2, 2, 1, KILN_ACT_SILU, 0);
  check(isa, 3, 9, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, KILN_ACT_HARDSWISH, 1);
  check(isa, 1, 4, 9, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 1);
  check(isa, 1, 4, 6, 1, 3, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0);
  /* unpadded, asymmetric pads, stride 3 (phases by gather), 1 x 1 at
   * stride 2, 7 x 7 kernel */
  check(isa, 1, 3, 10, 11, 3, 3, 1, 1, 0, 0, 0, 0, 1, 0, 1);
  check(isa, 1, 3, 12, 13, 3, 3, 1, 2, 0, 1, 2, 0, 1, KILN_ACT_RELU6, 1);
  check(isa, 1, 2, 20, 20, 5, 5, 3, 3, 1, 1, 1, 1, 1, 0, 1);
  check(isa, 1, 2, 9, 9, 1, 1, 2, 2, 0, 0, 0, 0, 1, 0, 0);
  check(isa, 1, 3, 21, 21, 7, 7, 1, 1, 3, 3, 3, 3, 1, KILN_ACT_GELU, 1);
  /* ties (x / sx and y / so on halves) and near-ties (sy / so 1.5 in
   * decimal scales) */
  g_grid = 1;
  g_sx = 0.125f;
  g_sy = 0.03125f;
  g_so = 0.0625f;
  check(isa, 1, 4, 30, 30, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 1);
  g_grid = 0;
  g_sx = 0.0173f;
  g_sy = 0.03f;
  g_so = 0.02f;
  check(isa, 1, 4, 30, 30, 3, 3, 2, 2, 1, 1, 1, 1, 1, KILN_ACT_RELU6, 1);
  g_sy = 0.021f;
  g_so = 0.0275f;
  printf("dwconv s8 %s: %d cases, max error <= %s\n", isa_name(isa), cases,
         worst <= 2e-6 ? "2e-6" : "FAIL");
}

int main(void) {
  kiln_pool_start(2);
  run(KILN_ISA_GENERIC);
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
    run(KILN_ISA_AVX512);
  else
    printf("dwconv s8 avx512: skipped (no AVX512BW)\n");
  printf(failures ? "dwconv s8: FAIL\n" : "dwconv s8: ok\n");
  return failures != 0;
}
