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
