/*===- conv_bf16_test.c - bf16 convolutions (CONV_BF16) against references -===*
 *
 * kiln.ukernel "conv2d_f32" with flags CONV_S8 | CONV_BF16 (conv_s8.h):
 * --precision bf16's convolution, the input rounded to bf16 into channel
 * pair planes and the filter packed by kiln_conv_bf16_pack as the compiler
 * packs it, summed in fp32, against a double reference on the same
 * bf16-rounded values (the products are exact in fp32; what differs is
 * the order of the fp32 sums). Each case runs on the plain C loops and,
 * where the CPU has AVX512-BF16, its tiles (AMX-BF16's where it has them;
 * KILN_NO_AMX=1 keeps them on vdpbf16ps) (test/runtime/conv_bf16.test).
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
int kiln_cpu_has_avx512bf16(void);

static int cases;
static double worst;
/* an input scale per image and channel (flag 16, a squeeze-excite gate) */
static int gate_on;
/* a stem's form (flag 16384): the filter packed as a 1 x 1 one over its C
 * * KH * KW values */
static int i2c_on;

static double bf16_round(float v) {
  uint32_t u;
  memcpy(&u, &v, 4);
  u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
  float r;
  memcpy(&r, &u, 4);
  return r;
}

static void check(int isa, int64_t n, int64_t c, int64_t h, int64_t w,
                  int64_t f, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                  int64_t pt, int64_t pl, int64_t pb, int64_t pr, int bias,
                  int res, int act) {
  int64_t oh = (h + pt + pb - kh) / sh + 1, ow = (w + pl + pr - kw) / sw + 1;
  int64_t xn = n * c * h * w, yn = n * f * oh * ow, wn = f * c * kh * kw;
  float *x = malloc(sizeof(float) * (size_t)xn), *wt = malloc(sizeof(float) * (size_t)wn);
  float *b = malloc(sizeof(float) * (size_t)f), *gate = malloc(sizeof(float) * (size_t)(n * c));
  float *r = malloc(sizeof(float) * (size_t)yn), *y = malloc(sizeof(float) * (size_t)yn);
  double *want = malloc(sizeof(double) * (size_t)yn);
  for (int64_t i = 0; i < xn; ++i)
    x[i] = 3.0f * frand();
  for (int64_t i = 0; i < wn; ++i)
    wt[i] = 0.2f * frand();
  for (int64_t o = 0; o < f; ++o)
    b[o] = frand();
  for (int64_t i = 0; i < yn; ++i)
    r[i] = frand();
  for (int64_t i = 0; i < n * c; ++i)
    gate[i] = 0.25f + 0.75f * (frand() + 1.0f);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t o = 0; o < f; ++o)
      for (int64_t a = 0; a < oh; ++a)
        for (int64_t bb = 0; bb < ow; ++bb) {
          double acc = 0;
          for (int64_t ci = 0; ci < c; ++ci)
            for (int64_t p = 0; p < kh; ++p)
              for (int64_t q = 0; q < kw; ++q) {
                int64_t yy = a * sh + p - pt, xx = bb * sw + q - pl;
                if (yy < 0 || yy >= h || xx < 0 || xx >= w)
                  continue;
                float xv = x[((i * c + ci) * h + yy) * w + xx] *
                           (gate_on ? gate[i * c + ci] : 1.0f);
                acc += bf16_round(xv) * bf16_round(wt[((o * c + ci) * kh + p) * kw + q]);
              }
          int64_t at = ((i * f + o) * oh + a) * ow + bb;
          double v = acc + (bias ? b[o] : 0.0) + (res ? r[at] : 0.0);
          want[at] = act_ref(v, act);
        }
  int64_t pc = i2c_on ? c * kh * kw : c, ptaps = i2c_on ? 1 : kh * kw;
  size_t pbytes = kiln_conv_bf16_packed_bytes(f, pc, ptaps);
  int8_t *wp = malloc(pbytes);
  kiln_conv_bf16_pack(f, pc, ptaps, wt, wp);
  for (int inplace = 0; inplace <= (res ? 1 : 0); ++inplace) {
    float *out = y, *rv = r;
    if (inplace) { /* y written over the residual */
      out = malloc(sizeof(float) * (size_t)yn);
      memcpy(out, r, sizeof(float) * (size_t)yn);
      rv = out;
    }
    int64_t desc[64], *d = desc;
    *d++ = isa;
    *d++ = 256 | 4096 | (bias ? 1 : 0) | (res ? 2 : 0) | (gate_on ? 16 : 0) |
           (i2c_on ? 16384 : 0);
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
    if (gate_on) { VIEW4(gate, n, c, 1, 1) }
    VIEW4(out, n, f, oh, ow)
#undef VIEW4
    float fp[1] = {0.0f};
    kiln_ukernel_conv2d_f32(desc, fp);
    double e = rel_error(yn, out, want);
    ++cases;
    worst = e > worst ? e : worst;
    if (!(e <= 1e-5)) {
      ++failures;
      printf("FAIL %s n%lld c%lld %lldx%lld f%lld k%lldx%lld s%lldx%lld "
             "pad %lld %lld %lld %lld bias %d res %d act %d gate %d inplace %d: "
             "error %g\n",
             isa_name(isa), (long long)n, (long long)c, (long long)h,
             (long long)w, (long long)f, (long long)kh, (long long)kw,
             (long long)sh, (long long)sw, (long long)pt, (long long)pl,
             (long long)pb, (long long)pr, bias, res, act, gate_on, inplace, e);
    }
    if (inplace)
      free(out);
  }
  free(x); free(wt); free(b); free(gate); free(r); free(y); free(want); free(wp);
}

