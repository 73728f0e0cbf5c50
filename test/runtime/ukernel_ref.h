/*===- ukernel_ref.h - reference pieces shared by the kernel tests -------===*
 *
 * The activations of the kernels' epilogues in double precision and the
 * ISA names the tests print (ukernels_test.c, conv_test.c).
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_TEST_UKERNEL_REF_H
#define KILN_TEST_UKERNEL_REF_H

#include "ukernels/gemm_f32.h"

#include <math.h>

static double act_ref(double v, int act) {
  switch (act) {
  case KILN_ACT_RELU: return v > 0 ? v : 0;
  case KILN_ACT_GELU: return 0.5 * v * (1 + erf(v / sqrt(2.0)));
  case KILN_ACT_GELU_TANH:
    return 0.5 * v * (1 + tanh(sqrt(2.0 / 3.14159265358979323846) * (v + 0.044715 * v * v * v)));
  case KILN_ACT_SILU: return v / (1 + exp(-v));
  case KILN_ACT_HARDSWISH: {
    double g = v / 6 + 0.5;
    return v * (g < 0 ? 0 : g > 1 ? 1 : g);
  }
  case KILN_ACT_HARDSIGMOID: {
    double g = v / 6 + 0.5;
    return g < 0 ? 0 : g > 1 ? 1 : g;
  }
  case KILN_ACT_RELU6: return v < 0 ? 0 : v > 6 ? 6 : v;
  default: return v;
  }
}

static const char *isa_name(int isa) {
  return isa == KILN_ISA_AVX512 ? "avx512" : isa == KILN_ISA_AVX2 ? "avx2" : "generic";
}

#endif
