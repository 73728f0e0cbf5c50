/*===- weights.c - weights in the side file MODEL.so.weights ----------===*
 *
 * Constants of at least --min-weight-bytes live in MODEL.so.weights, loaded
 * read-only once per process when the first model opens
 * (kiln_weights_map) and released when the last closes. Generated code
 * asks for a view of weight `id` through kiln_rt_weight_<type>_r<rank>.
 *
 * A file of at least KILN_HUGE_WEIGHTS_MIN bytes is read into private
 * memory on 2 MiB pages (then made read-only); a smaller one, or any with
 * KILN_WEIGHTS_MMAP=1 in the environment (processes sharing one copy), is
 * mapped. A decode step streams every weight from memory once, and a
 * mapping's pages are whatever the page cache holds, often 4 KiB: the
 * LLaMA-style 8 x 1024 decode step (426 MB of weights) ran 15.5-15.9 ms from
 * huge pages against 16.7-18.8 ms mapped, and byte-identical builds
 * differed by 7% through their files' page-cache folios alone.
 *
 *===----------------------------------------------------------------------===*/

#define _GNU_SOURCE
#include "runtime_internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
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
static size_t weights_span; /* bytes to release: the mapping or the copy */
static int weights_huge = -1; /* read onto huge pages (1), mapped (0) */
static int weights_users;

#define KILN_HUGE_PAGE ((size_t)2 << 20)
#define KILN_HUGE_WEIGHTS_MIN ((size_t)32 << 20)

/* The file's `size` bytes in private memory aligned to and advised onto
 * huge pages, read-only once filled; NULL when that fails (the caller maps
 * the file instead). */
static char *read_into_huge_pages(int fd, size_t size, size_t *span) {
  size_t rounded = (size + KILN_HUGE_PAGE - 1) & ~(KILN_HUGE_PAGE - 1);
  size_t reserve = rounded + KILN_HUGE_PAGE;
  char *area = mmap(NULL, reserve, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (area == MAP_FAILED)
    return NULL;
  char *base = (char *)(((uintptr_t)area + KILN_HUGE_PAGE - 1) &
                        ~(uintptr_t)(KILN_HUGE_PAGE - 1));
  /* trim the slack on both sides: base .. base + rounded stays */
  if (base > area)
    munmap(area, (size_t)(base - area));
  if (area + reserve > base + rounded)
    munmap(base + rounded, (size_t)(area + reserve - (base + rounded)));
#ifdef MADV_HUGEPAGE
  madvise(base, rounded, MADV_HUGEPAGE);
#endif
  size_t got = 0;
  while (got < size) {
    ssize_t r = pread(fd, base + got, size - got, (off_t)got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  if (got < size || mprotect(base, rounded, PROT_READ) != 0) {
    munmap(base, rounded);
    return NULL;
  }
  *span = rounded;
  return base;
}

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
  /* KILN_WEIGHTS_HUGE=1 reads any size onto huge pages (the tests) */
  const char *keep_mapped = getenv("KILN_WEIGHTS_MMAP");
  const char *force_huge = getenv("KILN_WEIGHTS_HUGE");
  void *base = NULL;
  if ((weights_size >= KILN_HUGE_WEIGHTS_MIN ||
       (force_huge && atoi(force_huge) != 0)) &&
      !(keep_mapped && atoi(keep_mapped) != 0))
    base = read_into_huge_pages(fd, weights_size, &weights_span);
  weights_huge = base != NULL;
  if (!base) {
    weights_span = weights_size ? weights_size : 1;
    base = mmap(NULL, weights_span, PROT_READ, MAP_PRIVATE, fd, 0);
  }
  close(fd);
  if (base == MAP_FAILED) {
    weights_users = 0;
    pthread_mutex_unlock(&weights_lock);
    return kiln_fail(KILN_OUT_OF_MEMORY, "cannot map the weights file '%s'", path);
  }
  for (int64_t i = 0; i < count; ++i)
    if (weights[i].offset < 0 ||
        (uint64_t)(weights[i].offset + weights[i].bytes) > weights_size) {
      munmap(base, weights_span);
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

/* (the last mapping's, still known after kiln_close: the profile prints
 * at exit) */
const char *kiln_weights_placement(size_t *bytes) {
  if (weights_huge < 0)
    return NULL;
  *bytes = weights_size;
  return weights_huge ? "read onto 2 MiB pages" : "mapped from the file";
}

void kiln_weights_unmap(void) {
  if (num_weights == 0)
    return;
  pthread_mutex_lock(&weights_lock);
  if (weights_users > 0 && --weights_users == 0 && weights_base) {
    munmap(weights_base, weights_span);
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
