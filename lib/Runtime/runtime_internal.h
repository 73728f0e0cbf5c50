/*===- runtime_internal.h - shared between the runtime's files -----------===*
 *
 * Not part of the API.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_RUNTIME_INTERNAL_H
#define KILN_RUNTIME_INTERNAL_H

/* Starts the pool once per library (later calls keep its size); threads <= 0
 * means one per online core. Returns the team size (workers + caller). */
int kiln_pool_start(int threads);

/* The memory of one run (arena.c): begin makes it the calling thread's
 * current arena; end releases every block it handed out. */
typedef struct kiln_arena kiln_arena;
kiln_arena *kiln_arena_begin(void);
void kiln_arena_end(kiln_arena *arena);

#endif
