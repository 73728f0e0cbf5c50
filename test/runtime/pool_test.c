/*===- pool_test.c - the runtime's pooling kernels -------------------------===*
 *
 * kiln.ukernel "global_avgpool_f32", "maxpool2d_f32" and "avgpool2d_f32"
 * (lib/Runtime/ukernels/pool_f32.c, pool_f32_impl.h) against a
 * double-precision reference (test/runtime/pool.test), for every kernel
 * variant this CPU runs.
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

/* kiln.ukernel "maxpool2d_f32" / "avgpool2d_f32": windows of 1 to 7,
 * strides 1 to 3, pads on each side, ceil_mode's extra windows (in the
 * output extents), count_include_pad on and off, planes narrower and
 * wider than a vector, rows with a pitch, strided input columns, and an
 * output that is a channel slice of a larger tensor (a concat's part). */
void kiln_ukernel_maxpool2d_f32(const int64_t *desc, const float *fparams);
void kiln_ukernel_avgpool2d_f32(const int64_t *desc, const float *fparams);

/* the divisor's count along one dim, by enumeration */
static int64_t ref_count(int64_t o, int64_t s, int64_t k, int64_t pbeg,
                         int64_t pend, int64_t n, int include_pad) {
  int64_t m = 0;
  for (int64_t i = o * s - pbeg; i < o * s - pbeg + k; ++i)
    m += include_pad ? (i >= -pbeg && i < n + pend) : (i >= 0 && i < n);
  return m;
}