static void run(int isa) {
  cases = 0;
  worst = 0;
  /* 1 x 1 over 64 channels, a plane not a multiple of the tiles */
  check(isa, 1, 64, 56, 56, 64, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 1);
  check(isa, 2, 128, 7, 7, 40, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0);
  /* 3 x 3 pad 1 at strides 1 and 2; several 32-channel chunks per tap */
  check(isa, 1, 96, 14, 14, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1);
  check(isa, 1, 64, 15, 13, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0, KILN_ACT_SILU);
  /* a stem: 3 channels (one pair and a half, padded to 16 pairs), 7 x 7
   * / 2, pad 3; odd channel counts; filters off the 8 and 32 blocks */
  check(isa, 1, 3, 32, 32, 16, 7, 7, 2, 2, 3, 3, 3, 3, 1, 0, 1);
  check(isa, 2, 7, 9, 11, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, KILN_ACT_RELU6);
  check(isa, 1, 20, 10, 12, 33, 3, 1, 1, 2, 0, 1, 2, 0, 0, 1, 1);
  /* strided 1 x 1, column stride 3 (the input gathered), 5 x 5 */
  check(isa, 1, 32, 14, 14, 24, 1, 1, 2, 2, 0, 0, 0, 0, 1, 0, 0);
  check(isa, 1, 5, 27, 27, 8, 5, 5, 3, 3, 1, 1, 1, 1, 1, 0, 1);
  /* a gate on the input, per image */
  gate_on = 1;
  check(isa, 2, 24, 14, 14, 16, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0);
  check(isa, 2, 64, 9, 9, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0, 1);
  gate_on = 0;
  /* a stem's form: 3 channels 7 x 7 / 2 pad 3 (147 values, 74 pairs), 3 x
   * 3 / 2 over 5 channels with a gate and a residual */
  i2c_on = 1;
  check(isa, 1, 3, 32, 32, 64, 7, 7, 2, 2, 3, 3, 3, 3, 1, 0, 1);
  gate_on = 1;
  check(isa, 2, 5, 13, 11, 24, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, KILN_ACT_SILU);
  gate_on = 0;
  /* a 224 x 224 stem: 112 output rows in bands of 14, a residual */
  check(isa, 1, 3, 224, 224, 32, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1);
  i2c_on = 0;
  printf("conv bf16 %s: %d cases, max error <= %s\n", isa_name(isa), cases,
         worst <= 1e-5 ? "1e-5" : "FAIL");
}

int main(void) {
  kiln_pool_start(2);
  run(KILN_ISA_GENERIC);
  if (has_avx512() && kiln_cpu_has_avx512bf16()) {
    run(KILN_ISA_AVX512);
    printf("conv bf16 avx512 tiles: %s\n",
           kiln_cpu_has_amx_bf16() ? "amx-bf16" : "avx512-bf16");
  } else {
    printf("conv bf16 avx512: skipped (no AVX512-BF16)\n");
  }
  printf(failures ? "conv bf16: FAIL\n" : "conv bf16: ok\n");
  return failures != 0;
}
