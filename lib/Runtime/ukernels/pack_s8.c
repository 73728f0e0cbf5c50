/*===- pack_s8.c - int8 weight quantization and packing ------------------===*
 *
 * The layout is described in gemm_s8.h. Plain C with no runtime
 * dependencies: the compiler (codegen/cpu/Ukernels.cpp) links this file to
 * pack constant weights, and the runtime's tests pack with it too.
 *
 *===----------------------------------------------------------------------===*/

#include "gemm_s8.h"

#include <math.h>
#include <string.h>

#define PANEL 16

size_t kiln_s8_packed_bytes(int64_t k, int64_t n) {
  int64_t panels = (n + PANEL - 1) / PANEL, kq = (k + 3) / 4;
  return (size_t)(panels * (kq + 2) * 64);
}

int64_t kiln_s8_weight_qmax(int isa) { return isa == 1 ? 63 : 127; }

void kiln_s8_pack_weights(int64_t k, int64_t n, const float *w, int64_t rs,
                          int64_t cs, int64_t qmax, int8_t *out) {
  float top = (float)qmax;
  int64_t kq = (k + 3) / 4;
  memset(out, 0, kiln_s8_packed_bytes(k, n));
  for (int64_t j = 0; j < n; ++j) {
    float amax = 0.0f;
    for (int64_t kk = 0; kk < k; ++kk) {
      float v = fabsf(w[kk * rs + j * cs]);
      if (v > amax) /* NaN compares false: it does not set the scale */
        amax = v;
    }
    float scale = amax > 0.0f && isfinite(amax) ? amax / top : 0.0f;
    float inv = scale > 0.0f ? 1.0f / scale : 0.0f;
    int8_t *panel = out + (j / PANEL) * (kq + 2) * 64;
    int64_t lane = j % PANEL;
    int32_t colsum = 0;
    for (int64_t kk = 0; kk < k; ++kk) {
      float v = w[kk * rs + j * cs] * inv;
      int32_t q = v != v ? 0 : v >= top ? (int32_t)qmax : v <= -top ? -(int32_t)qmax : (int32_t)lrintf(v);
      panel[(kk / 4) * 64 + lane * 4 + kk % 4] = (int8_t)q;
      colsum += q;
    }
    memcpy(panel + kq * 64 + lane * 4, &scale, 4);
    memcpy(panel + (kq + 1) * 64 + lane * 4, &colsum, 4);
  }
}

void kiln_s8_pack_quantized(int64_t k, int64_t n, const int8_t *wq,
                            const float *scale, int64_t scales, int8_t *out) {
  int64_t kq = (k + 3) / 4;
  memset(out, 0, kiln_s8_packed_bytes(k, n));
  for (int64_t j = 0; j < n; ++j) {
    int8_t *panel = out + (j / PANEL) * (kq + 2) * 64;
    int64_t lane = j % PANEL;
    int32_t colsum = 0;
    for (int64_t kk = 0; kk < k; ++kk) {
      int8_t q = wq[kk * n + j];
      panel[(kk / 4) * 64 + lane * 4 + kk % 4] = q;
      colsum += q;
    }
    float s = scale[scales == 1 ? 0 : j];
    memcpy(panel + kq * 64 + lane * 4, &s, 4);
    memcpy(panel + (kq + 1) * 64 + lane * 4, &colsum, 4);
  }
}

/* ---- int8 convolution filters (conv_s8.h) ----------------------------- */

#include "conv_s8.h"
#include "bf16_round.h"

/* The scales and sums; then the blocks in one of the two layouts. */
static int64_t conv_s8_head_bytes(int64_t f) {
  int64_t fb = (f + KILN_CONV_S8_MR - 1) / KILN_CONV_S8_MR;
  return fb * KILN_CONV_S8_MR * 8;
}

/* Channels padded to the AMX layout's 64 (zeros), and whether the filter
 * takes that layout: C a multiple of 64, or 96+ channels with at most a
 * quarter of the padded ones padding (MobileNetV2's 96 and 144,
 * EfficientNet's 112, 240, 480, 672). */
static int64_t conv_s8_amx_channels(int64_t c) {
  return (c + KILN_CONV_S8_AMX_KC - 1) / KILN_CONV_S8_AMX_KC * KILN_CONV_S8_AMX_KC;
}

static int conv_s8_amx_layout(int64_t c) {
  return c > 0 && (c % KILN_CONV_S8_AMX_KC == 0 ||
                   (c >= 96 && 4 * c >= 3 * conv_s8_amx_channels(c)));
}

