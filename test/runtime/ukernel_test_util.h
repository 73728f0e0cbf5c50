/*===- ukernel_test_util.h - shared pieces of the runtime kernel tests ----===*
 *
 * Included by the test programs of test/runtime (each is one translation
 * unit linked with libkiln_runtime.a): the compiled-model symbols the
 * runtime archive expects, a deterministic random source, CPU feature
 * checks, the failure count and the relative error against a double
 * reference.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_TEST_UKERNEL_TEST_UTIL_H
#define KILN_TEST_UKERNEL_TEST_UTIL_H

#include <math.h>
#include <stdint.h>

#include "ukernels/gemm_f32.h" /* KILN_ISA_* */

/* The runtime archive expects a compiled model's two symbols. */
void kiln_model_entry(void **inputs, void *ctx) { (void)inputs; (void)ctx; }
const char *kiln_model_signature(void) { return ""; }

static int failures;

/* Uniform in [-1, 1), the same sequence on every run. */
static unsigned rng_state = 12345;
static float frand(void) {
  rng_state = rng_state * 1103515245u + 12345u;
  return ((rng_state >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static inline int has_avx512(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}
static inline int has_avx2(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
static inline int has_avx512vnni(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw");
}

/* The kernel variants this CPU runs, generic first, into isas[0..2]; returns
 * how many. */
static inline int test_isas(int isas[3]) {
  int n = 0;
  isas[n++] = KILN_ISA_GENERIC;
  if (has_avx2())
    isas[n++] = KILN_ISA_AVX2;
  if (has_avx512())
    isas[n++] = KILN_ISA_AVX512;
  return n;
}

/* The largest |got - want| over the largest |want|. */
static inline double rel_error(int64_t count, const float *got, const double *want) {
  double worst = 0, scale = 1e-30;
  for (int64_t i = 0; i < count; ++i)
    scale = fabs(want[i]) > scale ? fabs(want[i]) : scale;
  for (int64_t i = 0; i < count; ++i) {
    double e = fabs(got[i] - want[i]) / scale;
    worst = e > worst || e != e ? e : worst;
  }
  return worst;
}

#endif
