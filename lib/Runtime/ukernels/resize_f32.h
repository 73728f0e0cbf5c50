/*===- resize_f32.h - Resize of NCHW planes (resize_f32.c) ----------------===*/

#ifndef KILN_UKERNELS_RESIZE_F32_H
#define KILN_UKERNELS_RESIZE_F32_H

#include <stdint.h>

typedef struct kiln_resize_job kiln_resize_job;
/* One output row yr from input rows r0, r1 (linear: blended with wy0, wy1
 * into the row buffer t first; nearest: r0 only). */
typedef void (*kiln_resize_row_fn)(const kiln_resize_job *j, const float *r0,
                                   const float *r1, float wy0, float wy1,
                                   float *t, float *yr);

struct kiln_resize_job {
  const float *x;
  float *y;
  int64_t xs[4], ys[4];
  int64_t xc;             /* x's column stride */
  int64_t c, h, w, oh, ow;
  int mode;               /* 0 nearest, 1 linear */
  int identity_w;         /* output columns are the input's */
  /* per output row / column: source indices and weights (nearest: i0) */
  int32_t *yi0, *yi1, *xi0, *xi1;
  float *yw0, *yw1, *xw0, *xw1;
  kiln_resize_row_fn row;
  int failed;
};

void kiln_resize_row(const kiln_resize_job *j, const float *r0, const float *r1,
                     float wy0, float wy1, float *t, float *yr);
/* The same with 16-lane gathers (x's columns unit-strided). */
void kiln_resize_row_avx512(const kiln_resize_job *j, const float *r0,
                            const float *r1, float wy0, float wy1, float *t,
                            float *yr);

#endif
