/*===- pack_s4.c - int4 weight quantization and packing ------------------===*
 *
 * The layout is described in gemm_s4.h. Plain C with no runtime
 * dependencies: the compiler (codegen/cpu/Ukernels.cpp) links this file to
 * pack constant weights, and the runtime's tests pack with it too.
 *
 * Each column's group is quantized symmetrically (scale max|w| / 7, zero
 * point 8) or, in the zero-point layout, with whichever of that and the
 * asymmetric grid over [min(w, 0), max(w, 0)] (scale (max - min) / 15,
 * zero point round(-min / scale)) reproduces the group better. The
 * zero-point layout is chosen for the whole weight when it halves the
 * squared error of the symmetric one: weights that come from an
 * asymmetric 4-bit source (ONNX Runtime's MatMulNBits or 4-bit QDQ
 * quantizers, dequantized at import) are then reproduced exactly, and fp32
 * weights, where the two grids differ little, keep the smaller layout.
 *
 *===----------------------------------------------------------------------===*/

#include "gemm_s4.h"

#include <math.h>
#include <string.h>

#define PANEL 16

size_t kiln_s4_packed_bytes(int64_t k, int64_t n, int64_t group, int zp) {
  int64_t panels = (n + PANEL - 1) / PANEL, ng = (k + group - 1) / group;
  return (size_t)(panels * ng * (group / 8 + 1 + (zp != 0)) * 64);
}

/* One column's group (values v[0..len) at stride st): its grid, and the
 * squared error of reproducing the values on it. */
typedef struct {
  float scale, inv; /* inv: 1 / scale, or 0 */
  int32_t zp;       /* the stored nibble of 0 */
} grid;

static grid make_grid(float scale, int32_t zp) {
  grid g = {scale, scale > 0.0f ? 1.0f / scale : 0.0f, zp};
  return g;
}

static float quantize(float v, grid g) {
  float q = nearbyintf(v * g.inv) + (float)g.zp;
  return q != q ? (float)g.zp : q < 0.0f ? 0.0f : q > 15.0f ? 15.0f : q;
}

static double sq_error(const float *v, int64_t len, int64_t st, grid g) {
  double e = 0;
  for (int64_t i = 0; i < len; ++i) {
    double d = (double)(quantize(v[i * st], g) - (float)g.zp) * g.scale -
               v[i * st];
    e += d * d;
  }
  return e;
}

static grid symmetric(const float *v, int64_t len, int64_t st) {
  float amax = 0.0f;
  for (int64_t i = 0; i < len; ++i)
    amax = fabsf(v[i * st]) > amax ? fabsf(v[i * st]) : amax;
  return make_grid(amax > 0.0f && isfinite(amax) ? amax / 7.0f : 0.0f, 8);
}

static grid asymmetric(const float *v, int64_t len, int64_t st) {
  float lo = 0.0f, hi = 0.0f;
  for (int64_t i = 0; i < len; ++i) {
    lo = v[i * st] < lo ? v[i * st] : lo;
    hi = v[i * st] > hi ? v[i * st] : hi;
  }
  float s = (hi - lo) / 15.0f;
  if (!(s > 0.0f) || !isfinite(s))
    return make_grid(0.0f, 8);
  float z = nearbyintf(-lo / s);
  return make_grid(s, z < 0.0f ? 0 : z > 15.0f ? 15 : (int32_t)z);
}

/* The better grid of a group (the symmetric one unless zp). */
static grid choose(const float *v, int64_t len, int64_t st, int zp) {
  grid s = symmetric(v, len, st);
  if (!zp)
    return s;
  grid a = asymmetric(v, len, st);
  return sq_error(v, len, st, a) < sq_error(v, len, st, s) ? a : s;
}

int kiln_s4_wants_zero_points(int64_t k, int64_t n, int64_t group,
                              const float *w, int64_t rs, int64_t cs) {
  double sym = 0, best = 0;
  for (int64_t j = 0; j < n; ++j)
    for (int64_t g0 = 0; g0 < k; g0 += group) {
      const float *v = w + g0 * rs + j * cs;
      int64_t len = k - g0 < group ? k - g0 : group;
      double es = sq_error(v, len, rs, symmetric(v, len, rs));
      double ea = sq_error(v, len, rs, asymmetric(v, len, rs));
      sym += es;
      best += ea < es ? ea : es;
    }
  return best < 0.5 * sym;
}

void kiln_s4_pack_weights(int64_t k, int64_t n, int64_t group, int zp,
                          const float *w, int64_t rs, int64_t cs,
                          uint8_t *out) {
  int64_t panels = (n + PANEL - 1) / PANEL, ng = (k + group - 1) / group;
  int64_t groupBytes = (group / 8 + 1 + (zp != 0)) * 64;
  memset(out, 0x88, kiln_s4_packed_bytes(k, n, group, zp)); /* zero weights */
  for (int64_t p = 0; p < panels; ++p)
    for (int64_t g = 0; g < ng; ++g) {
      uint8_t *blk = out + (p * ng + g) * groupBytes;
      float scales[PANEL] = {0};
      int32_t zps[PANEL];
      for (int64_t lane = 0; lane < PANEL; ++lane) {
        int64_t j = p * PANEL + lane;
        zps[lane] = 8;
        if (j >= n)
          continue;
        const float *v = w + g * group * rs + j * cs;
        int64_t len = k - g * group < group ? k - g * group : group;
        grid gr = choose(v, len, rs, zp);
        scales[lane] = gr.scale;
        zps[lane] = gr.zp;
        for (int64_t r = 0; r < len; ++r) {
          int64_t row = r / 8, t = r % 4, high = (r / 4) % 2;
          uint8_t *byte = blk + row * 64 + lane * 4 + t;
          uint8_t nib = (uint8_t)quantize(v[r * rs], gr);
          *byte = high ? (uint8_t)((*byte & 0x0f) | (nib << 4))
                       : (uint8_t)((*byte & 0xf0) | nib);
        }
      }
      memcpy(blk + (group / 8) * 64, scales, sizeof scales);
      if (zp)
        memcpy(blk + (group / 8 + 1) * 64, zps, sizeof zps);
    }
}
