/*===- arena.c - the workspace of the generated code ---------------------===*
 *
 * The generated code allocates its intermediate buffers through
 * _mlir_memref_to_llvm_alloc/_free (finalize-memref-to-llvm with generic
 * functions). During a run they come from a workspace arena owned by the
 * loaded model: a freed block goes back to the arena's free list and is
 * handed out again for the next request of the same size. Arenas outlive
 * runs: the model keeps a pool of idle ones (one per concurrent caller), so
 * a steady-state run of the same shapes reuses every block of the previous
 * run and does no malloc, free or mmap, and touches no fresh page. Blocks
 * that no run has asked for in KILN_ARENA_KEEP_RUNS runs (after a shape
 * change) are returned to the system; workspace only grows otherwise.
 *
 * Team members of a parallel region allocate from their caller's arena
 * (parallel.c hands it over). Outside any run, blocks come from malloc.
 *
 * A block's header sits right before its payload, except in a CUDA model:
 * there the payload is managed memory the kernels use, and a header the
 * host writes on every run would migrate the payload's first page to the
 * host and back on each run, so headers are host memory, found from the
 * payload through a hash table.
 *
 *===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L
#include "runtime_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define KILN_ARENA_KEEP_RUNS 8

typedef struct block {
  struct kiln_arena *arena; /* NULL: a plain malloc block */
  size_t size;
  uint64_t last_run;        /* the arena's run that last took it */
  struct block *next;       /* in the arena's list of all blocks */
  struct block *next_free;
  char *payload;
} block;

/* Payloads 64-byte aligned: a cache line, and a full zmm vector. */
#define ALIGN 64
#define HEADER_SIZE ((sizeof(block) + ALIGN - 1) & ~(size_t)(ALIGN - 1))

struct kiln_arena {
  pthread_mutex_t mu;
  block *all;
  block *free_list;
  uint64_t run;
  struct kiln_arena *next_idle;
};

static _Thread_local kiln_arena *current;
static atomic_uint_least64_t stat_allocations, stat_bytes;

__attribute__((visibility("default"))) void
kiln_get_memory_stats(kiln_memory_stats *out) {
  if (!out)
    return;
  out->allocations = atomic_load(&stat_allocations);
  out->bytes_held = atomic_load(&stat_bytes);
}

/* A CUDA model's workspace is managed memory, which its kernels and its
 * host code both use (cuda.c). */
static void *heap_alloc(size_t bytes) {
  void *p = NULL;
  if (kiln_is_cuda_model()) {
    if (!(p = kiln_gpu_alloc_block(bytes)))
      return NULL;
  } else if (posix_memalign(&p, ALIGN, bytes ? bytes : 1) != 0) {
    return NULL;
  }
  atomic_fetch_add(&stat_allocations, 1);
  atomic_fetch_add(&stat_bytes, bytes);
  return p;
}

static void heap_free(void *p, size_t bytes) {
  if (!p)
    return;
  atomic_fetch_sub(&stat_bytes, bytes);
  if (kiln_is_cuda_model())
    kiln_gpu_free_block(p, bytes);
  else
    free(p);
}

static void block_delete(block *b);

kiln_arena *kiln_arena_get(void) { return current; }
void kiln_arena_set(kiln_arena *a) { current = a; }

kiln_arena *kiln_arena_acquire(kiln_arena_pool *pool) {
  pthread_mutex_lock(&pool->mu);
  kiln_arena *a = pool->idle;
  if (a)
    pool->idle = a->next_idle;
  pthread_mutex_unlock(&pool->mu);
  if (!a) {
    a = calloc(1, sizeof *a);
    if (!a)
      return NULL;
    pthread_mutex_init(&a->mu, NULL);
  }
  ++a->run;
  current = a;
  return a;
}

void kiln_arena_release(kiln_arena_pool *pool, kiln_arena *a) {
  if (!a)
    return;
  if (current == a)
    current = NULL;
  /* Every block is free again (also those a run cut short did not free);
   * blocks idle for KILN_ARENA_KEEP_RUNS runs go back to the system. */
  block **link = &a->all;
  a->free_list = NULL;
  while (*link) {
    block *b = *link;
    if (a->run - b->last_run >= KILN_ARENA_KEEP_RUNS) {
      *link = b->next;
      block_delete(b);
      continue;
    }
    b->next_free = a->free_list;
    a->free_list = b;
    link = &b->next;
  }
  pthread_mutex_lock(&pool->mu);
  a->next_idle = pool->idle;
  pool->idle = a;
  pthread_mutex_unlock(&pool->mu);
}

void kiln_arena_pool_destroy(kiln_arena_pool *pool) {
  kiln_arena *a = pool->idle;
  while (a) {
    kiln_arena *next = a->next_idle;
    block *b = a->all;
    while (b) {
      block *nb = b->next;
      block_delete(b);
      b = nb;
    }
    pthread_mutex_destroy(&a->mu);
    free(a);
    a = next;
  }
  pool->idle = NULL;
}

/* ---- headers in host memory (CUDA models) ------------------------------ */

static pthread_mutex_t headers_mu = PTHREAD_MUTEX_INITIALIZER;
static block **headers; /* open addressing by payload, linear probing */
static size_t headers_cap, headers_count;

static size_t header_slot(const void *payload, size_t cap) {
  uint64_t x = (uint64_t)(uintptr_t)payload * 0x9E3779B97F4A7C15ull;
  return (size_t)(x >> 32) & (cap - 1);
}

