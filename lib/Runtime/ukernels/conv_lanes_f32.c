/*===- conv_lanes_f32.c - convolutions with output pixels in the lanes ----===*
 *
 * See conv_lanes_f32.h. Tasks are runs of 64 output pixels of one image: a
 * run's 16-pixel blocks of input stay in L1 while every block of 6 output
 * channels passes over them (kiln_sgemm_tile_avx2_ldb, gemm_f32_avx2.c).
 *
 *===----------------------------------------------------------------------===*/

#include "conv_lanes_f32.h"
#include "gemm_f32.h"
#include "../runtime_internal.h"

#include <string.h>

#define MR KILN_SGEMM_MR_AVX2
#define NR KILN_GEMM_NR
/* Below this many multiply-adds a convolution runs on one thread. */
#define LANES_PARALLEL_MIN_MACS (1 << 18)

/* ---- 1 x 1, stride 1, no padding -------------------------------------- *
 * Y [F, P] = W [F, C] x X [C, P] per image, X's rows read in place (row
 * stride P). The last partial block of an image is copied into a
 * zero-padded buffer first (the tile reads 16 columns). */
#define PW_RUN 64
#define PW_MAX_K 1024

typedef struct {
  const kiln_conv_lanes_args *a;
  int64_t p;
} pw_job;

static void pw_range(void *vjob, int64_t begin, int64_t end) {
  const pw_job *j = vjob;
  const kiln_conv_lanes_args *a = j->a;
  int64_t p = j->p, runs = (p + PW_RUN - 1) / PW_RUN;
  float tail[PW_MAX_K * NR];
  for (int64_t t = begin; t < end; ++t) {
    int64_t img = t / runs, p0 = t % runs * PW_RUN;
    int64_t p1 = p0 + PW_RUN < p ? p0 + PW_RUN : p;
    const float *x = a->x + img * a->xs[0];
    float *y = a->y + img * a->y_img;
    const float *res = a->res ? a->res + img * a->res_img : NULL;
    for (int64_t q = p0; q < p1; q += NR) {
      int64_t nc = p1 - q < NR ? p1 - q : NR;
      const float *b = x + q;
      int64_t ldb = p;
      if (q + NR > p) { /* the image's last, partial block */
        for (int64_t kk = 0; kk < a->c; ++kk)
          for (int64_t i = 0; i < NR; ++i)
            tail[kk * NR + i] = i < nc ? x[kk * p + q + i] : 0.0f;
        b = tail;
        ldb = NR;
      }
      for (int64_t f0 = 0; f0 < a->f; f0 += MR) {
        int64_t mr = a->f - f0 < MR ? a->f - f0 : MR;
        kiln_epilogue ep = {NULL, res ? res + f0 * p + q : NULL, p, a->act,
                            a->bias ? a->bias + f0 : NULL, 1};
        kiln_sgemm_tile_avx2_ldb(mr, nc, a->c, a->wt + f0 * a->c, a->c, b, ldb,
                                 y + f0 * p + q, p, 0, &ep);
      }
    }
  }
}

int kiln_conv_lanes(const kiln_conv_lanes_args *a) {
  if (a->isa != KILN_ISA_AVX2)
    return 0;
  int64_t p = a->oh * a->ow;
  int64_t macs = a->n * a->f * p * a->c;
  if (a->kh == 1 && a->kw == 1 && a->sh == 1 && a->sw == 1 && a->pt == 0 &&
      a->pl == 0 && a->oh == a->h && a->ow == a->w && a->c <= PW_MAX_K &&
      a->xs[3] == 1 && a->xs[2] == a->w && a->xs[1] == p) {
    pw_job j = {a, p};
    int64_t tasks = a->n * ((p + PW_RUN - 1) / PW_RUN);
    if (macs >= LANES_PARALLEL_MIN_MACS)
      kiln_parallel_for(tasks, pw_range, &j);
    else
      pw_range(&j, 0, tasks);
    return 1;
  }
  return 0;
}
