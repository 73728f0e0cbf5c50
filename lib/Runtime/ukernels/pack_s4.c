/*===- pack_s4.c - int4 weight quantization and packing ------------------===*
 *
 * The layout is described in gemm_s4.h. Plain C with no runtime
 * dependencies: the compiler (codegen/cpu/Ukernels.cpp) links this file to
 * pack constant weights, and the runtime's tests pack with it too.
 *
 *===----------------------------------------------------------------------===*/

#include "gemm_s4.h"

#include <math.h>
#include <string.h>

#define PANEL 16

size_t kiln_s4_packed_bytes(int64_t k, int64_t n, int64_t group) {
  int64_t panels = (n + PANEL - 1) / PANEL, ng = (k + group - 1) / group;
  return (size_t)(panels * ng * (group / 8 + 1) * 64);
}

void kiln_s4_pack_weights(int64_t k, int64_t n, int64_t group, const float *w,
                          int64_t rs, int64_t cs, uint8_t *out) {
  int64_t panels = (n + PANEL - 1) / PANEL, ng = (k + group - 1) / group;
  int64_t groupBytes = (group / 8 + 1) * 64;
  memset(out, 0x88, kiln_s4_packed_bytes(k, n, group)); /* zero weights */
  for (int64_t p = 0; p < panels; ++p)
    for (int64_t g = 0; g < ng; ++g) {
      uint8_t *blk = out + (p * ng + g) * groupBytes;
      float scales[PANEL] = {0};
      for (int64_t lane = 0; lane < PANEL; ++lane) {
        int64_t j = p * PANEL + lane;
        if (j >= n)
          continue;
        float amax = 0.0f;
        for (int64_t kk = g * group; kk < (g + 1) * group && kk < k; ++kk) {
          float v = fabsf(w[kk * rs + j * cs]);
          if (v > amax)
            amax = v;
        }
        float s = amax > 0.0f && isfinite(amax) ? amax / 7.0f : 0.0f;
        float inv = s > 0.0f ? 1.0f / s : 0.0f;
        scales[lane] = s;
        for (int64_t kk = g * group; kk < (g + 1) * group && kk < k; ++kk) {
          float v = w[kk * rs + j * cs] * inv;
          int32_t q = v != v ? 0 : v >= 7.0f ? 7 : v <= -7.0f ? -7 : (int32_t)lrintf(v);
          int64_t r = kk - g * group; /* position in the group */
          int64_t row = r / 8, t = r % 4, high = (r / 4) % 2;
          uint8_t *byte = blk + row * 64 + lane * 4 + t;
          uint8_t nib = (uint8_t)(q + 8);
          *byte = high ? (uint8_t)((*byte & 0x0f) | (nib << 4))
                       : (uint8_t)((*byte & 0xf0) | nib);
        }
      }
      memcpy(blk + (group / 8) * 64, scales, sizeof scales);
    }
}
