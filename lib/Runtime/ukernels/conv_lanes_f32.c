/*===- conv_lanes_f32.c - convolutions with output pixels in the lanes ----===*
 *
 * See conv_lanes_f32.h. Tasks are runs of output pixels of one image: a
 * run's input stays in L1 while every block of 4 output channels passes
 * over it (conv_pw_f32_avx2.c).
 *
 *===----------------------------------------------------------------------===*/

#include "conv_lanes_f32.h"
#include "gemm_f32.h"
#include "../runtime_internal.h"

/* Below this many multiply-adds a convolution runs on one thread. */
#define LANES_PARALLEL_MIN_MACS (1 << 18)

/* ---- 1 x 1, stride 1, no padding -------------------------------------- *
 * Y [F, P] = W [F, C] x X [C, P] per image, X's rows read in place (row
 * stride P): kiln_conv_pw_avx2. A task's run of pixels is sized so that
 * its input (C x run floats) stays within about 24 KiB of L1. */
#define PW_TILE 24

int kiln_conv_lanes(const kiln_conv_lanes_args *a) {
  if (a->isa != KILN_ISA_AVX2)
    return 0;
  int64_t p = a->oh * a->ow;
  int64_t macs = a->n * a->f * p * a->c;
  if (a->kh == 1 && a->kw == 1 && a->sh == 1 && a->sw == 1 && a->pt == 0 &&
      a->pl == 0 && a->oh == a->h && a->ow == a->w &&
      a->xs[3] == 1 && a->xs[2] == a->w && a->xs[1] == p) {
    int64_t run = (6144 / (a->c > 0 ? a->c : 1)) / PW_TILE * PW_TILE;
    run = run < PW_TILE ? PW_TILE : run > 16 * PW_TILE ? 16 * PW_TILE : run;
    kiln_conv_pw_job j = {a, p, run, (p + run - 1) / run};
    int64_t tasks = a->n * j.runs;
    if (macs >= LANES_PARALLEL_MIN_MACS)
      kiln_parallel_for(tasks, kiln_conv_pw_avx2, &j);
    else
      kiln_conv_pw_avx2(&j, 0, tasks);
    return 1;
  }
  return 0;
}
