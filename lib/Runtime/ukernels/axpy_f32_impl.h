/*===- axpy_f32_impl.h - a decode step's Q.K and P.V, one body per ISA ---===*
 *
 * Included by softmax_f32_<isa>.c with AXPY_NAME, DOT_NAME defined to the
 * functions' names and DOT_VW to the vector width in floats; the file's -m
 * flags decide the instructions.
 * o[e] += sum_j p[j] * v[j * ldv + e]: rows of V are streamed once and the
 * output row stays in registers/L1 (auto-vectorized: no reduction across
 * lanes).
 * s[j] = sum_e k[j * ldk + e] * q[e]: rows of K are streamed once, each
 * row's products summed in two vectors, then across their lanes.
 *
 *===----------------------------------------------------------------------===*/

#include <stdint.h>
#include <string.h>

typedef float dot_vf __attribute__((vector_size(DOT_VW * 4)));

static inline dot_vf dot_load(const float *p) {
  dot_vf x;
  memcpy(&x, p, sizeof x);
  return x;
}

void DOT_NAME(float *s, const float *q, const float *k, int64_t n, int64_t d,
              int64_t ldk) {
  const int64_t dv = d - d % DOT_VW;
  for (int64_t j = 0; j < n; ++j) {
    const float *kj = k + j * ldk;
    dot_vf a0 = {0}, a1 = {0};
    int64_t e = 0;
    for (; e + 2 * DOT_VW <= dv; e += 2 * DOT_VW) {
      a0 += dot_load(kj + e) * dot_load(q + e);
      a1 += dot_load(kj + e + DOT_VW) * dot_load(q + e + DOT_VW);
    }
    for (; e < dv; e += DOT_VW)
      a0 += dot_load(kj + e) * dot_load(q + e);
    a0 += a1;
    float t = 0.0f;
    for (int l = 0; l < DOT_VW; ++l)
      t += a0[l];
    for (; e < d; ++e)
      t += kj[e] * q[e];
    s[j] = t;
  }
}

void AXPY_NAME(float *o, const float *p, const float *v, int64_t n,
               int64_t dv, int64_t ldv) {
  for (int64_t j = 0; j < n; ++j) {
    const float pj = p[j];
    const float *vj = v + j * ldv;
    for (int64_t e = 0; e < dv; ++e)
      o[e] += pj * vj[e];
  }
}
