/*===- bf16_round.h - fp32 <-> bf16 bits, one rounding for all -----------===*
 *
 * fp32 -> bf16 rounds to nearest even and keeps a NaN a (quiet) NaN; bf16
 * -> fp32 is exact. Every scalar rounding to bf16 (the runtime's
 * kiln_f32_to_bf16 and packers, the bf16 convolution's filter and input,
 * the compiler's WeightPacker) uses these, so weights rounded at compile
 * time and activations rounded at run time agree bit for bit. Header-only
 * (static inline): pack_s8.c and the compiler include it too.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_UKERNELS_BF16_ROUND_H
#define KILN_UKERNELS_BF16_ROUND_H

#include <stdint.h>
#include <string.h>

static inline uint16_t kiln_bf16_round(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return (uint16_t)((u >> 16) | 0x40); /* NaN stays a (quiet) NaN */
  return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

static inline float kiln_bf16_widen(uint16_t h) {
  uint32_t u = (uint32_t)h << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

#endif
