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
 *===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L
#include "runtime_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#define KILN_ARENA_KEEP_RUNS 8

typedef struct block {
  struct kiln_arena *arena; /* NULL: a plain malloc block */
  size_t size;
  uint64_t last_run;        /* the arena's run that last took it */
  struct block *next;       /* in the arena's list of all blocks */
  struct block *next_free;
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
    if (!(p = kiln_gpu_alloc(bytes)))
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
    kiln_gpu_free(p);
  else
    free(p);
}

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
      heap_free(b, HEADER_SIZE + b->size);
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
      heap_free(b, HEADER_SIZE + b->size);
      b = nb;
    }
    pthread_mutex_destroy(&a->mu);
    free(a);
    a = next;
  }
  pool->idle = NULL;
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
        return (char *)b + HEADER_SIZE;
      }
    pthread_mutex_unlock(&a->mu);
  }
  block *b = heap_alloc(HEADER_SIZE + size);
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
  return (char *)b + HEADER_SIZE;
}

void _mlir_memref_to_llvm_free(void *p) {
  if (!p)
    return;
  block *b = (block *)((char *)p - HEADER_SIZE);
  kiln_arena *a = b->arena;
  if (!a) {
    heap_free(b, HEADER_SIZE + b->size);
    return;
  }
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
