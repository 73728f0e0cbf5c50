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
