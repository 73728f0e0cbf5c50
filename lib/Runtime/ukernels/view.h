/*===- view.h - strided operands of kiln.ukernel calls (internal) --------===*
 *
 * kiln.ukernel passes each operand as (address, offset, sizes[rank],
 * strides[rank]); kernels read them as 4-D views, left-padded with size-1
 * dims. Size-1 dims get stride 0, so they broadcast.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_UKERNELS_VIEW_H
#define KILN_UKERNELS_VIEW_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  char *base; /* written through only for outputs */
  int64_t size[4], stride[4];
} view4;

/* Reads one operand of `rank` <= 4 with elements of `esize` bytes; returns
 * the position of the next operand in the descriptor. */
static inline const int64_t *kiln_read_view(const int64_t *d, int64_t rank,
                                            size_t esize, view4 *v) {
  v->base = (char *)(intptr_t)d[0] + d[1] * (int64_t)esize;
  for (int64_t i = 0; i < 4; ++i) {
    v->size[i] = 1;
    v->stride[i] = 0;
  }
  for (int64_t i = 0; i < rank; ++i) {
    int64_t at = 4 - rank + i;
    v->size[at] = d[2 + i];
    v->stride[at] = d[2 + i] == 1 ? 0 : d[2 + rank + i];
  }
  return d + 2 + 2 * rank;
}

#endif
