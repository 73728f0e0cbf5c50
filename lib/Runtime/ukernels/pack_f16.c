/*===- pack_f16.c - fp16 conversion and weight packing --------------------===*
 *
 * See pack_f16.h. Plain C with no runtime dependencies: the compiler
 * (codegen/cpu/Ukernels.cpp) links this file to pack constant weights, and
 * the runtime's tests pack with it too.
 *
 *===----------------------------------------------------------------------===*/

#include "pack_f16.h"

#include <string.h>

#define PANEL 16

uint16_t kiln_f32_to_f16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
  uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) /* infinity, NaN (kept quiet) */
    return (uint16_t)(sign | (ax > 0x7f800000u ? 0x7e00u : 0x7c00u));
  if (ax >= 0x477ff000u) /* 65520 and up round to infinity */
    return (uint16_t)(sign | 0x7c00u);
  if (ax < 0x38800000u) { /* below 2^-14: an fp16 subnormal (or 0) */
    /* m = |f| * 2^24 rounded to nearest even; 1024 is the least normal */
    uint32_t shift = 126 - (ax >> 23); /* the value is 1.mant * 2^-(shift + 1) */
    if (shift > 24)
      return sign; /* below half the least subnormal (2^-25): 0 */
    uint32_t mant = (ax & 0x7fffffu) | 0x800000u;
    /* |f| * 2^24 = mant * 2^(24 - 23 - (shift + 1)) = mant >> (shift) */
    uint32_t m = mant >> shift, rem = mant & ((1u << shift) - 1u),
             half = 1u << (shift - 1);
    if (rem > half || (rem == half && (m & 1u)))
      ++m;
    return (uint16_t)(sign | m);
  }
  uint32_t h = ((((ax >> 23) - 112u) << 10) | ((ax & 0x7fffffu) >> 13));
  uint32_t rem = ax & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u)))
    ++h; /* a carry into the exponent is right, up to infinity */
  return (uint16_t)(sign | h);
}

float kiln_f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu, x;
  float f;
  if (e == 0x1f) {
    x = sign | 0x7f800000u | (m << 13);
  } else if (e == 0) { /* subnormal: m * 2^-24, exact in fp32 */
    f = (float)m * (1.0f / 16777216.0f);
    memcpy(&x, &f, 4);
    x |= sign;
  } else {
    x = sign | ((e + 112u) << 23) | (m << 13);
  }
  memcpy(&f, &x, 4);
  return f;
}

void kiln_hgemm_pack_b(int64_t k, int64_t n, const float *b, int64_t rs,
                       int64_t cs, uint16_t *out) {
  int64_t panels = (n + PANEL - 1) / PANEL;
  for (int64_t p = 0; p < panels; ++p) {
    int64_t j0 = p * PANEL, w = n - j0 < PANEL ? n - j0 : PANEL;
    for (int64_t kk = 0; kk < k; ++kk) {
      uint16_t *d = out + (p * k + kk) * PANEL;
      for (int64_t j = 0; j < PANEL; ++j)
        d[j] = j < w ? kiln_f32_to_f16(b[kk * rs + (j0 + j) * cs]) : 0;
    }
  }
}
