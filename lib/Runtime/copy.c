/*===- copy.c - the runtime's copies --------------------------------------===*
 *
 * Outputs leaving the workspace (kiln_copy_strided, called by runtime.c's
 * output functions) and memref.copy between layouts (memrefCopy, called by
 * generated code), with non-temporal stores for large blocks.
 *
 *===----------------------------------------------------------------------===*/

#include "runtime_internal.h"

#include <immintrin.h>
#include <string.h>

/* Large copies (outputs leaving the workspace, KV-cache concatenations)
 * with non-temporal stores: the destination is not read again in this run,
 * so writing around the cache saves the read-for-ownership of every line
 * (a third of the traffic) and keeps the cache for the weights. Below
 * KILN_NT_COPY_MIN bytes, or without AVX2, plain memcpy. */
#define KILN_NT_COPY_MIN (256 * 1024)

__attribute__((target("avx2"))) static void copy_nt_avx2(char *dst,
                                                         const char *src,
                                                         size_t n) {
  size_t head = (32 - ((uintptr_t)dst & 31)) & 31;
  memcpy(dst, src, head);
  dst += head, src += head, n -= head;
  size_t i = 0;
  for (; i + 128 <= n; i += 128) {
    __m256i a = _mm256_loadu_si256((const __m256i *)(src + i));
    __m256i b = _mm256_loadu_si256((const __m256i *)(src + i + 32));
    __m256i c = _mm256_loadu_si256((const __m256i *)(src + i + 64));
    __m256i d = _mm256_loadu_si256((const __m256i *)(src + i + 96));
    _mm256_stream_si256((__m256i *)(dst + i), a);
    _mm256_stream_si256((__m256i *)(dst + i + 32), b);
    _mm256_stream_si256((__m256i *)(dst + i + 64), c);
    _mm256_stream_si256((__m256i *)(dst + i + 96), d);
  }
  _mm_sfence();
  memcpy(dst + i, src + i, n - i);
}

static int has_avx2(void) {
  static int avx2 = -1;
  if (avx2 < 0) {
    __builtin_cpu_init();
    avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
  }
  return avx2;
}

static void copy_bytes(char *dst, const char *src, size_t n) {
  if (n >= KILN_NT_COPY_MIN && has_avx2())
    copy_nt_avx2(dst, src, n);
  else
    memcpy(dst, src, n);
}

int kiln_dense_from(int64_t rank, const int64_t *sizes,
                    const int64_t *strides, int64_t dim) {
  int64_t dense = 1;
  for (int64_t d = rank - 1; d >= dim; --d) {
    if (sizes[d] != 1 && strides[d] != dense)
      return 0;
    dense *= sizes[d];
  }
  return 1;
}

static void copy_from(char *dst, const char *src, int64_t rank,
                      const int64_t *sizes, const int64_t *strides,
                      size_t esize, int64_t dim) {
  if (rank == 0) {
    memcpy(dst, src, esize);
    return;
  }
  int64_t inner = 1;
  for (int64_t d = dim + 1; d < rank; ++d)
    inner *= sizes[d];
  if (dim == rank - 1 && strides[dim] == 1) {
    copy_bytes(dst, src, (size_t)sizes[dim] * esize);
    return;
  }
  /* dense from `dim` on: one copy */
  if (kiln_dense_from(rank, sizes, strides, dim)) {
    copy_bytes(dst, src, (size_t)(inner * sizes[dim]) * esize);
    return;
  }
  for (int64_t i = 0; i < sizes[dim]; ++i) {
    if (dim == rank - 1)
      memcpy(dst + (size_t)i * esize, src + (size_t)(i * strides[dim]) * esize, esize);
    else
      copy_from(dst + (size_t)(i * inner) * esize,
                src + (size_t)(i * strides[dim]) * esize, rank, sizes,
                strides, esize, dim + 1);
  }
}

void kiln_copy_strided(char *dst, const char *src, int64_t rank,
                       const int64_t *sizes, const int64_t *strides,
                       size_t esize) {
  copy_from(dst, src, rank, sizes, strides, esize, 0);
}

