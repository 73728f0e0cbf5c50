/*===- axpy_f32_impl.h - P.V rows of a decode step, one body per ISA -----===*
 *
 * Included by softmax_f32_<isa>.c with AXPY_NAME defined to the function's
 * name; the file's -m flags decide the vector width.
 * o[e] += sum_j p[j] * v[j * ldv + e]: rows of V are streamed once and the
 * output row stays in registers/L1 (auto-vectorized: no reduction across
 * lanes).
 *
 *===----------------------------------------------------------------------===*/

#include <stdint.h>

void AXPY_NAME(float *o, const float *p, const float *v, int64_t n,
               int64_t dv, int64_t ldv) {
  for (int64_t j = 0; j < n; ++j) {
    const float pj = p[j];
    const float *vj = v + j * ldv;
    for (int64_t e = 0; e < dv; ++e)
      o[e] += pj * vj[e];
  }
}