/* Locked: adds b, growing the table at half full. 0 when out of memory. */
static int headers_put(block *b) {
  if (2 * (headers_count + 1) > headers_cap) {
    size_t cap = headers_cap ? 2 * headers_cap : 256;
    block **grown = calloc(cap, sizeof *grown);
    if (!grown)
      return 0;
    for (size_t i = 0; i < headers_cap; ++i)
      if (headers[i]) {
        size_t j = header_slot(headers[i]->payload, cap);
        while (grown[j])
          j = (j + 1) & (cap - 1);
        grown[j] = headers[i];
      }
    free(headers);
    headers = grown;
    headers_cap = cap;
  }
  size_t j = header_slot(b->payload, headers_cap);
  while (headers[j])
    j = (j + 1) & (headers_cap - 1);
  headers[j] = b;
  ++headers_count;
  return 1;
}

/* Locked: the slot of payload p's header, or SIZE_MAX. */
static size_t headers_find(const void *p) {
  if (!headers_cap)
    return SIZE_MAX;
  for (size_t j = header_slot(p, headers_cap); headers[j];
       j = (j + 1) & (headers_cap - 1))
    if (headers[j]->payload == p)
      return j;
  return SIZE_MAX;
}

/* Locked: empties slot j, moving later entries of its run back. */
static void headers_remove(size_t j) {
  headers[j] = NULL;
  --headers_count;
  for (size_t k = (j + 1) & (headers_cap - 1); headers[k];
       k = (k + 1) & (headers_cap - 1)) {
    block *b = headers[k];
    headers[k] = NULL;
    size_t h = header_slot(b->payload, headers_cap);
    while (headers[h])
      h = (h + 1) & (headers_cap - 1);
    headers[h] = b;
  }
}

/* ---- blocks --------------------------------------------------------------- */

static block *block_new(uint64_t size) {
  if (!kiln_is_cuda_model()) {
    block *b = heap_alloc(HEADER_SIZE + size);
    if (b)
      b->payload = (char *)b + HEADER_SIZE;
    return b;
  }
  block *b = malloc(sizeof *b);
  if (!b)
    return NULL;
  if (!(b->payload = heap_alloc(size))) {
    free(b);
    return NULL;
  }
  pthread_mutex_lock(&headers_mu);
  int ok = headers_put(b);
  pthread_mutex_unlock(&headers_mu);
  if (!ok) {
    heap_free(b->payload, size);
    free(b);
    return NULL;
  }
  return b;
}

static void block_delete(block *b) {
  if (!kiln_is_cuda_model()) {
    heap_free(b, HEADER_SIZE + b->size);
    return;
  }
  pthread_mutex_lock(&headers_mu);
  size_t j = headers_find(b->payload);
  if (j != SIZE_MAX)
    headers_remove(j);
  pthread_mutex_unlock(&headers_mu);
  heap_free(b->payload, b->size);
  free(b);
}

static block *block_of(void *payload) {
  if (!kiln_is_cuda_model())
    return (block *)((char *)payload - HEADER_SIZE);
  pthread_mutex_lock(&headers_mu);
  size_t j = headers_find(payload);
  block *b = j == SIZE_MAX ? NULL : headers[j];
  pthread_mutex_unlock(&headers_mu);
  return b;
}

void *_mlir_memref_to_llvm_alloc(uint64_t size) {
  kiln_arena *a = current;
  if (a) {
    pthread_mutex_lock(&a->mu);
    for (block **p = &a->free_list; *p; p = &(*p)->next_free)
      if ((*p)->size == size) {
        block *b = *p;
        *p = b->next_free;
        b->last_run = a->run;
        pthread_mutex_unlock(&a->mu);
        return b->payload;
      }
    pthread_mutex_unlock(&a->mu);
  }
  block *b = block_new(size);
  if (!b)
    kiln_rt_fail_oom();
  b->arena = a;
  b->size = size;
  b->next_free = NULL;
  if (a) {
    pthread_mutex_lock(&a->mu);
    b->last_run = a->run;
    b->next = a->all;
    a->all = b;
    pthread_mutex_unlock(&a->mu);
  }
  return b->payload;
}

/* KILN_POISON_FREED=1: a freed block is filled with 0xff bytes (NaN as
 * float), so that a buffer read after its dealloc (kiln-early-dealloc
 * frees each one right after its last use) shows in the outputs; the
 * arena recycles blocks itself, where ASan cannot see such a read. */
static int poison_freed(void) {
  static _Atomic int v = -1;
  if (v < 0) {
    const char *e = getenv("KILN_POISON_FREED");
    v = e && *e && *e != '0';
  }
  return v;
}

void _mlir_memref_to_llvm_free(void *p) {
  if (!p)
    return;
  block *b = block_of(p);
  if (!b)
    return; /* (not the arena's: cannot happen) */
  kiln_arena *a = b->arena;
  if (!a) {
    block_delete(b);
    return;
  }
  if (poison_freed() && !kiln_is_cuda_model())
    memset(b->payload, 0xff, b->size); /* NaN in every float type */
  pthread_mutex_lock(&a->mu);
  b->next_free = a->free_list;
  a->free_list = b;
  pthread_mutex_unlock(&a->mu);
}

/* ---- per-thread scratch of the kernels (packed GEMM operands) ---------- */

static _Thread_local struct {
  void *p;
  size_t cap;
} scratch[KILN_SCRATCH_SLOTS];

void *kiln_scratch(int slot, size_t bytes) {
  if (slot < 0 || slot >= KILN_SCRATCH_SLOTS)
    return NULL;
  if (scratch[slot].cap >= bytes && scratch[slot].p)
    return scratch[slot].p;
  /* Grow by half again, so slowly growing shapes do not reallocate often. */
  size_t cap = bytes + bytes / 2 + 4096;
  void *p = heap_alloc(cap);
  if (!p)
    return NULL;
  heap_free(scratch[slot].p, scratch[slot].cap);
  scratch[slot].p = p;
  scratch[slot].cap = cap;
  return p;
}
