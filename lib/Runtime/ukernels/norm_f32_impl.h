/*===- norm_f32_impl.h - layer/RMS norm rows, one body for every ISA -----===*
 *
 * Included by norm_f32_<isa>.c, each compiled for its ISA with
 * NORM_ROWS defined to the function's name. Plain C over 16-wide
 * accumulator arrays: GCC vectorizes the loops without reassociating a
 * single sum (each lane keeps its own partial sums).
 *
 * rows(x, rows, n, ldx, y, ldy, scale, bias, eps, rms):
 *   layer norm: y = (x - mean) / sqrt(var + eps) * scale (+ bias), with
 *   the mean and the variance each in their own pass (rows are short and in
 *   L1, so the second pass is nearly free and exact);
 *   rms: y = x / sqrt(mean(x^2) + eps) * scale.
 *
 *===----------------------------------------------------------------------===*/

#include <math.h>
#include <stdint.h>

#define NORM_LANES 16

void NORM_ROWS(const float *x, int64_t rows, int64_t n, int64_t ldx, float *y,
               int64_t ldy, const float *scale, const float *bias, float eps,
               int rms) {
  for (int64_t r = 0; r < rows; ++r) {
    const float *xr = x + r * ldx;
    float *yr = y + r * ldy;
    float acc[NORM_LANES] = {0};
    int64_t full = n - n % NORM_LANES, j;
    float mean = 0.0f;
    if (!rms) {
      for (j = 0; j < full; j += NORM_LANES)
        for (int l = 0; l < NORM_LANES; ++l)
          acc[l] += xr[j + l];
      float s = 0.0f;
      for (int l = 0; l < NORM_LANES; ++l)
        s += acc[l];
      for (j = full; j < n; ++j)
        s += xr[j];
      mean = s / (float)n;
      for (int l = 0; l < NORM_LANES; ++l)
        acc[l] = 0.0f;
    }
    for (j = 0; j < full; j += NORM_LANES)
      for (int l = 0; l < NORM_LANES; ++l) {
        float d = xr[j + l] - mean;
        acc[l] += d * d;
      }
    float ss = 0.0f;
    for (int l = 0; l < NORM_LANES; ++l)
      ss += acc[l];
    for (j = full; j < n; ++j) {
      float d = xr[j] - mean;
      ss += d * d;
    }
    float inv = 1.0f / sqrtf(ss / (float)n + eps);
    if (bias)
      for (j = 0; j < n; ++j)
        yr[j] = (xr[j] - mean) * inv * scale[j] + bias[j];
    else
      for (j = 0; j < n; ++j)
        yr[j] = (xr[j] - mean) * inv * scale[j];
  }
}