/* memref.copy from KILN_PAR_COPY_MIN bytes is split over the run's
 * threads: one core does not saturate the memory bus. Decode steps at 2
 * threads: GPT-2 8 x 1024's int4 step (KV-cache concatenations of 2 MiB
 * each, 32 MiB in all) 1.41x faster; LLaMA 8 x 1024's fp32 step (GQA: 512
 * KiB each) 1.03-1.06x faster at this threshold than at 1 MiB. */
#define KILN_PAR_COPY_MIN (256 * 1024)

/* Rows [begin, end) of a memrefCopy: row n is the n-th contiguous run of
 * `inner` elements, at its index over the outer dims in both layouts. */
typedef struct {
  char *d0;
  const char *s0;
  int64_t esize, inner, outerRank;
  const int64_t *sizes, *sstr, *dstr;
} copy_job;

static void copy_rows(void *vjob, int64_t begin, int64_t end) {
  const copy_job *j = vjob;
  int64_t idx[KILN_MAX_RANK * 4] = {0};
  /* the outer index of row `begin` */
  for (int64_t d = j->outerRank - 1, r = begin; d >= 0; --d) {
    idx[d] = r % j->sizes[d];
    r /= j->sizes[d];
  }
  for (int64_t n = begin; n < end; ++n) {
    int64_t so = 0, dof = 0;
    for (int64_t d = 0; d < j->outerRank; ++d) {
      so += idx[d] * j->sstr[d];
      dof += idx[d] * j->dstr[d];
    }
    memcpy(j->d0 + dof * j->esize, j->s0 + so * j->esize,
           (size_t)(j->inner * j->esize));
    for (int64_t d = j->outerRank - 1; d >= 0; --d) {
      if (++idx[d] < j->sizes[d])
        break;
      idx[d] = 0;
    }
  }
}

/* memref.copy between non-contiguous layouts lowers to this call (the name
 * and signature of MLIR's C runner utility). Trailing dims that are
 * contiguous in both layouts are merged, so the copy is one memcpy per row
 * of the merged inner dim (the KV-cache concatenations of decoder models
 * copy whole [seq, head_dim] blocks this way). */
void memrefCopy(int64_t esize, unranked_memref *src, unranked_memref *dst) {
  int64_t rank = src->rank;
  char **sp = src->desc, **dp = dst->desc;
  int64_t *si = (int64_t *)((char *)src->desc + 2 * sizeof(void *));
  int64_t *di = (int64_t *)((char *)dst->desc + 2 * sizeof(void *));
  const int64_t *sizes = si + 1, *sstr = si + 1 + rank, *dstr = di + 1 + rank;
  const char *s0 = sp[1] + si[0] * esize;
  char *d0 = dp[1] + di[0] * esize;
  int64_t total = 1;
  for (int64_t d = 0; d < rank; ++d)
    total *= sizes[d];
  if (total == 0)
    return;
  if (rank == 0) {
    memcpy(d0, s0, (size_t)esize);
    return;
  }
  /* The contiguous run: the innermost dim if both strides are 1, extended
   * outwards while both layouts stay dense. */
  int64_t inner = 1, outerRank = rank;
  if (sstr[rank - 1] == 1 && dstr[rank - 1] == 1) {
    inner = sizes[rank - 1];
    outerRank = rank - 1;
    while (outerRank > 0 && sstr[outerRank - 1] == inner &&
           dstr[outerRank - 1] == inner) {
      inner *= sizes[outerRank - 1];
      --outerRank;
    }
  }
  /* Plain stores: the destination of a memref.copy is read again in the
   * run (a decode step's KV-cache concatenation feeds the attention next:
   * non-temporal stores made GPT-2 8 x 1024's int4 step 6-9% slower). */
  copy_job j = {d0, s0, esize, inner, outerRank, sizes, sstr, dstr};
  int64_t rows = total / inner;
  if (total * esize >= KILN_PAR_COPY_MIN && rows > 1)
    kiln_parallel_for(rows, copy_rows, &j);
  else
    copy_rows(&j, 0, rows);
}
