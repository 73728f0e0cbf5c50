/*===- outputs.c - output buffers the runtime allocates, kiln_free -------===*/

#include "kiln/runtime.h"
#include "runtime_internal.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#define API __attribute__((visibility("default")))

/* ---- output buffers the runtime allocates (kiln_tensor.data == NULL) ---- *
 * Each carries a 64-byte header with its capacity. kiln_free keeps freed
 * ones (up to OUTPUT_CACHE_BYTES in OUTPUT_CACHE_SLOTS blocks, process-wide)
 * for the next runs: a decode loop's multi-MiB outputs (the KV cache) then
 * land in warm pages. Freed to the system they would come back as fresh
 * pages on every step (glibc trims the heap top), and the page faults and
 * zeroing cost as much as the copy itself. */
#define OUTPUT_HEADER 64
#define OUTPUT_CACHE_SLOTS 64
#define OUTPUT_CACHE_BYTES ((size_t)1 << 30)
#define OUTPUT_MAGIC 0x6b696c6e6f757431ull /* "klnout1" */

typedef struct {
  uint64_t magic;
  size_t capacity;
} output_header;

static pthread_mutex_t output_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static char *output_cache[OUTPUT_CACHE_SLOTS];
static size_t output_cache_count, output_cache_bytes;

static size_t output_capacity(const char *data) {
  return ((const output_header *)(data - OUTPUT_HEADER))->capacity;
}

/* A buffer of at least `bytes` (a cached one of at most twice the size, or
 * a new one), or NULL when out of memory. */
void *kiln_output_alloc(size_t bytes) {
  bytes = bytes ? bytes : 1;
  pthread_mutex_lock(&output_cache_lock);
  size_t best = output_cache_count;
  for (size_t i = 0; i < output_cache_count; ++i) {
    size_t c = output_capacity(output_cache[i]);
    if (c >= bytes && c / 2 <= bytes &&
        (best == output_cache_count || c < output_capacity(output_cache[best])))
      best = i;
  }
  char *data = NULL;
  if (best < output_cache_count) {
    data = output_cache[best];
    output_cache_bytes -= output_capacity(data);
    output_cache[best] = output_cache[--output_cache_count];
  }
  pthread_mutex_unlock(&output_cache_lock);
  if (data)
    return data;
  char *raw = aligned_alloc(OUTPUT_HEADER, (OUTPUT_HEADER + bytes + OUTPUT_HEADER - 1) /
                                               OUTPUT_HEADER * OUTPUT_HEADER);
  if (!raw)
    return NULL;
  output_header *h = (output_header *)raw;
  h->magic = OUTPUT_MAGIC;
  h->capacity = bytes;
  return raw + OUTPUT_HEADER;
}

API void kiln_free(void *data) {
  if (!data)
    return;
  char *d = data;
  output_header *h = (output_header *)(d - OUTPUT_HEADER);
  if (h->magic != OUTPUT_MAGIC)
    return; /* not a buffer kiln_run allocated: not ours to free */
  pthread_mutex_lock(&output_cache_lock);
  if (output_cache_count < OUTPUT_CACHE_SLOTS &&
      output_cache_bytes + h->capacity <= OUTPUT_CACHE_BYTES) {
    output_cache[output_cache_count++] = d;
    output_cache_bytes += h->capacity;
    d = NULL;
  }
  pthread_mutex_unlock(&output_cache_lock);
  if (d) {
    h->magic = 0;
    free(h);
  }
}

/* The first of the n outputs whose caller buffer overlaps the `bytes` at
 * `data` (an input), or n. Outputs may be computed in place in the
 * caller's buffers while the inputs are still read, so a buffer shared
 * with an input (a KV cache "updated in place") would give wrong values. */
size_t kiln_output_overlapping(const void *data, size_t bytes,
                               const kiln_tensor *outputs, size_t n) {
  uintptr_t in0 = (uintptr_t)data, in1 = in0 + bytes;
  for (size_t j = 0; j < n && bytes; ++j) {
    uintptr_t o0 = (uintptr_t)outputs[j].data;
    uintptr_t o1 = o0 + (outputs[j].capacity ? outputs[j].capacity : 1);
    if (o0 && o0 < in1 && in0 < o1)
      return j;
  }
  return n;
}

/* ---- the generated code's output callbacks (their work: runtime.c) ----- */

/* One entry point per element type and rank 1-6 (PARAMS: the dims). */
#define KILN_OUTBUF_FN(T, R, SIZE, PARAMS, ...)                                \
  void _mlir_ciface_kiln_rt_output_buffer_##T##_r##R(                          \
      int64_t *desc, void *ctx, int64_t i, KILN_UNPAREN PARAMS) {              \
    const int64_t dims[R] = {__VA_ARGS__};                                     \
    kiln_rt_output_buffer_impl(desc, ctx, i, R, dims, SIZE);                   \
  }
#define KILN_UNPAREN(...) __VA_ARGS__
#define KILN_OUTBUF_FNS(T, SIZE)                                               \
  KILN_OUTBUF_FN(T, 1, SIZE, (int64_t a), a)                                   \
  KILN_OUTBUF_FN(T, 2, SIZE, (int64_t a, int64_t b), a, b)                     \
  KILN_OUTBUF_FN(T, 3, SIZE, (int64_t a, int64_t b, int64_t c), a, b, c)       \
  KILN_OUTBUF_FN(T, 4, SIZE, (int64_t a, int64_t b, int64_t c, int64_t d), a,  \
                 b, c, d)                                                      \
  KILN_OUTBUF_FN(T, 5, SIZE,                                                   \
                 (int64_t a, int64_t b, int64_t c, int64_t d, int64_t e), a,   \
                 b, c, d, e)                                                   \
  KILN_OUTBUF_FN(T, 6, SIZE,                                                   \
                 (int64_t a, int64_t b, int64_t c, int64_t d, int64_t e,       \
                  int64_t f),                                                  \
                 a, b, c, d, e, f)
KILN_OUTBUF_FNS(f32, 4)
KILN_OUTBUF_FNS(f64, 8)
KILN_OUTBUF_FNS(f16, 2)
KILN_OUTBUF_FNS(bf16, 2)
KILN_OUTBUF_FNS(i1, 1)
KILN_OUTBUF_FNS(i8, 1)
KILN_OUTBUF_FNS(i16, 2)
KILN_OUTBUF_FNS(i32, 4)
KILN_OUTBUF_FNS(i64, 8)
KILN_OUTBUF_FNS(ui8, 1)
KILN_OUTBUF_FNS(ui16, 2)
KILN_OUTBUF_FNS(ui32, 4)
KILN_OUTBUF_FNS(ui64, 8)

#define KILN_OUTPUT_FN(T, SIZE)                                                \
  void _mlir_ciface_kiln_rt_output_##T(void *ctx, int64_t i,                   \
                                       unranked_memref *u) {                   \
    kiln_rt_output_impl(ctx, i, u, SIZE);                                      \
  }
KILN_OUTPUT_FN(f32, 4)
KILN_OUTPUT_FN(f64, 8)
KILN_OUTPUT_FN(f16, 2)
KILN_OUTPUT_FN(bf16, 2)
KILN_OUTPUT_FN(i1, 1)
KILN_OUTPUT_FN(i8, 1)
KILN_OUTPUT_FN(i16, 2)
KILN_OUTPUT_FN(i32, 4)
KILN_OUTPUT_FN(i64, 8)
KILN_OUTPUT_FN(ui8, 1)
KILN_OUTPUT_FN(ui16, 2)
KILN_OUTPUT_FN(ui32, 4)
KILN_OUTPUT_FN(ui64, 8)
