/*===- arena.c - per-run memory for the generated code -------------------===*
 *
 * The generated code allocates every intermediate buffer through
 * _mlir_memref_to_llvm_alloc/_free (finalize-memref-to-llvm with generic
 * functions). During a run they come from that run's arena: freed blocks go
 * to a free list and are reused for later buffers of the same size, and the
 * whole arena is released when the run ends (also when a run is cut short
 * by a shape error, so nothing leaks). Outside a run, or on pool threads,
 * blocks come from malloc directly. Each block carries a small header that
 * says which.
 *
 *===----------------------------------------------------------------------===*/

#include "runtime_internal.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct block {
  struct kiln_arena *arena; /* NULL: a plain malloc block */
  size_t size;
  struct block *next;       /* in the arena's list of all, or free, blocks */
  struct block *next_free;
} block;

/* Keep payloads 16-byte aligned (the generated code aligns further itself). */
#define HEADER_SIZE ((sizeof(block) + 15) & ~(size_t)15)

struct kiln_arena {
  pthread_mutex_t mu;
  block *all;
  block *free_list;
};

static _Thread_local kiln_arena *current;

kiln_arena *kiln_arena_begin(void) {
  kiln_arena *a = calloc(1, sizeof *a);
  if (a) {
    pthread_mutex_init(&a->mu, NULL);
    current = a;
  }
  return a;
}

void kiln_arena_end(kiln_arena *a) {
  if (!a)
    return;
  if (current == a)
    current = NULL;
  block *b = a->all;
  while (b) {
    block *next = b->next;
    free(b);
    b = next;
  }
  pthread_mutex_destroy(&a->mu);
  free(a);
}

void *_mlir_memref_to_llvm_alloc(uint64_t size) {
  kiln_arena *a = current;
  if (a) {
    pthread_mutex_lock(&a->mu);
    for (block **p = &a->free_list; *p; p = &(*p)->next_free)
      if ((*p)->size == size) {
        block *b = *p;
        *p = b->next_free;
        pthread_mutex_unlock(&a->mu);
        return (char *)b + HEADER_SIZE;
      }
    pthread_mutex_unlock(&a->mu);
  }
  block *b = malloc(HEADER_SIZE + (size ? size : 1));
  if (!b)
    abort(); /* out of memory inside generated code: nothing to unwind to */
  b->arena = a;
  b->size = size;
  b->next_free = NULL;
  if (a) {
    pthread_mutex_lock(&a->mu);
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
    free(b);
    return;
  }
  pthread_mutex_lock(&a->mu);
  b->next_free = a->free_list;
  a->free_list = b;
  pthread_mutex_unlock(&a->mu);
}