static void test_pool2d(void) {
  /* n, c, h, w, kh, kw, sh, sw, pt, pl, pb, pr, ceil, xpitch extra,
   * x column stride, y channel extra (slice of a bigger output) */
  static const int64_t cs[][16] = {
      {1, 3, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0},
      {2, 2, 111, 111, 3, 3, 2, 2, 0, 0, 0, 0, 1, 0, 1, 0},
      {1, 4, 112, 112, 3, 3, 2, 2, 1, 1, 1, 1, 0, 0, 1, 3},
      {1, 2, 55, 55, 3, 3, 2, 2, 0, 0, 0, 0, 1, 5, 1, 0},
      {2, 3, 7, 9, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 1, 1},
      {1, 2, 35, 35, 3, 3, 1, 1, 1, 1, 1, 1, 0, 3, 1, 0},
      {1, 2, 13, 17, 5, 5, 3, 3, 2, 2, 2, 2, 1, 0, 1, 0},
      {1, 2, 9, 40, 1, 7, 1, 1, 0, 3, 0, 3, 0, 0, 2, 0},
      {1, 2, 40, 9, 7, 1, 1, 1, 3, 0, 3, 0, 0, 0, 1, 0},
      {1, 1, 5, 5, 5, 5, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0},
      {2, 2, 33, 37, 3, 2, 2, 3, 1, 0, 2, 1, 1, 0, 1, 2},
      {1, 3, 3, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0, 1, 0},
      {1, 2, 20, 20, 4, 4, 4, 4, 0, 0, 0, 0, 0, 0, 1, 0},
      {1, 2, 64, 70, 2, 3, 2, 2, 1, 1, 0, 1, 1, 0, 2, 0},
  };
  int isas[3], nisa = test_isas(isas), ncases = 0;
  double worst = 0;
  for (int ia = 0; ia < nisa; ++ia)
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; ++i)
      for (int avg = 0; avg < 2; ++avg)
        for (int incl = 0; incl <= avg; ++incl) {
          const int64_t *q = cs[i];
          int64_t n = q[0], c = q[1], h = q[2], w = q[3], kh = q[4], kw = q[5],
                  sh = q[6], sw = q[7], pt = q[8], pl = q[9], pb = q[10], pr = q[11];
          int64_t oh = (h + pt + pb - kh) / sh + 1, ow = (w + pl + pr - kw) / sw + 1;
          if (q[12]) { /* ceil_mode: a last window that starts inside */
            if ((h + pt + pb - kh) % sh && (oh * sh - pt) < h)
              ++oh;
            if ((w + pl + pr - kw) % sw && (ow * sw - pl) < w)
              ++ow;
          }
          int64_t xcs = q[14], xpitch = w * xcs + q[13], xplane = h * xpitch;
          int64_t yc = c + q[15], yplane = oh * ow;
          int64_t xn = n * c * xplane, yn = n * yc * yplane;
          float *x = malloc(sizeof(float) * (size_t)xn);
          float *y = malloc(sizeof(float) * (size_t)yn);
          double *want = malloc(sizeof(double) * (size_t)(n * c * yplane));
          float *got = malloc(sizeof(float) * (size_t)(n * c * yplane));
          for (int64_t k = 0; k < xn; ++k)
            x[k] = frand();
          for (int64_t k = 0; k < yn; ++k)
            y[k] = 12345.0f;
          int64_t desc[40], d = 0;
          desc[d++] = isas[ia];
          desc[d++] = kh; desc[d++] = kw; desc[d++] = sh; desc[d++] = sw;
          desc[d++] = pt; desc[d++] = pl;
          if (avg) {
            desc[d++] = pb; desc[d++] = pr; desc[d++] = incl;
          }
          int64_t xv[] = {(intptr_t)x, 0, n, c, h, w, c * xplane, xplane, xpitch, xcs};
          int64_t yv[] = {(intptr_t)y, 0, n, c, oh, ow, yc * yplane, yplane, ow, 1};
          for (int k = 0; k < 10; ++k)
            desc[d++] = xv[k];
          for (int k = 0; k < 10; ++k)
            desc[d++] = yv[k];
          if (avg)
            kiln_ukernel_avgpool2d_f32(desc, NULL);
          else
            kiln_ukernel_maxpool2d_f32(desc, NULL);
          int bad_fill = 0;
          for (int64_t a = 0; a < n; ++a)
            for (int64_t ch = 0; ch < yc; ++ch)
              for (int64_t o = 0; o < yplane; ++o) {
                float v = y[(a * yc + ch) * yplane + o];
                if (ch >= c) { /* outside the slice: untouched */
                  bad_fill |= v != 12345.0f;
                  continue;
                }
                int64_t r = o / ow, col = o % ow;
                double m = avg ? 0.0 : -INFINITY;
                for (int64_t ir = r * sh - pt; ir < r * sh - pt + kh; ++ir)
                  for (int64_t ic = col * sw - pl; ic < col * sw - pl + kw; ++ic) {
                    if (ir < 0 || ir >= h || ic < 0 || ic >= w)
                      continue;
                    double e = x[(a * c + ch) * xplane + ir * xpitch + ic * xcs];
                    m = avg ? m + e : (e > m ? e : m);
                  }
                if (avg)
                  m /= (double)(ref_count(r, sh, kh, pt, pb, h, incl) *
                                ref_count(col, sw, kw, pl, pr, w, incl));
                int64_t at = (a * c + ch) * yplane + o;
                want[at] = m;
                got[at] = v;
              }
          double e = rel_error(n * c * yplane, got, want);
          if (e > 1e-6 || bad_fill) {
            printf("FAIL pool2d isa %d case %zu %s%s: error %g%s\n", isas[ia], i,
                   avg ? "avg" : "max", incl ? " include_pad" : "", e,
                   bad_fill ? ", wrote outside its slice" : "");
            ++failures;
          }
          worst = e > worst ? e : worst;
          ++ncases;
          free(x);
          free(y);
          free(want);
          free(got);
        }
  printf("pool2d: %d cases, max error %s 1e-6\n", ncases, worst <= 1e-6 ? "<=" : ">");
}

int main(void) {
  kiln_pool_start(2);
  test_global_avgpool();
  test_pool2d();
  printf("pool: %s\n", failures ? "FAILED" : "ok");
  return failures != 0;
}