int64_t kiln_conv_s8_amx_offset(int64_t f, int64_t c, int64_t taps) {
  (void)taps;
  return conv_s8_amx_layout(c) ? conv_s8_head_bytes(f) : 0;
}

size_t kiln_conv_s8_packed_bytes(int64_t f, int64_t c, int64_t taps) {
  if (conv_s8_amx_layout(c)) {
    int64_t fb32 = (f + KILN_CONV_S8_AMX_MR - 1) / KILN_CONV_S8_AMX_MR;
    return (size_t)(conv_s8_head_bytes(f) +
                    fb32 * KILN_CONV_S8_AMX_MR * taps * conv_s8_amx_channels(c));
  }
  int64_t fb = (f + KILN_CONV_S8_MR - 1) / KILN_CONV_S8_MR, c4 = (c + 3) / 4;
  return (size_t)(conv_s8_head_bytes(f) + fb * taps * c4 * KILN_CONV_S8_MR * 4);
}

void kiln_conv_s8_pack(int64_t f, int64_t c, int64_t taps, const int8_t *w,
                       const float *scale, int64_t scales, int8_t *out) {
  const int64_t mr = KILN_CONV_S8_MR;
  int64_t fb = (f + mr - 1) / mr, c4 = (c + 3) / 4;
  memset(out, 0, kiln_conv_s8_packed_bytes(f, c, taps));
  float *sc = (float *)(void *)out;
  int32_t *sum = (int32_t *)(void *)(out + fb * mr * 4);
  int8_t *blocks = out + fb * mr * 8;
  /* channels a multiple of 64: the blocks in the AMX layout only */
  int amx = kiln_conv_s8_amx_offset(f, c, taps) > 0;
  const int64_t am = KILN_CONV_S8_AMX_MR, akc = KILN_CONV_S8_AMX_KC;
  for (int64_t o = 0; o < f; ++o) {
    float s = scale[scales == 1 ? 0 : o];
    memcpy(sc + o, &s, 4);
    int32_t total = 0;
    for (int64_t ci = 0; ci < c; ++ci)
      for (int64_t t = 0; t < taps; ++t) {
        int8_t v = w[(o * c + ci) * taps + t];
        total += v;
        int64_t b = o / mr, m = o % mr, q = ci / 4, r = ci % 4;
        if (amx)
          blocks[(((o / am * taps + t) * (conv_s8_amx_channels(c) / akc) + ci / akc) * am +
                  o % am) * akc + ci % akc] = v;
        else
          blocks[(((b * taps + t) * c4 + q) * mr + m) * 4 + r] = v;
      }
    memcpy(sum + o, &total, 4);
  }
}

/* ---- bf16 convolution filters (conv_s8.h) ----------------------------- */

static int64_t conv_bf16_units(int64_t c) { return ((c + 1) / 2 + 15) / 16 * 16; }

size_t kiln_conv_bf16_packed_bytes(int64_t f, int64_t c, int64_t taps) {
  int64_t fb32 = (f + KILN_CONV_S8_AMX_MR - 1) / KILN_CONV_S8_AMX_MR;
  return (size_t)(conv_s8_head_bytes(f) +
                  fb32 * KILN_CONV_S8_AMX_MR * taps * conv_bf16_units(c) * 4);
}

void kiln_conv_bf16_pack(int64_t f, int64_t c, int64_t taps, const float *w,
                         int8_t *out) {
  const int64_t mr = KILN_CONV_S8_MR, am = KILN_CONV_S8_AMX_MR;
  int64_t fb = (f + mr - 1) / mr, u16 = conv_bf16_units(c) / 16;
  memset(out, 0, kiln_conv_bf16_packed_bytes(f, c, taps));
  float *sc = (float *)(void *)out;
  for (int64_t o = 0; o < fb * mr; ++o)
    sc[o] = 1.0f; /* the int8 head's scales; the sums stay 0 */
  uint16_t *blocks = (uint16_t *)(void *)(out + conv_s8_head_bytes(f));
  for (int64_t o = 0; o < f; ++o)
    for (int64_t ci = 0; ci < c; ++ci)
      for (int64_t t = 0; t < taps; ++t) {
        int64_t u = ci / 2;
        blocks[((((o / am * taps + t) * u16 + u / 16) * am + o % am) * 16 + u % 16) * 2 +
               ci % 2] = kiln_bf16_round(w[(o * c + ci) * taps + t]);
      }
}

