/*===- pool_test.c - the runtime's pooling kernels -------------------------===*
 *
 * kiln.ukernel "global_avgpool_f32" (lib/Runtime/ukernels/pool_f32.c)
 * against a double-precision reference (test/runtime/pool.test). Max
 * pooling is checked end to end by the ONNX node tests.
 *
 *===----------------------------------------------------------------------===*/

#include "kiln/runtime.h"
#include "runtime_internal.h"
#include "ukernel_test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* kiln.ukernel "global_avgpool_f32" (pool_f32.c) on dense planes (with
 * and without a tail past 16 floats), rows with a pitch, and strided
 * columns, against a double-precision mean. */
void kiln_ukernel_global_avgpool_f32(const int64_t *desc, const float *fparams);

static void test_global_avgpool(void) {
  /* n, c, h, w, row pitch, column stride */
  static const int64_t cs[][6] = {
      {2, 3, 7, 7, 7, 1}, {1, 5, 4, 4, 4, 1}, {3, 2, 56, 56, 56, 1},
      {2, 4, 5, 6, 9, 1}, {1, 3, 3, 5, 11, 2}, {2, 2, 1, 1, 1, 1}};
  double worst = 0;
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; ++i) {
    const int64_t *q = cs[i];
    int64_t n = q[0], c = q[1], h = q[2], w = q[3], pitch = q[4], cst = q[5];
    int64_t plane = h * pitch, xn = n * c * plane;
    float *x = malloc(sizeof(float) * (size_t)xn), *y = malloc(sizeof(float) * (size_t)(n * c));
    for (int64_t k = 0; k < xn; ++k)
      x[k] = frand();
    int64_t desc[] = {1, (intptr_t)x, 0, n, c, h, w, c * plane, plane, pitch, cst,
                      (intptr_t)y, 0, n, c, 1, 1, c, 1, 1, 1};
    kiln_ukernel_global_avgpool_f32(desc, NULL);
    for (int64_t a = 0; a < n * c; ++a) {
      double s = 0;
      for (int64_t r = 0; r < h; ++r)
        for (int64_t col = 0; col < w; ++col)
          s += x[a * plane + r * pitch + col * cst];
      double e = fabs(y[a] - s / (double)(h * w));
      worst = e > worst ? e : worst;
    }
    free(x);
    free(y);
  }
  if (worst > 1e-6) {
    printf("FAIL global avgpool: error %g\n", worst);
    ++failures;
  }
  printf("global avgpool: %zu cases, max error %s 1e-6\n",
         sizeof cs / sizeof cs[0], worst <= 1e-6 ? "<=" : ">");
}

int main(void) {
  kiln_pool_start(2);
  test_global_avgpool();
  printf("pool: %s\n", failures ? "FAILED" : "ok");
  return failures != 0;
}
