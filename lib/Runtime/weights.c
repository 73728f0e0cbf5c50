/*===- weights.c - weights in the side file MODEL.so.weights ----------===*
 *
 * Constants of at least --min-weight-bytes live in MODEL.so.weights, mapped
 * read-only once per process when the first model opens
 * (kiln_weights_map) and unmapped when the last closes. Generated code
 * asks for a view of weight `id` through kiln_rt_weight_<type>_r<rank>.
 *
 *===----------------------------------------------------------------------===*/

#define _GNU_SOURCE
#include "runtime_internal.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Provided by the generated object. */
extern const char *kiln_model_signature(void);

/* ---- weights in the side file MODEL.so.weights ------------------------ */

typedef struct {
  int64_t offset, bytes, rank;
  int64_t dims[KILN_MAX_RANK];
} weight_entry;

static pthread_mutex_t weights_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t num_weights;
static weight_entry *weights;
static char *weights_base;
static size_t weights_size;
static int weights_users;

/* Maps the side file of this library (once per process). */
kiln_status kiln_weights_map(void) {
  const char *p = kiln_model_signature();
  int64_t count = 0;
  for (const char *q = p; *q; ++q)
    if ((q == p || q[-1] == '\n') && q[0] == 'w' && q[1] == '\t')
      ++count;
  if (count == 0)
    return KILN_OK;
  pthread_mutex_lock(&weights_lock);
  if (weights_users++ > 0) {
    pthread_mutex_unlock(&weights_lock);
    return KILN_OK;
  }
  weights = calloc((size_t)count, sizeof *weights);
  if (!weights) {
    weights_users = 0;
    pthread_mutex_unlock(&weights_lock);
    return kiln_fail(KILN_OUT_OF_MEMORY, "cannot hold the weights table");
  }
  for (const char *q = p; *q; ++q) {
    if (!((q == p || q[-1] == '\n') && q[0] == 'w' && q[1] == '\t'))
      continue;
    char *e;
    int64_t id = strtoll(q + 2, &e, 10);
    weight_entry w = {0};
    w.offset = strtoll(e + 1, &e, 10);
    w.bytes = strtoll(e + 1, &e, 10);
    while (*e == '\t' || *e == ',') {
      if (w.rank < KILN_MAX_RANK)
        w.dims[w.rank++] = strtoll(e + 1, &e, 10);
      else
        strtoll(e + 1, &e, 10);
    }
    if (id >= 0 && id < count)
      weights[id] = w;
  }
  num_weights = count;
  Dl_info info;
  char path[4096];
  if (!dladdr((void *)&kiln_weights_map, &info) || !info.dli_fname ||
      snprintf(path, sizeof path, "%s.weights", info.dli_fname) >= (int)sizeof path) {
    weights_users = 0;
    pthread_mutex_unlock(&weights_lock);
    return kiln_fail(KILN_INTERNAL, "cannot locate this model's weights file");
  }
  int fd = open(path, O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    if (fd >= 0)
      close(fd);
    weights_users = 0;
    pthread_mutex_unlock(&weights_lock);
    return kiln_fail(KILN_INVALID_ARGUMENT, "cannot open the weights file '%s'", path);
  }
  weights_size = (size_t)st.st_size;
  void *base = mmap(NULL, weights_size ? weights_size : 1, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (base == MAP_FAILED) {
    weights_users = 0;
    pthread_mutex_unlock(&weights_lock);
    return kiln_fail(KILN_OUT_OF_MEMORY, "cannot map the weights file '%s'", path);
  }
  for (int64_t i = 0; i < count; ++i)
    if (weights[i].offset < 0 ||
        (uint64_t)(weights[i].offset + weights[i].bytes) > weights_size) {
      munmap(base, weights_size);
      weights_users = 0;
      pthread_mutex_unlock(&weights_lock);
      return kiln_fail(KILN_INVALID_ARGUMENT,
                  "the weights file '%s' is too short (%zu bytes)", path,
                  weights_size);
    }
  weights_base = base;
  pthread_mutex_unlock(&weights_lock);
  return KILN_OK;
}

void kiln_weights_unmap(void) {
  if (num_weights == 0)
    return;
  pthread_mutex_lock(&weights_lock);
  if (weights_users > 0 && --weights_users == 0 && weights_base) {
    munmap(weights_base, weights_size);
    weights_base = NULL;
    free(weights);
    weights = NULL;
  }
  pthread_mutex_unlock(&weights_lock);
}

/* Fills a ranked memref descriptor viewing weight `id`. */
static void weight_view(int64_t *desc, int64_t rank, int64_t id) {
  const weight_entry *w = &weights[id];
  void *p = weights_base + w->offset;
  memcpy(&desc[0], &p, sizeof p);
  memcpy(&desc[1], &p, sizeof p);
  desc[2] = 0;
  int64_t stride = 1;
  for (int64_t d = rank - 1; d >= 0; --d) {
    desc[3 + d] = w->dims[d];
    desc[3 + rank + d] = stride;
    stride *= w->dims[d];
  }
}

#define KILN_WEIGHT_FN(T, R)                                                   \
  void _mlir_ciface_kiln_rt_weight_##T##_r##R(int64_t *desc, int64_t id) {     \
    weight_view(desc, R, id);                                                  \
  }
#define KILN_WEIGHT_FNS(T)                                                     \
  KILN_WEIGHT_FN(T, 1) KILN_WEIGHT_FN(T, 2) KILN_WEIGHT_FN(T, 3)               \
  KILN_WEIGHT_FN(T, 4) KILN_WEIGHT_FN(T, 5) KILN_WEIGHT_FN(T, 6)
KILN_WEIGHT_FNS(f32)
KILN_WEIGHT_FNS(f64)
KILN_WEIGHT_FNS(f16)
KILN_WEIGHT_FNS(bf16)
KILN_WEIGHT_FNS(i8)
KILN_WEIGHT_FNS(i16)
KILN_WEIGHT_FNS(i32)
KILN_WEIGHT_FNS(i64)
KILN_WEIGHT_FNS(ui8)
KILN_WEIGHT_FNS(ui16)
KILN_WEIGHT_FNS(ui32)
KILN_WEIGHT_FNS(ui64)
